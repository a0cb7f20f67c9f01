// Counts durable SQLite commits (explicit COMMITs and writes outside a transaction) on file databases and the
// time they take, so a benchmark's baseline can make exactly as many FULL-sync writes as the code it is
// compared with. It patches node:sqlite's prototypes while installed: calibration only, never while timing.
import { performance } from "node:perf_hooks";
import { DatabaseSync, StatementSync } from "node:sqlite";

const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;
const COMMIT = /^\s*(COMMIT|END)\b/i;

export interface CommitCounter {
  /** Durable commits since install or the last reset. */
  count(): number;
  /** Bytes of the values each of those commits wrote (strings and blobs bound to its writes), in order. */
  sizes(): number[];
  /** What `where` answered at each of those commits (e.g. how many broker calls had been made), in order. */
  positions(): number[];
  /** Milliseconds spent in them. */
  ms(): number;
  reset(): void;
  uninstall(): void;
}

export function installCommitCounter(where: () => number = () => 0): CommitCounter {
  const original = {
    exec: DatabaseSync.prototype.exec,
    prepare: DatabaseSync.prototype.prepare,
    run: StatementSync.prototype.run,
    get: StatementSync.prototype.get,
    all: StatementSync.prototype.all,
  };
  const owner = new WeakMap<StatementSync, DatabaseSync>();
  let commits = 0;
  let ms = 0;
  let sizes: number[] = [];
  let positions: number[] = [];
  // Bytes bound to writes since the last commit, per database (a transaction spans several writes).
  const pending = new WeakMap<DatabaseSync, number>();
  const timed = <T>(db: DatabaseSync, fn: () => T): T => {
    const start = performance.now();
    try {
      return fn();
    } finally {
      ms += performance.now() - start;
      commits += 1;
      sizes.push(pending.get(db) ?? 0);
      positions.push(where());
      pending.set(db, 0);
    }
  };
  const bytesOf = (args: unknown[]): number =>
    args.reduce<number>((sum, value) => {
      if (typeof value === "string") return sum + Buffer.byteLength(value);
      if (value instanceof Uint8Array) return sum + value.byteLength;
      if (value !== null && typeof value === "object") return sum + bytesOf(Object.values(value));
      return sum + (value === null || value === undefined ? 0 : 8);
    }, 0);
  const onFile = (db: DatabaseSync | undefined) => db !== undefined && db.location() !== null;
  const durable = (stmt: StatementSync) => {
    const db = owner.get(stmt);
    if (!onFile(db)) return false;
    return COMMIT.test(stmt.sourceSQL) || (WRITE.test(stmt.sourceSQL) && !(db as DatabaseSync).isTransaction);
  };
  DatabaseSync.prototype.exec = function exec(this: DatabaseSync, sql: string) {
    if (onFile(this) && COMMIT.test(sql)) return timed(this, () => original.exec.call(this, sql));
    return original.exec.call(this, sql);
  };
  DatabaseSync.prototype.prepare = function prepare(this: DatabaseSync, sql: string, ...rest: unknown[]) {
    const stmt = (original.prepare as (...args: unknown[]) => StatementSync).call(this, sql, ...rest);
    owner.set(stmt, this);
    return stmt;
  } as typeof original.prepare;
  for (const name of ["run", "get", "all"] as const) {
    const call = original[name] as (...args: unknown[]) => unknown;
    (StatementSync.prototype as unknown as Record<string, unknown>)[name] = function (
      this: StatementSync,
      ...args: unknown[]
    ) {
      const db = owner.get(this);
      if (db !== undefined && onFile(db) && WRITE.test(this.sourceSQL)) {
        pending.set(db, (pending.get(db) ?? 0) + bytesOf(args));
      }
      return durable(this) ? timed(db as DatabaseSync, () => call.apply(this, args)) : call.apply(this, args);
    };
  }
  return {
    count: () => commits,
    sizes: () => [...sizes],
    positions: () => [...positions],
    ms: () => ms,
    reset: () => {
      commits = 0;
      ms = 0;
      sizes = [];
      positions = [];
    },
    uninstall: () => {
      DatabaseSync.prototype.exec = original.exec;
      DatabaseSync.prototype.prepare = original.prepare;
      StatementSync.prototype.run = original.run;
      StatementSync.prototype.get = original.get;
      StatementSync.prototype.all = original.all;
    },
  };
}
