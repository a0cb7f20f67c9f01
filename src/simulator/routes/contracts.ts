// Contract endpoints: secdef search (conid as a STRING here, ";"-joined expiries and months), option
// strikes and contract rows per month, contract info (snake_case), /trsrv/stocks (upper-case symbols
// only) and the trading schedule (weekday templates dated 20000101-20000107 plus dated exceptions).
import {
  aliasListing,
  instrumentByConid,
  isOptionable,
  monthCode,
  option,
  optionExpiries,
  optionStrikes,
  parseMonthCode,
  STOCKS,
  type Stock,
  stocksBySymbol,
} from "../instruments.ts";
import { addDays, isHoliday, isTradingDay, lastCloseAt, newYorkTime, regularClose } from "../market-time.ts";
import type { SimulatorState } from "../state.ts";
import { badRequest, fail, integerParam, ok, type Route } from "./types.ts";

const STOCK_EXCHANGES =
  "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,EDGX,PEARL,MEMX,IBEOS,OVERNIGHT";
const OPTION_EXCHANGES =
  "SMART;AMEX;BATS;BOX;CBOE;CBOE2;EDGX;EMERALD;GEMINI;IBUSOPT;ISE;MEMX;MERCURY;MIAX;NASDAQBX;NASDAQOM;PEARL;PHLX;PSE";

/** Strikes are listed around the last close, so a chain is stable for a whole day. */
function referencePrice(state: SimulatorState, stock: Stock, now: number): number {
  return state.prices.price(stock, lastCloseAt(now));
}

function searchRow(stock: Stock, _state: SimulatorState, now: number): Record<string, unknown> {
  const sections: Record<string, unknown>[] = [{ secType: "STK" }];
  let opt: string | null = null;
  if (isOptionable(stock)) {
    const expiries = optionExpiries(now);
    opt = expiries.join(";");
    sections.push({
      secType: "OPT",
      months: [...new Set(expiries.map(monthCode))].join(";"),
      exchange: OPTION_EXCHANGES,
    });
  }
  sections.push({ secType: "BAG" });
  return {
    conid: String(stock.conid),
    companyHeader: `${stock.companyName} - ${stock.listingExchange}`,
    companyName: stock.companyName,
    symbol: stock.symbol,
    description: stock.listingExchange,
    restricted: null,
    fop: null,
    opt,
    war: null,
    sections,
  };
}

const searchContracts: Route = (request, state) => {
  const symbol = (request.query.get("symbol") ?? "").trim();
  if (symbol === "") return badRequest("symbol needed");
  const byName = request.query.get("name") === "true";
  const secType = request.query.get("secType") ?? "STK";
  if (secType !== "STK") return ok([]);
  const wanted = symbol.toUpperCase();
  const matches = byName
    ? STOCKS.filter((s) => s.companyName.includes(wanted))
    : STOCKS.filter((s) => s.symbol === wanted);
  const rows: Record<string, unknown>[] = [];
  for (const stock of matches) {
    rows.push(searchRow(stock, state, request.now));
    if (state.scenario.ambiguousSearch) rows.push(searchRow(aliasListing(stock), state, request.now));
  }
  return ok(rows);
};

function underlyingParam(request: Parameters<Route>[0]): Stock | null {
  const conid = integerParam(request.query.get("conid"));
  const instrument = conid === null ? undefined : instrumentByConid(conid);
  return instrument?.kind === "stock" ? instrument : null;
}

function expiriesInMonth(now: number, month: string | null): string[] {
  const parsed = parseMonthCode(month ?? "");
  if (parsed === null) return [];
  const prefix = `${parsed.year}${String(parsed.month).padStart(2, "0")}`;
  return optionExpiries(now).filter((e) => e.startsWith(prefix));
}

const getOptionStrikes: Route = (request, state) => {
  const stock = underlyingParam(request);
  if (stock === null) return badRequest("conid is not valid");
  if (request.query.get("sectype") !== "OPT" || !isOptionable(stock)) return ok({ call: [], put: [] });
  if (expiriesInMonth(request.now, request.query.get("month")).length === 0) return ok({ call: [], put: [] });
  const strikes = optionStrikes(referencePrice(state, stock, request.now));
  return ok({ call: strikes, put: strikes });
};

