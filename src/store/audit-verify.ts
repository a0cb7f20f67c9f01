// Chain verification in one streaming pass: rows come from a statement iterator in sequence order (never all
// loaded), checkpoint rows from a second iterator merged by sequence. Per row the work is what the chain
// needs and no more (one SHA-256, one HMAC, string compares); payloads are parsed only at key rotations.
import { GatewayError } from "../core/gateway-error.ts";
import {
  type AuditCore,
  baseCheckpoint,
  type CheckpointRow,
  nowIso,
  withReadSnapshot,
} from "./audit-core.ts";
import { anchorSignature, chainHash, checkpointRowSignature, verifiedMarkSignature } from "./chain.ts";
import type { AuditEventRecord } from "./events.ts";
import { digestsEqual } from "./keys.ts";

/** The chain head written outside the database by `audit anchor`. */
export interface Anchor {
  readonly format: "ibkr-agent-audit-anchor";
  readonly sequence: number;
  readonly chain_hash: string;
  readonly key_id: string;
  readonly created_at: string;
  readonly signature: string;
}

export type BreakKind =
  | "chain_mismatch"
  | "sequence_gap"
  | "truncated_tail"
  | "unknown_key"
  | "checkpoint_invalid"
  | "anchor_invalid";

export interface VerifyReport {
  readonly events_scanned: number;
  readonly chain_valid: boolean;
  /** Sequence of the first event that failed (for a deletion or truncation: the first missing one). */
  readonly first_break_sequence: number | null;
  /** event_id of that event, when there is a row at that sequence. */
  readonly first_break_event_id: string | null;
  /** What was wrong, in words (no secrets, no payload content). */
  readonly reason: string | null;
  readonly break_kind: BreakKind | null;
  readonly from_sequence: number | null;
  /** Last sequence that verified. */
  readonly to_sequence: number;
  /** Sequence of the purge base verification started from (0 when nothing was ever purged). */
  readonly base_sequence: number;
  readonly key_ids: readonly string[];
  readonly checkpoints_checked: number;
  readonly anchor_checked: boolean;
  /** Newest checkpoint the verification passed, when any. */
  readonly checkpoint_event_id: string | null;
}

export interface VerifyOptions {
  readonly anchor?: Anchor;
  readonly onProgress?: (progress: { events_scanned: number; sequence: number }) => void;
  /** How many rows between onProgress calls (default 10,000). */
  readonly progressEvery?: number;
}

type Row = [
  sequence: number,
  event_id: string,
  key_id: string,
  event_type: string,
  payload: string,
  prev_hash: string,
  chain_hash: string,
];

interface StartPoint {
  readonly sequence: number;
  readonly chain_hash: string;
  /** True when the row at `sequence` itself is read and must carry chain_hash (a tail from a mark). */
  readonly includesRow: boolean;
}

interface ScanOptions extends VerifyOptions {
  readonly onRow?: (row: Row) => void;
}

interface ScanResult {
  readonly report: VerifyReport;
  /** The newest two checkpoints passed: marks for both keep a tail window that straddles the newest one cheap. */
  readonly recentCheckpoints: readonly { sequence: number; chain_hash: string }[];
}

const ROW_COLUMNS = "sequence, event_id, key_id, event_type, payload, prev_hash, chain_hash";
const CHECKPOINT_COLUMNS = "sequence, chain_hash, key_id, kind, event_id, created_at_iso, signature";

function checkpointValid(core: AuditCore, row: CheckpointRow): "ok" | "unknown_key" | "bad_signature" {
  const keys = core.keyring.get(row.key_id);
  if (!keys) return "unknown_key";
  return digestsEqual(checkpointRowSignature(keys.chainKey, row), row.signature) ? "ok" : "bad_signature";
}

export function anchorValid(core: AuditCore, anchor: Anchor): "ok" | "unknown_key" | "bad_signature" {
  const keys = core.keyring.get(anchor.key_id);
  if (!keys) return "unknown_key";
  return digestsEqual(anchorSignature(keys.chainKey, anchor), String(anchor.signature))
    ? "ok"
    : "bad_signature";
}

