// Shared state of every process that talks to one Client Portal Gateway. Each CLI command and each stdio MCP
// server is its own process, so the pacing windows, the 429 back-off, the in-flight requests, the leases
// (keep-alive, reconciler, order-in-flight lock) and the last observed session state live in one small
// SQLite file. Every decision that reads and writes this state runs inside BEGIN IMMEDIATE, so two processes
// can never both take the last slot of a window.
import { chmodSync, existsSync } from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { GatewayError } from "../core/gateway-error.ts";
import { retryWhileBusy } from "../core/sqlite-busy.ts";

/**
 * A sliding-window limit: at most `limit` requests in any `windowMs` (plus the safety margin). A request
 * counts from its dispatch until it finishes, and then at its finish time: the broker saw it somewhere in
 * between, so spacing the next request from the finish keeps the broker's own window satisfied however late
 * the request reached it (a busy machine or a slow network can delay it by far more than any margin).
 */
export interface RateRule {
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
}

/** At most `limit` requests of this key in flight at once (e.g. 5 concurrent history requests). */
export interface ConcurrencyRule {
  readonly key: string;
  readonly limit: number;
}

export interface DispatchRequest {
  /** Unique id of this upstream request; names its in-flight row. */
  readonly id: string;
  readonly rates: readonly RateRule[];
  readonly concurrency: ConcurrencyRule | null;
  /** The order-in-flight lock token this request runs under, if any. */
  readonly lockToken: string | null;
  /** How long the in-flight row stays valid if this process dies without finishing it. */
  readonly ttlMs: number;
}

export type BlockReason = "lock" | "global" | "endpoint" | "concurrency";

export type DispatchDecision =
  | { readonly kind: "go"; readonly probe: boolean }
  | {
      readonly kind: "wait";
      readonly blockedBy: BlockReason;
      /** Earliest time the block can lift by itself (rate windows); undefined when it lifts on a release. */
      readonly until: number | undefined;
      /** Holder of what blocks (lock token or in-flight ids), so the pacer knows whether it must poll. */
      readonly holders: readonly string[];
    }
  | { readonly kind: "refuse"; readonly retryAfterMs: number; readonly penaltyEndsAt: number };

/** The 429 back-off, shared by all processes. */
export interface BackoffState {
  readonly startedAt: number;
  /** No request before this time; then exactly one probe may go. */
  readonly probeAt: number;
  /** End of the broker's penalty box as we estimate it. */
  readonly penaltyEndsAt: number;
  /** The probe in flight, if any. */
  readonly probing: { readonly id: string; readonly expiresAt: number } | null;
}

export interface BackoffPolicy {
  /** Length of the broker's penalty box (default 10 minutes). */
  readonly penaltyMs: number;
  /** When the first probe may go after a 429 (default 60 s). */
  readonly firstProbeMs: number;
}

export type FinishOutcome = "ok" | "rate_limited" | "failed";

export interface Coordination {
  /** Id of this client instance (unique per process and client). */
  readonly instanceId: string;
  readonly path: string;
  /** Runs fn inside one IMMEDIATE transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
  tryDispatch(request: DispatchRequest, now: number): DispatchDecision;
  /** Ends a dispatch; `probe` is what tryDispatch said about it (only a probe can change the back-off). */
  finish(id: string, outcome: FinishOutcome, now: number, probe?: boolean): void;
  backoff(): BackoffState | null;
  /** Takes or renews a lease; true when `holder` holds it afterwards. */
  tryLease(name: string, holder: string, ttlMs: number, now: number): boolean;
  releaseLease(name: string, holder: string): void;
  leaseHolder(name: string, now: number): string | null;
  /** In-flight requests not running under `exceptLockToken`, still valid at `now`. */
  inflightOutside(exceptLockToken: string, now: number): string[];
  getValue<T>(key: string): T | undefined;
  setValue(key: string, value: unknown, now: number): void;
  deleteValue(key: string): void;
  close(): void;
}

