// The OAuth 2.1 resource server's authenticator, built from the remote_mcp block of the configuration:
// the issuer's JWKS (fetched over https with the configured CA) and the token validator over it.
import { readFileSync } from "node:fs";
import { isScopeName, type ScopeName } from "../../generated/scopes.gen.ts";
import type { Config } from "../config/index.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import type { IdentityHasher } from "./hashing.ts";
import type { Authenticator } from "./identity.ts";
import { createJwks } from "./jwks.ts";
import { createTokenValidator } from "./jwt-validator.ts";

export interface RemoteAuthenticatorOptions {
  readonly config: Config["remote_mcp"];
  readonly hasher: IdentityHasher;
  readonly clock?: Clock;
}

export function createRemoteAuthenticator(options: RemoteAuthenticatorOptions): Authenticator {
  const remote = options.config;
  const { issuer, jwks_url: jwksUrl } = remote;
  if (issuer === undefined || jwksUrl === undefined || remote.resource === undefined) {
    throw new GatewayError("CONFIG_REMOTE_MCP_FORBIDDEN", {
      message: "Remote MCP needs remote_mcp.resource, remote_mcp.issuer and remote_mcp.jwks_url.",
    });
  }
  const jwks = createJwks({
    url: jwksUrl,
    ...(remote.jwks_ca_file !== undefined ? { ca: readFileSync(remote.jwks_ca_file, "utf8") } : {}),
    timeoutMs: remote.jwks_timeout_seconds * 1000,
    cacheMs: remote.jwks_cache_seconds * 1000,
    cooldownMs: remote.jwks_cooldown_seconds * 1000,
    maxBytes: remote.jwks_max_bytes,
  });
  const validate = createTokenValidator({
    issuer,
    audiences: remote.audiences.length > 0 ? remote.audiences : [remote.resource],
    algorithms: remote.allowed_algorithms,
    clockSkewSeconds: remote.clock_skew_seconds,
    subjectClaim: remote.subject_claim,
    allowedScopes: new Set(remote.allowed_scopes.filter((scope): scope is ScopeName => isScopeName(scope))),
    getKey: jwks.getKey,
    hasher: options.hasher,
    clock: options.clock ?? systemClock,
  });
  return { mode: "remote", authenticate: validate, close: () => jwks.close() };
}
