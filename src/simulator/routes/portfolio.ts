// Portfolio endpoints: the lowercase-keyed summary, the ledger by currency plus BASE, positions paged by
// 100 and cached until invalidated (or a minute old), and partitioned P&L whose first answer in a session
// is the empty {"upnl":{}}.
import { multiplierOf, type SimAccount } from "../accounts.ts";
import { instrumentByConid } from "../instruments.ts";
import type { SimulatorState } from "../state.ts";
import { round2, valueAccount } from "../valuation.ts";
import { badRequest, integerParam, ok, type Route, type SimRequest } from "./types.ts";

const PAGE_SIZE = 100;
const POSITIONS_CACHE_MS = 60_000;

function accountOf(request: SimRequest, state: SimulatorState): SimAccount | undefined {
  return state.accounts.get(request.params.accountId ?? "");
}

function summaryValue(now: number, amount: number | null, value: string | null = null) {
  return {
    amount: amount === null ? 0 : round2(amount),
    currency: amount === null ? null : "USD",
    isNull: false,
    timestamp: Math.floor(now / 1000) * 1000,
    value,
    severity: 0,
  };
}

const getAccountSummary: Route = (request, state) => {
  const account = accountOf(request, state);
  if (account === undefined) return badRequest("accountId is not valid");
  const v = valueAccount(state, account, request.now);
  const now = request.now;
  const money: Record<string, number> = {
    accruedcash: 0,
    availablefunds: v.availableFunds,
    equitywithloanvalue: v.netLiquidation,
    excessliquidity: v.excessLiquidity,
    initmarginreq: v.initMargin,
    maintmarginreq: v.maintMargin,
    netliquidation: v.netLiquidation,
    totalcashvalue: v.cash,
  };
  const body: Record<string, unknown> = {
    accountcode: summaryValue(now, null, account.id),
    accountready: summaryValue(now, null, "true"),
    accounttype: summaryValue(now, null, "INDIVIDUAL"),
    buyingpower: summaryValue(now, v.buyingPower),
    cushion: summaryValue(
      now,
      null,
      (v.netLiquidation > 0 ? v.excessLiquidity / v.netLiquidation : 0).toFixed(3),
    ),
    grosspositionvalue: summaryValue(now, v.grossPositionValue),
    highestseverity: summaryValue(now, null, "null"),
    "leverage-s": summaryValue(
      now,
      null,
      (v.netLiquidation > 0 ? v.grossPositionValue / v.netLiquidation : 0).toFixed(2),
    ),
    settledcash: summaryValue(now, v.cash),
  };
  for (const [key, amount] of Object.entries(money)) {
    body[key] = summaryValue(now, amount);
    // Segments: everything the simulator holds is in the securities segment.
    body[`${key}-c`] = summaryValue(now, 0);
    body[`${key}-s`] = summaryValue(now, amount);
  }
  return ok(Object.fromEntries(Object.entries(body).sort(([a], [b]) => a.localeCompare(b))));
};

const getAccountLedger: Route = (request, state) => {
  const account = accountOf(request, state);
  if (account === undefined) return badRequest("accountId is not valid");
  const v = valueAccount(state, account, request.now);
  const entry = (key: string) => ({
    commoditymarketvalue: 0,
    futuremarketvalue: 0,
    settledcash: round2(v.cash),
    exchangerate: 1,
    sessionid: 1,
    cashbalance: round2(v.cash),
    corporatebondsmarketvalue: 0,
    warrantsmarketvalue: 0,
    netliquidationvalue: round2(v.netLiquidation),
    interest: 0,
    unrealizedpnl: round2(v.unrealizedPnl),
    stockmarketvalue: round2(v.stockValue),
    moneyfunds: 0,
    currency: key,
    realizedpnl: round2(v.realizedPnl),
    funds: 0,
    acctcode: account.id,
    issueroptionsmarketvalue: 0,
    key: "LedgerList",
    // The ledger's timestamp is in seconds, unlike almost everything else.
    timestamp: Math.floor(request.now / 1000),
    severity: 0,
    stockoptionmarketvalue: round2(v.optionValue),
    futuresonlypnl: 0,
    tbondsmarketvalue: 0,
    futureoptionmarketvalue: 0,
    cashbalancefxsegment: 0,
    secondkey: key,
    tbillsmarketvalue: 0,
    dividends: 0,
    cryptocurrencyvalue: 0,
    endofbundle: 1,
  });
  return ok({ USD: entry("USD"), BASE: entry("BASE") });
};

