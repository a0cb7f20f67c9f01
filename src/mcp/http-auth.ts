// The checks every /mcp request passes before MCP sees it, in this order: Origin (DNS rebinding), the
// pre-auth limit on the client's address (so a flood of bad tokens costs no signature checks and no JWKS
// fetches), the bearer token (Authorization header only), its validation, and the post-auth limit on the
// caller. A refusal is answered here with the catalogue's status, the RFC 6750 challenge and Retry-After
// where they apply, and audited as auth_denied; a request that passes refunds its pre-auth count, so
// authenticated traffic is limited only per caller.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorCode } from "../../generated/errors.gen.ts";
import { ERROR_CATALOGUE } from "../../generated/errors.gen.ts";
import {
  type AuthAuditor,
  type Authenticator,
  type AuthFailure,
  bearerChallenge,
  type Challenge,
  extractBearer,
  type Identity,
  type RateLimiter,
} from "../auth/index.ts";
import type { OriginPolicy } from "./http-origin.ts";
import { type HeaderMap, sendRefusal } from "./http-responses.ts";

/** Facts about one HTTP request that every check and audit event uses. */
export interface RequestMeta {
  /** req_<uuid>: from a valid UUID x-request-id, otherwise generated. */
  readonly requestId: string;
  readonly clientRequestId: boolean;
  readonly addressHash: string;
  readonly rateKey: string;
  /** The audit session of events that belong to no MCP session yet. */
  readonly sessionId: string;
}

export interface Refused {
  readonly code: ErrorCode;
  readonly check: string;
  readonly status?: number;
  readonly headers?: HeaderMap;
  readonly message?: string;
  readonly principal?: string;
  readonly scopes?: readonly string[];
  readonly tokenIdHash?: string;
  readonly claimedIssuer?: string;
  readonly origin?: string;
  readonly sessionId?: string;
}

export interface GatekeeperOptions {
  readonly authenticator: Authenticator;
  readonly auditor: AuthAuditor;
  readonly origins: OriginPolicy;
  readonly preAuth: RateLimiter;
  readonly postAuth: RateLimiter;
  /** The protected-resource metadata URL for challenges; absent in local mode (no OAuth to discover). */
  readonly metadataUrl?: string;
}

export interface Gatekeeper {
  /** The caller of an /mcp request, or undefined after the refusal has been sent. */
  admit(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    meta: RequestMeta,
  ): Promise<Identity | undefined>;
  /** Answers and audits a refusal decided elsewhere (a session of another principal). */
  refuse(res: ServerResponse, meta: RequestMeta, refused: Refused): void;
  /** The WWW-Authenticate value of a challenge. */
  challenge(challenge: Omit<Challenge, "metadataUrl">): string;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function createGatekeeper(options: GatekeeperOptions): Gatekeeper {
  const { auditor } = options;
  const challenge = (parts: Omit<Challenge, "metadataUrl">) =>
    bearerChallenge({
      ...(options.metadataUrl !== undefined ? { metadataUrl: options.metadataUrl } : {}),
      ...parts,
    });

  function refuse(res: ServerResponse, meta: RequestMeta, refused: Refused): void {
    const status = refused.status ?? ERROR_CATALOGUE[refused.code].http;
    auditor.denied(
      { requestId: meta.requestId, sessionId: refused.sessionId ?? meta.sessionId },
      {
        code: refused.code,
        check: refused.check,
        httpStatus: status,
        addressHash: meta.addressHash,
        ...(refused.principal !== undefined ? { principal: refused.principal } : {}),
        ...(refused.scopes !== undefined ? { scopes: refused.scopes } : {}),
        ...(refused.tokenIdHash !== undefined ? { tokenIdHash: refused.tokenIdHash } : {}),
        ...(refused.claimedIssuer !== undefined ? { claimedIssuer: refused.claimedIssuer } : {}),
        ...(refused.origin !== undefined ? { origin: refused.origin } : {}),
      },
    );
    sendRefusal(res, refused.code, {
      status,
      headers: { ...refused.headers, "x-request-id": meta.requestId },
      ...(refused.message !== undefined ? { message: refused.message } : {}),
    });
  }

  /** The 401/503 of a token that did not validate. */
  function tokenRefusal(failure: AuthFailure): Refused {
    const { code, check } = failure;
    const about = {
      ...(failure.tokenIdHash !== undefined ? { tokenIdHash: failure.tokenIdHash } : {}),
      ...(failure.claimedIssuer !== undefined ? { claimedIssuer: failure.claimedIssuer } : {}),
    };
    if (code === "AUTH_JWKS_UNAVAILABLE") {
      return { code, check, headers: { "retry-after": String(failure.retryAfterSeconds ?? 1) }, ...about };
    }
    const description = ERROR_CATALOGUE[code].message;
    return {
      code,
      check,
      headers: { "www-authenticate": challenge({ error: "invalid_token", description }) },
      ...about,
    };
  }

  async function admit(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    meta: RequestMeta,
  ): Promise<Identity | undefined> {
    const origin = single(req.headers.origin);
    const refusedOrigin = options.origins.refused(origin, single(req.headers.host));
    if (refusedOrigin !== undefined) {
      refuse(res, meta, { code: "AUTH_ORIGIN_REFUSED", check: "origin", origin: refusedOrigin });
      return undefined;
    }
    const preAuth = options.preAuth.take(meta.rateKey);
    if (!preAuth.ok) {
      refuse(res, meta, {
        code: "AUTH_RATE_LIMITED",
        check: "rate_limit_pre_auth",
        headers: { "retry-after": String(preAuth.retryAfterSeconds) },
      });
      return undefined;
    }
    const bearer = extractBearer(req.headers.authorization, query);
    if (bearer.kind === "missing") {
      refuse(res, meta, {
        code: "AUTH_TOKEN_MISSING",
        check: "token_missing",
        headers: { "www-authenticate": challenge({}) },
      });
      return undefined;
    }
    if (bearer.kind !== "token") {
      const inQuery = bearer.kind === "in_query";
      const description = inQuery
        ? "Send the access token in the Authorization header, never in the URL."
        : "The Authorization header must be Bearer followed by one token.";
      refuse(res, meta, {
        code: "AUTH_TOKEN_INVALID",
        check: inQuery ? "token_in_query" : "token_format",
        message: description,
        headers: { "www-authenticate": challenge({ error: "invalid_request", description }) },
      });
      return undefined;
    }
    const result = await options.authenticator.authenticate(bearer.token);
    if (!result.ok) {
      refuse(res, meta, tokenRefusal(result.failure));
      return undefined;
    }
    const { identity } = result;
    options.preAuth.refund(meta.rateKey);
    const postAuth = options.postAuth.take(identity.principal);
    if (!postAuth.ok) {
      refuse(res, meta, {
        code: "AUTH_RATE_LIMITED",
        check: "rate_limit_client",
        principal: identity.principal,
        scopes: [...identity.scopes],
        headers: { "retry-after": String(postAuth.retryAfterSeconds) },
      });
      return undefined;
    }
    return identity;
  }

  return { admit, refuse, challenge };
}
