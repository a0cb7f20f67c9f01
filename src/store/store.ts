// openStore: one SQLite file per broker profile, opened with WAL, a busy timeout, synchronous=FULL and
// secure_delete, migrated, with the audit keys checked against the key registry. The returned Store is the
// only way other modules touch the file.
import { chmodSync, existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { type Clock, systemClock } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { uuidv7 } from "../core/ids.ts";
import { retryWhileBusy } from "../core/sqlite-busy.ts";
import {
  type AuditCore,
  appendEvent,
  type CheckpointRow,
  prepareStatements,
  type StoreLog,
  systemContext,
  withWriteTransaction,
} from "./audit-core.ts";
import {
  type ExportFilter,
  type ExportManifest,
  type ExportVerification,
  exportEvents,
  verifyExportFile,
  writeExport,
} from "./audit-export.ts";
import {
  type AnchorRecordOptions,
  backupStore,
  checkpointNow,
  makeAnchor,
  type PurgeOptions,
  type PurgeResult,
  purge,
  type RotateKeyOptions,
  type RotationResult,
  recordAnchored,
  rotateKey,
} from "./audit-maintenance.ts";
import {
  type Anchor,
  tailVerified,
  type VerifiedTail,
  type VerifyOptions,
  type VerifyReport,
  verifyChain,
} from "./audit-verify.ts";
import type { AuditContext, AuditEventInput, AuditEventRecord } from "./events.ts";
import { deriveKeys, type KeyGeneration } from "./keys.ts";
import { applyMigrations, checkedVersion } from "./migrations.ts";
import {
  type Approvals,
  type Backlog,
  createApprovals,
  createBacklog,
  createIdempotency,
  createKillSwitch,
  createLedger,
  createLiveArming,
  createOperatorPinFailures,
  createOrderGroups,
  createPairings,
  createPreviews,
  createRelayStatus,
  createRemotePairings,
  type Idempotency,
  type KillSwitch,
  type Ledger,
  type LiveArming,
  type OperatorPinFailures,
  type OrderGroups,
  type Pairings,
  type Previews,
  type RelayStatusTable,
  type RemotePairings,
} from "./records/index.ts";
import { type RedactOptions, type RedactResult, redact } from "./redaction.ts";

export interface StoreSecrets {
  /** The current audit secret (at least 32 bytes). */
  readonly auditSecret: Buffer | string;
  /** Id of the current secret's generation; default k1. */
  readonly keyId?: string;
  /** Earlier generations, needed to verify events written before a rotation. */
  readonly previousSecrets?: readonly { readonly keyId: string; readonly secret: Buffer | string }[];
}

export interface StoreOptions {
  readonly path: string;
  readonly secrets: StoreSecrets;
  readonly clock?: Clock;
  readonly readonly?: boolean;
  /** A checkpoint is written after every N-th event (default 1000). */
  readonly checkpointEvery?: number;
  /** Events younger than this many days are never purged (default 2555, the live-trading minimum). */
  readonly retentionDays?: number;
  /** How long to wait for another process's write lock, in ms (default 5000). */
  readonly busyTimeoutMs?: number;
  readonly log?: StoreLog;
}

export interface Store extends Disposable {
  readonly path: string;
  /** Key id new events are written under. */
  readonly keyId: string;
  readonly readonly: boolean;

  /** Appends one audit event; AUDIT_WRITE_FAILED (the caller must not go ahead) when it cannot. */
  append(event: AuditEventInput): AuditEventRecord;
  /** Writes a signed checkpoint now. */
  checkpoint(context?: AuditContext): CheckpointRow;
  /** The current head, signed, to keep outside the database. */
  anchor(): Anchor;
  recordAnchored(anchor: Anchor, options: AnchorRecordOptions, context?: AuditContext): AuditEventRecord;
  /** Verifies the whole chain in one streaming pass; never throws for a broken chain (see chain_valid). */
  verify(options?: VerifyOptions): VerifyReport;
  /** The newest events (1..500), only after their chain verified; AUDIT_CHAIN_INVALID otherwise. */
  tailVerified(limit?: number): VerifiedTail;
  exportEvents(filter?: ExportFilter): Iterable<AuditEventRecord>;
  writeExport(path: string, filter?: ExportFilter, context?: AuditContext): ExportManifest;
  /** Checks an export and its manifest; AUDIT_EXPORT_INVALID on any mismatch. */
  verifyExport(path: string): ExportVerification;
  backup(destinationPath: string): Promise<{ pages: number }>;
  purge(options: PurgeOptions): PurgeResult;
  rotateKey(newSecret: Buffer | string, newKeyId: string, options?: RotateKeyOptions): RotationResult;

  hashAccountId(accountId: string): string;
  hashTokenId(jti: string): string;
  /** Keyed hash of an identifier (account-hash key of the current generation). */
  hashValue(text: string): string;
  /** Keyed hash of the JCS canonical JSON of a value (input_hash, output_hash, ...). */
  hashCanonical(value: unknown): string;
  /** redact() with this store's account hashing. */
  redact(value: unknown, options?: Omit<RedactOptions, "hashAccountId">): RedactResult;
  /** A context for events the gateway writes on its own (front_door system). */
  systemContext(): AuditContext;
  /** Runs fn in one BEGIN IMMEDIATE transaction; appends and record writes inside it commit together. */
  transaction<T>(fn: () => T): T;

  readonly previews: Previews;
  readonly approvals: Approvals;
  readonly idempotency: Idempotency;
  readonly killSwitch: KillSwitch;
  readonly liveArming: LiveArming;
  readonly backlog: Backlog;
  readonly orderGroups: OrderGroups;
  readonly ledger: Ledger;
  readonly operatorPinFailures: OperatorPinFailures;
  /** Sidecar relay, remote side: the pairings this gateway issued. */
  readonly relayPairings: Pairings;
  /** Sidecar relay, sidecar side: the remote gateway(s) this sidecar paired with. */
  readonly remotePairings: RemotePairings;
  /** Sidecar relay: what the running relay process last reported (read by `sidecar status`). */
  readonly relayStatus: RelayStatusTable;

  close(): void;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 1) {
    throw new GatewayError("CONFIG_INVALID", { message: `${name} must be a positive integer.` });
  }
  return result;
}

