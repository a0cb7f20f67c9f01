// Access-token validation for the remote MCP server (design §11): a JWS compact token whose header names an
// allow-listed asymmetric algorithm (never none, never HS*: a shared-key algorithm would let whoever holds
// the "key" - here the public key - mint tokens), a `typ` of at+jwt (RFC 9068) or JWT, a signature by a key
// of the issuer's JWKS, the exact issuer, an audience of this resource (RFC 8707), and expiry and
// not-before within the configured skew. Granted scopes are the token's scopes intersected with
// remote_mcp.allowed_scopes. Only keyed hashes of identifiers leave this module.
import { createHash } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { isScopeName, type ScopeName } from "../../generated/scopes.gen.ts";
import type { Clock } from "../core/clock.ts";
import type { IdentityHasher } from "./hashing.ts";
import type { AuthFailure, AuthResult, Identity } from "./identity.ts";
import { JwksUnavailable } from "./jwks.ts";

export interface TokenValidatorOptions {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** The claim that names the caller (remote_mcp.subject_claim). */
  readonly subjectClaim: string;
  readonly allowedScopes: ReadonlySet<ScopeName>;
  readonly getKey: JWTVerifyGetKey;
  readonly hasher: IdentityHasher;
  readonly clock: Clock;
}

export type TokenValidator = (token: string) => Promise<AuthResult>;

/** typ values that say "access token" (RFC 9068) or say nothing specific; an ID or logout token says otherwise. */
const ACCESS_TOKEN_TYPES = new Set(["at+jwt", "jwt"]);
const SUBJECT = /^[^\p{Cc}]{1,256}$/u;

function failure(code: AuthFailure["code"], check: string, about: Partial<AuthFailure> = {}): AuthResult {
  return { ok: false, failure: { code, check, ...about } };
}

function tokenScopes(payload: JWTPayload): string[] {
  const { scope, scp } = payload as { scope?: unknown; scp?: unknown };
  if (typeof scope === "string") return scope.split(" ");
  // Some providers (Okta, Entra ID) put scopes in scp, as a list or a space-separated string.
  if (typeof scp === "string") return scp.split(" ");
  if (Array.isArray(scp)) return scp.filter((item): item is string => typeof item === "string");
  return [];
}

/** What an unverified token may contribute to an audit event: its jti (hashed) and its claimed issuer. */
function untrustedFacts(token: string, hasher: IdentityHasher): Partial<AuthFailure> {
  try {
    const payload = decodeJwt(token);
    const facts: { tokenIdHash?: string; claimedIssuer?: string } = {};
    if (typeof payload.jti === "string" && payload.jti.length <= 256)
      facts.tokenIdHash = hasher.tokenId(payload.jti);
    if (typeof payload.iss === "string") facts.claimedIssuer = payload.iss.slice(0, 256);
    return facts;
  } catch {
    return {};
  }
}

function mapError(error: unknown, facts: Partial<AuthFailure>): AuthResult {
  if (error instanceof JwksUnavailable) {
    return failure("AUTH_JWKS_UNAVAILABLE", "jwks", { ...facts, retryAfterSeconds: error.retryAfterSeconds });
  }
  const { code, claim, reason } = error as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return failure("AUTH_TOKEN_EXPIRED", "expiry", facts);
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (claim === "iss") return failure("AUTH_INVALID_ISSUER", "issuer", facts);
      if (claim === "aud") return failure("AUTH_INVALID_AUDIENCE", "audience", facts);
      if (claim === "nbf" && reason === "check_failed") return failure("AUTH_TOKEN_EXPIRED", "expiry", facts);
      return failure("AUTH_TOKEN_INVALID", "claims", facts);
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return failure("AUTH_TOKEN_INVALID", "signature", facts);
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return failure("AUTH_TOKEN_INVALID", "token_format", facts);
    default:
      // A key set that did not parse (ERR_JWKS_INVALID), timed out or failed to arrive.
      return failure("AUTH_JWKS_UNAVAILABLE", "jwks", { ...facts, retryAfterSeconds: 1 });
  }
}

export function createTokenValidator(options: TokenValidatorOptions): TokenValidator {
  const algorithms = [...options.algorithms];
  if (algorithms.some((alg) => alg === "none" || alg.startsWith("HS"))) {
    throw new TypeError("only asymmetric token algorithms may be allowed");
  }
  const audiences = [...options.audiences];
  if (audiences.length === 0) throw new TypeError("at least one audience is required");
  const { hasher, subjectClaim } = options;

  return async function validate(token: string): Promise<AuthResult> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return failure("AUTH_TOKEN_INVALID", "token_format");
    }
    const facts = untrustedFacts(token, hasher);
    // Checked before any key is looked up, so a token of the wrong kind never causes a JWKS fetch.
    if (typeof header.alg !== "string" || !algorithms.includes(header.alg) || token.split(".").length !== 3) {
      return failure("AUTH_TOKEN_INVALID", "token_format", facts);
    }
    if (header.typ !== undefined) {
      const typ = String(header.typ)
        .toLowerCase()
        .replace(/^application\//, "");
      if (!ACCESS_TOKEN_TYPES.has(typ)) return failure("AUTH_TOKEN_INVALID", "token_format", facts);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, options.getKey, {
        issuer: options.issuer,
        audience: audiences,
        algorithms,
        clockTolerance: options.clockSkewSeconds,
        currentDate: new Date(options.clock.now()),
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      return mapError(error, facts);
    }
    const subject = (payload as Record<string, unknown>)[subjectClaim];
    if (typeof subject !== "string" || !SUBJECT.test(subject)) {
      return failure("AUTH_TOKEN_INVALID", "claims", facts);
    }
    const scopes = new Set<ScopeName>(
      tokenScopes(payload).filter(
        (scope): scope is ScopeName => isScopeName(scope) && options.allowedScopes.has(scope),
      ),
    );
    const issuer = options.issuer;
    const tokenAudiences = typeof payload.aud === "string" ? [payload.aud] : (payload.aud ?? []);
    const audience = tokenAudiences.find((aud) => audiences.includes(aud)) ?? audiences[0] ?? "";
    const client = (payload as { client_id?: unknown }).client_id ?? (payload as { azp?: unknown }).azp;
    const clientIdHash = typeof client === "string" ? hasher.clientId(client) : undefined;
    const expiresAt = (payload.exp ?? 0) * 1000;
    const auditMetadata: Record<string, string> = {
      issuer,
      audience,
      signing_alg: header.alg,
      expires_at: new Date(expiresAt).toISOString(),
    };
    if (facts.tokenIdHash !== undefined) auditMetadata.token_id_hash = facts.tokenIdHash;
    if (clientIdHash !== undefined) auditMetadata.client_id_hash = clientIdHash;
    if (typeof header.kid === "string") auditMetadata.kid = header.kid.slice(0, 128);
    const identity: Identity = {
      kind: "oauth",
      subject,
      principal: hasher.principal(issuer, subject),
      scopes,
      fingerprint: createHash("sha256").update(token).digest("hex"),
      expiresAt,
      auditMetadata,
      ...(clientIdHash !== undefined ? { clientIdHash } : {}),
    };
    return { ok: true, identity };
  };
}
