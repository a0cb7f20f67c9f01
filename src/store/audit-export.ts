// Exports: redacted events as JSON Lines (one JCS canonical object per line: the stored payload fields plus
// prev_hash and chain_hash), with a signed manifest beside the file. Because each line carries what the
// chain covers, an export can be re-verified on its own with the audit secrets, long after a purge.

import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename } from "node:path";
import { AUDIT_SCHEMA_VERSION } from "../../generated/audit-events.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { uuidv7 } from "../core/ids.ts";
import { type AuditCore, appendEvent, nowIso, systemContext, withReadSnapshot } from "./audit-core.ts";
import { toRecord } from "./audit-verify.ts";
import { chainHash, manifestSignature } from "./chain.ts";
import type { AuditContext, AuditEventRecord } from "./events.ts";
import { canonicalJson } from "./jcs.ts";
import { digestsEqual, sha256Hex } from "./keys.ts";

export interface ExportFilter {
  /** Events at or after this time (RFC 3339 or Date). */
  readonly since?: string | Date;
  /** Events before this time (exclusive). */
  readonly until?: string | Date;
  /** Only events after this sequence (to page through an export). */
  readonly afterSequence?: number;
  readonly limit?: number;
}

export interface ExportManifest {
  readonly format: "ibkr-agent-audit-export";
  readonly format_version: 1;
  readonly export_id: string;
  readonly created_at: string;
  readonly file: string;
  readonly sha256: string;
  readonly count: number;
  readonly first_sequence: number | null;
  readonly last_sequence: number | null;
  readonly first_prev_hash: string | null;
  readonly first_chain_hash: string | null;
  readonly last_chain_hash: string | null;
  readonly key_ids: readonly string[];
  readonly schema_version: number;
  readonly filter: {
    readonly since: string | null;
    readonly until: string | null;
    readonly after_sequence: number | null;
    readonly limit: number | null;
  };
  readonly signing_key_id: string;
  /** HMAC under the chain key of signing_key_id over the canonical manifest without this field. */
  readonly signature: string;
}

export interface ExportVerification {
  readonly valid: true;
  readonly manifest: ExportManifest;
  readonly events_checked: number;
}

export function manifestPathFor(exportPath: string): string {
  return `${exportPath}.manifest.json`;
}

function toIso(value: string | Date, name: string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime()) || (typeof value === "string" && !/^\d{4}-\d{2}-\d{2}T/.test(value))) {
    throw new GatewayError("INPUT_INVALID_TIME_RANGE", { message: `${name} is not an RFC 3339 time.` });
  }
  return date.toISOString();
}

interface ResolvedFilter {
  readonly since: string | null;
  readonly until: string | null;
  readonly afterSequence: number;
  readonly limit: number | null;
}

function resolveFilter(filter: ExportFilter): ResolvedFilter {
  const since = filter.since === undefined ? null : toIso(filter.since, "since");
  const until = filter.until === undefined ? null : toIso(filter.until, "until");
  if (since !== null && until !== null && since > until) {
    throw new GatewayError("INPUT_INVALID_TIME_RANGE", { message: "since is after until." });
  }
  const afterSequence = filter.afterSequence ?? 0;
  if (!Number.isInteger(afterSequence) || afterSequence < 0) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "afterSequence must be a non-negative integer.",
    });
  }
  const limit = filter.limit ?? null;
  if (limit !== null && (!Number.isInteger(limit) || limit < 1)) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", { message: "limit must be a positive integer." });
  }
  return { since, until, afterSequence, limit };
}

type Row = [number, string, string, string, string, string, string];

/**
 * The contiguous sequence range a filter selects: from the first event at or after `since` to the last
 * event before `until`, with every event in between (clocks of different processes may disagree slightly,
 * and an export must stay a gap-free piece of the chain).
 */
