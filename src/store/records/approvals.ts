// One-time approvals of a stored preview.
import type { DatabaseSync } from "node:sqlite";
import { checkHash, parse, refuse, storedPayload } from "./common.ts";

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
  /**
   * Marks an active approval consumed by a write that reached the broker, even if it expired while the
   * broker answered (the gates checked it before the write); false when it was not active.
   */
  consumeByWrite(approvalId: string, at: number): boolean;
  /** Revokes an active approval; false when it was not active. */
  revoke(approvalId: string, at: number, revokedBy: string): boolean;
  /** Every approval of one preview, oldest first. */
  forPreview(previewId: string): ApprovalRecord[];
  /** Newest first, optionally of one account only. */
  list(filter?: { accountIdHash?: string; limit?: number }): ApprovalRecord[];
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
  const consumeByWrite = db.prepare(
    "UPDATE approvals SET status = 'consumed', consumed_at = ? WHERE approval_id = ? AND status = 'active'",
  );
  const byPreview = db.prepare("SELECT * FROM approvals WHERE preview_id = ? ORDER BY created_at, rowid");
  // Ties within one millisecond go by insertion order: ids are random past their time prefix.
  const newest = db.prepare("SELECT * FROM approvals ORDER BY created_at DESC, rowid DESC LIMIT ?");
  const newestOf = db.prepare(
    "SELECT * FROM approvals WHERE account_id_hash = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
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
      return row ? toRecord(row) : null;
    },
    consume: (approvalId, at) => Number(consume.run(at, approvalId, at).changes) === 1,
    revoke: (approvalId, at, revokedBy) => Number(revoke.run(at, revokedBy, approvalId).changes) === 1,
    consumeByWrite: (approvalId, at) => Number(consumeByWrite.run(at, approvalId).changes) === 1,
    forPreview: (previewId) => (byPreview.all(previewId) as unknown as ApprovalRow[]).map(toRecord),
    list(filter = {}) {
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const rows =
        filter.accountIdHash === undefined ? newest.all(limit) : newestOf.all(filter.accountIdHash, limit);
      return (rows as unknown as ApprovalRow[]).map(toRecord);
    },
  };
}

function toRecord(row: ApprovalRow): ApprovalRecord {
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
}
