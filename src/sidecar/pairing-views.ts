// How pairings are shown (CLI tables and --json, claim answers): snake_case, RFC 3339 times, the key as its
// fingerprint, the user as their principal. Absent facts are left out rather than null, like tool outputs.
import { toRfc3339 } from "../core/clock.ts";
import type { PairingRecord, RemotePairingRecord } from "../store/index.ts";
import { fingerprintOf } from "./identity.ts";
import { expiryOf } from "./pairing-lookup.ts";

export interface PairingView {
  readonly pairing_id: string;
  /** pending, claimed, active, revoked, expired or locked; an active pairing past its time shows expired. */
  readonly status: string;
  /** The remote MCP principal the pairing serves (oauth:<hash>). */
  readonly user: string;
  readonly remote_instance_id: string;
  readonly sidecar_id?: string;
  readonly fingerprint?: string;
  readonly accepted_tiers?: readonly string[];
  readonly attempts: number;
  readonly created_at: string;
  readonly created_by: string;
  readonly code_expires_at: string;
  readonly claimed_at?: string;
  readonly approve_before?: string;
  readonly approved_at?: string;
  readonly approved_by?: string;
  readonly expires_at?: string;
  readonly ended_at?: string;
  readonly ended_by?: string;
  readonly end_reason?: string;
}

function time(ms: number | null): string | undefined {
  return ms === null ? undefined : toRfc3339(ms);
}

function present<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as T;
}

/** The status as it is now: an unended pairing past its time is expired even before the sweep says so. */
export function effectiveStatus(pairing: PairingRecord, now: number): string {
  const open = pairing.status === "pending" || pairing.status === "claimed" || pairing.status === "active";
  return open && expiryOf(pairing) <= now ? "expired" : pairing.status;
}

export function pairingView(pairing: PairingRecord, now: number): PairingView {
  return present({
    pairing_id: pairing.pairingId,
    status: effectiveStatus(pairing, now),
    user: pairing.userPrincipal,
    remote_instance_id: pairing.remoteInstanceId,
    sidecar_id: pairing.sidecarId ?? undefined,
    fingerprint: pairing.sidecarPublicKey === null ? undefined : fingerprintOf(pairing.sidecarPublicKey),
    accepted_tiers: pairing.sidecarTiers ?? undefined,
    attempts: pairing.attempts,
    created_at: toRfc3339(pairing.createdAt),
    created_by: pairing.createdBy,
    code_expires_at: toRfc3339(pairing.codeExpiresAt),
    claimed_at: time(pairing.claimedAt),
    approve_before: time(pairing.approveBefore),
    approved_at: time(pairing.approvedAt),
    approved_by: pairing.approvedBy ?? undefined,
    expires_at: time(pairing.expiresAt),
    ended_at: time(pairing.endedAt),
    ended_by: pairing.endedBy ?? undefined,
    end_reason: pairing.endReason === null || pairing.endReason === "" ? undefined : pairing.endReason,
  });
}

export interface RemotePairingView {
  readonly pairing_id: string;
  /** claimed (approval not confirmed yet: the relay confirms it on connecting), active, expired or revoked. */
  readonly status: string;
  readonly remote_url: string;
  readonly remote_instance_id: string;
  readonly remote_fingerprint: string;
  readonly sidecar_id: string;
  readonly claimed_at: string;
  readonly approve_before?: string;
  readonly approved_at?: string;
  readonly expires_at?: string;
  readonly ended_at?: string;
  readonly ended_by?: string;
  readonly end_reason?: string;
}

export function remotePairingView(remote: RemotePairingRecord, now: number): RemotePairingView {
  // A claimed pairing stays claimed here: the sidecar learns of the approval only when it next connects.
  const expired = remote.status === "active" && (remote.expiresAt ?? 0) <= now;
  return present({
    pairing_id: remote.pairingId,
    status: expired ? "expired" : remote.status,
    remote_url: remote.remoteUrl,
    remote_instance_id: remote.remoteInstanceId,
    remote_fingerprint: fingerprintOf(remote.remotePublicKey),
    sidecar_id: remote.sidecarId,
    claimed_at: toRfc3339(remote.claimedAt),
    approve_before: time(remote.approveBefore),
    approved_at: time(remote.approvedAt),
    expires_at: time(remote.expiresAt),
    ended_at: time(remote.endedAt),
    ended_by: remote.endedBy ?? undefined,
    end_reason: remote.endReason === null || remote.endReason === "" ? undefined : remote.endReason,
  });
}
