// Quotes at an instant: last, bid/ask with sizes, the day's open/high/low/volume and the prior close, all
// read off the deterministic price path. Outside the sessions an instrument trades in, the quote freezes at
// the last close, which is how the gateway reports it (the last price then carries a "C" prefix).
import type { Instrument, Stock } from "./instruments.ts";
import {
  fromNewYork,
  isTradingDay,
  lastCloseAt,
  newYorkTime,
  PRE_OPEN,
  previousTradingDay,
  REGULAR_OPEN,
  regularClose,
  type SessionPhase,
  sessionPhase,
} from "./market-time.ts";
import type { PriceModel } from "./prices.ts";
import { roundTick } from "./prices.ts";
import { intBetween } from "./random.ts";

export interface Quote {
  readonly last: number;
  readonly bid: number;
  readonly ask: number;
  /** In round lots of 100 for US stocks, as the gateway shows them. */
  readonly bidSize: number;
  readonly askSize: number;
  readonly lastSize: number;
  readonly volume: number;
  readonly open: number | null;
  readonly high: number | null;
  readonly low: number | null;
  readonly priorClose: number;
  /** Time the values were last updated (the close when frozen). */
  readonly updatedAt: number;
  /** True when the market is closed for this instrument and `last` is the closing price. */
  readonly closed: boolean;
  readonly phase: SessionPhase;
}

function tradesNow(instrument: Instrument, phase: SessionPhase): boolean {
  if (phase === "regular") return true;
  // Stocks trade in the extended sessions; options only in the regular one.
  return instrument.kind === "stock" && (phase === "pre" || phase === "post");
}

function spreadOf(price: number): number {
  return Math.max(0.01, roundTick(price * 0.00008));
}

function stockOf(instrument: Instrument): Stock {
  return instrument.kind === "stock" ? instrument : instrument.underlying;
}

/** The trading day a quote belongs to: today from the pre-market on, else the previous trading day. */
export function currentTradingDay(ms: number): string {
  const wall = newYorkTime(ms);
  return isTradingDay(wall.date) && wall.minutes >= PRE_OPEN ? wall.date : previousTradingDay(wall.date);
}

/** Last, bid and ask only: what the order engine needs, without the day's statistics. */
export interface TopOfBook {
  readonly last: number;
  readonly bid: number;
  readonly ask: number;
  readonly closed: boolean;
  readonly phase: SessionPhase;
  /** The instant the values belong to (the last close when closed). */
  readonly at: number;
}

export function topOfBook(model: PriceModel, instrument: Instrument, ms: number): TopOfBook {
  const phase = sessionPhase(ms);
  const live = tradesNow(instrument, phase);
  const at = live ? ms : lastCloseAt(ms);
  const last = model.price(instrument, at);
  const spread = instrument.kind === "stock" ? spreadOf(last) : Math.max(0.05, roundTick(last * 0.01, 0.05));
  const bid = roundTick(last - spread / 2);
  const ask = roundTick(bid + spread);
  return { last, bid, ask, closed: !live, phase, at };
}

export function quoteAt(model: PriceModel, instrument: Instrument, ms: number, seed: number): Quote {
  const { last, bid, ask, phase, at, closed } = topOfBook(model, instrument, ms);
  const live = !closed;
  const minute = Math.floor(at / 60_000);
  const day = currentTradingDay(ms);
  const dayOpenAt = fromNewYork(day, REGULAR_OPEN);
  const dayCloseAt = fromNewYork(day, regularClose(day));
  const priorDay = previousTradingDay(day);
  const priorClose = model.price(instrument, fromNewYork(priorDay, regularClose(priorDay)));
  let open: number | null = null;
  let high: number | null = null;
  let low: number | null = null;
  let volume = 0;
  const stock = stockOf(instrument);
  if (at >= dayOpenAt) {
    open = model.price(instrument, dayOpenAt);
    high = open;
    low = open;
    const end = Math.min(at, dayCloseAt);
    for (let t = dayOpenAt; t <= end; t += 5 * 60_000) {
      const p = model.price(instrument, t);
      if (p > high) high = p;
      if (p < low) low = p;
    }
    if (at <= dayCloseAt) {
      high = Math.max(high, last);
      low = Math.min(low, last);
    }
    const elapsed = Math.min(1, (end - dayOpenAt) / (dayCloseAt - dayOpenAt));
    const base = instrument.kind === "stock" ? stock.dailyVolume : stock.dailyVolume / 2_000;
    const wobble = 0.8 + 0.4 * (intBetween(0, 1000, seed, instrument.conid, day) / 1000);
    volume = Math.round(base * elapsed * wobble);
  }
  return {
    last,
    bid,
    ask,
    // In round lots; ETFs show deep books, so their sizes reach the thousands ("1,300").
    bidSize: intBetween(1, stock.type === "ETF" ? 2_500 : 30, seed, instrument.conid, minute, "bid"),
    askSize: intBetween(1, stock.type === "ETF" ? 2_500 : 30, seed, instrument.conid, minute, "ask"),
    lastSize: intBetween(1, 500, seed, instrument.conid, minute, "last"),
    volume,
    open,
    high,
    low,
    priorClose,
    updatedAt: live ? ms : at,
    closed: !live,
    phase,
  };
}
