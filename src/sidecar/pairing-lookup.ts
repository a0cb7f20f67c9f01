// What the relay asks of the pairings while it runs (remote side): which sidecars may serve a user, whether
// a presented key belongs to an approved pairing, whether a pairing still holds. Every answer checks the
// expiry itself, so a pairing past its time never routes a call even before the sweep marked it expired;
// the sweep then records the expiry once (relay_pairing_revoked, revoked_by expiry).
import { type Clock, systemClock, toRfc3339 } from "../core/clock.ts";
import type { AuditContext, PairingRecord, Store } from "../store/index.ts";
import { recordPairingEnded } from "./pairing-events.ts";

export interface PairingLookup {
  /** Approved, unexpired pairings of a user (the remote MCP principal, oauth:<hash>), newest approval first. */
  activeForUser(userPrincipal: string): PairingRecord[];
  /** The approved, unexpired pairing of a sidecar key (raw base64url), or null: an unpaired key. */
  byPublicKey(sidecarKey: string): PairingRecord | null;
  get(pairingId: string): PairingRecord | null;
  /** True while the pairing is approved and unexpired. */
  isActive(pairingId: string): boolean;
  /** True once the pairing can never serve: revoked, expired (or past its expiry), locked, or unknown. */
  isRevoked(pairingId: string): boolean;
  /** Marks pairings whose time ran out as expired and audits each; returns how many. */
  sweepExpired(context?: AuditContext): number;
}

export function isLive(pairing: PairingRecord | null, now: number): boolean {
  return pairing !== null && pairing.status === "active" && (pairing.expiresAt ?? 0) > now;
}

export function isEnded(pairing: PairingRecord | null, now: number): boolean {
  if (pairing === null) return true;
  if (pairing.status === "revoked" || pairing.status === "expired" || pairing.status === "locked")
    return true;
  return expiryOf(pairing) <= now;
}

/** Ends every overdue pairing as expired, one audit event each, in one transaction. */
export function sweepExpiredPairings(store: Store, now: number, context?: AuditContext): number {
  const overdue = store.relayPairings.overdue(now);
  if (overdue.length === 0) return 0;
  const base = context ?? { ...store.systemContext(), principal: "system:relay" };
  return store.transaction(() => {
    let count = 0;
    for (const pairing of store.relayPairings.overdue(now)) {
      if (
        !store.relayPairings.end(pairing.pairingId, { at: now, by: "expiry", reason: "", status: "expired" })
      )
        continue;
      count += 1;
      recordPairingEnded(store, base, {
        side: "remote",
        pairingId: pairing.pairingId,
        sidecarId: pairing.sidecarId,
        revokedBy: "expiry",
        previousStatus: pairing.status,
        reason: `expired at ${toRfc3339(expiryOf(pairing))}`,
      });
    }
    return count;
  });
}

/** When an unended pairing runs out: the code, the approval window, or the pairing itself. */
export function expiryOf(pairing: PairingRecord): number {
  if (pairing.status === "pending") return pairing.codeExpiresAt;
  if (pairing.status === "claimed") return pairing.approveBefore ?? pairing.codeExpiresAt;
  return pairing.expiresAt ?? pairing.endedAt ?? pairing.createdAt;
}

export function createPairingLookup(options: {
  readonly store: Store;
  readonly clock?: Clock;
}): PairingLookup {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  return {
    activeForUser: (userPrincipal) => store.relayPairings.activeForUser(userPrincipal, clock.now()),
    byPublicKey: (sidecarKey) => store.relayPairings.activeByPublicKey(sidecarKey, clock.now()),
    get: (pairingId) => store.relayPairings.get(pairingId),
    isActive: (pairingId) => isLive(store.relayPairings.get(pairingId), clock.now()),
    isRevoked: (pairingId) => isEnded(store.relayPairings.get(pairingId), clock.now()),
    sweepExpired: (context) => sweepExpiredPairings(store, clock.now(), context),
  };
}
