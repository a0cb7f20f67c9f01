// The simulated instrument universe: a handful of US stocks and ETFs (with the conids IBKR really uses, so
// recorded fixtures and simulated answers agree), a deliberately ambiguous symbol, and option chains whose
// contract ids encode the option itself, so any option conid the simulator ever handed out can be decoded
// again without a registry - across restarts and processes.
import { addDays, isTradingDay, newYorkTime, thirdFriday } from "./market-time.ts";

export interface Stock {
  readonly kind: "stock";
  readonly conid: number;
  readonly symbol: string;
  readonly companyName: string;
  /** Primary listing, as /trsrv/stocks and secdef search show it. */
  readonly listingExchange: string;
  /** Listing exchange as order and position payloads spell it (e.g. NASDAQ.NMS). */
  readonly listingDisplay: string;
  readonly currency: "USD";
  readonly type: "COMMON" | "ETF";
  readonly industry: string;
  readonly category: string;
  readonly sector: string | null;
  /** Price the deterministic path wanders around. */
  readonly basePrice: number;
  /** Daily volatility (fraction of the price). */
  readonly dailyVol: number;
  /** Shares traded per regular session, on average. */
  readonly dailyVolume: number;
  readonly fractional: boolean;
  /** Option underlying index (0-9) when the stock has an option chain. */
  readonly optionIndex: number | null;
  readonly isUS: boolean;
}

export interface OptionContract {
  readonly kind: "option";
  readonly conid: number;
  readonly underlying: Stock;
  readonly expiry: string;
  readonly strike: number;
  readonly right: "C" | "P";
  readonly multiplier: 100;
  readonly symbol: string;
  readonly currency: "USD";
}

export type Instrument = Stock | OptionContract;

const STOCK_DEFAULTS = { currency: "USD", fractional: true, isUS: true } as const;