function selectRange(core: AuditCore, filter: ResolvedFilter): { from: number; to: number } | null {
  // Rowid-order scans that stop at the first match (no timestamp index; see the migration).
  const from = core.db
    .prepare(
      filter.since === null
        ? "SELECT sequence AS s FROM audit_events WHERE sequence > ? ORDER BY sequence LIMIT 1"
        : "SELECT sequence AS s FROM audit_events WHERE sequence > ? AND timestamp >= ? ORDER BY sequence LIMIT 1",
    )
    .get(...(filter.since === null ? [filter.afterSequence] : [filter.afterSequence, filter.since])) as
    | { s: number }
    | undefined;
  const to = core.db
    .prepare(
      filter.until === null
        ? "SELECT sequence AS s FROM audit_events ORDER BY sequence DESC LIMIT 1"
        : "SELECT sequence AS s FROM audit_events WHERE timestamp < ? ORDER BY sequence DESC LIMIT 1",
    )
    .get(...(filter.until === null ? [] : [filter.until])) as { s: number } | undefined;
  if (from === undefined || to === undefined || to.s < from.s) return null;
  const last = filter.limit === null ? to.s : Math.min(to.s, from.s + filter.limit - 1);
  return { from: from.s, to: last };
}

function* rowsInRange(core: AuditCore, range: { from: number; to: number } | null): Generator<Row> {
  if (range === null) return;
  const statement = core.db.prepare(
    "SELECT sequence, event_id, key_id, event_type, payload, prev_hash, chain_hash FROM audit_events WHERE sequence BETWEEN ? AND ? ORDER BY sequence",
  );
  statement.setReturnArrays(true);
  yield* statement.iterate(range.from, range.to) as Iterable<Row>;
}

/** Redacted events of a filter, in log order, streamed from the database. */
export function* exportEvents(core: AuditCore, filter: ExportFilter = {}): Generator<AuditEventRecord> {
  const resolved = resolveFilter(filter);
  for (const row of rowsInRange(core, selectRange(core, resolved))) yield toRecord(row);
}

function exportBroken(message: string, sequence: number): GatewayError {
  return new GatewayError("AUDIT_CHAIN_INVALID", {
    message: `The audit log could not be exported: ${message} at sequence ${sequence}.`,
    details: { first_break_sequence: sequence },
  });
}

function unsignedManifest(manifest: ExportManifest): Omit<ExportManifest, "signature"> {
  const { signature: _signature, ...rest } = manifest;
  return rest;
}

