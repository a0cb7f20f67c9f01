// Operator procedures on the audit log: on-demand checkpoints, anchors, key rotation, backup and purge.
// Each one that changes the log does so in one BEGIN IMMEDIATE transaction and leaves an audit event.
import { chmodSync, existsSync } from "node:fs";
import { backup as sqliteBackup } from "node:sqlite";
import type { ErrorCode } from "../../generated/errors.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";
import {
  type AuditCore,
  appendEvent,
  baseCheckpoint,
  type CheckpointRow,
  guardWrite,
  insertPrepared,
  nowIso,
  readHead,
  readOnlyError,
  systemContext,
  withReadSnapshot,
  withWriteTransaction,
  writeCheckpoint,
} from "./audit-core.ts";
import { verifyExportFile } from "./audit-export.ts";
import { type Anchor, anchorValid, verifyChain } from "./audit-verify.ts";
import { anchorSignature, checkpointRowSignature, verifiedMarkSignature } from "./chain.ts";
import { type AuditContext, type AuditEventRecord, prepareEvent } from "./events.ts";
import { deriveKeys, type KeyGeneration } from "./keys.ts";

const DAY_MS = 86_400_000;

/** Writes a checkpoint now (besides the periodic ones). */
export function checkpointNow(core: AuditCore, context: AuditContext = systemContext(core)): CheckpointRow {
  if (core.readonly) throw readOnlyError();
  const keys = core.current;
  return guardWrite(() => withWriteTransaction(core, () => writeCheckpoint(core, "manual", keys, context)));
}

/** The current head, signed, to be kept outside the database (a file elsewhere, a ticket, stdout). */
export function makeAnchor(core: AuditCore): Anchor {
  const head = readHead(core);
  const keys = core.current;
  const body = {
    sequence: head.sequence,
    chain_hash: head.chain_hash,
    key_id: keys.keyId,
    created_at: nowIso(core),
  };
  return { format: "ibkr-agent-audit-anchor", ...body, signature: anchorSignature(keys.chainKey, body) };
}

export function formatAnchor(anchor: Anchor): string {
  return `${JSON.stringify(anchor, null, 2)}\n`;
}

/** Parses an anchor file's text; a malformed anchor is refused rather than ignored. */
export function parseAnchor(text: string): Anchor {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", { message: "The anchor is not JSON." });
  }
  const anchor = value as Partial<Anchor> | null;
  if (
    anchor === null ||
    typeof anchor !== "object" ||
    anchor.format !== "ibkr-agent-audit-anchor" ||
    !Number.isInteger(anchor.sequence) ||
    (anchor.sequence as number) < 0 ||
    typeof anchor.chain_hash !== "string" ||
    typeof anchor.key_id !== "string" ||
    typeof anchor.created_at !== "string" ||
    typeof anchor.signature !== "string"
  ) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "The anchor does not have the anchor format.",
    });
  }
  return anchor as Anchor;
}

export interface AnchorRecordOptions {
  readonly anchorKind: "file" | "stdout" | "command";
  /** When the anchor could not be written: the error code of that failure. */
  readonly errorCode?: ErrorCode;
}

/** Appends audit_anchored after the caller wrote (or failed to write) the anchor outside the database. */
export function recordAnchored(
  core: AuditCore,
  anchor: Anchor,
  options: AnchorRecordOptions,
  context: AuditContext = systemContext(core),
): AuditEventRecord {
  if (anchorValid(core, anchor) !== "ok") {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "The anchor was not made by this store's keys.",
    });
  }
  return appendEvent(core, {
    ...context,
    event_type: "audit_anchored",
    decision: "allow",
    result_status: options.errorCode === undefined ? "completed" : "failed",
    ...(options.errorCode === undefined ? {} : { error_code: options.errorCode }),
    metadata: {
      anchor_sequence: anchor.sequence,
      anchor_chain_hash: anchor.chain_hash,
      anchor_kind: options.anchorKind,
    },
  });
}

export interface RotateKeyOptions {
  /** Where the new secret comes from, recorded as env or file (never the value or location). */
  readonly keySource?: "env" | "file";
  readonly reason?: string;
  readonly context?: AuditContext;
}

