// The relay's views of the pairing records (src/store/records/sidecar.ts, kept by the pairing commands): on
// the remote, which pairing a presented key or a calling user has - active, or ended (revoked, expired),
// which the relay answers differently from never paired; on the sidecar, the pairing with its remote.
import type { Clock } from "../core/clock.ts";
import type { PairingRecord, Store } from "../store/index.ts";
import type { LocalPairingView } from "./daemon.ts";
import { recordPairingEnded } from "./pairing-events.ts";
import { createPairingLookup } from "./pairing-lookup.ts";
import type { RelayPairings, RelayPairingView } from "./relay-hub.ts";

const ENDED = ["revoked", "expired", "locked"] as const;

function view(record: PairingRecord): RelayPairingView | undefined {
  if (record.sidecarId === null || record.sidecarPublicKey === null) return undefined;
  return {
    pairingId: record.pairingId,
    sidecarId: record.sidecarId,
    principal: record.userPrincipal,
    status: record.status,
    expiresAt: record.expiresAt ?? record.endedAt ?? 0,
    publicKey: record.sidecarPublicKey,
  };
}

/** Remote side. A pairing that was claimed but not approved yet counts as no pairing (approval pending). */
export function remotePairings(store: Store, clock: Clock): RelayPairings {
  const lookup = createPairingLookup({ store, clock });
  return {
    byPublicKey(key) {
      const active = lookup.byPublicKey(key);
      if (active !== null) return view(active);
      const ended = store.relayPairings
        .list({ statuses: ENDED, limit: 200 })
        .find((record) => record.sidecarPublicKey === key);
      return ended === undefined ? undefined : view(ended);
    },
    forPrincipal(principal) {
      const active = lookup.activeForUser(principal)[0];
      if (active !== undefined) return view(active);
      const ended = store.relayPairings.list({ statuses: ENDED, userPrincipal: principal, limit: 1 })[0];
      return ended === undefined ? undefined : view(ended);
    },
  };
}

/**
 * Sidecar side: the current pairing with its remote. A claimed pairing (the remote's operator has not approved
 * yet, or the sidecar has not heard) may connect: the remote decides, and its ready message confirms it.
 */
export function localPairing(store: Store): LocalPairingView | undefined {
  const record = store.remotePairings.current();
  if (record === null || record.status === "revoked") return undefined;
  return {
    pairingId: record.pairingId,
    status: "active",
    expiresAt:
      record.status === "active" ? (record.expiresAt ?? Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER,
    remotePublicKey: record.remotePublicKey,
    remoteInstanceId: record.remoteInstanceId,
  };
}

/**
 * Sidecar side: ends the local record of a pairing the remote ended (revoked by its operator, or expired) and
 * audits relay_pairing_revoked, in one transaction. False when the record had ended already. Uses the
 * pairing records' own revoke (src/store/records/sidecar.ts), as `sidecar unpair` does for the owner.
 */
export function endLocalPairing(
  store: Store,
  ended: { pairingId: string; reason: "pairing_revoked" | "pairing_expired"; at: number },
  audit: { requestId: string; sessionId: string; principal: string },
): boolean {
  return store.transaction(() => {
    const record = store.remotePairings.get(ended.pairingId);
    if (record === null || record.status === "revoked") return false;
    const by = ended.reason === "pairing_expired" ? "expiry" : "remote_operator";
    const reason =
      ended.reason === "pairing_expired"
        ? "the remote gateway reported the pairing expired"
        : "the remote gateway reported the pairing revoked";
    if (!store.remotePairings.revoke(ended.pairingId, { at: ended.at, by, reason })) return false;
    recordPairingEnded(
      store,
      {
        request_id: audit.requestId,
        session_id: audit.sessionId,
        principal: audit.principal,
        front_door: "relay",
      },
      {
        side: "sidecar",
        pairingId: ended.pairingId,
        sidecarId: record.sidecarId,
        revokedBy: by,
        previousStatus: record.status,
        reason,
      },
    );
    return true;
  });
}