export const STOCKS: readonly Stock[] = [
  {
    ...STOCK_DEFAULTS,
    kind: "stock",
    conid: 265598,
    symbol: "AAPL",
    companyName: "APPLE INC",
    listingExchange: "NASDAQ",
    listingDisplay: "NASDAQ.NMS",
    type: "COMMON",
    industry: "Computers",
    category: "Computers",
    sector: "Technology",
    basePrice: 274.6,
    dailyVol: 0.016,
    dailyVolume: 52_000_000,
    optionIndex: 0,
  },
  {
    ...STOCK_DEFAULTS,
    kind: "stock",
    conid: 272093,
    symbol: "MSFT",
    companyName: "MICROSOFT CORP",
    listingExchange: "NASDAQ",
    listingDisplay: "NASDAQ.NMS",
    type: "COMMON",
    industry: "Software",
    category: "Software",
    sector: "Technology",
    basePrice: 476.4,
    dailyVol: 0.014,
    dailyVolume: 21_000_000,
    optionIndex: 1,
  },
  {
    ...STOCK_DEFAULTS,
    kind: "stock",
    conid: 756733,
    symbol: "SPY",
    companyName: "SPDR S&P 500 ETF TRUST",
    listingExchange: "ARCA",
    listingDisplay: "ARCA",
    type: "ETF",
    industry: "Equity Fund",
    category: "Growth&Income-Large Cap",
    sector: null,
    basePrice: 680.7,
    dailyVol: 0.009,
    dailyVolume: 70_000_000,
    optionIndex: 2,
  },
  {
    ...STOCK_DEFAULTS,
    kind: "stock",
    conid: 320227571,
    symbol: "QQQ",
    companyName: "INVESCO QQQ TRUST SERIES 1",
    listingExchange: "NASDAQ",
    listingDisplay: "NASDAQ.NMS",
    type: "ETF",
    industry: "Equity Fund",
    category: "Growth-Large Cap",
    sector: null,
    basePrice: 612.3,
    dailyVol: 0.011,
    dailyVolume: 40_000_000,
    optionIndex: null,
  },
  {
    ...STOCK_DEFAULTS,
    kind: "stock",
    conid: 8314,
    symbol: "IBM",
    companyName: "INTL BUSINESS MACHINES CORP",
    listingExchange: "NYSE",
    listingDisplay: "NYSE",
    type: "COMMON",
    industry: "Computers",
    category: "Computer Services",
    sector: "Technology",
    basePrice: 305.2,
    dailyVol: 0.013,
    dailyVolume: 4_500_000,
    optionIndex: null,
  },
  {
    ...STOCK_DEFAULTS,
    kind: "stock",
    conid: 72063691,
    symbol: "BRK B",
    companyName: "BERKSHIRE HATHAWAY INC-CL B",
    listingExchange: "NYSE",
    listingDisplay: "NYSE",
    type: "COMMON",
    industry: "Insurance",
    category: "Property&Casualty Ins",
    sector: "Financial",
    basePrice: 496.8,
    dailyVol: 0.009,
    dailyVolume: 4_000_000,
    optionIndex: null,
  },
  {
    ...STOCK_DEFAULTS,
    kind: "stock",
    conid: 76792991,
    symbol: "TSLA",
    companyName: "TESLA INC",
    listingExchange: "NASDAQ",
    listingDisplay: "NASDAQ.NMS",
    type: "COMMON",
    industry: "Auto Manufacturers",
    category: "Auto-Cars/Light Trucks",
    sector: "Consumer, Cyclical",
    basePrice: 431.5,
    dailyVol: 0.035,
    dailyVolume: 95_000_000,
    optionIndex: null,
  },
  // Two different US companies share this ticker: resolving "ACME" by symbol alone must fail closed.
  {
    ...STOCK_DEFAULTS,
    kind: "stock",
    conid: 990001,
    symbol: "ACME",
    companyName: "ACME CORP (SIMULATED)",
    listingExchange: "NYSE",
    listingDisplay: "NYSE",
    type: "COMMON",
    industry: "Machinery",
    category: "Machinery-General Industry",
    sector: "Industrial",
    basePrice: 42.1,
    dailyVol: 0.02,
    dailyVolume: 900_000,
    optionIndex: null,
  },
  {
    ...STOCK_DEFAULTS,
    kind: "stock",
    conid: 990002,
    symbol: "ACME",
    companyName: "ACME HOLDINGS INC (SIMULATED)",
    listingExchange: "NASDAQ",
    listingDisplay: "NASDAQ.NMS",
    type: "COMMON",
    industry: "Internet",
    category: "E-Commerce/Services",
    sector: "Communications",
    basePrice: 17.85,
    dailyVol: 0.03,
    dailyVolume: 1_300_000,
    optionIndex: null,
    fractional: false,
  },
];

const BY_CONID = new Map<number, Stock>(STOCKS.map((stock) => [stock.conid, stock]));
const BY_OPTION_INDEX = new Map<number, Stock>(
  STOCKS.filter((s) => s.optionIndex !== null).map((s) => [s.optionIndex as number, s]),
);

export function stocksBySymbol(symbol: string): Stock[] {
  const wanted = symbol.trim().toUpperCase();
  return STOCKS.filter((stock) => stock.symbol === wanted);
}

// Option conid layout: 600,000,000 + underlying * 40,000,000 + expiry day * 4,000 + strike * 2 (half-dollar
// steps, below 1,000) * 2 + right. Expiry day counts from 2020-01-01 (fits 10,000 days).
const OPTION_BASE = 600_000_000;
const PER_UNDERLYING = 40_000_000;
const EPOCH_DAY = Date.UTC(2020, 0, 1) / 86_400_000;

function expiryDay(expiry: string): number {
  const ms = Date.UTC(Number(expiry.slice(0, 4)), Number(expiry.slice(4, 6)) - 1, Number(expiry.slice(6, 8)));
  return ms / 86_400_000 - EPOCH_DAY;
}