export interface RotationResult {
  readonly previous_key_id: string;
  readonly new_key_id: string;
  readonly checkpoint_event_id: string;
  readonly rotation_event_id: string;
  /** True when live trading was armed and the rotation disarmed it. */
  readonly live_disarmed: boolean;
}

/**
 * Rotates the audit secret: a checkpoint and an audit_key_rotated event signed under the old key, which
 * names the new key id; everything after is written under the new key. Verification then needs both
 * secrets. Live trading, if armed, is disarmed (the operator re-arms under the new key).
 */
export function rotateKey(
  core: AuditCore,
  newSecret: Buffer | string,
  newKeyId: string,
  options: RotateKeyOptions = {},
): RotationResult {
  if (core.readonly) throw readOnlyError();
  if (core.db.isTransaction) {
    throw new GatewayError("INTERNAL_ERROR", { message: "rotateKey cannot run inside another transaction." });
  }
  const next = deriveKeys(newSecret, newKeyId);
  const old = core.current;
  const registered = core.sql.keyFingerprint.get(newKeyId) as { fingerprint: string } | undefined;
  // A key id names one secret forever: refuse ids this process or the chain already used, and ids the
  // registry knows with another secret. (A process may have registered the new id by opening early.)
  const usedInChain = core.db
    .prepare("SELECT 1 AS used FROM audit_events WHERE key_id = ? LIMIT 1")
    .get(newKeyId);
  if (
    core.keyring.has(newKeyId) ||
    usedInChain !== undefined ||
    (registered !== undefined && registered.fingerprint !== next.fingerprint)
  ) {
    throw new GatewayError("CONFIG_INVALID", {
      message: `Audit key id ${newKeyId} was already used in this store; choose a new key id.`,
    });
  }
  const context = options.context ?? systemContext(core);
  const result = guardWrite(() =>
    withWriteTransaction(core, () => {
      const checkpoint = writeCheckpoint(core, "rotation", old, context);
      const metadata: Record<string, unknown> = {
        previous_key_id: old.keyId,
        new_key_id: newKeyId,
        checkpoint_event_id: checkpoint.event_id,
      };
      if (options.keySource !== undefined) metadata.key_source = options.keySource;
      if (options.reason !== undefined) metadata.reason = options.reason;
      const rotation = insertPrepared(
        core,
        prepareEvent(
          {
            ...context,
            event_type: "audit_key_rotated",
            decision: "allow",
            result_status: "completed",
            metadata,
          },
          old,
        ),
        old,
        { autoCheckpoint: false },
      );
      core.sql.insertKey.run(next.keyId, next.fingerprint, nowIso(core));
      const disarmed = disarmLiveForRotation(core, next, context);
      return { checkpoint, rotation, disarmed };
    }),
  );
  core.keyring.set(next.keyId, next);
  core.current = next;
  return {
    previous_key_id: old.keyId,
    new_key_id: next.keyId,
    checkpoint_event_id: result.checkpoint.event_id,
    rotation_event_id: result.rotation.event_id,
    live_disarmed: result.disarmed,
  };
}

function disarmLiveForRotation(core: AuditCore, keys: KeyGeneration, context: AuditContext): boolean {
  const arming = core.db.prepare("SELECT armed, event_id, armed_at FROM live_arming WHERE id = 1").get() as
    | { armed: number; event_id: string | null; armed_at: number | null }
    | undefined;
  if (arming?.armed !== 1) return false;
  const now = core.clock.now();
  const metadata: Record<string, unknown> = { cause: "key_rotated" };
  if (arming.event_id !== null) metadata.armed_event_id = arming.event_id;
  if (arming.armed_at !== null)
    metadata.armed_seconds = Math.max(0, Math.floor((now - arming.armed_at) / 1000));
  const event = insertPrepared(
    core,
    prepareEvent(
      { ...context, event_type: "live_disarmed", decision: "allow", result_status: "completed", metadata },
      keys,
    ),
    keys,
  );
  core.db
    .prepare(
      "UPDATE live_arming SET armed = 0, cause = 'key_rotated', changed_by = ?, event_id = ?, changed_at = ? WHERE id = 1",
    )
    .run(context.principal, event.event_id, now);
  return true;
}

