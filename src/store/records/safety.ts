// The persisted kill switch and live arming state (one row each).
import type { DatabaseSync } from "node:sqlite";

export interface KillSwitchState {
  readonly engaged: boolean;
  readonly changedBy: string | null;
  readonly reason: string | null;
  readonly eventId: string | null;
  readonly changedAt: number | null;
}

export interface KillSwitch {
  get(): KillSwitchState;
  engage(change: { by: string; reason: string; at: number; eventId?: string }): void;
  release(change: { by: string; at: number; eventId?: string }): void;
}

export function createKillSwitch(db: DatabaseSync): KillSwitch {
  const select = db.prepare(
    "SELECT engaged, changed_by, reason, event_id, changed_at FROM kill_switch WHERE id = 1",
  );
  const update = db.prepare(
    "UPDATE kill_switch SET engaged = ?, changed_by = ?, reason = ?, event_id = ?, changed_at = ? WHERE id = 1",
  );
  return {
    get() {
      const row = select.get() as {
        engaged: number;
        changed_by: string | null;
        reason: string | null;
        event_id: string | null;
        changed_at: number | null;
      };
      return {
        engaged: row.engaged === 1,
        changedBy: row.changed_by,
        reason: row.reason,
        eventId: row.event_id,
        changedAt: row.changed_at,
      };
    },
    engage: (change) => {
      update.run(1, change.by, change.reason, change.eventId ?? null, change.at);
    },
    release: (change) => {
      update.run(0, change.by, null, change.eventId ?? null, change.at);
    },
  };
}

export interface LiveArmingState {
  readonly armed: boolean;
  readonly changedBy: string | null;
  /** Why it was last disarmed (operator, config_changed, audit_unavailable, key_rotated). */
  readonly cause: string | null;
  readonly eventId: string | null;
  readonly armedAt: number | null;
  readonly changedAt: number | null;
  /** Keyed hash of the live_trading configuration at arming. */
  readonly configHash: string | null;
}

export interface LiveArming {
  get(): LiveArmingState;
  arm(change: { by: string; at: number; eventId: string; configHash?: string }): void;
  disarm(change: { by: string; cause: string; at: number; eventId?: string }): void;
}

export function createLiveArming(db: DatabaseSync): LiveArming {
  const select = db.prepare(
    "SELECT armed, changed_by, cause, event_id, armed_at, changed_at, config_hash FROM live_arming WHERE id = 1",
  );
  const arm = db.prepare(
    "UPDATE live_arming SET armed = 1, changed_by = ?, cause = NULL, event_id = ?, armed_at = ?, changed_at = ?, config_hash = ? WHERE id = 1",
  );
  const disarm = db.prepare(
    "UPDATE live_arming SET armed = 0, changed_by = ?, cause = ?, event_id = ?, changed_at = ? WHERE id = 1",
  );
  return {
    get() {
      const row = select.get() as {
        armed: number;
        changed_by: string | null;
        cause: string | null;
        event_id: string | null;
        armed_at: number | null;
        changed_at: number | null;
        config_hash: string | null;
      };
      return {
        armed: row.armed === 1,
        changedBy: row.changed_by,
        cause: row.cause,
        eventId: row.event_id,
        armedAt: row.armed_at,
        changedAt: row.changed_at,
        configHash: row.config_hash,
      };
    },
    arm: (change) => {
      arm.run(change.by, change.eventId, change.at, change.at, change.configHash ?? null);
    },
    disarm: (change) => {
      disarm.run(change.by, change.cause, change.eventId ?? null, change.at);
    },
  };
}
