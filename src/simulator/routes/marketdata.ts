// Market data endpoints. The snapshot keeps the gateway's manners: the first request for a conid only
// opens the stream and answers {conid, conidEx}; later requests answer string values keyed by field id,
// and every field ever requested for that conid keeps coming (sticky fields). Option greeks are computed
// fields that appear a moment after the subscription starts. 6509 tells the data's availability (R live,
// D delayed, Z frozen, N none); outside trading hours the last price carries the C (prior close) prefix.
// A conid the control API stalls keeps answering like a stream that has just opened, until released.
import { type Instrument, instrumentByConid, type Stock } from "../instruments.ts";
import {
  addDays,
  fromNewYork,
  isTradingDay,
  newYorkTime,
  POST_CLOSE,
  PRE_OPEN,
  REGULAR_OPEN,
  regularClose,
} from "../market-time.ts";
import { roundTick } from "../prices.ts";
import type { Quote } from "../quotes.ts";
import { hash32 } from "../random.ts";
import { DELAYED_DATA_MS, type SimulatorState, type Subscription } from "../state.ts";
import { compactVolume, grouped, price, signedChange, tradeTime } from "../wire/format.ts";
import { badRequest, fail, integerParam, ok, type Route } from "./types.ts";

/** Computed fields (greeks, implied volatility) show up this long after the subscription starts. */
const COMPUTED_FIELD_DELAY_MS = 1_000;
const COMPUTED_FIELDS = new Set(["7308", "7309", "7310", "7311", "7633", "7283"]);
const MAX_CONIDS = 100;

function availability(state: SimulatorState): string {
  switch (state.marketData) {
    case "delayed":
      return "DPB";
    case "frozen":
      return "ZPB";
    case "none":
      return "N";
    default:
      return "RpB";
  }
}

function stockOf(instrument: Instrument): Stock {
  return instrument.kind === "stock" ? instrument : instrument.underlying;
}

function sizeText(lots: number): string {
  return lots >= 1_000 ? grouped(lots) : String(lots);
}

function fieldValue(
  field: string,
  instrument: Instrument,
  quote: Quote,
  state: SimulatorState,
  now: number,
  subscription: Subscription,
): string | undefined {
  const stock = stockOf(instrument);
  const noData = state.marketData === "none";
  const priced = (value: number | null) => (noData || value === null ? undefined : price(value));
  const computedReady = now - subscription.since >= COMPUTED_FIELD_DELAY_MS;
  if (COMPUTED_FIELDS.has(field) && (!computedReady || noData)) return undefined;
  const optionValue = () => (instrument.kind === "option" ? state.prices.optionQuote(instrument, now) : null);
  switch (field) {
    case "31":
      return noData ? undefined : `${quote.closed ? "C" : ""}${price(quote.last)}`;
    case "55":
      return stock.symbol;
    case "70":
      return priced(quote.high);
    case "71":
      return priced(quote.low);
    case "82":
      return noData ? undefined : signedChange(quote.last - quote.priorClose);
    case "83":
      return noData ? undefined : signedChange(((quote.last - quote.priorClose) / quote.priorClose) * 100);
    case "84":
      return priced(quote.bid);
    case "85":
      return noData ? undefined : sizeText(quote.askSize);
    case "86":
      return priced(quote.ask);
    case "87":
      return noData ? undefined : compactVolume(quote.volume);
    case "88":
      return noData ? undefined : sizeText(quote.bidSize);
    case "7059":
      return noData ? undefined : String(quote.lastSize);
    case "7295":
      return priced(quote.open);
    case "7296":
      return quote.closed ? priced(quote.last) : undefined;
    case "7741":
      return priced(quote.priorClose);
    case "7762":
      return noData ? undefined : String(quote.volume);
    case "7635":
      return priced(roundTick((quote.bid + quote.ask) / 2));
    case "6008":
      return String(instrument.conid);
    case "6070":
      return instrument.kind === "option" ? "OPT" : "STK";
    case "6457":
      return String(stock.conid);
    case "7051":
      return stock.companyName;
    case "6004":
    case "7221":
      return instrument.kind === "option" ? "SMART" : stock.listingExchange;
    case "7768":
      return "1";
    case "7308": {
      const v = optionValue();
      return v === null ? undefined : v.delta.toFixed(3);
    }
    case "7309": {
      const v = optionValue();
      return v === null ? undefined : v.gamma.toFixed(3);
    }
    case "7310": {
      const v = optionValue();
      return v === null ? undefined : v.theta.toFixed(3);
    }
    case "7311": {
      const v = optionValue();
      return v === null ? undefined : v.vega.toFixed(3);
    }
    case "7633": {
      const v = optionValue();
      return v === null ? undefined : `${(v.iv * 100).toFixed(1)}%`;
    }
    case "7283":
      return stock.optionIndex === null
        ? undefined
        : `${(stock.dailyVol * Math.sqrt(252) * 100).toFixed(1)}%`;
    case "7293":
      return priced(stock.basePrice * 1.18);
    case "7294":
      return priced(stock.basePrice * 0.74);
    case "7289":
      return instrument.kind === "stock" && stock.type === "COMMON"
        ? compactVolume(stock.basePrice * 15e9)
        : undefined;
    default:
      return undefined;
  }
}