/** Refuses a secret that does not match the fingerprint recorded for its key id. */
function checkRegistry(core: AuditCore, keys: KeyGeneration, register: boolean): void {
  const row = core.sql.keyFingerprint.get(keys.keyId) as { fingerprint: string } | undefined;
  if (row && row.fingerprint !== keys.fingerprint) {
    throw new GatewayError("CONFIG_INVALID", {
      message: `The audit secret given for key id ${keys.keyId} is not the one this store was written with.`,
      userAction: "Supply the audit secret that belongs to this key id (see docs/audit.md, key rotation).",
    });
  }
  if (!row && register && !core.readonly) {
    core.sql.insertKey.run(keys.keyId, keys.fingerprint, new Date(core.clock.now()).toISOString());
  }
}

export function openStore(options: StoreOptions): Store {
  if (typeof options.path !== "string" || options.path === "") {
    throw new GatewayError("CONFIG_INVALID", { message: "The store path is missing." });
  }
  const clock = options.clock ?? systemClock;
  const readonly = options.readonly === true;
  const checkpointEvery = positiveInteger("checkpointEvery", options.checkpointEvery, 1000);
  const retentionDays = positiveInteger("retentionDays", options.retentionDays, 2555);
  const busyTimeoutMs = positiveInteger("busyTimeoutMs", options.busyTimeoutMs, 5000);
  const log: StoreLog = options.log ?? (() => undefined);

  // Keys first: a bad secret must fail before the file is created or touched.
  const current = deriveKeys(options.secrets.auditSecret, options.secrets.keyId ?? "k1");
  const keyring = new Map<string, KeyGeneration>([[current.keyId, current]]);
  for (const previous of options.secrets.previousSecrets ?? []) {
    if (keyring.has(previous.keyId)) {
      throw new GatewayError("CONFIG_INVALID", { message: `Audit key id ${previous.keyId} is given twice.` });
    }
    keyring.set(previous.keyId, deriveKeys(previous.secret, previous.keyId));
  }

  const created = !existsSync(options.path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(options.path, {
      readOnly: readonly,
      timeout: busyTimeoutMs,
      enableForeignKeyConstraints: true,
      defensive: true,
    });
  } catch (error) {
    throw new GatewayError("AUDIT_WRITE_FAILED", {
      message: "The audit store could not be opened.",
      userAction: "Check that the state directory exists and is readable and writable by this user.",
      cause: error,
    });
  }
  let core: AuditCore;
  try {
    if (created && !readonly) chmodSync(options.path, 0o600);
    if (!readonly) {
      retryWhileBusy(() => db.exec("PRAGMA journal_mode = WAL"));
      retryWhileBusy(() => applyMigrations(db, new Date(clock.now()).toISOString()));
    } else {
      checkedVersion(db);
    }
    // FULL on the connection: every commit (audit events, idempotency rows, orders) is durable on return.
    db.exec("PRAGMA synchronous = FULL; PRAGMA secure_delete = ON");
    core = {
      db,
      clock,
      keyring,
      current,
      readonly,
      checkpointEvery,
      retentionDays,
      sessionId: `ses_${uuidv7(clock)}`,
      sql: prepareStatements(db),
      log,
    };
    checkRegistry(core, current, true);
    for (const keys of keyring.values()) if (keys !== current) checkRegistry(core, keys, true);
  } catch (error) {
    db.close();
    if (error instanceof GatewayError) throw error;
    throw new GatewayError("AUDIT_WRITE_FAILED", {
      message: "The audit store could not be prepared.",
      cause: error,
    });
  }

  const previews = createPreviews(db);
  const approvals = createApprovals(db);
  const idempotency = createIdempotency(db);
  const killSwitch = createKillSwitch(db);
  const liveArming = createLiveArming(db);
  const backlog = createBacklog(db);
  const orderGroups = createOrderGroups(db);
  const ledger = createLedger(db);
  const operatorPinFailures = createOperatorPinFailures(db);
  const relayPairings = createPairings(db);
  const remotePairings = createRemotePairings(db);
  const relayStatus = createRelayStatus(db);

  const store: Store = {
    path: options.path,
    get keyId() {
      return core.current.keyId;
    },
    readonly,
    append: (event) => appendEvent(core, event),
    checkpoint: (context) => checkpointNow(core, context),
    anchor: () => makeAnchor(core),
    recordAnchored: (anchor, anchorOptions, context) => recordAnchored(core, anchor, anchorOptions, context),
    verify: (verifyOptions) => verifyChain(core, verifyOptions),
    tailVerified: (limit) => tailVerified(core, limit),
    exportEvents: (filter) => exportEvents(core, filter),
    writeExport: (path, filter, context) => writeExport(core, path, filter, context),
    verifyExport: (path) => {
      const { captured: _captured, ...result } = verifyExportFile(core, path);
      return result;
    },
    backup: (destination) => backupStore(core, destination),
    purge: (purgeOptions) => purge(core, purgeOptions),
    rotateKey: (secret, keyId, rotateOptions) => rotateKey(core, secret, keyId, rotateOptions),
    hashAccountId: (accountId) => core.current.hashAccountId(accountId),
    hashTokenId: (jti) => core.current.hashTokenId(jti),
    hashValue: (text) => core.current.hashValue(text),
    hashCanonical: (value) => core.current.hashCanonical(value),
    redact: (value, redactOptions) =>
      redact(value, { ...redactOptions, hashAccountId: core.current.hashAccountId }),
    systemContext: () => systemContext(core),
    transaction: (fn) => withWriteTransaction(core, fn),
    previews,
    approvals,
    idempotency,
    killSwitch,
    liveArming,
    backlog,
    orderGroups,
    ledger,
    operatorPinFailures,
    relayPairings,
    remotePairings,
    relayStatus,
    close: () => {
      if (db.isOpen) db.close();
    },
    [Symbol.dispose]: () => {
      if (db.isOpen) db.close();
    },
  };
  return store;
}