function positionRow(state: SimulatorState, account: SimAccount, conid: number, now: number) {
  const position = account.positions.get(conid);
  const instrument = instrumentByConid(conid);
  if (position === undefined || instrument === undefined) return null;
  const multiplier = multiplierOf(instrument);
  const price = state.book(instrument, now).last;
  const value = position.quantity * price * multiplier;
  const stock = instrument.kind === "stock" ? instrument : instrument.underlying;
  const isOption = instrument.kind === "option";
  return {
    acctId: account.id,
    conid,
    contractDesc: isOption
      ? `${stock.symbol} ${instrument.expiry} ${instrument.strike} ${instrument.right}`
      : stock.symbol,
    position: position.quantity,
    mktPrice: price,
    mktValue: round2(value),
    currency: "USD",
    avgCost: round2(position.avgPrice * multiplier),
    avgPrice: round2(position.avgPrice),
    realizedPnl: round2(position.realizedPnl),
    unrealizedPnl: round2((price - position.avgPrice) * position.quantity * multiplier),
    exchs: null,
    expiry: isOption ? instrument.expiry : null,
    putOrCall: isOption ? instrument.right : null,
    // Types drift on the wire: strike is a number for stocks here and a string for options.
    multiplier: isOption ? multiplier : null,
    strike: isOption ? String(instrument.strike) : 0,
    exerciseStyle: null,
    conExchMap: [],
    assetClass: isOption ? "OPT" : "STK",
    undConid: isOption ? stock.conid : 0,
    model: "",
    listingExchange: stock.listingExchange,
    countryCode: "US",
    name: stock.companyName,
    lastTradingDay: isOption ? instrument.expiry : null,
    group: stock.industry,
    sector: stock.sector,
    sectorGroup: stock.category,
    ticker: stock.symbol,
    type: isOption ? "" : stock.type,
    hasOptions: stock.optionIndex !== null,
    fullName: stock.symbol,
    isUS: true,
    isEventContract: false,
    pageSize: PAGE_SIZE,
  };
}

const getPositions: Route = (request, state) => {
  const account = accountOf(request, state);
  if (account === undefined) return badRequest("accountId is not valid");
  const page = integerParam(request.params.pageId);
  if (page === null || page < 0) return badRequest("pageId must be a non-negative integer");
  // The gateway caches the position list; /positions/invalidate (or time) refreshes it.
  let cached = state.epochState.positionsCache.get(account.id);
  if (cached === undefined || request.now - cached.at >= POSITIONS_CACHE_MS) {
    const conids = [...account.positions.values()]
      .filter((p) => p.quantity !== 0)
      .map((p) => p.conid)
      .sort((a, b) => a - b);
    cached = { at: request.now, conids };
    state.epochState.positionsCache.set(account.id, cached);
  }
  const slice = cached.conids.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const rows = slice
    .map((conid) => positionRow(state, account, conid, request.now))
    .filter((r) => r !== null);
  const direction = request.query.get("direction") === "d" ? -1 : 1;
  const sort = request.query.get("sort");
  const first = rows[0];
  if (sort !== null && first !== undefined && sort in first) {
    rows.sort((a, b) => {
      const x = (a as Record<string, unknown>)[sort];
      const y = (b as Record<string, unknown>)[sort];
      return (
        (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) *
        direction
      );
    });
  }
  return ok(rows);
};

const invalidatePositions: Route = (request, state) => {
  if (!state.accounts.has(request.params.accountId ?? "")) return badRequest("accountId is not valid");
  state.epochState.positionsCache.delete(request.params.accountId ?? "");
  return ok({ message: "success" });
};

const getPartitionedPnl: Route = (request, state) => {
  // "Initial request will return an empty array in the upnl object."
  if (state.warmUp.pnlCalls < state.scenario.coldPnlRequests) {
    state.warmUp.pnlCalls += 1;
    return ok({ upnl: {} });
  }
  const upnl: Record<string, unknown> = {};
  for (const account of state.accounts.values()) {
    const v = valueAccount(state, account, request.now);
    upnl[`${account.id}.Core`] = {
      rowType: 1,
      dpl: round2(v.dailyPnl),
      nl: round2(v.netLiquidation),
      upl: round2(v.unrealizedPnl),
      el: round2(v.excessLiquidity),
      mv: round2(v.stockValue + v.optionValue),
    };
  }
  return ok({ upnl });
};

export const PORTFOLIO_ROUTES = {
  getAccountSummary,
  getAccountLedger,
  getPositions,
  invalidatePositions,
  getPartitionedPnl,
} satisfies Record<string, Route>;