export interface CoordinationOptions {
  /** SQLite file shared by the processes; ":memory:" (the default) coordinates one process only. */
  path?: string;
  instanceId: string;
  /** Added to every rate window, so jitter between our clock and the broker's never makes a burst too dense. */
  marginMs?: number;
  backoff: BackoffPolicy;
  busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rate_log (key TEXT NOT NULL, at INTEGER NOT NULL, request_id TEXT);
CREATE INDEX IF NOT EXISTS rate_log_key_at ON rate_log (key, at);
CREATE TABLE IF NOT EXISTS inflight (
  id TEXT PRIMARY KEY, concurrency_key TEXT, lock_token TEXT, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS inflight_key ON inflight (concurrency_key);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
`;

const ORDER_LOCK = "order-in-flight";
const BACKOFF_KEY = "backoff";
/** While a probe is in flight the others are told to come back this much later. */
const PROBE_PENDING_RETRY_MS = 2_000;

export function openCoordination(options: CoordinationOptions): Coordination {
  const path = options.path ?? ":memory:";
  const marginMs = options.marginMs ?? 25;
  const policy = options.backoff;
  const fresh = path !== ":memory:" && !existsSync(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5_000 });
    if (fresh) chmodSync(path, 0o600);
    const open = db;
    if (path !== ":memory:") retryWhileBusy(() => open.exec("PRAGMA journal_mode = WAL"));
    // Losing the last pacing rows in a power cut costs nothing but a slower start.
    open.exec("PRAGMA synchronous = NORMAL");
    retryWhileBusy(() => {
      open.exec("BEGIN IMMEDIATE");
      try {
        open.exec(SCHEMA);
        // Files written before rate entries were tied to their request get the column now.
        const columns = open.prepare("PRAGMA table_info(rate_log)").all() as { name: string }[];
        if (!columns.some((column) => column.name === "request_id")) {
          open.exec("ALTER TABLE rate_log ADD COLUMN request_id TEXT");
        }
        open.exec("CREATE INDEX IF NOT EXISTS rate_log_request ON rate_log (request_id)");
        open.exec("COMMIT");
      } catch (error) {
        if (open.isTransaction) open.exec("ROLLBACK");
        throw error;
      }
    });
  } catch (error) {
    throw new GatewayError("CONFIG_INVALID", {
      message: "The broker coordination file cannot be opened.",
      userAction:
        "Check that the directory of `broker.coordination_path` exists and is writable by this user, or remove the setting.",
      cause: error,
    });
  }

  const sql = {
    prune: db.prepare("DELETE FROM rate_log WHERE key = ? AND at <= ?"),
    window: db.prepare("SELECT at FROM rate_log WHERE key = ? AND at > ? ORDER BY at ASC"),
    logRate: db.prepare("INSERT INTO rate_log (key, at, request_id) VALUES (?, ?, ?)"),
    settleRate: db.prepare("UPDATE rate_log SET at = MAX(at, ?), request_id = NULL WHERE request_id = ?"),
    pruneInflight: db.prepare("DELETE FROM inflight WHERE expires_at <= ?"),
    inflightForKey: db.prepare("SELECT id FROM inflight WHERE concurrency_key = ? AND expires_at > ?"),
    insertInflight: db.prepare(
      "INSERT INTO inflight (id, concurrency_key, lock_token, expires_at) VALUES (?, ?, ?, ?)",
    ),
    deleteInflight: db.prepare("DELETE FROM inflight WHERE id = ?"),
    inflightOutside: db.prepare(
      "SELECT id FROM inflight WHERE expires_at > ? AND (lock_token IS NULL OR lock_token <> ?)",
    ),
    lease: db.prepare("SELECT holder, expires_at FROM leases WHERE name = ?"),
    upsertLease: db.prepare(
      "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) " +
        "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
    ),
    deleteLease: db.prepare("DELETE FROM leases WHERE name = ? AND holder = ?"),
    get: db.prepare("SELECT value FROM kv WHERE key = ?"),
    set: db.prepare(
      "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) " +
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    ),
    del: db.prepare("DELETE FROM kv WHERE key = ?"),
  } satisfies Record<string, StatementSync>;

  // Prepared once: exec() would parse these three statements again on every request.
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const rollback = db.prepare("ROLLBACK");
  let depth = 0;
  function transaction<T>(fn: () => T): T {
    if (depth > 0) return fn();
    begin.run();
    depth += 1;
    try {
      const result = fn();
      commit.run();
      return result;
    } catch (error) {
      rollback.run();
      throw error;
    } finally {
      depth -= 1;
    }
  }

  function getValue<T>(key: string): T | undefined {
    const row = sql.get.get(key) as { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }
  function setValue(key: string, value: unknown, now: number): void {
    sql.set.run(key, JSON.stringify(value), now);
  }

  function leaseRow(name: string, now: number): { holder: string; expires_at: number } | null {
    const row = sql.lease.get(name) as { holder: string; expires_at: number } | undefined;
    return row !== undefined && row.expires_at > now ? row : null;
  }

  // A back-off whose penalty is over stays until a probe succeeds: the broker, not our clock, says when the
  // box is open.
  function backoff(): BackoffState | null {
    return getValue<BackoffState>(BACKOFF_KEY) ?? null;
  }

  function rateWait(rule: RateRule, now: number): number | null {
    const horizon = now - rule.windowMs - marginMs;
    sql.prune.run(rule.key, horizon);
    const rows = sql.window.all(rule.key, horizon) as { at: number }[];
    if (rows.length < rule.limit) return null;
    const oldestThatMustExpire = rows[rows.length - rule.limit] as { at: number };
    return oldestThatMustExpire.at + rule.windowMs + marginMs + 1;
  }

  function tryDispatch(request: DispatchRequest, now: number): DispatchDecision {
    return transaction(() => {
      const lock = leaseRow(ORDER_LOCK, now);
      if (lock !== null && lock.holder !== request.lockToken) {
        return { kind: "wait", blockedBy: "lock", until: undefined, holders: [lock.holder] } as const;
      }
      const state = backoff();
      let probe = false;
      if (state !== null) {
        if (state.probing !== null && state.probing.expiresAt > now) {
          return { kind: "refuse", retryAfterMs: PROBE_PENDING_RETRY_MS, penaltyEndsAt: state.penaltyEndsAt };
        }
        if (now < state.probeAt) {
          return { kind: "refuse", retryAfterMs: state.probeAt - now, penaltyEndsAt: state.penaltyEndsAt };
        }
        probe = true;
      }
      for (const rule of request.rates) {
        const until = rateWait(rule, now);
        if (until !== null) {
          const blockedBy = rule.key === "global" ? "global" : "endpoint";
          return { kind: "wait", blockedBy, until, holders: [] } as const;
        }
      }
      sql.pruneInflight.run(now);
      if (request.concurrency !== null) {
        const rows = sql.inflightForKey.all(request.concurrency.key, now) as { id: string }[];
        if (rows.length >= request.concurrency.limit) {
          return {
            kind: "wait",
            blockedBy: "concurrency",
            until: undefined,
            holders: rows.map((r) => r.id),
          } as const;
        }
      }
      for (const rule of request.rates) sql.logRate.run(rule.key, now, request.id);
      sql.insertInflight.run(
        request.id,
        request.concurrency?.key ?? null,
        request.lockToken,
        now + request.ttlMs,
      );
      if (probe && state !== null) {
        setValue(
          BACKOFF_KEY,
          { ...state, probing: { id: request.id, expiresAt: now + request.ttlMs } } satisfies BackoffState,
          now,
        );
      }
      return { kind: "go", probe } as const;
    });
  }

  function finish(id: string, outcome: FinishOutcome, now: number, probe = true): void {
    // The common case - an ordinary request that did not meet a 429 - touches one row and needs no
    // transaction. Only a 429 or the end of a probe can change the shared back-off state.
    if (outcome !== "rate_limited" && !probe) {
      sql.settleRate.run(now, id);
      sql.deleteInflight.run(id);
      return;
    }
    transaction(() => {
      sql.settleRate.run(now, id);
      sql.deleteInflight.run(id);
      const state = backoff();
      if (outcome === "rate_limited") {
        if (state === null) {
          setValue(
            BACKOFF_KEY,
            {
              startedAt: now,
              probeAt: now + policy.firstProbeMs,
              penaltyEndsAt: now + policy.penaltyMs,
              probing: null,
            } satisfies BackoffState,
            now,
          );
        } else if (state.probing?.id === id) {
          // The early probe failed: wait out the rest of the box. A probe after the box failed too: the
          // broker opened a new box, so wait a whole one without an early probe.
          const penaltyEndsAt = now < state.penaltyEndsAt ? state.penaltyEndsAt : now + policy.penaltyMs;
          setValue(
            BACKOFF_KEY,
            { startedAt: state.startedAt, probeAt: penaltyEndsAt, penaltyEndsAt, probing: null },
            now,
          );
        }
        return;
      }
      if (state?.probing?.id === id) {
        if (outcome === "ok") sql.del.run(BACKOFF_KEY);
        else setValue(BACKOFF_KEY, { ...state, probing: null } satisfies BackoffState, now);
      }
    });
  }

  return {
    instanceId: options.instanceId,
    path,
    transaction,
    tryDispatch,
    finish,
    backoff,
    tryLease: (name, holder, ttlMs, now) =>
      transaction(() => {
        const row = leaseRow(name, now);
        if (row !== null && row.holder !== holder) return false;
        sql.upsertLease.run(name, holder, now + ttlMs);
        return true;
      }),
    releaseLease: (name, holder) => {
      sql.deleteLease.run(name, holder);
    },
    leaseHolder: (name, now) => leaseRow(name, now)?.holder ?? null,
    inflightOutside: (exceptLockToken, now) =>
      (sql.inflightOutside.all(now, exceptLockToken) as { id: string }[]).map((r) => r.id),
    getValue,
    setValue,
    deleteValue: (key) => {
      sql.del.run(key);
    },
    close: () => {
      try {
        db.close();
      } catch {
        // already closed
      }
    },
  };
}

export const ORDER_LOCK_LEASE = ORDER_LOCK;
