// The order ledger: one row per write that reached the broker (submit, bracket submit, modify), with what the
// live limits count - orders, notional and the exchange trading day. Counters are read from here, never kept
// in memory, so every process sees the same totals and they reset when the trading day changes.
import type { DatabaseSync } from "node:sqlite";
import { add } from "../../core/decimal.ts";
import { type AccountMode, checkHash, checkMode, refuse } from "./common.ts";

export type LedgerOperation = "submit" | "bracket_submit" | "modify";

export interface LedgerEntry {
  readonly accountIdHash: string;
  readonly mode: AccountMode;
  readonly operation: LedgerOperation;
  /** The exchange trading day (YYYY-MM-DD) the write counts toward. */
  readonly tradingDay: string;
  readonly submittedAt: number;
  /** Orders the write placed (three for a bracket). */
  readonly orders: number;
  /** Decimal string in `currency`. */
  readonly notional: string;
  readonly currency: string;
  readonly idempotencyKeyHash: string;
}

export interface LedgerTotals {
  readonly orders: number;
  /** Per currency, exact decimal sums. */
  readonly notionals: readonly { readonly currency: string; readonly amount: string }[];
}

export interface Ledger {
  record(entry: LedgerEntry): void;
  /** Orders and notionals of the account's writes in a mode on one trading day. */
  totalsForDay(accountIdHash: string, mode: AccountMode, tradingDay: string): LedgerTotals;
  /** Orders of the account's writes in a mode since a time (the frequency window). */
  ordersSince(accountIdHash: string, mode: AccountMode, since: number): number;
}

const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

export function createLedger(db: DatabaseSync): Ledger {
  const insert = db.prepare(
    `INSERT INTO order_ledger (account_id_hash, mode, operation, trading_day, submitted_at, orders, notional,
       currency, idempotency_key_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (idempotency_key_hash) DO NOTHING`,
  );
  const day = db.prepare(
    "SELECT orders, notional, currency FROM order_ledger WHERE account_id_hash = ? AND mode = ? AND trading_day = ?",
  );
  const since = db.prepare(
    "SELECT COALESCE(SUM(orders), 0) AS n FROM order_ledger WHERE account_id_hash = ? AND mode = ? AND submitted_at > ?",
  );
  return {
    record(entry) {
      checkHash("accountIdHash", entry.accountIdHash);
      checkHash("idempotencyKeyHash", entry.idempotencyKeyHash);
      checkMode(entry.mode);
      if (!DAY.test(entry.tradingDay)) throw refuse("tradingDay must be YYYY-MM-DD");
      if (!DECIMAL.test(entry.notional)) throw refuse("notional must be a decimal string");
      if (!Number.isInteger(entry.orders) || entry.orders < 1)
        throw refuse("orders must be a positive integer");
      insert.run(
        entry.accountIdHash,
        entry.mode,
        entry.operation,
        entry.tradingDay,
        entry.submittedAt,
        entry.orders,
        entry.notional,
        entry.currency,
        entry.idempotencyKeyHash,
      );
    },
    totalsForDay(accountIdHash, mode, tradingDay) {
      const rows = day.all(accountIdHash, mode, tradingDay) as unknown as {
        orders: number;
        notional: string;
        currency: string;
      }[];
      const byCurrency = new Map<string, string>();
      let orders = 0;
      for (const row of rows) {
        orders += row.orders;
        byCurrency.set(row.currency, add(byCurrency.get(row.currency) ?? "0", row.notional));
      }
      return {
        orders,
        notionals: [...byCurrency.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([currency, amount]) => ({ currency, amount })),
      };
    },
    ordersSince: (accountIdHash, mode, from) => (since.get(accountIdHash, mode, from) as { n: number }).n,
  };
}
