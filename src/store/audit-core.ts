// Shared state of one open store and the append path. An append is one BEGIN IMMEDIATE transaction: re-read
// the head inside the lock (other processes append too), build the canonical payload, one INSERT, and now
// and then a checkpoint. Statements are prepared once per connection; nothing here queries the schema.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Clock } from "../core/clock.ts";
import { GatewayError, isGatewayError } from "../core/gateway-error.ts";
import { uuidv7 } from "../core/ids.ts";
import { type CheckpointKind, chainHash, checkpointEventHmac, checkpointRowSignature } from "./chain.ts";
import {
  type AuditContext,
  type AuditEventInput,
  type AuditEventRecord,
  buildPayload,
  type PreparedEvent,
  prepareEvent,
} from "./events.ts";
import type { KeyGeneration } from "./keys.ts";

export type StoreLog = (
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface Statements {
  readonly head: StatementSync;
  readonly payloadAt: StatementSync;
  readonly chainAt: StatementSync;
  readonly insertEvent: StatementSync;
  readonly baseCheckpoint: StatementSync;
  readonly lastCheckpoint: StatementSync;
  readonly insertCheckpoint: StatementSync;
  readonly keyFingerprint: StatementSync;
  readonly insertKey: StatementSync;
  readonly begin: StatementSync;
  readonly commit: StatementSync;
  readonly rollback: StatementSync;
}

export function prepareStatements(db: DatabaseSync): Statements {
  return {
    head: db.prepare(
      "SELECT sequence, chain_hash, key_id, event_type FROM audit_events ORDER BY sequence DESC LIMIT 1",
    ),
    payloadAt: db.prepare("SELECT payload FROM audit_events WHERE sequence = ?"),
    chainAt: db.prepare("SELECT event_id, chain_hash FROM audit_events WHERE sequence = ?"),
    insertEvent: db.prepare(
      "INSERT INTO audit_events (sequence, event_id, event_type, timestamp, key_id, request_id, account_id_hash, payload, prev_hash, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    baseCheckpoint: db.prepare(
      "SELECT sequence, chain_hash, key_id, kind, event_id, created_at_iso, signature FROM audit_checkpoints WHERE kind = 'purge_base' ORDER BY sequence DESC LIMIT 1",
    ),
    lastCheckpoint: db.prepare(
      "SELECT sequence, event_id FROM audit_checkpoints WHERE kind != 'purge_base' ORDER BY sequence DESC LIMIT 1",
    ),
    insertCheckpoint: db.prepare(
      "INSERT INTO audit_checkpoints (sequence, chain_hash, key_id, kind, event_id, created_at_iso, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    keyFingerprint: db.prepare("SELECT fingerprint FROM audit_keys WHERE key_id = ?"),
    insertKey: db.prepare(
      "INSERT OR IGNORE INTO audit_keys (key_id, fingerprint, registered_at_iso) VALUES (?, ?, ?)",
    ),
    // Prepared once: exec() parses its SQL again on every call, and every append opens a transaction.
    begin: db.prepare("BEGIN IMMEDIATE"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),
  };
}

export interface AuditCore {
  readonly db: DatabaseSync;
  readonly clock: Clock;
  /** Every key generation this process can verify with, by key id. */
  readonly keyring: Map<string, KeyGeneration>;
  /** The generation new events are written under; replaced by a rotation. */
  current: KeyGeneration;
  readonly readonly: boolean;
  readonly checkpointEvery: number;
  readonly retentionDays: number;
  readonly sessionId: string;
  readonly sql: Statements;
  readonly log: StoreLog;
}

export interface Head {
  readonly sequence: number;
  readonly chain_hash: string;
  /** Null when the chain is empty (genesis) or only a purge base is left. */
  readonly key_id: string | null;
  readonly event_type: string | null;
}

export interface CheckpointRow {
  readonly sequence: number;
  readonly chain_hash: string;
  readonly key_id: string;
  readonly kind: CheckpointKind;
  readonly event_id: string;
  readonly created_at_iso: string;
  readonly signature: string;
}

export function nowIso(core: AuditCore): string {
  return new Date(core.clock.now()).toISOString();
}

export function systemContext(core: AuditCore): AuditContext {
  return {
    request_id: `req_${uuidv7(core.clock)}`,
    session_id: core.sessionId,
    principal: "system:audit",
    front_door: "system",
  };
}

export function baseCheckpoint(core: AuditCore): CheckpointRow | null {
  return (core.sql.baseCheckpoint.get() as CheckpointRow | undefined) ?? null;
}

export function readHead(core: AuditCore): Head {
  const row = core.sql.head.get() as Head | undefined;
  if (row) return row;
  const base = baseCheckpoint(core);
  if (base) return { sequence: base.sequence, chain_hash: base.chain_hash, key_id: null, event_type: null };
  return { sequence: 0, chain_hash: "", key_id: null, event_type: null };
}

/** Wraps anything that is not already a GatewayError into AUDIT_WRITE_FAILED (retryable). */
export function guardWrite<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (isGatewayError(error)) throw error;
    throw new GatewayError("AUDIT_WRITE_FAILED", { cause: error });
  }
}

export function readOnlyError(): GatewayError {
  return new GatewayError("AUDIT_WRITE_FAILED", {
    message: "The store was opened read-only.",
    userAction: "Open the store without read-only mode to write to it.",
    retryable: false,
  });
}

/** Runs fn in a BEGIN IMMEDIATE transaction, or inside the caller's when one is already open. */
export function withWriteTransaction<T>(core: AuditCore, fn: () => T): T {
  if (core.readonly) throw readOnlyError();
  if (core.db.isTransaction) return fn();
  core.sql.begin.run();
  try {
    const result = fn();
    core.sql.commit.run();
    return result;
  } catch (error) {
    try {
      core.sql.rollback.run();
    } catch {
      // The transaction may already be gone (SQLite rolls back on some errors); the first error matters.
    }
    throw error;
  }
}

