// Minimal typed accessors for the order-side tables (the Orders work builds the workflows on them). They take
// account id HASHES only and refuse payloads that still hold a raw account id, so the rule "raw account ids
// never reach the store" holds by construction. Times are Unix milliseconds. Payloads are stored as JCS.
import type { DatabaseSync } from "node:sqlite";
import { GatewayError } from "../core/gateway-error.ts";
import { canonicalJson } from "./jcs.ts";
import { findRawAccountIds } from "./redaction.ts";

export type AccountMode = "paper" | "live";

const DIGEST = /^[0-9a-f]{64}$/;

function refuse(message: string): GatewayError {
  return new GatewayError("INTERNAL_ERROR", { message: `Store write refused: ${message}` });
}

function checkHash(name: string, value: string): void {
  if (typeof value !== "string" || !DIGEST.test(value)) {
    throw refuse(`${name} must be a 64-character lowercase hex hash (never a raw id)`);
  }
}

function checkMode(mode: string): void {
  if (mode !== "paper" && mode !== "live") throw refuse("mode must be paper or live");
}

function storedPayload(name: string, payload: unknown): string {
  const raw = findRawAccountIds(payload, name);
  if (raw.length > 0) throw refuse(`${name} holds a raw account id at ${raw.slice(0, 5).join(", ")}`);
  return canonicalJson(payload);
}

function parse<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

// --- previews ---------------------------------------------------------------------------------------