/** Writes an export file and its manifest (both 0600, written to temporary names and renamed). */
export function writeExport(
  core: AuditCore,
  path: string,
  filter: ExportFilter = {},
  context: AuditContext = systemContext(core),
): ExportManifest {
  const resolved = resolveFilter(filter);
  const manifestPath = manifestPathFor(path);
  if (existsSync(path) || existsSync(manifestPath)) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "The export file or its manifest already exists.",
    });
  }
  const temporary = `${path}.partial-${process.pid}`;
  const fd = openSync(temporary, "wx", 0o600);
  const digest = createHash("sha256");
  const keyIds = new Set<string>();
  // Held in an object: the snapshot callback assigns them, which plain `let` narrowing does not follow.
  const seen: { count: number; first: AuditEventRecord | null; last: AuditEventRecord | null } = {
    count: 0,
    first: null,
    last: null,
  };
  let buffer = "";
  const flush = () => {
    if (buffer === "") return;
    const bytes = Buffer.from(buffer, "utf8");
    digest.update(bytes);
    writeSync(fd, bytes);
    buffer = "";
  };
  try {
    // One read snapshot, so the range and its rows cannot move under concurrent appends or purges.
    withReadSnapshot(core, () => {
      for (const row of rowsInRange(core, selectRange(core, resolved))) {
        const record = toRecord(row);
        const keys = core.keyring.get(record.key_id);
        if (!keys) throw exportBroken(`key id ${record.key_id} was not supplied`, record.sequence);
        if (seen.last !== null && record.prev_hash !== seen.last.chain_hash)
          throw exportBroken("a broken link", record.sequence);
        if (chainHash(keys.chainKey, record.prev_hash, record.event_id, row[4]) !== record.chain_hash) {
          throw exportBroken("a chain mismatch", record.sequence);
        }
        buffer += `${canonicalJson(record)}\n`;
        if (buffer.length >= 1 << 16) flush();
        keyIds.add(record.key_id);
        if (seen.first === null) seen.first = record;
        seen.last = record;
        seen.count += 1;
      }
    });
    flush();
    closeSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }

  const { count, first, last } = seen;
  const keys = core.current;
  const body: Omit<ExportManifest, "signature"> = {
    format: "ibkr-agent-audit-export",
    format_version: 1,
    export_id: uuidv7(core.clock),
    created_at: nowIso(core),
    file: basename(path),
    sha256: digest.digest("hex"),
    count,
    first_sequence: first?.sequence ?? null,
    last_sequence: last?.sequence ?? null,
    first_prev_hash: first?.prev_hash ?? null,
    first_chain_hash: first?.chain_hash ?? null,
    last_chain_hash: last?.chain_hash ?? null,
    key_ids: [...keyIds].sort(),
    schema_version: AUDIT_SCHEMA_VERSION,
    filter: {
      since: resolved.since,
      until: resolved.until,
      after_sequence: filter.afterSequence ?? null,
      limit: resolved.limit,
    },
    signing_key_id: keys.keyId,
  };
  const manifest: ExportManifest = {
    ...body,
    signature: manifestSignature(keys.chainKey, canonicalJson(body)),
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  const manifestTemporary = `${manifestPath}.partial-${process.pid}`;
  const manifestFd = openSync(manifestTemporary, "wx", 0o600);
  try {
    writeSync(manifestFd, manifestText);
  } finally {
    closeSync(manifestFd);
  }
  renameSync(temporary, path);
  renameSync(manifestTemporary, manifestPath);

  // A read-only store (a backup being inspected) cannot record the export; the files are still complete.
  if (core.readonly) return manifest;
  appendEvent(core, {
    ...context,
    event_type: "audit_exported",
    decision: "allow",
    result_status: "completed",
    metadata: {
      export_id: manifest.export_id,
      ...(manifest.first_sequence === null ? {} : { from_sequence: manifest.first_sequence }),
      ...(manifest.last_sequence === null ? {} : { to_sequence: manifest.last_sequence }),
      events_count: count,
      export_sha256: manifest.sha256,
      manifest_sha256: sha256Hex(manifestText),
      destination: "file",
    },
  });
  return manifest;
}

function exportInvalid(reason: string, details: Record<string, unknown> = {}): GatewayError {
  return new GatewayError("AUDIT_EXPORT_INVALID", {
    message: `The audit export does not match its manifest: ${reason}.`,
    details: { reason, ...details },
  });
}

/** Lines of a file as strings, streamed in chunks; also feeds every byte to `onBytes`. */
function* readLines(path: string, onBytes: (bytes: Buffer) => void): Generator<string> {
  const fd = openSync(path, "r");
  try {
    const chunk = Buffer.alloc(1 << 20);
    let carry: Buffer = Buffer.alloc(0);
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      const bytes = chunk.subarray(0, read);
      onBytes(bytes);
      let data = carry.length > 0 ? Buffer.concat([carry, bytes]) : bytes;
      let newline = data.indexOf(0x0a);
      while (newline !== -1) {
        yield data.subarray(0, newline).toString("utf8");
        data = data.subarray(newline + 1);
        newline = data.indexOf(0x0a);
      }
      carry = Buffer.from(data);
    }
    if (carry.length > 0) throw exportInvalid("the file does not end with a newline");
  } finally {
    closeSync(fd);
  }
}

export interface VerifyExportOptions {
  /** Sequences whose chain_hash the caller wants back (purge compares them with the database). */
  readonly captureSequences?: readonly number[];
}

