// The loopback "local" mode of the HTTP MCP server: one person on one machine, no authorization server. A
// random bearer token (printed once by the command that starts the server) stands in for OAuth and grants
// exactly the locally configured scopes, as stdio does. It is refused on any address but loopback, where
// it would be a password sent over a network.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { ScopeName } from "../../generated/scopes.gen.ts";
import type { Authenticator, Identity } from "./identity.ts";

export interface LocalAuthenticatorOptions {
  /** The token to accept; at least 32 characters. */
  readonly token: string;
  readonly principal: string;
  readonly scopes: ReadonlySet<ScopeName>;
}

/** 256 random bits as hex: the logger and the audit redaction recognise long hex runs and never write them. */
export function randomLocalToken(): string {
  return randomBytes(32).toString("hex");
}

const digest = (text: string) => createHash("sha256").update(text).digest();

export function createLocalAuthenticator(options: LocalAuthenticatorOptions): Authenticator {
  if (options.token.length < 32) throw new TypeError("the local token must have at least 32 characters");
  const expected = digest(options.token);
  const identity: Identity = {
    kind: "local",
    subject: options.principal,
    principal: options.principal,
    scopes: options.scopes,
    fingerprint: expected.toString("hex"),
    auditMetadata: {},
  };
  return {
    mode: "local",
    // Digests have one length, so the comparison takes the same time whatever was sent.
    authenticate: async (token) =>
      timingSafeEqual(digest(token), expected)
        ? { ok: true, identity }
        : { ok: false, failure: { code: "AUTH_TOKEN_INVALID", check: "local_token" } },
    close: async () => undefined,
  };
}

/** localhost, 127.0.0.0/8 or ::1 (with or without brackets). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || bare === "0:0:0:0:0:0:0:1";
  return false;
}