/** The scan itself; the caller holds a read snapshot. */
function scan(core: AuditCore, start: StartPoint | null, options: ScanOptions): ScanResult {
  let scanned = 0;
  let expectedSequence = 1;
  let prevHash = "";
  let baseSequence = 0;
  let fromSequence: number | null = null;
  let checkpointsChecked = 0;
  let anchorChecked = false;
  let lastCheckpoint: { sequence: number; chain_hash: string; event_id: string } | null = null;
  const recentCheckpoints: { sequence: number; chain_hash: string }[] = [];
  const keyIds = new Set<string>();
  const progressEvery = options.progressEvery ?? 10_000;
  const anchor = options.anchor;

  let breakInfo: { sequence: number; eventId: string | null; kind: BreakKind; reason: string } | null = null;
  const fail = (sequence: number, eventId: string | null, kind: BreakKind, reason: string) => {
    breakInfo = { sequence, eventId, kind, reason };
  };

  let rowsSql: string;
  let rowsParams: number[];
  let checkpointFloor: number;
  if (start === null) {
    // Full verification starts at the purge base, when a purge left one, else at genesis.
    const base = baseCheckpoint(core);
    if (base) {
      const validity = checkpointValid(core, base);
      if (validity !== "ok") {
        fail(
          base.sequence,
          null,
          validity === "unknown_key" ? "unknown_key" : "checkpoint_invalid",
          validity === "unknown_key"
            ? `the purge base is signed with key id ${base.key_id}, which was not supplied`
            : "the purge base checkpoint has an invalid signature",
        );
      }
      baseSequence = base.sequence;
      expectedSequence = base.sequence + 1;
      prevHash = base.chain_hash;
    }
    rowsSql = `SELECT ${ROW_COLUMNS} FROM audit_events ORDER BY sequence`;
    rowsParams = [];
    checkpointFloor = baseSequence;
  } else {
    baseSequence = baseCheckpoint(core)?.sequence ?? 0;
    expectedSequence = start.includesRow ? start.sequence : start.sequence + 1;
    prevHash = start.chain_hash;
    rowsSql = `SELECT ${ROW_COLUMNS} FROM audit_events WHERE sequence >= ? ORDER BY sequence`;
    rowsParams = [expectedSequence];
    checkpointFloor = start.sequence;
  }

  const rowsStatement = core.db.prepare(rowsSql);
  rowsStatement.setReturnArrays(true);
  const checkpointStatement = core.db.prepare(
    `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE sequence > ? AND kind != 'purge_base' ORDER BY sequence`,
  );
  const rows = rowsStatement.iterate(...rowsParams) as Iterator<Row>;
  const checkpoints = checkpointStatement.iterate(checkpointFloor) as Iterator<CheckpointRow>;
  let nextCheckpoint: CheckpointRow | null = null;
  const pullCheckpoint = () => {
    const next = checkpoints.next();
    nextCheckpoint = next.done ? null : (next.value as CheckpointRow);
  };

  // An anchor is checked before it is used, so a forged one is reported as such, not as a chain break.
  if (anchor) {
    const validity = anchorValid(core, anchor);
    if (validity !== "ok") {
      fail(
        anchor.sequence,
        null,
        validity === "unknown_key" ? "unknown_key" : "anchor_invalid",
        validity === "unknown_key"
          ? `the anchor is signed with key id ${anchor.key_id}, which was not supplied`
          : "the anchor's signature is invalid",
      );
    }
  }

  let currentKeyId: string | null = null;
  let rotationTarget: string | null = null;
  try {
    pullCheckpoint();
    while (breakInfo === null) {
      const next = rows.next();
      if (next.done) break;
      const [sequence, eventId, keyId, eventType, payload, storedPrev, stored] = next.value;
      if (fromSequence === null) fromSequence = sequence;

      if (sequence !== expectedSequence) {
        if (sequence < expectedSequence) {
          fail(sequence, eventId, "sequence_gap", `row ${sequence} lies before the start of the chain`);
        } else {
          fail(
            expectedSequence,
            null,
            "sequence_gap",
            `sequence ${expectedSequence} is missing (the next row is ${sequence})`,
          );
        }
        break;
      }
      const keys = core.keyring.get(keyId);
      if (!keys) {
        fail(
          sequence,
          eventId,
          "unknown_key",
          `key id ${keyId} was not supplied, so this event cannot be checked`,
        );
        break;
      }
      if (currentKeyId !== null && keyId !== currentKeyId && keyId !== rotationTarget) {
        fail(
          sequence,
          eventId,
          "chain_mismatch",
          `the key changes from ${currentKeyId} to ${keyId} without a rotation`,
        );
        break;
      }
      const isFirstOfTail = start?.includesRow === true && sequence === start.sequence;
      if (isFirstOfTail) {
        if (stored !== prevHash) {
          fail(sequence, eventId, "chain_mismatch", "the row differs from the verified mark");
          break;
        }
      } else {
        if (storedPrev !== prevHash) {
          fail(sequence, eventId, "chain_mismatch", "prev_hash does not link to the previous event");
          break;
        }
        if (chainHash(keys.chainKey, prevHash, eventId, payload) !== stored) {
          fail(sequence, eventId, "chain_mismatch", "chain_hash does not match the event's content");
          break;
        }
      }
      if (keyId !== currentKeyId) {
        currentKeyId = keyId;
        rotationTarget = null;
      }
      if (eventType === "audit_key_rotated") {
        const parsed = JSON.parse(payload) as {
          result_status?: unknown;
          metadata?: { new_key_id?: unknown };
        };
        // Only a completed rotation hands the chain to a new key (denied and failed attempts are logged too).
        rotationTarget =
          parsed.result_status === "completed" && typeof parsed.metadata?.new_key_id === "string"
            ? parsed.metadata.new_key_id
            : null;
      }
      keyIds.add(keyId);

      const checkpoint = nextCheckpoint as CheckpointRow | null;
      if (checkpoint !== null && checkpoint.sequence < sequence) {
        // Only possible when rows were skipped, which the sequence check reports first.
        pullCheckpoint();
      }
      const cp = nextCheckpoint as CheckpointRow | null;
      if (cp !== null && cp.sequence === sequence) {
        const validity = checkpointValid(core, cp);
        if (validity !== "ok" || cp.chain_hash !== stored) {
          fail(
            sequence,
            eventId,
            validity === "unknown_key" ? "unknown_key" : "checkpoint_invalid",
            validity === "ok"
              ? "the checkpoint row does not match the event"
              : "the checkpoint row is not validly signed",
          );
          break;
        }
        checkpointsChecked += 1;
        lastCheckpoint = { sequence, chain_hash: stored, event_id: eventId };
        recentCheckpoints.push(lastCheckpoint);
        if (recentCheckpoints.length > 2) recentCheckpoints.shift();
        pullCheckpoint();
      }
      if (anchor && anchor.sequence === sequence) {
        if (anchor.chain_hash !== stored) {
          fail(sequence, eventId, "chain_mismatch", "the event differs from the external anchor");
          break;
        }
        anchorChecked = true;
      }

      prevHash = stored;
      expectedSequence = sequence + 1;
      scanned += 1;
      options.onRow?.(next.value);
      if (options.onProgress && scanned % progressEvery === 0) {
        options.onProgress({ events_scanned: scanned, sequence });
      }
    }

    const last = expectedSequence - 1;
    const pending = nextCheckpoint as CheckpointRow | null;
    if (breakInfo === null && pending !== null) {
      const validity = checkpointValid(core, pending);
      if (validity === "ok") {
        fail(
          last + 1,
          null,
          "truncated_tail",
          `a signed checkpoint covers sequence ${pending.sequence} but the log ends at ${last}`,
        );
      } else {
        fail(
          pending.sequence,
          null,
          validity === "unknown_key" ? "unknown_key" : "checkpoint_invalid",
          "a checkpoint row beyond the head is not validly signed",
        );
      }
    }
    if (breakInfo === null && anchor) {
      if (anchor.sequence > last) {
        fail(
          last + 1,
          null,
          "truncated_tail",
          `the anchor covers sequence ${anchor.sequence} but the log ends at ${last}`,
        );
      } else if (anchor.sequence === baseSequence && baseSequence > 0 && start === null) {
        if (anchor.chain_hash !== prevHashAtBase(core)) {
          fail(anchor.sequence, null, "chain_mismatch", "the purge base differs from the external anchor");
        } else anchorChecked = true;
      } else if (anchor.sequence === 0) {
        anchorChecked = true;
      }
      // An anchor older than the purge base names a row that no longer exists: it cannot be compared.
    }
  } finally {
    rows.return?.();
    checkpoints.return?.();
  }

  const broken = breakInfo as {
    sequence: number;
    eventId: string | null;
    kind: BreakKind;
    reason: string;
  } | null;
  const last = expectedSequence - 1;
  return {
    report: {
      events_scanned: scanned,
      chain_valid: broken === null,
      first_break_sequence: broken?.sequence ?? null,
      first_break_event_id: broken?.eventId ?? null,
      reason: broken?.reason ?? null,
      break_kind: broken?.kind ?? null,
      from_sequence: fromSequence,
      to_sequence: broken ? Math.min(last, broken.sequence - 1) : last,
      base_sequence: baseSequence,
      key_ids: [...keyIds].sort(),
      checkpoints_checked: checkpointsChecked,
      anchor_checked: anchorChecked,
      checkpoint_event_id: (lastCheckpoint as { event_id: string } | null)?.event_id ?? null,
    },
    recentCheckpoints,
  };
}

