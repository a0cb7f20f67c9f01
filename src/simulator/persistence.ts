// One simulated broker per profile, shared by every process: the durable part of the simulator's state
// (durable.ts) lives in a SQLite file, one row holding a version, the identity it was created with (seed,
// scenario, format) and the state as JSON. Every CLI command and every stdio MCP server is its own process,
// and each of them must see the orders the others placed.
//
// The protocol: before a request, a cheap version check takes in a newer save. A request that changes the
// state runs inside one BEGIN IMMEDIATE transaction - reload if newer, handle, save with version+1, commit -
// so two processes never both build on the same version. Reads only advance the market; because the order
// engine is a deterministic function of the saved state, the seed and the instant, a read whose advance
// changed nothing needs no save, and one that did saves through the same transaction (re-advancing from a
// newer save when another process got there first), so every process continues from one shared history.
// A read that walked a long stretch is saved too, which bounds the catch-up work of the processes after it.
import { chmodSync, existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { retryWhileBusy } from "../core/sqlite-busy.ts";
import {
  compactDurable,
  DURABLE_FORMAT,
  type DurableState,
  exportDurable,
  importDurable,
} from "./durable.ts";
import { TERMINAL } from "./orders.ts";
import { SharedStateUnavailable, type SimulatorState, type StateSharing } from "./state.ts";

export const SIMULATOR_STATE_FILE = "simulator.sqlite";

/** Where the default simulator of a profile keeps its state. */
export function simulatorStatePath(profileDir: string): string {
  return join(profileDir, SIMULATOR_STATE_FILE);
}

export type SimulatorLog = (
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface PersistenceOptions {
  readonly path: string;
  readonly seed: number;
  readonly scenario: string;
  /** The durable data of a brand-new state for this seed and scenario (first use, identity change, reset). */
  readonly fresh: () => DurableState;
  readonly log?: SimulatorLog;
  readonly busyTimeoutMs?: number;
}

export interface SimPersistence extends StateSharing {
  /** The version this process last loaded or saved. */
  version(): number;
  close(): void;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS simulator_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  format INTEGER NOT NULL,
  seed INTEGER NOT NULL,
  scenario TEXT NOT NULL,
  version INTEGER NOT NULL,
  saved_at INTEGER NOT NULL,
  data TEXT NOT NULL
)`;

/**
 * Account ids never reach the file (as nothing under the state directory holds a raw account id): each one
 * is written as its place in the scenario's account list, between two U+0001 characters - which JSON text
 * never contains raw, so no stored string can be mistaken for one - and read back from the scenario.
 */
const ACCOUNT_MARK = "\u0001";

function accountCodec(ids: readonly string[]): {
  encode(json: string): string;
  decode(text: string): string;
} {
  const order = ids.map((id, index) => ({ id, token: `${ACCOUNT_MARK}${index}${ACCOUNT_MARK}` }));
  // Longest first, so an id inside another (U1234567 in DU1234567) is never split.
  const byLength = [...order].sort((a, b) => b.id.length - a.id.length);
  return {
    encode: (json) => byLength.reduce((text, { id, token }) => text.replaceAll(id, token), json),
    decode: (text) => order.reduce((json, { id, token }) => json.replaceAll(token, id), text),
  };
}

/** Stored text with the account tokens made harmless, for reading counts without knowing the scenario. */
function withoutAccounts(text: string): string {
  return text
    .split(ACCOUNT_MARK)
    .map((part, i) => (i % 2 === 1 ? "account" : part))
    .join("");
}

/** A read that advanced working orders over more than this since the last save is saved as a checkpoint. */
const CHECKPOINT_MS = 30 * 60_000;

interface Row {
  format: number;
  seed: number;
  scenario: string;
  version: number;
  saved_at: number;
  data: string;
}

interface Connection {
  readonly db: DatabaseSync;
  /** The file the connection opened; another one at the path means the state was reset under us. */
  readonly inode: number;
  readonly version: StatementSync;
  readonly row: StatementSync;
  readonly save: StatementSync;
  readonly begin: StatementSync;
  readonly commit: StatementSync;
  readonly rollback: StatementSync;
}

function unavailable(message: string, cause?: unknown): SharedStateUnavailable {
  return new SharedStateUnavailable(message, cause === undefined ? undefined : { cause });
}

function connect(path: string, busyTimeoutMs: number): Connection {
  const created = !existsSync(path);
  const db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  try {
    if (created) chmodSync(path, 0o600);
    // Two processes can create the file at the same moment; SQLite then answers BUSY at once instead of
    // waiting, so the set-up statements are retried.
    retryWhileBusy(() => db.exec("PRAGMA journal_mode = WAL"));
    // A simulated broker: a power cut may cost the last save, never the file's consistency.
    db.exec("PRAGMA synchronous = NORMAL");
    retryWhileBusy(() => db.exec(SCHEMA));
    return {
      db,
      inode: statSync(path).ino,
      version: db.prepare("SELECT version FROM simulator_state WHERE id = 1"),
      row: db.prepare(
        "SELECT format, seed, scenario, version, saved_at, data FROM simulator_state WHERE id = 1",
      ),
      save: db.prepare(
        "INSERT INTO simulator_state (id, format, seed, scenario, version, saved_at, data) VALUES (1, ?, ?, ?, ?, ?, ?) " +
          "ON CONFLICT(id) DO UPDATE SET format = excluded.format, seed = excluded.seed, scenario = excluded.scenario, " +
          "version = excluded.version, saved_at = excluded.saved_at, data = excluded.data",
      ),
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

export function attachPersistence(state: SimulatorState, options: PersistenceOptions): SimPersistence {
  const { path, seed, scenario, fresh } = options;
  const log: SimulatorLog = options.log ?? (() => {});
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  let connection: Connection;
  try {
    connection = connect(path, busyTimeoutMs);
  } catch (error) {
    throw unavailable(`The simulator state file cannot be opened: ${(error as Error).message}`, error);
  }
  /** Version of the state in memory; -1 forces the next check to reload. */
  let loaded = -1;
  /** The JSON last loaded or saved: a write that changed nothing is not saved again. */
  let loadedJson = "";
  let savedAt = state.clock.now();
  let foreign: string | null = null;
  /** The last failure logged: a broken file is reported once, not on every request. */
  let reported: string | null = null;
  let depth = 0;
  const accounts = accountCodec(state.scenario.accounts.map((account) => account.id));

  function identityProblem(row: Row): string | null {
    if (row.format !== DURABLE_FORMAT) return `format ${row.format}`;
    if (row.seed !== seed || row.scenario !== scenario) return "another seed or scenario";
    return null;
  }

  function take(row: Row): void {
    let data: DurableState;
    try {
      data = JSON.parse(accounts.decode(row.data)) as DurableState;
    } catch (error) {
      throw unavailable("The simulator state file holds unreadable data.", error);
    }
    importDurable(state, data);
    loaded = row.version;
    loadedJson = row.data;
    savedAt = row.saved_at;
  }

  function save(): void {
    const now = state.clock.now();
    compactDurable(state, now);
    const json = accounts.encode(JSON.stringify(exportDurable(state)));
    if (json === loadedJson && loaded >= 0) return;
    const version = loaded + 1;
    connection.save.run(DURABLE_FORMAT, seed, scenario, version, now, json);
    loaded = version;
    loadedJson = json;
    savedAt = now;
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction on the current file (waiting out the busy timeout). */
  function transaction<T>(fn: () => T): T {
    try {
      connection.begin.run();
    } catch (error) {
      throw unavailable(`The simulator state is locked: ${(error as Error).message}`, error);
    }
    depth += 1;
    try {
      const result = fn();
      guarded(() => connection.commit.run());
      return result;
    } catch (error) {
      if (connection.db.isTransaction) connection.rollback.run();
      // Memory may hold half of what was rolled back: the file is the truth again.
      loaded = -1;
      throw error;
    } finally {
      depth -= 1;
    }
  }

  /** Takes in the saved state, or starts afresh when there is none or it is of another identity. */
  function adopt(): void {
    const row = connection.row.get() as unknown as Row | undefined;
    const problem = row === undefined ? null : identityProblem(row);
    if (row !== undefined && problem === null) {
      take(row);
      return;
    }
    if (row !== undefined) {
      log("warn", "simulator state was created with another seed, scenario or format; starting afresh", {
        previous_seed: row.seed,
        previous_scenario: row.scenario,
        seed,
        scenario,
      });
    }
    importDurable(state, fresh());
    loaded = row?.version ?? 0;
    loadedJson = "";
    save();
  }

  /** Brings memory up to the file. Without a transaction it opens one only when the state must be created. */
  function sync(inTransaction: boolean): void {
    if (foreign !== null) throw unavailable(foreign);
    // The version alone first: the whole row is read only when another process saved.
    const current = (connection.version.get() as { version: number } | undefined)?.version;
    if (current !== undefined && current === loaded) return;
    if (current === undefined) {
      // `ibkr-agent simulator reset-state` removed the state: the first process to notice starts afresh.
      if (!inTransaction) {
        transaction(() => sync(true));
        return;
      }
      log("debug", "simulator state was reset; starting afresh", { seed, scenario });
      importDurable(state, fresh());
      loaded = 0;
      loadedJson = "";
      save();
      return;
    }
    const row = connection.row.get() as unknown as Row;
    if (identityProblem(row) !== null) {
      // Another process started the profile afresh with another configuration. Mixing its state with ours
      // is never right, and taking it back would make the two wipe each other in turn: this one stops.
      foreign =
        "The simulator state of this profile now belongs to another seed or scenario; restart this process.";
      reported = foreign;
      log("warn", "simulator state now belongs to another seed or scenario; this process stops using it", {
        seed,
        scenario,
        stored_seed: row.seed,
        stored_scenario: row.scenario,
      });
      throw unavailable(foreign);
    }
    take(row);
  }

  function open(): void {
    // The common case - a state of this identity is there - needs no write lock; creating one does.
    const row = connection.row.get() as unknown as Row | undefined;
    if (row !== undefined && identityProblem(row) === null) take(row);
    else retryWhileBusy(() => transaction(adopt));
  }

  /** The file was deleted or replaced under us: move to the one now at the path. */
  function followFile(): void {
    const inode = statSync(path, { throwIfNoEntry: false })?.ino;
    if (inode === connection.inode) return;
    connection.db.close();
    connection = connect(path, busyTimeoutMs);
    loaded = -1;
    open();
  }

  /** Runs `step`, turning any failure of the file into SharedStateUnavailable. */
  function guarded<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      if (error instanceof SharedStateUnavailable) throw error;
      throw unavailable(`The simulator state cannot be used: ${(error as Error).message}`, error);
    }
  }

  function refresh(): void {
    if (depth > 0) return;
    guarded(() => {
      followFile();
      sync(false);
    });
  }

  function write<T>(fn: () => T): T {
    if (depth > 0) return fn();
    guarded(followFile);
    return transaction(() => {
      guarded(() => sync(true));
      const result = fn();
      guarded(save);
      return result;
    });
  }

  /** A request cannot use the state: say why once (the caller sees an unreachable gateway). */
  function reporting<T>(fn: () => T): T {
    try {
      const result = fn();
      reported = foreign;
      return result;
    } catch (error) {
      if (error instanceof SharedStateUnavailable && error.message !== reported) {
        reported = error.message;
        log("warn", "simulator state cannot be used; the request is not handled", { reason: error.message });
      }
      throw error;
    }
  }

  function hasWorkingOrders(): boolean {
    return state.orders.all().some((order) => !TERMINAL.has(order.status));
  }

  try {
    open();
    // The scenario's opening penalty box counts from when the state was created, not from this process.
    if (state.scenario.penaltyAtStartMs !== null) {
      state.pacer.clear();
      state.pacer.penalise("*", state.createdAt, state.scenario.penaltyAtStartMs);
    }
  } catch (error) {
    connection.db.close();
    if (error instanceof SharedStateUnavailable) throw error;
    throw unavailable(`The simulator state cannot be set up: ${(error as Error).message}`, error);
  }

  return {
    refresh: () => reporting(refresh),
    write: (fn) => reporting(() => write(fn)),
    catchUp: () => reporting(catchUp),
    version: () => loaded,
    close() {
      if (connection.db.isOpen) connection.db.close();
    },
  };

  function catchUp(): number {
    refresh();
    // Read after the refresh: a newer save can carry a clock moved by the control API.
    let now = state.clock.now();
    const changed = state.advance(now);
    if (!changed && !(now - savedAt >= CHECKPOINT_MS && hasWorkingOrders())) return now;
    write(() => {
      // Unchanged memory makes this a no-op; after a reload it continues from the newer save.
      now = Math.max(now, state.clock.now());
      state.advance(now);
    });
    return now;
  }
}

export interface RemovedState {
  readonly seed: number;
  readonly scenario: string;
  readonly version: number;
  readonly createdAt: number | null;
  readonly savedAt: number;
  readonly orders: number | null;
  readonly workingOrders: number | null;
  readonly executions: number | null;
}

export interface StateRemoval {
  readonly path: string;
  /** What the removed state held; null when there was none. */
  readonly removed: RemovedState | null;
  /** Files deleted because they could not be read as a simulator state at all. */
  readonly deletedFiles: readonly string[];
}

function describe(row: Row): RemovedState {
  let data: Partial<DurableState> = {};
  try {
    data = JSON.parse(withoutAccounts(row.data)) as DurableState;
  } catch {
    // The counts stay unknown; the state goes anyway.
  }
  const orders = data.engine?.orders;
  return {
    seed: row.seed,
    scenario: row.scenario,
    version: row.version,
    createdAt: typeof data.createdAt === "number" ? data.createdAt : null,
    savedAt: row.saved_at,
    orders: orders?.length ?? null,
    workingOrders: orders?.filter((order) => !TERMINAL.has(order.status)).length ?? null,
    executions: data.accounts?.reduce((sum, account) => sum + account.executions.length, 0) ?? null,
  };
}

/**
 * Removes a persisted simulator state. The row is deleted inside a transaction rather than the file being
 * unlinked, so a process that still has the file open notices at its next request and starts afresh too,
 * instead of carrying on in a file nobody else sees. A file that is not a simulator state is deleted.
 */
export function removeSimulatorState(path: string): StateRemoval {
  if (!existsSync(path)) return { path, removed: null, deletedFiles: [] };
  let db: DatabaseSync | null = null;
  try {
    const open = new DatabaseSync(path, { timeout: 5_000 });
    db = open;
    const removed = retryWhileBusy(() => {
      open.exec("BEGIN IMMEDIATE");
      try {
        open.exec(SCHEMA);
        const row = open
          .prepare("SELECT format, seed, scenario, version, saved_at, data FROM simulator_state WHERE id = 1")
          .get() as unknown as Row | undefined;
        open.exec("DELETE FROM simulator_state");
        open.exec("COMMIT");
        return row === undefined ? null : describe(row);
      } catch (error) {
        if (open.isTransaction) open.exec("ROLLBACK");
        throw error;
      }
    });
    try {
      open.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch {
      // Another process is reading: the space comes back at its next checkpoint.
    }
    return { path, removed, deletedFiles: [] };
  } catch (error) {
    if (!/not a database|malformed|file is encrypted/i.test((error as Error).message)) throw error;
    db?.close();
    db = null;
    const deletedFiles: string[] = [];
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      if (existsSync(file)) {
        rmSync(file, { force: true });
        deletedFiles.push(file);
      }
    }
    return { path, removed: null, deletedFiles };
  } finally {
    db?.close();
  }
}