const getMarketSnapshot: Route = (request, state) => {
  const conidsText = request.query.get("conids") ?? "";
  const conids = conidsText
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  if (conids.length === 0) return badRequest("conids needed");
  if (conids.length > MAX_CONIDS) return badRequest(`at most ${MAX_CONIDS} conids per request`);
  const fields = (request.query.get("fields") ?? "")
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f !== "");
  const rows: Record<string, unknown>[] = [];
  for (const text of conids) {
    const conid = integerParam(text);
    if (conid === null) return badRequest(`conid ${text} is not a number`);
    const instrument = instrumentByConid(conid);
    const base = { conid, conidEx: String(conid) };
    if (instrument === undefined) {
      rows.push(base);
      continue;
    }
    const subs = state.epochState.subscriptions;
    let subscription = subs.get(conid);
    if (subscription === undefined) {
      // The pre-flight: this request only opens the stream.
      subs.set(conid, { since: request.now, fields: new Set(fields), serverId: `q${subs.size}` });
      rows.push(base);
      continue;
    }
    for (const field of fields) subscription.fields.add(field);
    // A stalled stream (control API) is open but delivers nothing yet: every ask looks like the first.
    if (state.stalledSnapshots.has(conid)) {
      rows.push(base);
      continue;
    }
    subscription = subs.get(conid) as Subscription;
    const quote = state.quote(instrument, request.now);
    const row: Record<string, unknown> = {};
    for (const field of [...subscription.fields].sort((a, b) => Number(a) - Number(b))) {
      const value = fieldValue(field, instrument, quote, state, request.now, subscription);
      if (value !== undefined) row[field] = value;
    }
    row["6119"] = subscription.serverId;
    row["6509"] = availability(state);
    // A delayed feed delivers each value DELAYED_DATA_MS after it happened; _updated is when it arrived.
    row._updated =
      state.marketData === "none"
        ? request.now
        : state.marketData === "delayed"
          ? Math.min(request.now, quote.updatedAt + DELAYED_DATA_MS)
          : quote.updatedAt;
    row.conid = conid;
    row.conidEx = String(conid);
    row.server_id = subscription.serverId;
    rows.push(row);
  }
  return ok(rows);
};

const unsubscribeMarketData: Route = (request, state) => {
  const conid = (request.body as { conid?: unknown } | null)?.conid;
  if (typeof conid !== "number" || !state.epochState.subscriptions.has(conid)) return fail(500, "unknown");
  state.epochState.subscriptions.delete(conid);
  return ok({ success: true });
};

const unsubscribeAllMarketData: Route = (_request, state) => {
  state.epochState.subscriptions.clear();
  return ok({ unsubscribed: true });
};

interface Span {
  readonly count: number;
  readonly unitMs: number;
  readonly unit: string;
}

const PERIOD_UNITS: Record<string, number> = {
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  m: 30 * 86_400_000,
  y: 365 * 86_400_000,
};
const BAR_UNITS: Record<string, number> = { S: 1_000, ...PERIOD_UNITS };

function parseSpan(text: string | null, units: Record<string, number>): Span | null {
  const match = /^(\d{1,4})(S|min|h|d|w|m|y)$/.exec(text ?? "");
  if (match === null) return null;
  const unitMs = units[match[2] as string];
  const count = Number(match[1]);
  if (unitMs === undefined || count <= 0) return null;
  return { count, unitMs, unit: match[2] as string };
}

/** Bar start times in [from, to): trading-session bars for intraday sizes, trading days for daily and up. */
function barStarts(from: number, to: number, bar: Span, outsideRth: boolean): number[] {
  const size = bar.count * bar.unitMs;
  const starts: number[] = [];
  if (size >= 86_400_000) {
    const step = Math.max(1, Math.round(size / 86_400_000));
    let day = newYorkTime(from).date;
    const last = newYorkTime(to).date;
    let index = 0;
    while (day <= last) {
      if (isTradingDay(day)) {
        if (index % step === 0) {
          const open = fromNewYork(day, REGULAR_OPEN);
          if (open < to && open >= from - 86_400_000) starts.push(open);
        }
        index += 1;
      }
      day = addDays(day, 1);
    }
    return starts;
  }
  let day = newYorkTime(from).date;
  const last = newYorkTime(to).date;
  while (day <= last && starts.length < 5_000) {
    if (isTradingDay(day)) {
      const open = fromNewYork(day, outsideRth ? PRE_OPEN : REGULAR_OPEN);
      const close = fromNewYork(day, outsideRth ? POST_CLOSE : regularClose(day));
      for (let t = open; t < close; t += size) if (t >= from && t < to) starts.push(t);
    }
    day = addDays(day, 1);
  }
  return starts;
}