function prevHashAtBase(core: AuditCore): string {
  return baseCheckpoint(core)?.chain_hash ?? "";
}

/** Remembers checkpoints a verification reached, so the next tail verification can start there. */
function recordMarks(
  core: AuditCore,
  checkpoints: readonly { sequence: number; chain_hash: string }[],
): void {
  if (core.readonly || checkpoints.length === 0 || core.db.isTransaction) return;
  for (const checkpoint of checkpoints) recordMark(core, checkpoint);
}

function recordMark(core: AuditCore, checkpoint: { sequence: number; chain_hash: string }): void {
  const keys = core.current;
  const mark = {
    sequence: checkpoint.sequence,
    chain_hash: checkpoint.chain_hash,
    verified_at_iso: nowIso(core),
  };
  try {
    core.db
      .prepare(
        "INSERT OR REPLACE INTO audit_verified_marks (sequence, chain_hash, key_id, verified_at_iso, signature) VALUES (?, ?, ?, ?, ?)",
      )
      .run(
        mark.sequence,
        mark.chain_hash,
        keys.keyId,
        mark.verified_at_iso,
        verifiedMarkSignature(keys.chainKey, mark),
      );
  } catch (error) {
    // A mark only saves time later; failing to write one (a busy or read-only file) changes no result.
    core.log("debug", "audit verified mark not written", { error: String(error) });
  }
}