function expiryFromDay(day: number): string {
  const d = new Date((day + EPOCH_DAY) * 86_400_000);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}${String(d.getUTCDate()).padStart(2, "0")}`;
}

export function optionConid(underlying: Stock, expiry: string, strike: number, right: "C" | "P"): number {
  if (underlying.optionIndex === null) throw new RangeError(`${underlying.symbol} has no options`);
  const halfStrike = Math.round(strike * 2);
  return (
    OPTION_BASE +
    underlying.optionIndex * PER_UNDERLYING +
    expiryDay(expiry) * 4_000 +
    halfStrike * 2 +
    (right === "C" ? 0 : 1)
  );
}

function decodeOption(conid: number): OptionContract | undefined {
  if (conid < OPTION_BASE) return undefined;
  const rest = conid - OPTION_BASE;
  const underlying = BY_OPTION_INDEX.get(Math.floor(rest / PER_UNDERLYING));
  if (underlying === undefined) return undefined;
  const inner = rest % PER_UNDERLYING;
  const day = Math.floor(inner / 4_000);
  const strikePart = inner % 4_000;
  const right = strikePart % 2 === 0 ? "C" : "P";
  const strike = Math.floor(strikePart / 2) / 2;
  if (strike <= 0) return undefined;
  return option(underlying, expiryFromDay(day), strike, right);
}

export function option(underlying: Stock, expiry: string, strike: number, right: "C" | "P"): OptionContract {
  return {
    kind: "option",
    conid: optionConid(underlying, expiry, strike, right),
    underlying,
    expiry,
    strike,
    right,
    multiplier: 100,
    symbol: underlying.symbol,
    currency: "USD",
  };
}

/** Conid of a second US listing of a stock (the ambiguous-contracts scenario). */
export const ALIAS_OFFSET = 1_000_000_000;

export function aliasListing(stock: Stock): Stock {
  return {
    ...stock,
    conid: stock.conid + ALIAS_OFFSET,
    listingExchange: "IEX",
    listingDisplay: "IEX",
    companyName: `${stock.companyName} (IEX LISTING)`,
    optionIndex: null,
  };
}

export function instrumentByConid(conid: number): Instrument | undefined {
  if (conid >= ALIAS_OFFSET) {
    const stock = BY_CONID.get(conid - ALIAS_OFFSET);
    return stock === undefined ? undefined : aliasListing(stock);
  }
  return BY_CONID.get(conid) ?? decodeOption(conid);
}

export function isOptionable(stock: Stock): boolean {
  return stock.optionIndex !== null;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/** MMMYY, as secdef uses for option months (e.g. JAN26). */
export function monthCode(expiry: string): string {
  return `${MONTHS[Number(expiry.slice(4, 6)) - 1]}${expiry.slice(2, 4)}`;
}

export function parseMonthCode(code: string): { year: number; month: number } | null {
  const match = /^([A-Z]{3})(\d{2})$/.exec(code.trim().toUpperCase());
  if (match === null) return null;
  const month = MONTHS.indexOf(match[1] as string) + 1;
  if (month === 0) return null;
  return { year: 2000 + Number(match[2]), month };
}

/** Expiries listed on `ms`: the next four weekly Fridays and the next six monthly expiries. */
export function optionExpiries(ms: number): string[] {
  const today = newYorkTime(ms).date;
  const out = new Set<string>();
  let day = today;
  while (out.size < 4) {
    day = addDays(day, 1);
    const weekday = new Date(
      Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8))),
    ).getUTCDay();
    if (weekday === 5) out.add(isTradingDay(day) ? day : addDays(day, -1));
  }
  let year = Number(today.slice(0, 4));
  let month = Number(today.slice(4, 6));
  let monthly = 0;
  while (monthly < 6) {
    const expiry = thirdFriday(year, month);
    if (expiry > today) {
      out.add(isTradingDay(expiry) ? expiry : addDays(expiry, -1));
      monthly += 1;
    }
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return [...out].sort();
}

/** Listed strikes around a reference price: 2.5 or 5 dollar steps, 12 each side. */
export function optionStrikes(reference: number): number[] {
  const step = reference < 100 ? 1 : reference < 300 ? 2.5 : 5;
  const center = Math.round(reference / step) * step;
  const strikes: number[] = [];
  for (let i = -12; i <= 12; i += 1) {
    const strike = Math.round((center + i * step) * 2) / 2;
    if (strike > 0) strikes.push(strike);
  }
  return strikes;
}
