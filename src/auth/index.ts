// Authentication for the HTTP front door: the OAuth 2.1 resource server (remote MCP), the loopback token
// (local mode), and what both share - identities, hashes, limits, client addresses and the audit trail.
export type { AuthAuditor, AuthEventContext, Denial } from "./audit.ts";
export { createAuthAuditor } from "./audit.ts";
export { type BearerResult, extractBearer } from "./bearer.ts";
export {
  type ClientAddresses,
  createClientAddresses,
  normaliseAddress,
  rateLimitKey,
} from "./client-address.ts";
export { createIdentityHasher, type IdentityHasher } from "./hashing.ts";
export type { Authenticator, AuthFailure, AuthResult, Identity } from "./identity.ts";
export { createJwks, type Jwks, type JwksOptions, JwksUnavailable } from "./jwks.ts";
export { createTokenValidator, type TokenValidator, type TokenValidatorOptions } from "./jwt-validator.ts";
export { createLocalAuthenticator, isLoopbackHost, randomLocalToken } from "./local.ts";
export {
  bearerChallenge,
  type Challenge,
  metadataPaths,
  metadataUrl,
  protectedResourceMetadata,
} from "./protected-resource.ts";
export { createRateLimiter, type RateDecision, type RateLimiter } from "./rate-limit.ts";
export { createRemoteAuthenticator } from "./remote.ts";