/** Full verification from genesis (or the purge base) to the head. */
export function verifyChain(core: AuditCore, options: VerifyOptions = {}): VerifyReport {
  const result = withReadSnapshot(core, () => scan(core, null, options));
  if (result.report.chain_valid) recordMarks(core, result.recentCheckpoints);
  return result.report;
}

export function chainInvalidError(report: VerifyReport): GatewayError {
  return new GatewayError("AUDIT_CHAIN_INVALID", {
    message: `The audit log failed verification at sequence ${report.first_break_sequence}: ${report.reason}.`,
    details: {
      first_break_sequence: report.first_break_sequence,
      first_break_event_id: report.first_break_event_id,
      break_kind: report.break_kind,
    },
  });
}

export interface VerifiedTail {
  /** The newest events, oldest of them first. */
  readonly events: AuditEventRecord[];
  readonly verified_through_sequence: number;
  /** full = verified from genesis (or the purge base); from_mark = from a checkpoint verified earlier. */
  readonly verified_from: "full" | "from_mark";
}

interface MarkRow {
  sequence: number;
  chain_hash: string;
  key_id: string;
  verified_at_iso: string;
  signature: string;
}

/**
 * The newest `limit` events, returned only when the chain from the newest verified mark before them to the
 * head links row by row (or, without a usable mark, when the whole chain verifies). Throws
 * AUDIT_CHAIN_INVALID otherwise.
 */
