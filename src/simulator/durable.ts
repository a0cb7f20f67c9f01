// The durable part of the simulator's state as plain JSON-able data: what a persisted simulator stores and
// every process of the profile shares (see state.ts for what stays with one instance). Maps travel as entry
// lists in their insertion order, because the order engine visits orders and the books list positions in
// that order, and a reloaded state must behave exactly like the one that was saved.
import type { Execution, Position, SimAccount } from "./accounts.ts";
import { isOffsetClock } from "./clock.ts";
import { type EngineData, FINISHED_ORDER_RETENTION_MS } from "./orders.ts";
import type { ReplyBookData } from "./questions.ts";
import type { MarketDataMode } from "./scenarios.ts";
import type { SessionData } from "./session.ts";
import type { SimulatorState, WarmUp } from "./state.ts";

/** Bumped when the stored shape changes; a state of another format starts fresh instead of misreading. */
export const DURABLE_FORMAT = 1;

export interface AccountData {
  readonly id: string;
  readonly paper: boolean;
  readonly title: string;
  readonly type: string;
  readonly openedAt: number;
  readonly cash: number;
  readonly positions: readonly Position[];
  readonly executions: readonly Execution[];
  readonly executionCount: number;
  readonly realizedByDay: readonly (readonly [string, number])[];
}

export interface DurableState {
  readonly createdAt: number;
  /** The offset of a real-time clock (moved by the control API); null for a clock the caller owns. */
  readonly clockOffset: number | null;
  readonly session: SessionData;
  readonly selectedAccount: string;
  readonly accounts: readonly AccountData[];
  readonly engine: EngineData;
  readonly replies: ReplyBookData;
  readonly suppressed: readonly string[];
  readonly warmUp: WarmUp;
  readonly priceAdjustments: readonly (readonly [number, number])[];
  readonly marketData: MarketDataMode;
  readonly gatewayDown: boolean;
  readonly queuedQuestions: readonly (readonly string[])[];
  readonly lostResponses: readonly string[];
  // Absent from states saved before these two controls existed: read as none, so such a state is taken
  // in as it is rather than started afresh.
  readonly garbledResponses?: readonly string[];
  readonly stalledSnapshots?: readonly number[];
}

function accountData(account: SimAccount): AccountData {
  return {
    id: account.id,
    paper: account.paper,
    title: account.title,
    type: account.type,
    openedAt: account.openedAt,
    cash: account.cash,
    positions: [...account.positions.values()].map((p) => ({ ...p })),
    executions: [...account.executions],
    executionCount: account.executionCount,
    realizedByDay: [...account.realizedByDay.entries()],
  };
}

function accountFromData(data: AccountData): SimAccount {
  return {
    id: data.id,
    paper: data.paper,
    title: data.title,
    currency: "USD",
    type: data.type,
    openedAt: data.openedAt,
    cash: data.cash,
    positions: new Map(data.positions.map((p) => [p.conid, { ...p }])),
    executions: [...data.executions],
    executionCount: data.executionCount,
    realizedByDay: new Map(data.realizedByDay.map(([day, pnl]) => [day, pnl])),
  };
}

export function exportDurable(state: SimulatorState): DurableState {
  return {
    createdAt: state.createdAt,
    clockOffset: isOffsetClock(state.clock) ? state.clock.offset() : null,
    session: state.session.exportState(),
    selectedAccount: state.selectedAccount,
    accounts: [...state.accounts.values()].map(accountData),
    engine: state.orders.exportState(),
    replies: state.replies.exportState(),
    suppressed: [...state.suppressed],
    warmUp: { ...state.warmUp },
    priceAdjustments: state.prices.adjustments(),
    marketData: state.marketData,
    gatewayDown: state.gatewayDown,
    queuedQuestions: state.queuedQuestions.map((round) => [...round]),
    lostResponses: [...state.lostResponses],
    garbledResponses: [...state.garbledResponses],
    stalledSnapshots: [...state.stalledSnapshots],
  };
}

/** Replaces the durable part of `state` in place (everything holding `state` sees the new data). */
export function importDurable(state: SimulatorState, data: DurableState): void {
  if (data.clockOffset !== null && isOffsetClock(state.clock)) state.clock.setOffset(data.clockOffset);
  state.createdAt = data.createdAt;
  state.session.importState(data.session);
  state.selectedAccount = data.selectedAccount;
  state.accounts.clear();
  for (const account of data.accounts) state.accounts.set(account.id, accountFromData(account));
  state.orders.importState(data.engine);
  state.replies.importState(data.replies);
  state.suppressed.clear();
  for (const id of data.suppressed) state.suppressed.add(id);
  state.warmUp = { ...data.warmUp };
  state.prices.setAdjustments(data.priceAdjustments);
  state.marketData = data.marketData;
  state.gatewayDown = data.gatewayDown;
  state.queuedQuestions = data.queuedQuestions.map((round) => [...round]);
  state.lostResponses.splice(0, state.lostResponses.length, ...data.lostResponses);
  state.garbledResponses.splice(0, state.garbledResponses.length, ...(data.garbledResponses ?? []));
  state.stalledSnapshots.clear();
  for (const conid of data.stalledSnapshots ?? []) state.stalledSnapshots.add(conid);
}

/**
 * Drops what no endpoint can show any more (finished orders and executions older than the trades window,
 * expired cOIDs), so a state used for months loads as fast as a new one.
 */
export function compactDurable(state: SimulatorState, now: number): void {
  state.orders.compact(now);
  const before = now - FINISHED_ORDER_RETENTION_MS;
  for (const account of state.accounts.values()) {
    const keep = account.executions.filter((execution) => execution.at >= before);
    if (keep.length !== account.executions.length) account.executions.splice(0, Infinity, ...keep);
  }
}
