// The one way a pairing's end is audited (relay_pairing_revoked), on either side: by the remote's operator,
// the sidecar's owner, the other side's notice, or its expiry.
import type { AuditContext, PairingEndedBy, Store } from "../store/index.ts";

export interface PairingEnded {
  readonly side: "remote" | "sidecar";
  readonly pairingId: string;
  /** Absent (or null) for a pairing no sidecar ever claimed. */
  readonly sidecarId?: string | null;
  readonly revokedBy: PairingEndedBy;
  readonly previousStatus: string;
  readonly reason: string;
}

export function recordPairingEnded(store: Store, context: AuditContext, ended: PairingEnded): void {
  store.append({
    ...context,
    event_type: "relay_pairing_revoked",
    decision: "allow",
    result_status: "completed",
    metadata: {
      side: ended.side,
      pairing_id: ended.pairingId,
      ...(ended.sidecarId !== undefined && ended.sidecarId !== null ? { sidecar_id: ended.sidecarId } : {}),
      revoked_by: ended.revokedBy,
      previous_status: ended.previousStatus,
      reason: ended.reason,
    },
  });
}
