// The client address behind the limits and the audit log: the socket peer, or - only from trusted proxies -
// the rightmost X-Forwarded-For entry that is not itself a trusted proxy.
import { describe, expect, it } from "vitest";
import { createClientAddresses, normaliseAddress, rateLimitKey } from "../../src/auth/index.ts";

describe("createClientAddresses", () => {
  it("ignores X-Forwarded-For without trusted proxies or from an untrusted peer", () => {
    expect(createClientAddresses([]).resolve("203.0.113.5", "198.51.100.1")).toBe("203.0.113.5");
    expect(createClientAddresses(["10.0.0.1"]).resolve("203.0.113.5", "198.51.100.1")).toBe("203.0.113.5");
  });

  it("walks X-Forwarded-For from the right, past trusted proxies, to the client", () => {
    const addresses = createClientAddresses(["10.0.0.0/8", "2001:db8::/32"]);
    expect(addresses.resolve("10.0.0.1", "198.51.100.1")).toBe("198.51.100.1");
    expect(addresses.resolve("10.0.0.1", "192.0.2.66, 198.51.100.1, 10.2.3.4")).toBe("198.51.100.1");
    expect(addresses.resolve("10.0.0.1", ["192.0.2.66", "198.51.100.1"])).toBe("198.51.100.1");
    expect(addresses.resolve("2001:db8::1", "2001:DB8::2, [2001:0db9::5]")).toBe("2001:0db9::5");
  });

  it("stops at the last trusted hop when a proxy passes garbage or nothing more", () => {
    const addresses = createClientAddresses(["10.0.0.0/8"]);
    expect(addresses.resolve("10.0.0.1", "not-an-ip, 10.0.0.2")).toBe("10.0.0.2");
    expect(addresses.resolve("10.0.0.1", "10.0.0.2")).toBe("10.0.0.2");
    expect(addresses.resolve("10.0.0.1", undefined)).toBe("10.0.0.1");
  });

  it("treats an IPv4-mapped IPv6 peer as IPv4", () => {
    expect(createClientAddresses(["127.0.0.1"]).resolve("::ffff:127.0.0.1", "198.51.100.9")).toBe(
      "198.51.100.9",
    );
    expect(normaliseAddress("::FFFF:192.0.2.1")).toBe("192.0.2.1");
    expect(normaliseAddress("garbage")).toBe("");
  });
});

describe("rateLimitKey", () => {
  it("keys IPv4 by address and IPv6 by its /64, which one host usually holds", () => {
    expect(rateLimitKey("192.0.2.1")).toBe("192.0.2.1");
    expect(rateLimitKey("2001:db8:1:2:aaaa::1")).toBe("2001:0db8:0001:0002::/64");
    expect(rateLimitKey("2001:db8:1:2:bbbb::9")).toBe("2001:0db8:0001:0002::/64");
    expect(rateLimitKey("::1")).toBe("0000:0000:0000:0000::/64");
  });
});
