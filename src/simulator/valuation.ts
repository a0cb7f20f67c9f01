// Account values derived from the book at current prices: market value, net liquidation, margin, funds,
// daily P&L. The summary, ledger, P&L and what-if endpoints all read these numbers, so they agree.
import { multiplierOf, type SimAccount } from "./accounts.ts";
import { instrumentByConid } from "./instruments.ts";
import { fromNewYork, previousTradingDay, regularClose } from "./market-time.ts";
import { currentTradingDay } from "./quotes.ts";
import type { SimulatorState } from "./state.ts";

export interface Valuation {
  readonly cash: number;
  readonly stockValue: number;
  readonly optionValue: number;
  readonly grossPositionValue: number;
  readonly netLiquidation: number;
  readonly initMargin: number;
  readonly maintMargin: number;
  readonly availableFunds: number;
  readonly excessLiquidity: number;
  readonly buyingPower: number;
  readonly unrealizedPnl: number;
  readonly realizedPnl: number;
  /** P&L since the prior close on the positions held now, plus today's realised P&L. */
  readonly dailyPnl: number;
}

/** Initial and maintenance margin rates on position value (a plain Reg T-like model). */
const INITIAL_RATE = 0.3;
const MAINTENANCE_RATE = 0.25;

export function valueAccount(state: SimulatorState, account: SimAccount, now: number): Valuation {
  let stockValue = 0;
  let optionValue = 0;
  let gross = 0;
  let unrealized = 0;
  const day = currentTradingDay(now);
  const realizedToday = account.realizedByDay.get(day) ?? 0;
  let daily = realizedToday;
  const prior = previousTradingDay(day);
  const priorCloseAt = fromNewYork(prior, regularClose(prior));
  for (const position of account.positions.values()) {
    if (position.quantity === 0) continue;
    const instrument = instrumentByConid(position.conid);
    if (instrument === undefined) continue;
    const multiplier = multiplierOf(instrument);
    const price = state.book(instrument, now).last;
    const value = position.quantity * price * multiplier;
    if (instrument.kind === "option") optionValue += value;
    else stockValue += value;
    gross += Math.abs(value);
    unrealized += (price - position.avgPrice) * position.quantity * multiplier;
    const priorPrice = state.prices.price(instrument, priorCloseAt);
    daily += (price - priorPrice) * position.quantity * multiplier;
  }
  const netLiquidation = account.cash + stockValue + optionValue;
  const initMargin = gross * INITIAL_RATE;
  const maintMargin = gross * MAINTENANCE_RATE;
  const availableFunds = netLiquidation - initMargin;
  const excessLiquidity = netLiquidation - maintMargin;
  return {
    cash: account.cash,
    stockValue,
    optionValue,
    grossPositionValue: gross,
    netLiquidation,
    initMargin,
    maintMargin,
    availableFunds,
    excessLiquidity,
    buyingPower: Math.max(0, availableFunds) * 4,
    unrealizedPnl: unrealized,
    realizedPnl: realizedToday,
    dailyPnl: daily,
  };
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