/**
 * Checks an export against its manifest: the manifest signature, the file's SHA-256, every line canonical,
 * contiguous and chained under its key, and the counts and end hashes. Throws AUDIT_EXPORT_INVALID.
 */
export function verifyExportFile(
  core: AuditCore,
  path: string,
  options: VerifyExportOptions = {},
): ExportVerification & { captured: Map<number, string> } {
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPathFor(path), "utf8")) as ExportManifest;
  } catch {
    throw exportInvalid("the manifest is missing or not JSON");
  }
  if (manifest === null || typeof manifest !== "object" || manifest.format !== "ibkr-agent-audit-export") {
    throw exportInvalid("the manifest is not an audit export manifest");
  }
  const signingKeys = core.keyring.get(String(manifest.signing_key_id));
  if (!signingKeys)
    throw exportInvalid(
      `the manifest is signed with key id ${manifest.signing_key_id}, which was not supplied`,
    );
  const expectedSignature = manifestSignature(
    signingKeys.chainKey,
    canonicalJson(unsignedManifest(manifest)),
  );
  if (typeof manifest.signature !== "string" || !digestsEqual(expectedSignature, manifest.signature)) {
    throw exportInvalid("the manifest signature is invalid");
  }

  const capture = new Set(options.captureSequences ?? []);
  const captured = new Map<number, string>();
  const digest = createHash("sha256");
  const keyIds = new Set<string>();
  let count = 0;
  let previous = null as { sequence: number; chain_hash: string } | null;
  let lineNumber = 0;
  for (const line of readLines(path, (bytes) => digest.update(bytes))) {
    lineNumber += 1;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw exportInvalid("a line is not JSON", { line: lineNumber });
    }
    if (record === null || typeof record !== "object" || canonicalJson(record) !== line) {
      throw exportInvalid("a line is not in canonical form", { line: lineNumber });
    }
    const { prev_hash, chain_hash, ...fields } = record as { prev_hash: unknown; chain_hash: unknown };
    const sequence = record.sequence as number;
    const expectedSequence: number | null =
      previous === null ? manifest.first_sequence : previous.sequence + 1;
    if (sequence !== expectedSequence)
      throw exportInvalid("the sequences are not contiguous", { line: lineNumber });
    const expectedPrev = previous === null ? manifest.first_prev_hash : previous.chain_hash;
    if (prev_hash !== expectedPrev)
      throw exportInvalid("a line does not link to the previous one", { line: lineNumber });
    if (previous === null && chain_hash !== manifest.first_chain_hash) {
      throw exportInvalid("the first chain hash differs", { line: lineNumber });
    }
    const keys = core.keyring.get(String(record.key_id));
    if (!keys) throw exportInvalid(`key id ${String(record.key_id)} was not supplied`, { line: lineNumber });
    const payload = canonicalJson(fields);
    if (chainHash(keys.chainKey, String(prev_hash), String(record.event_id), payload) !== chain_hash) {
      throw exportInvalid("a line's chain_hash does not match its content", { line: lineNumber });
    }
    if (capture.has(sequence)) captured.set(sequence, chain_hash as string);
    keyIds.add(String(record.key_id));
    previous = { sequence, chain_hash: chain_hash as string };
    count += 1;
  }
  if (digest.digest("hex") !== manifest.sha256) throw exportInvalid("the file's SHA-256 differs");
  if (count !== manifest.count) throw exportInvalid("the number of events differs");
  if ((previous?.sequence ?? null) !== manifest.last_sequence)
    throw exportInvalid("the last sequence differs");
  if ((previous?.chain_hash ?? null) !== manifest.last_chain_hash)
    throw exportInvalid("the last chain hash differs");
  if (canonicalJson([...keyIds].sort()) !== canonicalJson(manifest.key_ids)) {
    throw exportInvalid("the key ids differ");
  }
  return { valid: true, manifest, events_checked: count, captured };
}
