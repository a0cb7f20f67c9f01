// Named starting situations for the simulated gateway. A scenario only sets initial state and a few
// switches; everything after start-up follows the same rules, and tests move on from a scenario with the
// control API (log in, compete, advance the clock, move a price, fill an order).
import type { AccountSeed } from "./accounts.ts";
import { optionConid, STOCKS } from "./instruments.ts";

export type MarketDataMode = "live" | "delayed" | "frozen" | "none";

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly loggedIn: boolean;
  /** Brokerage session authenticated at start (false: SSO only). */
  readonly brokerage: boolean;
  readonly competing: boolean;
  /** SSO session ends this long after start (the expiring-session scenario). */
  readonly expiresInMs: number | null;
  /** Penalty box active for this long from start. */
  readonly penaltyAtStartMs: number | null;
  readonly gatewayDown: boolean;
  readonly marketData: MarketDataMode;
  /** Every symbol search also answers a second US listing. */
  readonly ambiguousSearch: boolean;
  /** Question rounds every order is asked before the natural ones; "p12" as a round asks the prompt. */
  readonly forcedQuestions: readonly (readonly string[])[];
  /** How many first /pnl/partitioned requests of each brokerage session answer the cold {"upnl":{}}. */
  readonly coldPnlRequests: number;
  readonly accounts: readonly AccountSeed[];
}

const PAPER: AccountSeed = {
  id: "DU1234567",
  paper: true,
  title: "Simulated Paper Trader",
  cash: 880_000,
  positions: [
    { conid: 265598, quantity: 200, avgPrice: 251.3 },
    { conid: 272093, quantity: 60, avgPrice: 482.12 },
    { conid: 756733, quantity: 20, avgPrice: 655.04 },
  ],
};

const SECOND_PAPER: AccountSeed = {
  id: "DU2345678",
  paper: true,
  title: "Simulated Paper Trader (second account)",
  cash: 250_000,
  positions: [{ conid: 8314, quantity: 100, avgPrice: 280.4 }],
};

const LIVE: AccountSeed = {
  id: "U7654321",
  paper: false,
  title: "Simulated Live Trader",
  cash: 125_000,
  positions: [{ conid: 265598, quantity: 50, avgPrice: 190.12 }],
};

// 230 AAPL options (115 strikes, call and put, December 2028) on top of the three stocks: 233 positions,
// so the broker's 100-row position pages come out full, full and 33 long.
const AAPL = STOCKS.find((stock) => stock.symbol === "AAPL") as (typeof STOCKS)[number];
const MANY: AccountSeed = {
  ...PAPER,
  positions: [
    ...PAPER.positions,
    ...Array.from({ length: 115 }, (_, i) => 150 + i * 2.5).flatMap((strike) =>
      (["C", "P"] as const).map((right) => ({
        conid: optionConid(AAPL, "20281215", strike, right),
        quantity: 1,
        avgPrice: 10,
      })),
    ),
  ],
};

const BASE: Omit<Scenario, "name" | "description"> = {
  loggedIn: true,
  brokerage: true,
  competing: false,
  expiresInMs: null,
  penaltyAtStartMs: null,
  gatewayDown: false,
  marketData: "live",
  ambiguousSearch: false,
  forcedQuestions: [],
  coldPnlRequests: 1,
  accounts: [PAPER],
};

const LIST: readonly Scenario[] = [
  { ...BASE, name: "healthy", description: "Logged in, one paper account (DU...), live market data." },
  {
    ...BASE,
    name: "no-session",
    description: "The gateway runs but nobody logged in: every call answers 401 until a login.",
    loggedIn: false,
  },
  {
    ...BASE,
    name: "sso-only",
    description: "Logged in to the web session, but the brokerage (/iserver) session is not established.",
    brokerage: false,
  },
  {
    ...BASE,
    name: "competing-session",
    description: "Another login (TWS, the mobile app) holds the brokerage session.",
    competing: true,
  },
  {
    ...BASE,
    name: "expiring-session",
    description: "The session reaches its lifetime limit two minutes after start.",
    expiresInMs: 2 * 60_000,
  },
  {
    ...BASE,
    name: "rate-limited",
    description: "The caller starts in the penalty box (60 s) after a pacing violation.",
    penaltyAtStartMs: 60_000,
  },
  {
    ...BASE,
    name: "questions",
    description: "Every order is asked three rounds: two confirmable questions and the p12 prompt.",
    forcedQuestions: [["o10153"], ["o10152"], ["p12"]],
  },
  {
    ...BASE,
    name: "gateway-down",
    description: "Nothing listens: connections are refused (in-process) or reset (HTTPS server).",
    gatewayDown: true,
  },
  {
    ...BASE,
    name: "delayed-data",
    description: "No real-time subscription: quotes are 15 minutes delayed (6509 starts with D).",
    marketData: "delayed",
  },
  {
    ...BASE,
    name: "frozen-data",
    description: "Quotes are frozen at the last close (6509 starts with Z).",
    marketData: "frozen",
  },
  {
    ...BASE,
    name: "no-market-data-subscription",
    description: "No market data at all (6509 N); orders are asked the o354 question.",
    marketData: "none",
  },
  {
    ...BASE,
    name: "ambiguous-contracts",
    description: "Every symbol search also finds a second US listing, so resolution must fail closed.",
    ambiguousSearch: true,
  },
  {
    ...BASE,
    name: "multi-account",
    description: "One login with two paper accounts; /iserver/account selects between them.",
    accounts: [PAPER, SECOND_PAPER],
  },
  {
    ...BASE,
    name: "live-account",
    description: "A live (non-paper) login with account U...: the paper path must refuse it.",
    accounts: [LIVE],
  },
  {
    ...BASE,
    name: "many-positions",
    description: "The paper account holds 233 positions (230 of them AAPL options), three pages of 100.",
    accounts: [MANY],
  },
  {
    ...BASE,
    name: "slow-pnl",
    description:
      'The running P&L takes a while: the first 3 P&L requests of each session answer {"upnl":{}}.',
    coldPnlRequests: 3,
  },
];

export const SCENARIOS: ReadonlyMap<string, Scenario> = new Map(LIST.map((s) => [s.name, s]));
export const SCENARIO_NAMES: readonly string[] = LIST.map((s) => s.name);

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.get(name);
}
