// The identities of one idempotent write. The caller's key is scoped to the calling principal and kept only
// as a keyed hash; the request hash covers the RFC 8785 canonical JSON of the request (keyed too, because a
// request is little more than an account id and a few numbers). The cOID sent to the broker is derived from
// the scoped key hash: the same key always sends the same cOID, so the broker itself refuses a second order
// with it (cOIDs are unique for 24 hours), and nothing of the raw key reaches the broker or the store.
import type { Store } from "../../store/index.ts";

export interface WriteIdentity {
  readonly keyHash: string;
  readonly requestHash: string;
  /** cOID of the order that carries one (a single order, a bracket's entry). */
  readonly clientOrderId: string;
}

export const CLIENT_ORDER_ID_PREFIX = "iag-";

/** The keyed hash of a caller's idempotency key, scoped to the caller (what records and events carry). */
export function idempotencyKeyHash(store: Store, principal: string, idempotencyKey: string): string {
  return store.hashValue(`idempotency\u0000${principal}\u0000${idempotencyKey}`);
}

export function writeIdentity(
  store: Store,
  input: { principal: string; idempotencyKey: string; operation: string; request: unknown },
): WriteIdentity {
  const keyHash = idempotencyKeyHash(store, input.principal, input.idempotencyKey);
  return {
    keyHash,
    requestHash: store.hashCanonical({ operation: input.operation, request: input.request }),
    clientOrderId: `${CLIENT_ORDER_ID_PREFIX}${keyHash.slice(0, 24)}`,
  };
}