const getHistory: Route = (request, state) => {
  const conid = integerParam(request.query.get("conid"));
  const instrument = conid === null ? undefined : instrumentByConid(conid);
  if (conid === null || instrument === undefined) return fail(500, "Invalid conid");
  const period = parseSpan(request.query.get("period") ?? "1d", PERIOD_UNITS);
  const bar = parseSpan(request.query.get("bar") ?? "1min", BAR_UNITS);
  if (period === null) return badRequest("period is not valid");
  if (bar === null) return badRequest("bar is not valid");
  const outsideRth = request.query.get("outsideRth") === "true";
  const source = request.query.get("source") ?? "Last";
  const startText = request.query.get("startTime");
  let end = request.now;
  if (startText !== null) {
    const m = /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})$/.exec(startText);
    if (m === null) return badRequest("startTime must be yyyyMMdd-HH:mm:ss");
    end = Math.min(
      request.now,
      Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
    );
  }
  const begin = end - period.count * period.unitMs;
  const size = bar.count * bar.unitMs;
  let starts = barStarts(begin, end, bar, outsideRth);
  // The gateway caps one answer at 1,000 bars.
  if (starts.length > 1_000) starts = starts.slice(-1_000);
  if (starts.length === 0) return fail(500, "Chart data unavailable");
  const stock = stockOf(instrument);
  const data = starts.map((t) => {
    const barEnd = Math.min(
      size >= 86_400_000 ? fromNewYork(newYorkTime(t).date, regularClose(newYorkTime(t).date)) : t + size,
      end,
    );
    const samples = 12;
    let o = state.prices.price(instrument, t);
    let high = o;
    let low = o;
    for (let i = 1; i <= samples; i += 1) {
      const p = state.prices.price(instrument, t + ((barEnd - t) * i) / samples);
      high = Math.max(high, p);
      low = Math.min(low, p);
    }
    const c = state.prices.price(instrument, barEnd);
    if (source === "Bid_Ask") o = roundTick(o - 0.01);
    const share = (barEnd - t) / (6.5 * 3_600_000);
    const wobble = 0.7 + 0.6 * ((hash32(state.seed, conid, t) % 1000) / 1000);
    const volume = source === "Last" ? Math.round(stock.dailyVolume * share * wobble) / 100 : 0;
    return { o: round(o), c: round(c), h: round(high), l: round(low), v: volume, t };
  });
  const highest = data.reduce((best, d) => (d.h > best.h ? d : best), data[0] as (typeof data)[number]);
  const lowest = data.reduce((best, d) => (d.l < best.l ? d : best), data[0] as (typeof data)[number]);
  const minutesFrom = (t: number) => Math.round((t - (data[0]?.t ?? t)) / 60_000);
  return ok({
    serverId: String(4155816 + (conid % 1000)),
    symbol: stock.symbol,
    text: stock.companyName,
    priceFactor: 100,
    startTime: tradeTime(data[0]?.t ?? begin),
    high: `${Math.round(highest.h * 100)}/${highest.v}/${minutesFrom(highest.t)}`,
    low: `${Math.round(lowest.l * 100)}/${lowest.v}/${minutesFrom(lowest.t)}`,
    timePeriod: request.query.get("period") ?? "1d",
    barLength: Math.round(size / 1000),
    mdAvailability: "S",
    mktDataDelay: state.marketData === "delayed" ? 900_000 : 0,
    outsideRth,
    volumeFactor: 100,
    priceDisplayRule: 1,
    priceDisplayValue: "2",
    negativeCapable: false,
    messageVersion: 2,
    chartPanStartTime: tradeTime(begin),
    direction: -1,
    data,
    points: data.length - 1,
    travelTime: 9,
  });
};

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** USD against other currencies, with a small deterministic daily drift. */
const USD_RATES: Record<string, number> = {
  USD: 1,
  EUR: 0.8612,
  GBP: 0.7468,
  JPY: 155.21,
  CHF: 0.7985,
  CAD: 1.3834,
  AUD: 1.5123,
  HKD: 7.7812,
  SGD: 1.2951,
  CNH: 7.0833,
};

const getExchangeRate: Route = (request, state) => {
  const source = (request.query.get("source") ?? "").toUpperCase();
  const target = (request.query.get("target") ?? "").toUpperCase();
  const from = USD_RATES[source];
  const to = USD_RATES[target];
  if (from === undefined || to === undefined) return badRequest("unknown currency");
  const day = newYorkTime(request.now).date;
  const drift = (cur: string) =>
    cur === "USD" ? 1 : 1 + ((hash32(state.seed, cur, day) % 2001) - 1000) / 200_000;
  const rate = (to * drift(target)) / (from * drift(source));
  return ok({ rate: Number(rate.toPrecision(8)) });
};

export const MARKETDATA_ROUTES = {
  getMarketSnapshot,
  unsubscribeMarketData,
  unsubscribeAllMarketData,
  getHistory,
  getExchangeRate,
} satisfies Record<string, Route>;
