// The audit log's operator procedures behind the CLI's `audit` commands. Each runs through the guard (scope
// check, denial and failure recorded) and leaves the real work to the store: verify, writeExport,
// verifyExport, anchor, rotateKey, purge, backup. What is left here is reading the operator's files, the
// event each procedure records when the store does not, and the shape of the result.
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import type { CallContext } from "../../core/call-context.ts";
import { GatewayError, isGatewayError, toGatewayError } from "../../core/gateway-error.ts";
import { uuidv7 } from "../../core/ids.ts";
import {
  type Anchor,
  type AuditEventRecord,
  chainInvalidError,
  type ExportFilter,
  type ExportManifest,
  type ExportVerification,
  formatAnchor,
  type PurgeResult,
  parseAnchor,
  type RotationResult,
  type Store,
  type VerifyReport,
  verificationMetadata,
} from "../../store/index.ts";
import { type AuditEventView, eventView } from "./events.ts";
import { alreadyRecorded, createGuard, missingScope } from "./guard.ts";

export interface VerifyResult extends VerifyReport {
  readonly audit_event_id: string;
}

export interface ExportCheck extends ExportVerification {
  readonly audit_event_id: string;
}

export interface ExportRequest {
  readonly since?: string;
  readonly until?: string;
  readonly afterSequence?: number;
  readonly limit?: number;
}

export type AnchorDestination =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "stdout"; write(text: string): void };

export interface AnchorResult {
  readonly anchor: Anchor;
  readonly audit_event_id: string;
}

export interface RotateKeyRequest {
  /** Name of the environment variable that holds the new secret (recorded nowhere; used in messages). */
  readonly secretEnv: string;
  /** Its value, read by the front door; undefined when the variable is not set. */
  readonly secret: string | undefined;
  readonly keyId: string;
  /** Variables the configuration already reads audit secrets from: the new secret must be a new one. */
  readonly configuredEnvs: readonly string[];
}

export interface PurgeRequest {
  /** RFC 3339 time; events before it are purged. */
  readonly before: string;
  readonly exportPath: string;
}

export interface BackupResult {
  readonly file: string;
  readonly pages: number;
  readonly to_sequence: number;
  readonly sha256: string;
  readonly audit_event_id: string;
}

export interface FollowBatch {
  readonly events: AuditEventView[];
  readonly verified_through_sequence: number;
}

/** What an incident review looks for; every given field must match. */
export interface SearchQuery {
  readonly requestId?: string;
  readonly eventId?: string;
  /** A raw account id: the search compares its keyed hash (the log holds nothing else). */
  readonly accountId?: string;
  readonly accountIdHash?: string;
  readonly tool?: string;
  readonly eventType?: string;
  readonly since?: string;
  readonly until?: string;
  /** Most events returned (default 1000, at most 100000). */
  readonly limit?: number;
}

export interface SearchResult {
  /** The keyed hash the account was searched by, so the operator can quote it. */
  readonly account_id_hash?: string;
  readonly events: AuditEventView[];
  readonly scanned: number;
  /** True when more events matched than the limit returned. */
  readonly truncated: boolean;
  readonly audit_event_id: string;
}

export interface AuditProcedures {
  /**
   * The events of one incident (by request id, event id, account, tool or event type, within a time range),
   * after verifying the whole chain, so what the review reads is what was written.
   */
  search(context: CallContext, query: SearchQuery): Promise<SearchResult>;
  /** The whole chain in one streaming pass; AUDIT_CHAIN_INVALID (details: the report) on a break. */
  verify(context: CallContext, options?: { readonly anchorPath?: string }): Promise<VerifyResult>;
  /** An export file against its signed manifest; AUDIT_EXPORT_INVALID on any difference. */
  verifyExport(context: CallContext, path: string): Promise<ExportCheck>;
  /** A JSONL export file and its manifest. */
  exportToFile(context: CallContext, path: string, request?: ExportRequest): Promise<ExportManifest>;
  /** The signed head, written outside the database. */
  anchor(context: CallContext, destination: AnchorDestination): Promise<AnchorResult>;
  rotateKey(context: CallContext, request: RotateKeyRequest): Promise<RotationResult>;
  purge(context: CallContext, request: PurgeRequest): Promise<PurgeResult>;
  backup(context: CallContext, path: string): Promise<BackupResult>;
  /** Verified events after a sequence, for `audit tail --follow` (which opened with an audited tail). */
  followBatch(context: CallContext, afterSequence: number): FollowBatch;
}

