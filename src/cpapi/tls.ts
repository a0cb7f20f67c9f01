// TLS to the Client Portal Gateway. Verification stays on. The gateway ships a self-signed certificate, so an
// operator either pins it (`broker.ca_file`) or, for a gateway on this very machine, skips verification with
// `allow_insecure_tls_for_localhost` - accepted for exactly localhost, 127.0.0.1 and [::1]. Wider loopback
// (127.0.0.2), IPv4-mapped IPv6 ([::ffff:127.0.0.1]) and look-alike names (localhost.evil.com) are refused:
// the bypass must never reach a machine we do not control.
import { readFileSync } from "node:fs";
import { Agent, type Dispatcher } from "undici";
import { GatewayError } from "../core/gateway-error.ts";

/** Hostnames as WHATWG URL normalises them (IPv6 in brackets, IPv4 shorthand expanded, lower case). */
const INSECURE_TLS_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isInsecureTlsHostAllowed(hostname: string): boolean {
  return INSECURE_TLS_HOSTS.has(hostname);
}

export interface TlsOptions {
  caFile?: string;
  caPem?: string;
  allowInsecureTlsForLocalhost?: boolean;
}

export interface TlsSettings {
  /** PEM of the pinned CA(s), or null for the system roots. */
  readonly ca: string | null;
  readonly rejectUnauthorized: boolean;
  readonly mode: "system" | "pinned" | "insecure-localhost";
}

/** Decides the TLS settings for a base URL, refusing a bypass for anything but the three exact hosts. */
export function resolveTls(base: URL, options: TlsOptions): TlsSettings {
  if (options.allowInsecureTlsForLocalhost === true && !isInsecureTlsHostAllowed(base.hostname)) {
    throw new GatewayError("CONFIG_TLS_BYPASS_NON_LOCALHOST", {
      details: { key: "broker.allow_insecure_tls_for_localhost", host: base.hostname },
    });
  }
  let ca: string | null = options.caPem ?? null;
  if (options.caFile !== undefined) {
    try {
      ca = readFileSync(options.caFile, "utf8");
    } catch (error) {
      throw new GatewayError("CONFIG_INVALID", {
        message: "`broker.ca_file` cannot be read.",
        userAction: "Point `broker.ca_file` at the gateway's certificate (PEM) and make it readable.",
        details: { key: "broker.ca_file" },
        cause: error,
      });
    }
  }
  if (ca !== null) {
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
      throw new GatewayError("CONFIG_INVALID", {
        message: "`broker.ca_file` does not contain a PEM certificate.",
        userAction:
          "Export the gateway's certificate as PEM (-----BEGIN CERTIFICATE-----) and pin that file.",
        details: { key: "broker.ca_file" },
      });
    }
    // A pinned certificate wins over the bypass: verification stays on whenever we can verify.
    return { ca, rejectUnauthorized: true, mode: "pinned" };
  }
  if (options.allowInsecureTlsForLocalhost === true) {
    return { ca: null, rejectUnauthorized: false, mode: "insecure-localhost" };
  }
  return { ca: null, rejectUnauthorized: true, mode: "system" };
}

export interface AgentTimeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}

/** The one undici Agent of a gateway: keep-alive, timeouts, the TLS settings above. */
export function createGatewayAgent(tls: TlsSettings, timeouts: AgentTimeouts): Dispatcher {
  return new Agent({
    connect: {
      timeout: timeouts.connectMs,
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.ca !== null ? { ca: tls.ca } : {}),
    },
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    // The gateway allows 10 req/s and 5 concurrent history calls; a few sockets are plenty.
    connections: 8,
  });
}