/** Copies the database through SQLite's online backup API (consistent while others write). */
export async function backupStore(core: AuditCore, destination: string): Promise<{ pages: number }> {
  if (existsSync(destination)) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", { message: "The backup destination already exists." });
  }
  try {
    const pages = await sqliteBackup(core.db, destination);
    chmodSync(destination, 0o600);
    return { pages };
  } catch (error) {
    throw new GatewayError("AUDIT_WRITE_FAILED", {
      message: "The audit store could not be backed up.",
      userAction: "Check that the destination directory exists and is writable, then retry.",
      cause: error,
    });
  }
}

export interface PurgeOptions {
  /** Purge events older than this time; must be before the retention cut-off. */
  readonly before: Date;
  /** An export (with its manifest) written by `writeExport` that covers every event to be purged. */
  readonly exportPath: string;
  readonly context?: AuditContext;
}

export interface PurgeResult {
  readonly events_purged: number;
  readonly from_sequence: number | null;
  readonly to_sequence: number | null;
  /** Verification now starts from this sequence (the last purged event's chain hash is kept, signed). */
  readonly base_sequence: number;
  /** A fresh anchor to replace the one kept outside the database. */
  readonly anchor: Anchor;
}

/**
 * Deletes the oldest events, only when (1) they are all older than the retention cut-off, (2) the whole
 * chain verifies, and (3) a verified export covers them and matches the database at both ends. Leaves a
 * signed base checkpoint carrying the last purged chain hash, so verification continues from there.
 */