/** The newest events a follow poll asks the store for; older unseen ones are read from the export path. */
const FOLLOW_WINDOW = 500;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function parseTime(text: string, name: string): Date {
  const date = new Date(text);
  // A time without an offset would be read in the local zone; a purge cut-off must not depend on that.
  if (!RFC3339.test(text) || Number.isNaN(date.getTime())) {
    throw new GatewayError("INPUT_INVALID_TIME_RANGE", {
      message: `${name} must be an RFC 3339 time with an offset, for example 2020-01-01T00:00:00Z.`,
      details: { field: name },
    });
  }
  return date;
}

function readAnchor(path: string): Anchor {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `The anchor file ${path} could not be read.`,
      userAction: "Give the path of an anchor written by `ibkr-agent audit anchor --out FILE`.",
      details: { field: "anchor" },
      cause: error,
    });
  }
  return parseAnchor(text);
}

function writeFailure(path: string, error: unknown): GatewayError {
  const exists = (error as NodeJS.ErrnoException).code === "EEXIST";
  return new GatewayError("INPUT_INVALID_ARGUMENT", {
    message: exists
      ? `${path} already exists; anchors are kept, never overwritten.`
      : `The anchor could not be written to ${path}.`,
    userAction: "Choose a new file (for example one named after the date) in a directory that exists.",
    details: { field: "out" },
    cause: error,
  });
}

async function fileSha256(path: string): Promise<string> {
  const digest = createHash("sha256");
  for await (const chunk of createReadStream(path)) digest.update(chunk as Buffer);
  return digest.digest("hex");
}

/** The tool's filter, with the times held to RFC 3339 with an offset like the tool's own schema does. */
function exportFilter(request: ExportRequest): ExportFilter {
  return {
    ...(request.since !== undefined ? { since: parseTime(request.since, "since") } : {}),
    ...(request.until !== undefined ? { until: parseTime(request.until, "until") } : {}),
    ...(request.afterSequence !== undefined ? { afterSequence: request.afterSequence } : {}),
    ...(request.limit !== undefined ? { limit: request.limit } : {}),
  };
}

