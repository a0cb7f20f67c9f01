// The sidecar relay's public surface: the relay identity, pairing (remote side: codes, claims, approvals,
// lookups; sidecar side: claim and unpair), the forwarding policy both ends apply, and the relay protocol.

export type { PairingRecord, PairingStatus, RemotePairingRecord } from "../store/index.ts";
export type { ForwardedCall, RelaySide, ScreenFinding, ScreenReason } from "./forward-policy.ts";
export {
  acceptedTiers,
  assertForwardable,
  assertTierAccepted,
  knownScopes,
  screenForwardedCall,
  toolTier,
} from "./forward-policy.ts";
export type { RelayIdentity } from "./identity.ts";
export {
  fingerprintOf,
  IDENTITY_FILE,
  identityPath,
  loadOrCreateIdentity,
  normalizeFingerprint,
  parsePublicKey,
  publicKeySha256,
  readIdentity,
  remoteInstanceIdOf,
  sidecarIdOf,
} from "./identity.ts";
export type {
  ApprovedPairing,
  CreatedPairing,
  PairingService,
  PairingServiceOptions,
  RevokedPairing,
} from "./pairing.ts";
export {
  createPairingService,
  MIN_CODE_TTL_SECONDS,
  principalHash,
  relayUserPrincipal,
  requireRelayRole,
} from "./pairing.ts";
export type {
  ClaimAnswer,
  ClaimMeta,
  ClaimRequest,
  PairingEndpoints,
  PairingEndpointsOptions,
  UnpairAnswer,
  UnpairRequest,
} from "./pairing-claim.ts";
export { createPairingEndpoints, signUnpair, UNPAIR_DOMAIN } from "./pairing-claim.ts";
export type {
  ClaimedPairing,
  ClaimOptions,
  RelayEndpoints,
  UnpairOptions,
  UnpairResult,
} from "./pairing-client.ts";
export {
  chooseRemote,
  claimPairing,
  relayEndpoints,
  requireSidecarRole,
  unpairLocal,
} from "./pairing-client.ts";
export type { BodyReader, PairingHttpResponse, PairingHttpRouteOptions } from "./pairing-http.ts";
export {
  createPairingHttpRoute,
  handlePairingClaim,
  handlePairingRequest,
  PAIRING_CLAIM_PATH,
  PAIRING_MAX_BODY_BYTES,
  PAIRING_UNPAIR_PATH,
} from "./pairing-http.ts";
export type { PairingLookup } from "./pairing-lookup.ts";
export { createPairingLookup, isEnded, isLive, sweepExpiredPairings } from "./pairing-lookup.ts";
export type { PairingState, PairingStateOptions } from "./pairing-state.ts";
export { openPairingState } from "./pairing-state.ts";
export type { PairingView, RemotePairingView } from "./pairing-views.ts";
export { effectiveStatus, pairingView, remotePairingView } from "./pairing-views.ts";