function optionRow(stock: Stock, expiry: string, strike: number, right: "C" | "P") {
  const contract = option(stock, expiry, strike, right);
  const date = new Date(
    Date.UTC(Number(expiry.slice(0, 4)), Number(expiry.slice(4, 6)) - 1, Number(expiry.slice(6, 8))),
  );
  const label = `${date.toLocaleString("en-US", { month: "short", timeZone: "UTC" }).toUpperCase()} ${String(date.getUTCDate()).padStart(2, "0")} '${expiry.slice(2, 4)}`;
  return {
    conid: contract.conid,
    symbol: stock.symbol,
    secType: "OPT",
    exchange: "SMART",
    listingExchange: null,
    right,
    strike,
    currency: "USD",
    cusip: null,
    coupon: "No Coupon",
    desc1: stock.symbol,
    desc2: `${label} ${strike} ${right === "C" ? "Call" : "Put"}`,
    maturityDate: expiry,
    multiplier: "100",
    tradingClass: stock.symbol,
    validExchanges: OPTION_EXCHANGES.replaceAll(";", ","),
    showPrips: false,
  };
}

const getSecdefInfo: Route = (request, state) => {
  const stock = underlyingParam(request);
  if (stock === null) return badRequest("conid is not valid");
  const sectype = request.query.get("sectype");
  if (sectype === "STK") {
    return ok([
      {
        conid: stock.conid,
        symbol: stock.symbol,
        secType: "STK",
        exchange: "SMART",
        listingExchange: stock.listingExchange,
        currency: "USD",
        desc1: stock.symbol,
        desc2: stock.companyName,
        showPrips: false,
      },
    ]);
  }
  if (sectype !== "OPT" || !isOptionable(stock)) return ok([]);
  const strike = Number(request.query.get("strike"));
  const right = request.query.get("right");
  const listed = optionStrikes(referencePrice(state, stock, request.now));
  if (!listed.includes(strike)) return ok([]);
  const rights: ("C" | "P")[] = right === "C" || right === "P" ? [right] : ["C", "P"];
  const rows = expiriesInMonth(request.now, request.query.get("month")).flatMap((expiry) =>
    rights.map((r) => optionRow(stock, expiry, strike, r)),
  );
  return ok(rows);
};

const getContractInfo: Route = (request) => {
  const conid = integerParam(request.params.conid);
  const instrument = conid === null ? undefined : instrumentByConid(conid);
  if (instrument === undefined) return badRequest("conid is not valid");
  const stock = instrument.kind === "stock" ? instrument : instrument.underlying;
  const isOption = instrument.kind === "option";
  return ok({
    cfi_code: "",
    symbol: stock.symbol,
    cusip: null,
    expiry_full: isOption ? instrument.expiry : null,
    con_id: instrument.conid,
    maturity_date: isOption ? instrument.expiry : null,
    industry: stock.industry,
    instrument_type: isOption ? "OPT" : "STK",
    trading_class: isOption
      ? stock.symbol
      : stock.listingExchange === "NASDAQ"
        ? "NMS"
        : stock.listingExchange,
    valid_exchanges: isOption ? OPTION_EXCHANGES.replaceAll(";", ",") : STOCK_EXCHANGES,
    allow_sell_long: false,
    is_zero_commission_security: false,
    local_symbol: isOption
      ? `${stock.symbol.padEnd(6)}${instrument.expiry.slice(2)}${instrument.right}${String(Math.round(instrument.strike * 1000)).padStart(8, "0")}`
      : stock.symbol,
    contract_clarification_type: null,
    classifier: null,
    currency: "USD",
    text: null,
    underlying_con_id: isOption ? stock.conid : 0,
    r_t_h: true,
    multiplier: isOption ? "100" : null,
    underlying_issuer: null,
    contract_month: isOption ? instrument.expiry.slice(0, 6) : null,
    company_name: stock.companyName,
    smart_available: true,
    exchange: "SMART",
    category: stock.category,
    ...(isOption
      ? { right: instrument.right === "C" ? "CALL" : "PUT", strike: String(instrument.strike) }
      : {}),
  });
};

