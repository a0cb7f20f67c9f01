// Durable idempotency records of order writes (design §10): a pending_writer row is committed before the
// broker is called, then settled as submitted (the broker acted) or failed_after_writer (it did not, or
// refused). The raw idempotency key is never stored, only its keyed hash; `resolution` says how a record was
// settled, which decides whether the same key may run again (only when nothing can have reached the broker).
import type { DatabaseSync } from "node:sqlite";
import { type AccountMode, checkHash, checkMode, parse, storedPayload } from "./common.ts";

export type IdempotencyStatus = "pending_writer" | "submitted" | "failed_after_writer";

/**
 * How a record was settled: `accepted` (the writer answered with an order), `found_at_broker` (recovery
 * found the order by its cOID), `rejected` (the broker refused it: retrying the same request is pointless),
 * `not_sent` (the request provably never reached the broker) and `not_found_at_broker` (recovery looked and
 * the broker has no such order). The last two let the same key try again.
 */
export type IdempotencyResolution =
  | "accepted"
  | "found_at_broker"
  | "rejected"
  | "not_sent"
  | "not_found_at_broker";

const RETRYABLE: ReadonlySet<string> = new Set(["not_sent", "not_found_at_broker"]);

export interface IdempotencyRecord {
  readonly keyHash: string;
  readonly requestHash: string;
  readonly operation: string;
  readonly accountIdHash: string;
  readonly mode: AccountMode | null;
  readonly status: IdempotencyStatus;
  readonly clientOrderId: string | null;
  readonly brokerOrderId: string | null;
  readonly approvalId: string | null;
  readonly originRequestId: string | null;
  /** The process that wrote the pending row (host:pid:instance); recovery leaves live owners alone. */
  readonly owner: string | null;
  /** What recovery needs (cOIDs, order ids); never a raw account id. */
  readonly context: unknown;
  readonly result: unknown;
  readonly failure: unknown;
  readonly resolution: IdempotencyResolution | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface BeginIdempotent {
  /** Keyed hash of the caller's idempotency key (the raw key is never stored). */
  readonly keyHash: string;
  readonly requestHash: string;
  readonly operation: string;
  readonly accountIdHash: string;
  readonly mode?: AccountMode;
  readonly clientOrderId?: string;
  readonly approvalId?: string;
  readonly originRequestId?: string;
  readonly owner?: string;
  readonly context?: unknown;
  readonly at: number;
}

export type BeginOutcome =
  /** A new pending row (or a retryable failed one taken up again): go ahead and call the writer. */
  | { readonly kind: "created"; readonly record: IdempotencyRecord }
  /** The key is known; the caller replays, refuses or waits according to the record. */
  | { readonly kind: "exists"; readonly record: IdempotencyRecord }
  /** The approval already backs another write that may have reached the broker. */
  | { readonly kind: "approval_in_use" };

export interface Idempotency {
  /**
   * Writes the pending row before the broker call. A known key is returned as it is, except a failed
   * record that nothing of reached the broker, with the same request: that one is taken up again.
   */
  begin(request: BeginIdempotent): BeginOutcome;
  /** pending_writer -> submitted; false when the record was not pending. */
  markSubmitted(
    keyHash: string,
    outcome: { result: unknown; brokerOrderId?: string; at: number; resolution?: IdempotencyResolution },
  ): boolean;
  /** pending_writer -> failed_after_writer; false when the record was not pending. */
  markFailedAfterWriter(
    keyHash: string,
    outcome: { failure: unknown; at: number; resolution?: IdempotencyResolution },
  ): boolean;
  get(keyHash: string): IdempotencyRecord | null;
  /** Records still pending (crash recovery looks them up by client order id). */
  listPending(): IdempotencyRecord[];
  /** Whether a failed record may be taken up again by its key. */
  isRetryable(record: IdempotencyRecord): boolean;
}

interface IdempotencyRow {
  idempotency_key_hash: string;
  request_hash: string;
  operation: string;
  account_id_hash: string;
  mode: AccountMode | null;
  status: IdempotencyStatus;
  client_order_id: string | null;
  broker_order_id: string | null;
  approval_id: string | null;
  origin_request_id: string | null;
  owner: string | null;
  context: string | null;
  result: string | null;
  failure: string | null;
  resolution: IdempotencyResolution | null;
  created_at: number;
  updated_at: number;
}

function idempotencyRecord(row: IdempotencyRow): IdempotencyRecord {
  return {
    keyHash: row.idempotency_key_hash,
    requestHash: row.request_hash,
    operation: row.operation,
    accountIdHash: row.account_id_hash,
    mode: row.mode,
    status: row.status,
    clientOrderId: row.client_order_id,
    brokerOrderId: row.broker_order_id,
    approvalId: row.approval_id,
    originRequestId: row.origin_request_id,
    owner: row.owner,
    context: parse(row.context),
    result: parse(row.result),
    failure: parse(row.failure),
    resolution: row.resolution,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function isApprovalConflict(error: unknown): boolean {
  return (
    error instanceof Error && /UNIQUE constraint failed: idempotency_records\.approval_id/.test(error.message)
  );
}

export function createIdempotency(db: DatabaseSync): Idempotency {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO idempotency_records (idempotency_key_hash, request_hash, operation, account_id_hash,
       mode, status, client_order_id, approval_id, origin_request_id, owner, context, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'pending_writer', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const retry = db.prepare(
    `UPDATE idempotency_records SET status = 'pending_writer', failure = NULL, resolution = NULL,
       origin_request_id = ?, owner = ?, context = ?, updated_at = ?
     WHERE idempotency_key_hash = ? AND status = 'failed_after_writer' AND request_hash = ?
       AND resolution IN ('not_sent', 'not_found_at_broker')`,
  );
  const select = db.prepare("SELECT * FROM idempotency_records WHERE idempotency_key_hash = ?");
  const submitted = db.prepare(
    "UPDATE idempotency_records SET status = 'submitted', result = ?, broker_order_id = ?, resolution = ?, updated_at = ? WHERE idempotency_key_hash = ? AND status = 'pending_writer'",
  );
  const failed = db.prepare(
    "UPDATE idempotency_records SET status = 'failed_after_writer', failure = ?, resolution = ?, updated_at = ? WHERE idempotency_key_hash = ? AND status = 'pending_writer'",
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
      if (request.mode !== undefined) checkMode(request.mode);
      const context = request.context === undefined ? null : storedPayload("context", request.context);
      try {
        const inserted = insert.run(
          request.keyHash,
          request.requestHash,
          request.operation,
          request.accountIdHash,
          request.mode ?? null,
          request.clientOrderId ?? null,
          request.approvalId ?? null,
          request.originRequestId ?? null,
          request.owner ?? null,
          context,
          request.at,
          request.at,
        );
        if (Number(inserted.changes) === 1) {
          // Exactly the row just written: reading it back would only cost a query on the write path.
          return {
            kind: "created",
            record: {
              keyHash: request.keyHash,
              requestHash: request.requestHash,
              operation: request.operation,
              accountIdHash: request.accountIdHash,
              mode: request.mode ?? null,
              status: "pending_writer",
              clientOrderId: request.clientOrderId ?? null,
              brokerOrderId: null,
              approvalId: request.approvalId ?? null,
              originRequestId: request.originRequestId ?? null,
              owner: request.owner ?? null,
              context: parse(context),
              result: null,
              failure: null,
              resolution: null,
              createdAt: request.at,
              updatedAt: request.at,
            },
          };
        }
        // OR IGNORE also swallows the one-write-per-approval index: no row under this key means that index.
        if (get(request.keyHash) === null) return { kind: "approval_in_use" };
        const retried = retry.run(
          request.originRequestId ?? null,
          request.owner ?? null,
          context,
          request.at,
          request.keyHash,
          request.requestHash,
        );
        const record = get(request.keyHash) as IdempotencyRecord;
        return { kind: Number(retried.changes) === 1 ? "created" : "exists", record };
      } catch (error) {
        if (isApprovalConflict(error)) return { kind: "approval_in_use" };
        throw error;
      }
    },
    markSubmitted: (keyHash, outcome) =>
      Number(
        submitted.run(
          storedPayload("result", outcome.result),
          outcome.brokerOrderId ?? null,
          outcome.resolution ?? "accepted",
          outcome.at,
          keyHash,
        ).changes,
      ) === 1,
    markFailedAfterWriter: (keyHash, outcome) =>
      Number(
        failed.run(
          storedPayload("failure", outcome.failure),
          outcome.resolution ?? "rejected",
          outcome.at,
          keyHash,
        ).changes,
      ) === 1,
    get,
    listPending: () => (pending.all() as unknown as IdempotencyRow[]).map(idempotencyRecord),
    isRetryable: (record) =>
      record.status === "failed_after_writer" &&
      record.resolution !== null &&
      RETRYABLE.has(record.resolution),
  };
}