export function createAuditProcedures(store: Store): AuditProcedures {
  const guarded = createGuard(store);
  return {
    search: (context, query) =>
      guarded(context, {
        command: "audit search",
        scope: "ibkr:audit:export",
        event: "audit_exported",
        run: (audit) => {
          const limit = query.limit ?? 1000;
          if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
            throw new GatewayError("INPUT_INVALID_ARGUMENT", {
              message: "limit must be a whole number from 1 to 100000.",
              details: { field: "limit" },
            });
          }
          const report = store.verify();
          if (!report.chain_valid) throw chainInvalidError(report);
          const accountHash =
            query.accountId !== undefined
              ? store.hashAccountId(query.accountId.toUpperCase())
              : query.accountIdHash;
          const matches = (event: AuditEventRecord) =>
            (query.requestId === undefined || event.request_id === query.requestId) &&
            (query.eventId === undefined || event.event_id === query.eventId) &&
            (accountHash === undefined || event.account_id_hash === accountHash) &&
            (query.tool === undefined || event.tool === query.tool) &&
            (query.eventType === undefined || event.event_type === query.eventType);
          const events: AuditEventView[] = [];
          let scanned = 0;
          let matched = 0;
          let first: number | null = null;
          let last: number | null = null;
          const range = {
            ...(query.since !== undefined ? { since: query.since } : {}),
            ...(query.until !== undefined ? { until: query.until } : {}),
          };
          for (const event of store.exportEvents(exportFilter(range))) {
            scanned += 1;
            if (!matches(event)) continue;
            matched += 1;
            if (events.length < limit) {
              events.push(eventView(event));
              first ??= event.sequence;
              last = event.sequence;
            }
          }
          const recorded = store.append({
            ...audit,
            event_type: "audit_exported",
            decision: "allow",
            result_status: "completed",
            metadata: {
              export_id: uuidv7(),
              ...(first !== null ? { from_sequence: first } : {}),
              ...(last !== null ? { to_sequence: last } : {}),
              events_count: events.length,
              destination: "stdout",
            },
          });
          return {
            ...(accountHash !== undefined ? { account_id_hash: accountHash } : {}),
            events,
            scanned,
            truncated: matched > events.length,
            audit_event_id: recorded.event_id,
          };
        },
      }),
    verify: (context, options = {}) =>
      guarded(context, {
        command: "audit verify",
        scope: "ibkr:audit:read",
        event: "audit_verified",
        run: (audit) => {
          const anchor = options.anchorPath === undefined ? undefined : readAnchor(options.anchorPath);
          const report = store.verify(anchor === undefined ? {} : { anchor });
          // A break is recorded after the current head, so the finding itself is in the log.
          const event = store.append({
            ...audit,
            event_type: "audit_verified",
            decision: "allow",
            ...(report.chain_valid
              ? { result_status: "completed" }
              : { result_status: "failed", error_code: "AUDIT_CHAIN_INVALID" }),
            metadata: verificationMetadata(report),
          });
          if (!report.chain_valid) {
            throw alreadyRecorded(
              new GatewayError("AUDIT_CHAIN_INVALID", {
                message: chainInvalidError(report).message,
                details: { ...report },
                auditEventId: event.event_id,
              }),
            );
          }
          return { ...report, audit_event_id: event.event_id };
        },
      }),

    verifyExport: (context, path) =>
      guarded(context, {
        command: "audit verify --export",
        scope: "ibkr:audit:read",
        event: "audit_verified",
        run: (audit) => {
          let verification: ExportVerification;
          try {
            verification = store.verifyExport(path);
          } catch (thrown) {
            const error = isGatewayError(thrown)
              ? toGatewayError(thrown)
              : new GatewayError("AUDIT_EXPORT_INVALID", {
                  message: "The audit export file could not be read.",
                  details: { reason: "the file could not be read" },
                  cause: thrown,
                });
            if (error.code !== "AUDIT_EXPORT_INVALID") throw error;
            const event = store.append({
              ...audit,
              event_type: "audit_verified",
              decision: "allow",
              result_status: "failed",
              error_code: error.code,
              metadata: { target: "export", break_kind: "manifest_mismatch" },
            });
            error.auditEventId = event.event_id;
            throw alreadyRecorded(error);
          }
          const manifest = verification.manifest;
          const event = store.append({
            ...audit,
            event_type: "audit_verified",
            decision: "allow",
            result_status: "completed",
            metadata: {
              target: "export",
              export_id: manifest.export_id,
              events_scanned: verification.events_checked,
              ...(manifest.first_sequence !== null ? { from_sequence: manifest.first_sequence } : {}),
              ...(manifest.last_sequence !== null ? { to_sequence: manifest.last_sequence } : {}),
              key_ids: [...manifest.key_ids],
            },
          });
          return { ...verification, audit_event_id: event.event_id };
        },
      }),

    exportToFile: (context, path, request = {}) =>
      guarded(context, {
        command: "audit export --out",
        scope: "ibkr:audit:export",
        event: "audit_exported",
        // The store records audit_exported itself, with the digests of both files.
        run: (audit) => store.writeExport(path, exportFilter(request), audit),
      }),

    anchor: (context, destination) =>
      guarded(context, {
        command: "audit anchor",
        scope: "ibkr:audit:read",
        event: "audit_anchored",
        run: (audit) => {
          const anchor = store.anchor();
          const text = formatAnchor(anchor);
          try {
            if (destination.kind === "file")
              writeFileSync(destination.path, text, { flag: "wx", mode: 0o600 });
            else destination.write(text);
          } catch (thrown) {
            const error =
              destination.kind === "file" ? writeFailure(destination.path, thrown) : toGatewayError(thrown);
            const event = store.recordAnchored(
              anchor,
              { anchorKind: destination.kind, errorCode: error.code },
              audit,
            );
            error.auditEventId = event.event_id;
            throw alreadyRecorded(error);
          }
          const event = store.recordAnchored(anchor, { anchorKind: destination.kind }, audit);
          return { anchor, audit_event_id: event.event_id };
        },
      }),

    rotateKey: (context, request) =>
      guarded(context, {
        command: "audit rotate-key",
        scope: "ibkr:audit:admin",
        event: "audit_key_rotated",
        run: (audit) => {
          if (request.secret === undefined || request.secret === "") {
            throw new GatewayError("CONFIG_SECRET_MISSING", {
              message: `${request.secretEnv} is not set in the environment.`,
              userAction: `Put the new secret in it first, for example: export ${request.secretEnv}="$(openssl rand -hex 32)"`,
              details: { field: "new-secret-env" },
            });
          }
          if (request.configuredEnvs.includes(request.secretEnv)) {
            throw new GatewayError("CONFIG_INVALID", {
              message: `${request.secretEnv} already holds an audit secret of this configuration.`,
              userAction: "Put a new secret in a new environment variable and name that one.",
              details: { field: "new-secret-env" },
            });
          }
          // The store checks the key id and the secret's length, and refuses a key id used before.
          return store.rotateKey(request.secret, request.keyId, { keySource: "env", context: audit });
        },
      }),

    purge: (context, request) =>
      guarded(context, {
        command: "audit purge",
        scope: "ibkr:audit:admin",
        event: "audit_purged",
        run: (audit) => {
          const before = parseTime(request.before, "before");
          let result: PurgeResult;
          try {
            result = store.purge({ before, exportPath: request.exportPath, context: audit });
          } catch (thrown) {
            const error = toGatewayError(thrown);
            // The store records these refusals itself, with the range and the retention in force.
            if (error.code === "AUDIT_RETENTION_REFUSED" || error.code === "AUDIT_EXPORT_INVALID") {
              throw alreadyRecorded(error);
            }
            throw error;
          }
          if (result.events_purged === 0) {
            // Nothing was old enough; the store then writes nothing, but the operator's request is recorded.
            store.append({
              ...audit,
              event_type: "audit_purged",
              decision: "allow",
              result_status: "completed",
              metadata: { events_purged: 0 },
            });
          }
          return result;
        },
      }),

    backup: (context, path) =>
      guarded(context, {
        command: "audit backup",
        scope: "ibkr:audit:admin",
        event: "audit_backed_up",
        run: async (audit) => {
          // The head before the copy starts: the copy holds at least every event up to it.
          const head = store.anchor().sequence;
          const { pages } = await store.backup(path);
          const sha256 = await fileSha256(path);
          const event = store.append({
            ...audit,
            event_type: "audit_backed_up",
            decision: "allow",
            result_status: "completed",
            metadata: { pages, to_sequence: head, backup_sha256: sha256 },
          });
          return { file: path, pages, to_sequence: head, sha256, audit_event_id: event.event_id };
        },
      }),

    followBatch: (context, afterSequence) => {
      // Checked but not recorded: the follow opened with an audited ibkr_audit_tail call, and recording
      // every poll would make the follow print its own polls forever.
      if (!context.scopes.has("ibkr:audit:read"))
        throw missingScope("audit tail --follow", "ibkr:audit:read");
      const tail = store.tailVerified(FOLLOW_WINDOW);
      const fresh = tail.events.filter((event) => event.sequence > afterSequence);
      const first = fresh[0];
      // More than a window arrived since the last poll: the ones before the window are read in order. They
      // lie before the head the tail just verified, so they belong to the chain that verification covered.
      const missed =
        first !== undefined && first.sequence > afterSequence + 1
          ? [...store.exportEvents({ afterSequence, limit: first.sequence - afterSequence - 1 })]
          : [];
      return {
        events: [...missed, ...fresh].map(eventView),
        verified_through_sequence: tail.verified_through_sequence,
      };
    },
  };
}
