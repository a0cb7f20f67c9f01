// Everything the simulated gateway knows, in one place: the clock and seed, the session, the pacer, the
// price model, account books, the order engine, pending replies and the per-brokerage-session state
// (pre-flights done, market data subscriptions, first-call quirks). A new brokerage session (login, nightly
// reset, a competing login taken back) starts the per-session state afresh, as the real gateway does.
//
// A persisted simulator (persistence.ts) stores the durable part - session, account books, order engine,
// pending replies, suppressed questions, the session's warm-up (the empty first order list, trade list and
// P&L are the gateway's caches warming up, once per brokerage session however many clients ask), price
// adjustments and the control switches - and shares it with every process of the profile. EpochState, the
// pacer, the request log and the request counter stay with the instance: pre-flights done, market data
// streams, the positions cache and pacing windows change on almost every read, sharing them would turn
// each read into a write, and the client already does the pre-flights and re-asks in every process.
import { randomUUID } from "node:crypto";
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
  readonly positionsCache: Map<string, { at: number; conids: number[] }>;
}

/** The first-call quirks of one brokerage session (durable: see the top of this file). */
export interface WarmUp {
  readonly epoch: number;
  /** The first order list (empty, snapshot:false) was answered. */
  liveOrders: boolean;
  /** The first trade list (empty) was answered. */
  trades: boolean;
  /** Cold P&L answers given ({"upnl":{}}), up to the scenario's count. */
  pnlCalls: number;
}

export function freshWarmUp(epoch: number): WarmUp {
  return { epoch, liveOrders: false, trades: false, pnlCalls: 0 };
}

export interface RequestLogEntry {
  readonly sequence: number;
  readonly at: number;
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The answer was handled but never delivered (loseNextResponse). */
  readonly lost?: true;
  /** The answer was handled, then replaced by a garbled 200 (garbleNextResponse). */
  readonly garbled?: true;
}

/** How a persisted state is shared with other processes (persistence.ts implements it). */
export interface StateSharing {
  /** Takes in what another process saved since (a cheap version check when nothing was). */
  refresh(): void;
  /** Runs `fn` as one transaction over the shared state: take in newer saves, run, save, commit. */
  write<T>(fn: () => T): T;
  /** refresh(), advance to the clock's now, and save when that changed anything; returns that now. */
  catchUp(): number;
}

/** A sharing could not read or write the shared state; nothing of the request was kept. */
export class SharedStateUnavailable extends Error {
  override readonly name = "SharedStateUnavailable";
}

export interface SimulatorState {
  readonly seed: number;
  readonly clock: Clock;
  /** Names this instance (one process's simulator) among those sharing a persisted state. */
  readonly instanceId: string;
  /** When the state was created (a persisted one keeps its first creation time). */
  createdAt: number;
  scenario: Scenario;
  readonly session: SimSession;
  readonly pacer: SimPacer;
  readonly prices: PriceModel;
  readonly accounts: Map<string, SimAccount>;
  selectedAccount: string;
  readonly orders: OrderEngine;
  readonly replies: ReplyBook;
  /** Question ids suppressed for the rest of the brokerage session (/iserver/questions/suppress). */
  readonly suppressed: Set<string>;
  warmUp: WarmUp;
  epochState: EpochState;
  marketData: MarketDataMode;
  gatewayDown: boolean;
  /** Question rounds the next orders are asked (control API), before the scenario's and the natural ones. */
  queuedQuestions: string[][];
  /** Operations whose next answer is lost on the way back (control API, one-shot each). */
  readonly lostResponses: string[];
  /** Operations whose next 200 answer is replaced by a garbled one (control API, one-shot each). */
  readonly garbledResponses: string[];
  /** Conids whose snapshot stream never starts delivering while listed (control API). */
  readonly stalledSnapshots: Set<number>;
  sequence: number;
  readonly log: RequestLogEntry[];
  /** Brings expiries, the nightly reset and the order engine up to `now`; true when anything durable changed. */
  advance(now: number): boolean;
  /** advance() to the clock's now, after taking in what other processes saved; returns that now. */
  sync(): number;
  /** Set when the state is persisted and shared; null for an in-memory simulator. */
  sharing: StateSharing | null;
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
  /** The simulated person keeps the session alive (persisted simulators; see session.ts). */
  readonly keepLoggedIn?: boolean;
}

function freshEpoch(epoch: number): EpochState {
  return {
    epoch,
    accountsQueried: false,
    portfolioQueried: false,
    subscriptions: new Map(),
    positionsCache: new Map(),
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
    keepLoggedIn: options.keepLoggedIn,
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
  const startEpoch = session.snapshot(start).epoch;
  const state: SimulatorState = {
    seed,
    clock,
    instanceId: randomUUID(),
    createdAt: start,
    scenario,
    session,
    pacer,
    prices,
    accounts,
    selectedAccount: scenario.accounts[0]?.id ?? "",
    orders: undefined as unknown as OrderEngine,
    replies: undefined as unknown as ReplyBook,
    suppressed: new Set(),
    warmUp: freshWarmUp(startEpoch),
    epochState: freshEpoch(startEpoch),
    marketData: scenario.marketData,
    gatewayDown: scenario.gatewayDown,
    queuedQuestions: [],
    lostResponses: [],
    garbledResponses: [],
    stalledSnapshots: new Set(),
    sequence: 0,
    log: [],
    advance(now) {
      let changed = state.session.advance(now);
      const epoch = state.session.snapshot(now).epoch;
      // The instance's view resets when it sees a new brokerage session, whoever started it.
      if (epoch !== state.epochState.epoch) state.epochState = freshEpoch(epoch);
      if (epoch !== state.replies.epoch) {
        state.replies.clear();
        state.replies.epoch = epoch;
        state.suppressed.clear();
        changed = true;
      }
      if (epoch !== state.warmUp.epoch) {
        state.warmUp = freshWarmUp(epoch);
        changed = true;
      }
      if (state.orders.advance(now)) changed = true;
      return changed;
    },
    sync() {
      if (state.sharing !== null) {
        try {
          return state.sharing.catchUp();
        } catch (error) {
          // The websocket has no error to answer with: it carries on with what this instance last knew,
          // while every REST request answers as unreachable until the shared state is usable again.
          if (error instanceof SharedStateUnavailable) return state.clock.now();
          throw error;
        }
      }
      const now = state.clock.now();
      state.advance(now);
      return now;
    },
    sharing: null,
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
  (state as { replies: ReplyBook }).replies = createReplyBook(state.instanceId, startEpoch);
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