export function purge(core: AuditCore, options: PurgeOptions): PurgeResult {
  if (core.readonly) throw readOnlyError();
  const context = options.context ?? systemContext(core);
  const before = options.before;
  if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", { message: "before must be a valid date." });
  }
  const cutoffMs = core.clock.now() - core.retentionDays * DAY_MS;
  const cutoff = new Date(cutoffMs).toISOString();
  const range = withReadSnapshot(core, () => purgeRange(core, before.toISOString()));

  const refuse = (
    code: "AUDIT_RETENTION_REFUSED" | "AUDIT_EXPORT_INVALID",
    reason: string,
    cause?: unknown,
  ) => {
    const metadata: Record<string, unknown> = {
      events_purged: 0,
      cutoff,
      retention_days: core.retentionDays,
    };
    if (range) {
      metadata.from_sequence = range.from;
      metadata.to_sequence = range.to;
    }
    appendEvent(core, {
      ...context,
      event_type: "audit_purged",
      decision: "refuse",
      result_status: "refused",
      error_code: code,
      metadata,
    });
    return new GatewayError(code, { message: reason, details: { reason }, cause });
  };

  if (before.getTime() > cutoffMs) {
    throw refuse(
      "AUDIT_RETENTION_REFUSED",
      `Events newer than the retention cut-off ${cutoff} (${core.retentionDays} days) cannot be purged.`,
    );
  }
  if (range === null) {
    return {
      events_purged: 0,
      from_sequence: null,
      to_sequence: null,
      base_sequence: baseCheckpoint(core)?.sequence ?? 0,
      anchor: makeAnchor(core),
    };
  }

  let verification: ReturnType<typeof verifyExportFile>;
  try {
    verification = verifyExportFile(core, options.exportPath, { captureSequences: [range.from, range.to] });
  } catch (error) {
    const detail = error instanceof Error ? error.message : "unknown reason";
    throw refuse("AUDIT_EXPORT_INVALID", `The export given for the purge did not verify. ${detail}`, error);
  }
  const exported = verification.manifest;
  const coversRange =
    exported.first_sequence !== null &&
    exported.last_sequence !== null &&
    exported.first_sequence <= range.from &&
    exported.last_sequence >= range.to &&
    verification.captured.get(range.from) === range.fromHash &&
    verification.captured.get(range.to) === range.toHash;
  if (!coversRange) {
    throw refuse(
      "AUDIT_RETENTION_REFUSED",
      `The export does not cover sequences ${range.from}-${range.to} of this store.`,
    );
  }
  const report = verifyChain(core);
  if (!report.chain_valid) {
    throw new GatewayError("AUDIT_CHAIN_INVALID", {
      message: `The audit log failed verification at sequence ${report.first_break_sequence}; nothing was purged.`,
      details: { first_break_sequence: report.first_break_sequence, break_kind: report.break_kind },
    });
  }

  const keys = core.current;
  const outcome = guardWrite(() =>
    withWriteTransaction(core, () => {
      // Re-check inside the lock: another process may have purged or the rows may have changed since.
      const toRow = core.sql.chainAt.get(range.to) as { event_id: string; chain_hash: string } | undefined;
      const currentBase = baseCheckpoint(core)?.sequence ?? 0;
      if (!toRow || toRow.chain_hash !== range.toHash || currentBase !== range.from - 1) {
        throw new GatewayError("AUDIT_RETENTION_REFUSED", {
          message: "The audit log changed while the purge was being prepared; run the purge again.",
          retryable: true,
        });
      }
      writeCheckpoint(core, "purge", keys, context);
      const createdAt = nowIso(core);
      const base = {
        sequence: range.to,
        chain_hash: toRow.chain_hash,
        kind: "purge_base" as const,
        event_id: toRow.event_id,
        created_at_iso: createdAt,
      };
      const deleted = core.db.prepare("DELETE FROM audit_events WHERE sequence <= ?").run(range.to);
      // Older checkpoints (and an older base) go first: one may sit exactly at the new base's sequence.
      core.db.prepare("DELETE FROM audit_checkpoints WHERE sequence <= ?").run(range.to);
      core.sql.insertCheckpoint.run(
        base.sequence,
        base.chain_hash,
        keys.keyId,
        base.kind,
        base.event_id,
        base.created_at_iso,
        checkpointRowSignature(keys.chainKey, base),
      );
      core.db.prepare("DELETE FROM audit_verified_marks WHERE sequence <= ?").run(range.to);
      // The base was verified a moment ago, so a tail verification may start from it.
      const mark = { sequence: base.sequence, chain_hash: base.chain_hash, verified_at_iso: createdAt };
      core.db
        .prepare(
          "INSERT INTO audit_verified_marks (sequence, chain_hash, key_id, verified_at_iso, signature) VALUES (?, ?, ?, ?, ?)",
        )
        .run(
          mark.sequence,
          mark.chain_hash,
          keys.keyId,
          mark.verified_at_iso,
          verifiedMarkSignature(keys.chainKey, mark),
        );
      insertPrepared(
        core,
        prepareEvent(
          {
            ...context,
            event_type: "audit_purged",
            decision: "allow",
            result_status: "completed",
            metadata: {
              from_sequence: range.from,
              to_sequence: range.to,
              events_purged: Number(deleted.changes),
              cutoff,
              retention_days: core.retentionDays,
              export_id: exported.export_id,
              base_checkpoint_event_id: base.event_id,
            },
          },
          keys,
        ),
        keys,
      );
      return { eventsPurged: Number(deleted.changes) };
    }),
  );
  try {
    // Deleted rows should not linger in the write-ahead log (secure_delete zeroes them in the main file).
    core.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (error) {
    core.log("debug", "wal checkpoint after purge did not complete", { error: String(error) });
  }
  return {
    events_purged: outcome.eventsPurged,
    from_sequence: range.from,
    to_sequence: range.to,
    base_sequence: range.to,
    anchor: makeAnchor(core),
  };
}

/** The oldest contiguous run of events before `beforeIso`, with the chain hashes at both ends. */
function purgeRange(
  core: AuditCore,
  beforeIso: string,
): { from: number; to: number; fromHash: string; toHash: string } | null {
  const first = core.db.prepare("SELECT MIN(sequence) AS s FROM audit_events").get() as { s: number | null };
  if (first.s === null) return null;
  // A rowid-order scan that stops at the first newer event (no timestamp index; see the migration).
  const newer = core.db
    .prepare("SELECT sequence AS s FROM audit_events WHERE timestamp >= ? ORDER BY sequence LIMIT 1")
    .get(beforeIso) as { s: number } | undefined;
  const head = readHead(core);
  const to = newer === undefined ? head.sequence : newer.s - 1;
  if (to < first.s) return null;
  const fromRow = core.sql.chainAt.get(first.s) as { chain_hash: string };
  const toRow = core.sql.chainAt.get(to) as { chain_hash: string };
  return { from: first.s, to, fromHash: fromRow.chain_hash, toHash: toRow.chain_hash };
}