/** Runs fn in one read snapshot (so concurrent appends cannot show up half way through a scan). */
export function withReadSnapshot<T>(core: AuditCore, fn: () => T): T {
  if (core.db.isTransaction) return fn();
  core.db.exec("BEGIN");
  try {
    return fn();
  } finally {
    core.db.exec("COMMIT");
  }
}

function keyRotatedError(storeKeyId: string, ownKeyId: string): GatewayError {
  return new GatewayError("AUDIT_WRITE_FAILED", {
    message: `The audit log continues under key id ${storeKeyId}, but this process writes with key id ${ownKeyId}.`,
    userAction:
      "Restart this process with the current audit secret (after `audit rotate-key`, the new one), keeping the previous secrets for verification.",
    retryable: false,
  });
}

/** A writer may only continue the chain under the key generation the chain is currently on. */
function checkKeyContinuity(core: AuditCore, head: Head, keys: KeyGeneration): void {
  if (head.key_id === null) return;
  if (head.event_type === "audit_key_rotated") {
    const row = core.sql.payloadAt.get(head.sequence) as { payload: string } | undefined;
    const parsed = row
      ? (JSON.parse(row.payload) as { result_status?: string; metadata?: { new_key_id?: string } })
      : null;
    // A denied or failed rotation attempt is recorded under the same event type but changes no key.
    if (parsed?.result_status === "completed") {
      const next = parsed.metadata?.new_key_id;
      if (next !== keys.keyId) throw keyRotatedError(String(next), keys.keyId);
      return;
    }
  }
  if (head.key_id !== keys.keyId) throw keyRotatedError(head.key_id, keys.keyId);
}

export interface InsertOptions {
  readonly timestamp?: string;
  readonly autoCheckpoint?: boolean;
}

/** Inserts a prepared event; the caller holds the write transaction. */
export function insertPrepared(
  core: AuditCore,
  prepared: PreparedEvent,
  keys: KeyGeneration,
  options: InsertOptions = {},
): AuditEventRecord {
  const head = readHead(core);
  checkKeyContinuity(core, head, keys);
  const sequence = head.sequence + 1;
  const timestamp = options.timestamp ?? nowIso(core);
  const event_id = uuidv7(core.clock);
  const assigned = { event_id, sequence, timestamp, key_id: keys.keyId };
  const payload = buildPayload(prepared, assigned);
  const chain_hash = chainHash(keys.chainKey, head.chain_hash, event_id, payload);
  core.sql.insertEvent.run(
    sequence,
    event_id,
    prepared.event_type,
    timestamp,
    keys.keyId,
    prepared.request_id,
    prepared.account_id_hash,
    payload,
    head.chain_hash,
    chain_hash,
  );
  const record = {
    ...prepared.fields,
    ...assigned,
    prev_hash: head.chain_hash,
    chain_hash,
  } as AuditEventRecord;
  const maintenance =
    prepared.event_type === "audit_checkpoint" || prepared.event_type === "audit_key_rotated";
  if ((options.autoCheckpoint ?? true) && !maintenance && sequence % core.checkpointEvery === 0) {
    writeCheckpoint(core, "periodic", keys, systemContext(core));
  }
  return record;
}

/** Appends one event. Any storage failure becomes AUDIT_WRITE_FAILED: the caller must not go ahead. */
export function appendEvent(core: AuditCore, input: AuditEventInput): AuditEventRecord {
  if (core.readonly) throw readOnlyError();
  const keys = core.current;
  const prepared = prepareEvent(input, keys);
  return guardWrite(() => withWriteTransaction(core, () => insertPrepared(core, prepared, keys)));
}

/**
 * Writes an audit_checkpoint event and a signed checkpoint row covering that event; the caller holds the
 * write transaction. The event's metadata covers the event before it; the row covers the event itself, so
 * deleting the checkpoint event too is still a truncated tail.
 */
export function writeCheckpoint(
  core: AuditCore,
  kind: Exclude<CheckpointKind, "purge_base">,
  keys: KeyGeneration,
  context: AuditContext,
): CheckpointRow {
  const head = readHead(core);
  const previous = core.sql.lastCheckpoint.get() as { sequence: number; event_id: string } | undefined;
  const base = baseCheckpoint(core);
  const timestamp = nowIso(core);
  const metadata: Record<string, unknown> = {
    covered_sequence: head.sequence,
    covered_chain_hash: head.chain_hash,
    events_since_previous: head.sequence - (previous?.sequence ?? base?.sequence ?? 0),
    checkpoint_hmac: checkpointEventHmac(keys.chainKey, head.sequence, head.chain_hash, timestamp),
  };
  if (previous) metadata.previous_checkpoint_event_id = previous.event_id;
  const prepared = prepareEvent(
    { ...context, event_type: "audit_checkpoint", decision: "allow", result_status: "completed", metadata },
    keys,
  );
  const record = insertPrepared(core, prepared, keys, { timestamp, autoCheckpoint: false });
  const row = {
    sequence: record.sequence,
    chain_hash: record.chain_hash,
    key_id: keys.keyId,
    kind,
    event_id: record.event_id,
    created_at_iso: timestamp,
  };
  const signature = checkpointRowSignature(keys.chainKey, row);
  core.sql.insertCheckpoint.run(
    row.sequence,
    row.chain_hash,
    row.key_id,
    row.kind,
    row.event_id,
    row.created_at_iso,
    signature,
  );
  return { ...row, signature };
}