export function tailVerified(core: AuditCore, limit = 100): VerifiedTail {
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", { message: "limit must be an integer from 1 to 500." });
  }
  const collected: Row[] = [];
  const result = withReadSnapshot(core, () => {
    const head = core.db.prepare("SELECT MAX(sequence) AS sequence FROM audit_events").get() as {
      sequence: number | null;
    };
    const headSequence = head.sequence ?? 0;
    const first = Math.max(1, headSequence - limit + 1);
    const onRow = (row: Row) => {
      if (row[0] >= first) collected.push(row);
    };
    const mark = core.db
      .prepare(
        "SELECT sequence, chain_hash, key_id, verified_at_iso, signature FROM audit_verified_marks WHERE sequence < ? ORDER BY sequence DESC LIMIT 1",
      )
      .get(first) as MarkRow | undefined;
    const base = baseCheckpoint(core)?.sequence ?? 0;
    const keys = mark ? core.keyring.get(mark.key_id) : undefined;
    const usable =
      mark !== undefined &&
      keys !== undefined &&
      mark.sequence >= base &&
      digestsEqual(verifiedMarkSignature(keys.chainKey, mark), mark.signature);
    if (usable && mark) {
      const start = {
        sequence: mark.sequence,
        chain_hash: mark.chain_hash,
        includesRow: mark.sequence > base,
      };
      return { ...scan(core, start, { onRow }), from: "from_mark" as const };
    }
    return { ...scan(core, null, { onRow }), from: "full" as const };
  });
  if (!result.report.chain_valid) throw chainInvalidError(result.report);
  recordMarks(core, result.recentCheckpoints);
  return {
    events: collected.map((row) => toRecord(row)),
    verified_through_sequence: result.report.to_sequence,
    verified_from: result.from,
  };
}

/** Parses a stored row back into its event; the payload is authoritative, the columns must agree with it. */
export function toRecord(
  row: Row | readonly [number, string, string, string, string, string, string],
): AuditEventRecord {
  const [sequence, eventId, keyId, , payload, prevHash, chainHashValue] = row;
  const parsed = JSON.parse(payload) as Record<string, unknown>;
  if (parsed.sequence !== sequence || parsed.event_id !== eventId || parsed.key_id !== keyId) {
    throw new GatewayError("AUDIT_CHAIN_INVALID", {
      message: `The audit row at sequence ${sequence} does not match its own payload.`,
      details: { first_break_sequence: sequence, break_kind: "chain_mismatch" },
    });
  }
  return { ...parsed, prev_hash: prevHash, chain_hash: chainHashValue } as unknown as AuditEventRecord;
}

/** audit_verified metadata for a report, for the caller that records a verification. */
export function verificationMetadata(report: VerifyReport): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    target: "store",
    events_scanned: report.events_scanned,
    to_sequence: report.to_sequence,
    key_ids: report.key_ids,
    anchor_checked: report.anchor_checked,
  };
  if (report.from_sequence !== null) metadata.from_sequence = report.from_sequence;
  if (report.first_break_sequence !== null) metadata.first_break_sequence = report.first_break_sequence;
  if (report.first_break_event_id !== null) metadata.first_break_event_id = report.first_break_event_id;
  if (report.break_kind !== null) metadata.break_kind = report.break_kind;
  if (report.checkpoint_event_id !== null) metadata.checkpoint_event_id = report.checkpoint_event_id;
  return metadata;
}
