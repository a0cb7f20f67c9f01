// DNS-rebinding defence (MCP transport spec: servers must validate Origin). A browser on another site that
// resolves its own name to this server's address sends its own Origin (and Host), so: a request with an
// Origin is accepted only from an allowed origin - the configured ones, plus loopback origins in local
// mode. Requests without Origin come from non-browser clients and pass. In local mode the Host header
// must also name a loopback host, since there the rebinding target is this very machine.
import { isLoopbackHost } from "../auth/index.ts";

export interface OriginPolicy {
  /** Undefined when the request may go on; otherwise the refused Origin (or Host) to audit. */
  refused(origin: string | undefined, host: string | undefined): string | undefined;
}

function hostOf(authority: string): string {
  if (authority.startsWith("[")) return authority.slice(0, authority.indexOf("]") + 1);
  const colon = authority.lastIndexOf(":");
  return colon === -1 ? authority : authority.slice(0, colon);
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

export function createOriginPolicy(options: { allowed: readonly string[]; local: boolean }): OriginPolicy {
  const allowed = new Set(options.allowed);
  return {
    refused(origin, host) {
      if (options.local && (host === undefined || !isLoopbackHost(hostOf(host)))) return `host:${host ?? ""}`;
      if (origin === undefined || allowed.has(origin)) return undefined;
      if (options.local && isLoopbackOrigin(origin)) return undefined;
      return origin;
    },
  };
}
