// Who a request acts for once its bearer token checked out, whichever authenticator checked it. The raw
// subject stays in memory (sessions are bound to it, the sidecar relay names the user by it); everything
// that is written anywhere uses the principal, a keyed hash for OAuth callers.
import type { ErrorCode } from "../../generated/errors.gen.ts";
import type { ScopeName } from "../../generated/scopes.gen.ts";

export interface Identity {
  readonly kind: "oauth" | "local";
  /** The configured subject claim's value (OAuth) or the local principal; never written out raw. */
  readonly subject: string;
  /** What call contexts and audit events carry: oauth:<keyed hash of issuer and subject>, or local:<user>. */
  readonly principal: string;
  /** Granted scopes: the token's scopes intersected with remote_mcp.allowed_scopes, or the local scopes. */
  readonly scopes: ReadonlySet<ScopeName>;
  /** SHA-256 of the token, held in memory only, to notice a different token within one MCP session. */
  readonly fingerprint: string;
  /** Keyed hash of the OAuth client id, the post-auth rate-limit key's companion in the audit log. */
  readonly clientIdHash?: string;
  /** Milliseconds since the epoch when the token expires (OAuth). */
  readonly expiresAt?: number;
  /** The auth_succeeded metadata of this token (contracts/audit-events.yaml), already hashed. */
  readonly auditMetadata: Readonly<Record<string, string>>;
}

/** Why a token was refused: the catalogue code, the audited check, and what may be recorded about it. */
export interface AuthFailure {
  readonly code: ErrorCode;
  /** auth_denied metadata.check. */
  readonly check: string;
  /** Keyed hash of the jti when the token could be decoded. */
  readonly tokenIdHash?: string;
  /** The issuer an untrusted token claimed (audited as untrusted text). */
  readonly claimedIssuer?: string;
  /** Seconds a client should wait (a JWKS outage answers 503 with Retry-After). */
  readonly retryAfterSeconds?: number;
}

export type AuthResult =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly failure: AuthFailure };

export interface Authenticator {
  readonly mode: "remote" | "local";
  authenticate(token: string): Promise<AuthResult>;
  close(): Promise<void>;
}