export interface PreviewRecord {
  readonly previewId: string;
  readonly accountIdHash: string;
  readonly mode: AccountMode;
  readonly payload: unknown;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface Previews {
  insert(record: PreviewRecord): void;
  get(previewId: string): PreviewRecord | null;
}

interface PreviewRow {
  preview_id: string;
  account_id_hash: string;
  mode: AccountMode;
  payload: string;
  created_at: number;
  expires_at: number;
}

export function createPreviews(db: DatabaseSync): Previews {
  const insert = db.prepare(
    "INSERT INTO previews (preview_id, account_id_hash, mode, payload, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const select = db.prepare("SELECT * FROM previews WHERE preview_id = ?");
  return {
    insert(record) {
      checkHash("accountIdHash", record.accountIdHash);
      checkMode(record.mode);
      insert.run(
        record.previewId,
        record.accountIdHash,
        record.mode,
        storedPayload("payload", record.payload),
        record.createdAt,
        record.expiresAt,
      );
    },
    get(previewId) {
      const row = select.get(previewId) as PreviewRow | undefined;
      if (!row) return null;
      return {
        previewId: row.preview_id,
        accountIdHash: row.account_id_hash,
        mode: row.mode,
        payload: parse(row.payload),
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      };
    },
  };
}

// --- approvals --------------------------------------------------------------------------------------

export type ApprovalStatus = "active" | "consumed" | "revoked";

export interface ApprovalRecord {
  readonly approvalId: string;
  readonly previewId: string;
  readonly accountIdHash: string;
  readonly status: ApprovalStatus;
  readonly approvedBy: string;
  readonly payload: unknown;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly consumedAt: number | null;
  readonly revokedAt: number | null;
  readonly revokedBy: string | null;
}

export interface NewApproval {
  readonly approvalId: string;
  readonly previewId: string;
  readonly accountIdHash: string;
  readonly approvedBy: string;
  readonly payload: unknown;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface Approvals {
  insert(approval: NewApproval): void;
  get(approvalId: string): ApprovalRecord | null;
  /** Marks an active, unexpired approval consumed; false when it was not (one-time use is atomic). */
  consume(approvalId: string, at: number): boolean;
  /** Revokes an active approval; false when it was not active. */
  revoke(approvalId: string, at: number, revokedBy: string): boolean;
}

interface ApprovalRow {
  approval_id: string;
  preview_id: string;
  account_id_hash: string;
  status: ApprovalStatus;
  approved_by: string;
  payload: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
}

export function createApprovals(db: DatabaseSync): Approvals {
  const insert = db.prepare(
    "INSERT INTO approvals (approval_id, preview_id, account_id_hash, status, approved_by, payload, created_at, expires_at) VALUES (?, ?, ?, 'active', ?, ?, ?, ?)",
  );
  const select = db.prepare("SELECT * FROM approvals WHERE approval_id = ?");
  const consume = db.prepare(
    "UPDATE approvals SET status = 'consumed', consumed_at = ? WHERE approval_id = ? AND status = 'active' AND expires_at > ?",
  );
  const revoke = db.prepare(
    "UPDATE approvals SET status = 'revoked', revoked_at = ?, revoked_by = ? WHERE approval_id = ? AND status = 'active'",
  );
  return {
    insert(approval) {
      checkHash("accountIdHash", approval.accountIdHash);
      if (!(approval.expiresAt > approval.createdAt))
        throw refuse("an approval must expire after it is created");
      insert.run(
        approval.approvalId,
        approval.previewId,
        approval.accountIdHash,
        approval.approvedBy,
        storedPayload("payload", approval.payload),
        approval.createdAt,
        approval.expiresAt,
      );
    },
    get(approvalId) {
      const row = select.get(approvalId) as ApprovalRow | undefined;
      if (!row) return null;
      return {
        approvalId: row.approval_id,
        previewId: row.preview_id,
        accountIdHash: row.account_id_hash,
        status: row.status,
        approvedBy: row.approved_by,
        payload: parse(row.payload),
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        consumedAt: row.consumed_at,
        revokedAt: row.revoked_at,
        revokedBy: row.revoked_by,
      };
    },
    consume: (approvalId, at) => Number(consume.run(at, approvalId, at).changes) === 1,
    revoke: (approvalId, at, revokedBy) => Number(revoke.run(at, revokedBy, approvalId).changes) === 1,
  };
}

// --- idempotency ------------------------------------------------------------------------------------

export type IdempotencyStatus = "pending_writer" | "submitted" | "failed_after_writer";

export interface IdempotencyRecord {
  readonly keyHash: string;
  readonly requestHash: string;
  readonly operation: string;
  readonly accountIdHash: string;
  readonly status: IdempotencyStatus;
  readonly clientOrderId: string | null;
  readonly brokerOrderId: string | null;
  readonly result: unknown;
  readonly failure: unknown;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface BeginIdempotent {
  /** Keyed hash of the caller's idempotency key (the raw key is never stored). */
  readonly keyHash: string;
  readonly requestHash: string;
  readonly operation: string;
  readonly accountIdHash: string;
  readonly clientOrderId?: string;
  readonly at: number;
}

export interface Idempotency {
  /** Writes the pending row before the broker call; returns the existing record instead when the key is known. */
  begin(request: BeginIdempotent): { created: boolean; record: IdempotencyRecord };
  /** pending_writer -> submitted; false when the record was not pending. */
  markSubmitted(keyHash: string, outcome: { result: unknown; brokerOrderId?: string; at: number }): boolean;
  /** pending_writer -> failed_after_writer; false when the record was not pending. */
  markFailedAfterWriter(keyHash: string, outcome: { failure: unknown; at: number }): boolean;
  get(keyHash: string): IdempotencyRecord | null;
  /** Records still pending (crash recovery looks them up by client order id). */
  listPending(): IdempotencyRecord[];
}

interface IdempotencyRow {
  idempotency_key_hash: string;
  request_hash: string;
  operation: string;
  account_id_hash: string;
  status: IdempotencyStatus;
  client_order_id: string | null;
  broker_order_id: string | null;
  result: string | null;
  failure: string | null;
  created_at: number;
  updated_at: number;
}

function idempotencyRecord(row: IdempotencyRow): IdempotencyRecord {
  return {
    keyHash: row.idempotency_key_hash,
    requestHash: row.request_hash,
    operation: row.operation,
    accountIdHash: row.account_id_hash,
    status: row.status,
    clientOrderId: row.client_order_id,
    brokerOrderId: row.broker_order_id,
    result: parse(row.result),
    failure: parse(row.failure),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createIdempotency(db: DatabaseSync): Idempotency {
  const insert = db.prepare(
    "INSERT OR IGNORE INTO idempotency_records (idempotency_key_hash, request_hash, operation, account_id_hash, status, client_order_id, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending_writer', ?, ?, ?)",
  );
  const select = db.prepare("SELECT * FROM idempotency_records WHERE idempotency_key_hash = ?");
  const submitted = db.prepare(
    "UPDATE idempotency_records SET status = 'submitted', result = ?, broker_order_id = ?, updated_at = ? WHERE idempotency_key_hash = ? AND status = 'pending_writer'",
  );
  const failed = db.prepare(
    "UPDATE idempotency_records SET status = 'failed_after_writer', failure = ?, updated_at = ? WHERE idempotency_key_hash = ? AND status = 'pending_writer'",
  );
  const pending = db.prepare(
    "SELECT * FROM idempotency_records WHERE status = 'pending_writer' ORDER BY created_at, idempotency_key_hash",
  );
  const get = (keyHash: string) => {
    const row = select.get(keyHash) as IdempotencyRow | undefined;
    return row ? idempotencyRecord(row) : null;
  };
  return {
    begin(request) {
      checkHash("keyHash", request.keyHash);
      checkHash("requestHash", request.requestHash);
      checkHash("accountIdHash", request.accountIdHash);
      const created =
        Number(
          insert.run(
            request.keyHash,
            request.requestHash,
            request.operation,
            request.accountIdHash,
            request.clientOrderId ?? null,
            request.at,
            request.at,
          ).changes,
        ) === 1;
      return { created, record: get(request.keyHash) as IdempotencyRecord };
    },
    markSubmitted: (keyHash, outcome) =>
      Number(
        submitted.run(
          storedPayload("result", outcome.result),
          outcome.brokerOrderId ?? null,
          outcome.at,
          keyHash,
        ).changes,
      ) === 1,
    markFailedAfterWriter: (keyHash, outcome) =>
      Number(failed.run(storedPayload("failure", outcome.failure), outcome.at, keyHash).changes) === 1,
    get,
    listPending: () => (pending.all() as unknown as IdempotencyRow[]).map(idempotencyRecord),
  };
}

// --- kill switch and live arming ---------------------------------------------------------------------

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
}

export interface LiveArming {
  get(): LiveArmingState;
  arm(change: { by: string; at: number; eventId: string }): void;
  disarm(change: { by: string; cause: string; at: number; eventId?: string }): void;
}

export function createLiveArming(db: DatabaseSync): LiveArming {
  const select = db.prepare(
    "SELECT armed, changed_by, cause, event_id, armed_at, changed_at FROM live_arming WHERE id = 1",
  );
  const arm = db.prepare(
    "UPDATE live_arming SET armed = 1, changed_by = ?, cause = NULL, event_id = ?, armed_at = ?, changed_at = ? WHERE id = 1",
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
      };
      return {
        armed: row.armed === 1,
        changedBy: row.changed_by,
        cause: row.cause,
        eventId: row.event_id,
        armedAt: row.armed_at,
        changedAt: row.changed_at,
      };
    },
    arm: (change) => {
      arm.run(change.by, change.eventId, change.at, change.at);
    },
    disarm: (change) => {
      disarm.run(change.by, change.cause, change.eventId ?? null, change.at);
    },
  };
}

// --- order backlog and groups ------------------------------------------------------------------------

export interface BacklogOrder {
  readonly accountIdHash: string;
  readonly brokerOrderId: string;
  readonly mode: AccountMode;
  readonly lastStatus: string;
  readonly createdAt: number;
  readonly lastPolledAt: number | null;
}

export interface Backlog {
  /** Adds an order to follow, or updates its last status and poll time. */
  upsert(order: BacklogOrder): void;
  list(mode?: AccountMode): BacklogOrder[];
  remove(accountIdHash: string, brokerOrderId: string): boolean;
}

interface BacklogRow {
  account_id_hash: string;
  broker_order_id: string;
  mode: AccountMode;
  last_status: string;
  created_at: number;
  last_polled_at: number | null;
}

export function createBacklog(db: DatabaseSync): Backlog {
  const upsert = db.prepare(
    "INSERT INTO order_backlog (account_id_hash, broker_order_id, mode, last_status, created_at, last_polled_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id_hash, broker_order_id) DO UPDATE SET last_status = excluded.last_status, last_polled_at = excluded.last_polled_at",
  );
  const all = db.prepare("SELECT * FROM order_backlog ORDER BY created_at, broker_order_id");
  const byMode = db.prepare(
    "SELECT * FROM order_backlog WHERE mode = ? ORDER BY created_at, broker_order_id",
  );
  const remove = db.prepare("DELETE FROM order_backlog WHERE account_id_hash = ? AND broker_order_id = ?");
  const toOrder = (row: BacklogRow): BacklogOrder => ({
    accountIdHash: row.account_id_hash,
    brokerOrderId: row.broker_order_id,
    mode: row.mode,
    lastStatus: row.last_status,
    createdAt: row.created_at,
    lastPolledAt: row.last_polled_at,
  });
  return {
    upsert(order) {
      checkHash("accountIdHash", order.accountIdHash);
      checkMode(order.mode);
      upsert.run(
        order.accountIdHash,
        order.brokerOrderId,
        order.mode,
        order.lastStatus,
        order.createdAt,
        order.lastPolledAt,
      );
    },
    list: (mode) =>
      ((mode === undefined ? all.all() : byMode.all(mode)) as unknown as BacklogRow[]).map(toOrder),
    remove: (accountIdHash, brokerOrderId) => Number(remove.run(accountIdHash, brokerOrderId).changes) === 1,
  };
}

export interface OrderGroupRecord {
  readonly groupId: string;
  readonly accountIdHash: string;
  readonly mode: AccountMode;
  readonly payload: unknown;
  readonly createdAt: number;
}

export interface OrderGroups {
  insert(group: OrderGroupRecord): void;
  get(groupId: string): OrderGroupRecord | null;
}

export function createOrderGroups(db: DatabaseSync): OrderGroups {
  const insert = db.prepare(
    "INSERT INTO order_groups (group_id, account_id_hash, mode, payload, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  const select = db.prepare("SELECT * FROM order_groups WHERE group_id = ?");
  return {
    insert(group) {
      checkHash("accountIdHash", group.accountIdHash);
      checkMode(group.mode);
      insert.run(
        group.groupId,
        group.accountIdHash,
        group.mode,
        storedPayload("payload", group.payload),
        group.createdAt,
      );
    },
    get(groupId) {
      const row = select.get(groupId) as
        | {
            group_id: string;
            account_id_hash: string;
            mode: AccountMode;
            payload: string;
            created_at: number;
          }
        | undefined;
      if (!row) return null;
      return {
        groupId: row.group_id,
        accountIdHash: row.account_id_hash,
        mode: row.mode,
        payload: parse(row.payload),
        createdAt: row.created_at,
      };
    },
  };
}