const getStocksBySymbol: Route = (request) => {
  const symbols = (request.query.get("symbols") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (symbols.length === 0) return badRequest("symbols needed");
  const body: Record<string, unknown[]> = {};
  for (const symbol of symbols) {
    // Matching is case-sensitive on the wire: lower-case symbols find nothing.
    const matches = symbol === symbol.toUpperCase() ? stocksBySymbol(symbol) : [];
    const byName = new Map<string, Stock[]>();
    for (const stock of matches)
      byName.set(stock.companyName, [...(byName.get(stock.companyName) ?? []), stock]);
    body[symbol] = [...byName.entries()].map(([name, listings]) => ({
      name,
      chineseName: null,
      assetClass: "STK",
      contracts: listings.map((s) => ({ conid: s.conid, exchange: s.listingExchange, isUS: s.isUS })),
    }));
  }
  return ok(body);
};

function tradingTimes(date: string | null) {
  const close = date === null ? "1600" : `${String(Math.floor(regularClose(date) / 60)).padStart(2, "0")}00`;
  const post = date === null ? "2000" : close === "1300" ? "1700" : "2000";
  return [
    { openingTime: "0400", closingTime: "0930", cancelDayOrders: "N" },
    { openingTime: "0930", closingTime: close, cancelDayOrders: "Y", prop: "LIQUID" },
    { openingTime: close, closingTime: post, cancelDayOrders: "Y" },
  ];
}

const CLOSED = [{ openingTime: "0000", closingTime: "0000", cancelDayOrders: "Y" }];

const getTradingSchedule: Route = (request) => {
  const assetClass = request.query.get("assetClass");
  const symbol = (request.query.get("symbol") ?? "").trim().toUpperCase();
  if (assetClass === null || symbol === "") return badRequest("assetClass and symbol needed");
  const stocks = stocksBySymbol(symbol);
  if (stocks.length === 0 || assetClass !== "STK") return fail(500, `no schedule for ${symbol}`);
  const exchangeFilter = request.query.get("exchange");
  const venues = [...new Set(stocks.map((s) => s.listingExchange))].filter(
    (exchange) => exchangeFilter === null || exchangeFilter === "" || exchangeFilter === exchange,
  );
  const today = newYorkTime(request.now).date;
  const schedules: Record<string, unknown>[] = [];
  // Weekday templates: 20000101 stands for any Saturday ... 20000107 for any Friday.
  for (let i = 1; i <= 7; i += 1) {
    const weekend = i <= 2;
    schedules.push({
      clearingCycleEndTime: weekend ? "0000" : "2000",
      tradingScheduleDate: `2000010${i}`,
      sessions: [],
      tradingtimes: weekend ? CLOSED : tradingTimes(null),
    });
  }
  // Dated exceptions within the next month: holidays and early closes.
  for (let d = 0; d <= 31; d += 1) {
    const date = addDays(today, d);
    if (isHoliday(date)) {
      schedules.push({
        clearingCycleEndTime: "0000",
        tradingScheduleDate: date,
        sessions: [],
        tradingtimes: CLOSED,
      });
    } else if (isTradingDay(date) && regularClose(date) !== 16 * 60) {
      schedules.push({
        clearingCycleEndTime: "1700",
        tradingScheduleDate: date,
        sessions: [],
        tradingtimes: tradingTimes(date),
      });
    }
  }
  return ok(
    venues.map((exchange, i) => ({
      id: `p${102082 + i}`,
      tradeVenueId: `v${13133 + i}`,
      exchange,
      description: exchange,
      timezone: "America/New_York",
      schedules,
    })),
  );
};

export const CONTRACT_ROUTES = {
  searchContracts,
  getOptionStrikes,
  getSecdefInfo,
  getContractInfo,
  getStocksBySymbol,
  getTradingSchedule,
} satisfies Record<string, Route>;
