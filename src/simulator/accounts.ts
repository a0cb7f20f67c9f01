// Account books: cash, positions with average cost, realised P&L and executions. Fills from the order
// engine are the only thing that changes a book after start-up, so positions, cash, ledger, P&L and trades
// always agree with each other.
import type { Instrument } from "./instruments.ts";

export interface Position {
  readonly conid: number;
  quantity: number;
  /** Average price per unit (per share, per option before the multiplier). */
  avgPrice: number;
  realizedPnl: number;
}

export interface Execution {
  readonly executionId: string;
  readonly orderId: number;
  readonly orderRef: string | null;
  readonly accountId: string;
  readonly conid: number;
  readonly side: "BUY" | "SELL";
  readonly quantity: number;
  readonly price: number;
  readonly commission: number;
  readonly at: number;
  readonly exchange: string;
}

export interface SimAccount {
  readonly id: string;
  readonly paper: boolean;
  readonly title: string;
  readonly currency: "USD";
  readonly type: string;
  readonly openedAt: number;
  cash: number;
  readonly positions: Map<number, Position>;
  readonly executions: Execution[];
  /** Executions ever made; names the next one (a persisted book drops executions older than any report). */
  executionCount: number;
  /** Realised P&L by trading day (YYYYMMDD). */
  readonly realizedByDay: Map<string, number>;
}

export interface AccountSeed {
  readonly id: string;
  readonly paper: boolean;
  readonly title: string;
  readonly cash: number;
  readonly positions: readonly { conid: number; quantity: number; avgPrice: number }[];
}

export function createAccount(seed: AccountSeed, openedAt: number): SimAccount {
  return {
    id: seed.id,
    paper: seed.paper,
    title: seed.title,
    currency: "USD",
    type: seed.paper ? "DEMO" : "INDIVIDUAL",
    openedAt,
    cash: seed.cash,
    positions: new Map(
      seed.positions.map((p) => [
        p.conid,
        { conid: p.conid, quantity: p.quantity, avgPrice: p.avgPrice, realizedPnl: 0 },
      ]),
    ),
    executions: [],
    executionCount: 0,
    realizedByDay: new Map(),
  };
}

export function multiplierOf(instrument: Instrument): number {
  return instrument.kind === "option" ? instrument.multiplier : 1;
}

/** IBKR Pro fixed pricing for US stocks: 0.005 USD a share, at least 1 USD, at most 1% of the value. */
export function commissionFor(instrument: Instrument, quantity: number, price: number): number {
  if (instrument.kind === "option") return Math.max(1, Math.round(quantity * 0.65 * 100) / 100);
  const perShare = Math.max(1, quantity * 0.005);
  return Math.round(Math.min(perShare, quantity * price * 0.01) * 100) / 100 || 1;
}

/** Applies one fill to the book: cash, position, average price and realised P&L. */
export function applyFill(
  account: SimAccount,
  instrument: Instrument,
  execution: Execution,
  day: string,
): void {
  const multiplier = multiplierOf(instrument);
  const signed = execution.side === "BUY" ? execution.quantity : -execution.quantity;
  account.cash -= signed * execution.price * multiplier + execution.commission;
  const position = account.positions.get(instrument.conid) ?? {
    conid: instrument.conid,
    quantity: 0,
    avgPrice: 0,
    realizedPnl: 0,
  };
  const before = position.quantity;
  const after = before + signed;
  if (before === 0 || Math.sign(before) === Math.sign(signed)) {
    // Opening or adding: the average moves.
    position.avgPrice =
      (position.avgPrice * Math.abs(before) + execution.price * Math.abs(signed)) / Math.abs(after);
  } else {
    // Reducing (and possibly flipping): realise P&L on the closed part.
    const closed = Math.min(Math.abs(signed), Math.abs(before));
    const pnl = (execution.price - position.avgPrice) * closed * Math.sign(before) * multiplier;
    position.realizedPnl += pnl;
    account.realizedByDay.set(day, (account.realizedByDay.get(day) ?? 0) + pnl);
    if (Math.abs(signed) > Math.abs(before)) position.avgPrice = execution.price;
  }
  position.quantity = Math.round(after * 1e6) / 1e6;
  if (position.quantity === 0) position.avgPrice = 0;
  account.positions.set(instrument.conid, position);
  account.executions.push(execution);
  account.executionCount += 1;
}
