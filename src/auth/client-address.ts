// The address a request comes from, for the pre-auth rate limit and the audit log's client_address_hash.
// It is the socket's peer, unless that peer is a configured trusted proxy: then X-Forwarded-For is read
// from the right, skipping trusted proxies, and the first other address is the client. Entries to the left
// of it were written by the client itself and are ignored, so a client cannot pick its own rate-limit key.
import { BlockList, isIP } from "node:net";

export interface ClientAddresses {
  /** The client's address, normalised (IPv4-mapped IPv6 as plain IPv4). */
  resolve(peer: string | undefined, forwardedFor: string | readonly string[] | undefined): string;
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) as plain IPv4, lowercase IPv6, or "" for anything that is not an IP. */
export function normaliseAddress(text: string | undefined): string {
  if (text === undefined) return "";
  const trimmed = text.trim().replace(/^\[(.*)\]$/, "$1");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  const address = mapped?.[1] ?? trimmed;
  return isIP(address) === 0 ? "" : address.toLowerCase();
}

export function createClientAddresses(trustedProxies: readonly string[]): ClientAddresses {
  const trusted = new BlockList();
  for (const entry of trustedProxies) {
    const [address = "", bits] = entry.split("/");
    const type = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) trusted.addAddress(address, type);
    else trusted.addSubnet(address, Number(bits), type);
  }
  const isTrusted = (address: string) =>
    address !== "" && trusted.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
  return {
    resolve(peer, forwardedFor) {
      let current = normaliseAddress(peer);
      if (trustedProxies.length === 0 || !isTrusted(current) || forwardedFor === undefined) return current;
      const hops = (typeof forwardedFor === "string" ? [forwardedFor] : [...forwardedFor])
        .join(",")
        .split(",")
        .map((hop) => normaliseAddress(hop));
      while (isTrusted(current) && hops.length > 0) {
        const next = hops.pop() ?? "";
        // Garbage from a trusted hop's left: stop at the last address a trusted proxy vouched for.
        if (next === "") return current;
        current = next;
      }
      return current;
    },
  };
}

/** The rate-limit key of an address: IPv6 clients get a /64 each, which is what one host usually holds. */
export function rateLimitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address);
  return `${groups.slice(0, 4).join(":")}::/64`;
}

function expandIpv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = Math.max(0, 8 - left.length - right.length);
  return [...left, ...Array<string>(missing).fill("0"), ...right].map((group) => group.padStart(4, "0"));
}
