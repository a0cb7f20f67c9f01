// Everything the simulated gateway knows, in one place: the clock and seed, the session, the pacer, the
// price model, account books, the order engine, pending replies and the per-brokerage-session state
// (pre-flights done, market data subscriptions, first-call quirks). A new brokerage session (login, nightly
// reset, a competing login taken back) starts the per-session state afresh, as the real gateway does.
import type { Clock } from "../core/clock.ts";
import { createAccount, type SimAccount } from "./accounts.ts";
import type { Instrument } from "./instruments.ts";
import { lastCloseAt } from "./market-time.ts";
import { createOrderEngine, type OrderEngine } from "./orders.ts";
import { createSimPacer, DEFAULT_PACING, type PacingSettings, type SimPacer } from "./pacing.ts";
import { createPriceModel, type PriceModel } from "./prices.ts";
import { createReplyBook, type ReplyBook } from "./questions.ts";
import { type Quote, quoteAt, type TopOfBook, topOfBook } from "./quotes.ts";
import type { MarketDataMode, Scenario } from "./scenarios.ts";
import { createSimSession, type SessionTimings, type SimSession } from "./session.ts";

export interface Subscription {
  readonly since: number;
  readonly fields: Set<string>;
  readonly serverId: string;
}

/** State that lives and dies with one brokerage session. */
export interface EpochState {
  readonly epoch: number;
  accountsQueried: boolean;
  portfolioQueried: boolean;
  readonly subscriptions: Map<number, Subscription>;
  liveOrdersCalls: number;
  tradesCalls: number;
  pnlCalls: number;
  readonly positionsCache: Map<string, { at: number; conids: number[] }>;
  readonly suppressed: Set<string>;
}

export interface RequestLogEntry {
  readonly sequence: number;
  readonly at: number;
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface SimulatorState {
  readonly seed: number;
  readonly clock: Clock;
  scenario: Scenario;
  readonly session: SimSession;
  readonly pacer: SimPacer;
  readonly prices: PriceModel;
  readonly accounts: Map<string, SimAccount>;
  selectedAccount: string;
  readonly orders: OrderEngine;
  readonly replies: ReplyBook;
  epochState: EpochState;
  marketData: MarketDataMode;
  gatewayDown: boolean;
  /** Question rounds the next orders are asked (control API), before the scenario's and the natural ones. */
  queuedQuestions: string[][];
  sequence: number;
  readonly log: RequestLogEntry[];
  /** Brings expiries, the nightly reset and the order engine up to `now`. */
  advance(now: number): void;
  /** Quote of an instrument as the market data mode shows it. */
  quote(instrument: Instrument, now: number): Quote;
  /** Top of book at the true current price (what orders fill against, whatever the data mode). */
  book(instrument: Instrument, now: number): TopOfBook;
  /** Drops the log and the per-session state (for tests that reuse one simulator). */
  resetLog(): void;
}

export interface StateOptions {
  readonly seed: number;
  readonly clock: Clock;
  readonly scenario: Scenario;
  readonly pacing: PacingSettings;
  readonly sessionTimings?: Partial<SessionTimings>;
}

function freshEpoch(epoch: number): EpochState {
  return {
    epoch,
    accountsQueried: false,
    portfolioQueried: false,
    subscriptions: new Map(),
    liveOrdersCalls: 0,
    tradesCalls: 0,
    pnlCalls: 0,
    positionsCache: new Map(),
    suppressed: new Set(),
  };
}

const MAX_LOG = 10_000;
/** How far the delayed-data scenario's quotes lag the market. */
export const DELAYED_DATA_MS = 15 * 60_000;

export function createSimulatorState(options: StateOptions): SimulatorState {
  const { seed, clock, scenario } = options;
  const start = clock.now();
  const session = createSimSession(start, {
    loggedIn: scenario.loggedIn,
    brokerage: scenario.brokerage,
    competing: scenario.competing,
    timings: options.sessionTimings,
  });
  if (scenario.expiresInMs !== null) session.expireIn(start, scenario.expiresInMs);
  const pacer = createSimPacer({ ...DEFAULT_PACING, ...options.pacing });
  if (scenario.penaltyAtStartMs !== null) pacer.penalise("*", start, scenario.penaltyAtStartMs);
  const prices = createPriceModel(seed);
  const accounts = new Map<string, SimAccount>(
    scenario.accounts.map((seedAccount) => [
      seedAccount.id,
      createAccount(seedAccount, start - 400 * 86_400_000),
    ]),
  );
  const state: SimulatorState = {
    seed,
    clock,
    scenario,
    session,
    pacer,
    prices,
    accounts,
    selectedAccount: scenario.accounts[0]?.id ?? "",
    orders: undefined as unknown as OrderEngine,
    replies: createReplyBook(),
    epochState: freshEpoch(session.snapshot(start).epoch),
    marketData: scenario.marketData,
    gatewayDown: scenario.gatewayDown,
    queuedQuestions: [],
    sequence: 0,
    log: [],
    advance(now) {
      session.advance(now);
      const epoch = session.snapshot(now).epoch;
      if (epoch !== state.epochState.epoch) {
        state.epochState = freshEpoch(epoch);
        state.replies.clear();
      }
      state.orders.advance(now);
    },
    quote(instrument, now) {
      const mode = state.marketData;
      if (mode === "delayed") return quoteAt(prices, instrument, now - DELAYED_DATA_MS, seed);
      if (mode === "frozen") return { ...quoteAt(prices, instrument, lastCloseAt(now), seed), closed: true };
      return quoteAt(prices, instrument, now, seed);
    },
    book: (instrument, now) => topOfBook(prices, instrument, now),
    resetLog() {
      state.log.length = 0;
    },
  };
  (state as { orders: OrderEngine }).orders = createOrderEngine({
    seed,
    prices,
    quote: (instrument, now) => state.book(instrument, now),
    account: (id) => accounts.get(id),
    epoch: () => state.epochState.epoch,
  });
  return state;
}

export function recordRequest(state: SimulatorState, entry: RequestLogEntry): void {
  state.log.push(entry);
  if (state.log.length > MAX_LOG) state.log.splice(0, state.log.length - MAX_LOG);
}
