// Quotes, greeks, bars and FX. Snapshot rows are keyed by field id with string values ("1,300", "C199.5",
// "+1.82", "24.6%"); field 6509 says whether the data is live, delayed or frozen and `_updated` (epoch ms)
// how old it is. Every quote carries that provenance so delayed or stale data is never mistaken for live.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { canonical, decimal, multiply, subtract } from "../../core/decimal.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import {
  compact,
  contractId,
  currency,
  invalid,
  isRecord,
  type NotReady,
  notReady,
  positiveDecimal,
  requireArray,
  requireRecord,
  symbol,
  text,
  type WireRecord,
  wireDecimal,
} from "./common.ts";

export type MarketSnapshotResult = Omit<ToolOutput<"ibkr_market_snapshot">, "source">;
export type OptionGreeksResult = Omit<ToolOutput<"ibkr_option_greeks">, "source">;
export type HistoricalBarsResult = Omit<ToolOutput<"ibkr_historical_bars">, "source">;
export type CurrencyRateResult = Omit<ToolOutput<"ibkr_currency_rate">, "source">;
export type DataProvenance = MarketSnapshotResult["provenance"];
export type ProvenanceStatus = DataProvenance["status"];
export type PreviewQuote = ToolOutput<"ibkr_order_preview">["quote"];

/** Snapshot field ids to request (comma-joined) so rows carry what the quote and greeks mappers read. */
export const QUOTE_FIELD_IDS: readonly string[] = [
  "31",
  "55",
  "70",
  "71",
  "82",
  "83",
  "84",
  "85",
  "86",
  "87",
  "88",
  "6070",
  "6509",
  "7059",
  "7295",
  "7741",
  "7762",
];

export const GREEKS_FIELD_IDS: readonly string[] = [
  "31",
  "84",
  "86",
  "6070",
  "6457",
  "6509",
  "7308",
  "7309",
  "7310",
  "7311",
  "7633",
  "7635",
];

/** Keys of a snapshot row that are bookkeeping, not market data. */
const META_FIELDS = new Set(["6119", "6508", "6509"]);

export interface SnapshotContext {
  readonly contractId: string;
  /** Now, in epoch ms (from the gateway's clock). */
  readonly nowMs: number;
  /** Configured maximum quote age; older live or delayed values are marked stale. */
  readonly maxSnapshotAgeSeconds: number;
  /** Contract currency, when the workflow knows it (the snapshot carries none). */
  readonly currency?: string;
  /**
   * True when the contract is a US-listed stock or ETF: IBKR then reports bid/ask sizes (85, 88) in round
   * lots of 100 shares and the mapper multiplies them by 100. false leaves them as sent. When undefined the
   * sizes are left as sent and a provenance warning says they may be in lots of 100.
   */
  readonly usStock?: boolean;
}

/** The row of a /iserver/marketdata/snapshot array that belongs to the contract (conid is int or string). */
export function snapshotRow(body: unknown, conid: string): WireRecord {
  const rows = requireArray(body, "getMarketSnapshot");
  for (const row of rows) {
    if (isRecord(row) && contractId(row.conid ?? row.conidEx) === conid) return row;
  }
  throw invalid("getMarketSnapshot", "conid", "row_missing");
}

/**
 * What the broker says a snapshot row's data is (6509), before the age rule turns old values stale: the
 * market-data policy refuses delayed data by this, even when it is also old.
 */
export function snapshotAvailability(body: unknown, conid: string): ProvenanceStatus {
  return provenanceOf({ availability: snapshotRow(body, conid)["6509"], nowMs: 0 }).status;
}

/** True when the row is the pre-flight answer: only conid/conidEx, no data and no availability yet. */
export function isSnapshotPreflight(row: WireRecord): boolean {
  if (row["6509"] !== undefined) return false;
  return !Object.keys(row).some((key) => /^[0-9]+$/.test(key) && !META_FIELDS.has(key));
}

const AVAILABILITY: Readonly<Record<string, { status: ProvenanceStatus; warning?: string }>> = {
  R: { status: "live" },
  S: { status: "live" },
  D: { status: "delayed", warning: "Delayed market data (typically 15-20 minutes behind)." },
  Z: { status: "frozen", warning: "Frozen market data: the last values recorded at the close." },
  Y: {
    status: "frozen",
    warning: "Frozen delayed market data: the last delayed values recorded at the close.",
  },
  N: {
    status: "unavailable",
    warning: "No market data for this contract (no market-data subscription for its exchange).",
  },
};

export interface ProvenanceInput {
  /** 6509 (snapshot) or mdAvailability (history): R/S live, D delayed, Z frozen, Y frozen-delayed, N none. */
  readonly availability: unknown;
  /** Epoch ms of the broker's last update, when known. */
  readonly updatedMs?: number;
  readonly nowMs: number;
  /** When set, live or delayed values older than this become stale. */
  readonly maxAgeSeconds?: number;
}

/**
 * DataProvenance from the availability code and the update time. An unknown or missing code is reported as
 * delayed with a warning, never as live: a policy that refuses delayed data then refuses it too.
 */
export function provenanceOf(input: ProvenanceInput): DataProvenance {
  const code = text(input.availability)?.charAt(0);
  const known = code === undefined ? undefined : AVAILABILITY[code];
  const warnings: string[] = [];
  let status: ProvenanceStatus;
  if (known === undefined) {
    status = "delayed";
    warnings.push("The broker did not say whether this data is live; it is treated as delayed.");
  } else {
    status = known.status;
    if (known.warning !== undefined) warnings.push(known.warning);
  }
  let ageSeconds: number | undefined;
  let asOf: string | undefined;
  if (input.updatedMs !== undefined && Number.isFinite(input.updatedMs) && input.updatedMs > 0) {
    ageSeconds = Math.max(0, Math.floor((input.nowMs - input.updatedMs) / 1000));
    asOf = toRfc3339(input.updatedMs);
    const max = input.maxAgeSeconds;
    if (max !== undefined && ageSeconds > max && (status === "live" || status === "delayed")) {
      warnings.push(
        `Last updated ${ageSeconds} seconds ago, more than the allowed ${max} seconds (was ${status}).`,
      );
      status = "stale";
    }
  }
  return compact({ status, age_seconds: ageSeconds, as_of: asOf, warnings });
}

function updatedMsOf(row: WireRecord): number | undefined {
  const v = row._updated;
  const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

function rowProvenance(row: WireRecord, ctx: SnapshotContext): DataProvenance {
  return provenanceOf({
    availability: row["6509"],
    updatedMs: updatedMsOf(row),
    nowMs: ctx.nowMs,
    maxAgeSeconds: ctx.maxSnapshotAgeSeconds,
  });
}

/** Last price 31 with its prefix: C = prior close (no trade today), H = halted. */
function lastOf(row: WireRecord): { last?: string; priorClose: boolean; halted: boolean } {
  const raw = text(row["31"]);
  if (raw === undefined) return { priorClose: false, halted: false };
  const prefix = raw.charAt(0).toUpperCase();
  return { last: wireDecimal(raw), priorClose: prefix === "C", halted: prefix === "H" };
}

function sizeOf(value: unknown, usStock: boolean | undefined): string | undefined {
  const size = wireDecimal(value);
  if (size === undefined) return undefined;
  return usStock === true ? multiply(size, 100) : size;
}

/**
 * ibkr_market_snapshot from getMarketSnapshot. Returns NotReady "snapshot_preflight" for the pre-flight row
 * (only conid/conidEx): the workflow asks again, then answers MARKET_DATA_INCOMPLETE. Availability N gives a
 * result with provenance unavailable (the workflow answers MARKET_DATA_UNAVAILABLE).
 * prior_close is 7741, else last minus change (82 is defined against the prior close), else the last price
 * when it carries the C prefix. Volume prefers 7762 (full precision) over 87 ("38.4M").
 */
export function mapMarketSnapshot(body: unknown, ctx: SnapshotContext): MarketSnapshotResult | NotReady {
  const row = snapshotRow(body, ctx.contractId);
  if (isSnapshotPreflight(row)) return notReady("snapshot_preflight");
  const provenance = rowProvenance(row, ctx);
  const { last, priorClose, halted } = lastOf(row);
  if (priorClose) provenance.warnings.push("No trade today: last is the prior close.");
  if (halted) provenance.warnings.push("The broker marks this contract as halted.");
  const sizesPresent = row["85"] !== undefined || row["88"] !== undefined;
  if (sizesPresent && ctx.usStock === undefined) {
    provenance.warnings.push(
      "Bid and ask sizes are as the broker sends them; for US stocks that is lots of 100.",
    );
  }
  const change = wireDecimal(row["82"]);
  let prior = wireDecimal(row["7741"]);
  if (prior === undefined && last !== undefined) {
    if (priorClose) prior = last;
    else if (change !== undefined) prior = subtract(last, change);
  }
  return compact({
    contract_id: ctx.contractId,
    symbol: symbol(row["55"]),
    currency: currency(ctx.currency),
    last,
    last_is_prior_close: last === undefined ? undefined : priorClose,
    halted: last === undefined ? undefined : halted,
    bid: wireDecimal(row["84"]),
    ask: wireDecimal(row["86"]),
    bid_size: sizeOf(row["88"], ctx.usStock),
    ask_size: sizeOf(row["85"], ctx.usStock),
    last_size: wireDecimal(row["7059"]),
    open: wireDecimal(row["7295"]),
    high: wireDecimal(row["70"]),
    low: wireDecimal(row["71"]),
    prior_close: prior,
    change,
    change_percent: wireDecimal(row["83"]),
    volume: wireDecimal(row["7762"]) ?? wireDecimal(row["87"]),
    provenance,
  });
}

export interface QuoteContext extends SnapshotContext {
  readonly currency: string;
}

/**
 * The `quote` part of ibkr_order_preview / ibkr_bracket_order_preview from getMarketSnapshot: bid, ask, last,
 * currency and provenance. NotReady for the pre-flight row.
 */
export function mapPreviewQuote(body: unknown, ctx: QuoteContext): PreviewQuote | NotReady {
  const snapshot = mapMarketSnapshot(body, ctx);
  if ("kind" in snapshot) return snapshot;
  const ccy = currency(ctx.currency);
  if (ccy === undefined) throw invalid("getMarketSnapshot", "currency");
  return compact({
    bid: snapshot.bid,
    ask: snapshot.ask,
    last: snapshot.last,
    currency: ccy,
    provenance: snapshot.provenance,
  });
}

const OPTION_SEC_TYPES = new Set(["OPT", "FOP"]);

/**
 * ibkr_option_greeks from getMarketSnapshot (fields 7308 delta, 7309 gamma, 7310 theta, 7311 vega, 7633 implied
 * volatility of this option in percent, 7635 mark, 6457 underlying). NotReady: "snapshot_preflight" for the
 * pre-flight row, "data_unavailable" when availability is N, "fields_missing" (with the ids) while the broker
 * has not computed the greeks yet. A row whose secType (6070) is not an option throws
 * INPUT_UNSUPPORTED_ASSET_CLASS. 7283 (the underlying's 30-day implied volatility) is not this option's and is
 * not used.
 */
export function mapOptionGreeks(body: unknown, ctx: SnapshotContext): OptionGreeksResult | NotReady {
  const row = snapshotRow(body, ctx.contractId);
  if (isSnapshotPreflight(row)) return notReady("snapshot_preflight");
  const secType = text(row["6070"])?.toUpperCase();
  if (secType !== undefined && !OPTION_SEC_TYPES.has(secType)) {
    throw new GatewayError("INPUT_UNSUPPORTED_ASSET_CLASS", {
      details: { operation_id: "getMarketSnapshot", field: "6070", sec_type: secType },
    });
  }
  const provenance = rowProvenance(row, ctx);
  if (provenance.status === "unavailable") return notReady("data_unavailable");
  const delta = wireDecimal(row["7308"]);
  const gamma = wireDecimal(row["7309"]);
  const theta = wireDecimal(row["7310"]);
  const vega = wireDecimal(row["7311"]);
  if (delta === undefined || gamma === undefined || theta === undefined || vega === undefined) {
    const missing = ["7308", "7309", "7310", "7311"].filter((id) => wireDecimal(row[id]) === undefined);
    return notReady("fields_missing", missing);
  }
  const { last, priorClose, halted } = lastOf(row);
  if (priorClose) provenance.warnings.push("No trade today: last is the prior close.");
  if (halted) provenance.warnings.push("The broker marks this contract as halted.");
  return compact({
    contract_id: ctx.contractId,
    underlying_contract_id: contractId(row["6457"]),
    delta,
    gamma,
    theta,
    vega,
    implied_volatility_percent: wireDecimal(row["7633"]),
    bid: wireDecimal(row["84"]),
    ask: wireDecimal(row["86"]),
    last,
    mark: wireDecimal(row["7635"]),
    provenance,
  });
}

// ---------------------------------------------------------------------------------------------- history

export interface HistoryContext {
  readonly contractId: string;
  readonly duration: string;
  readonly barSize: string;
  readonly outsideRth: boolean;
  readonly dataType: "trades" | "midpoint" | "bid_ask";
}

export const MAX_BARS = 1000;

function scaleFactor(value: unknown): string | undefined {
  const f = positiveDecimal(value);
  return f === undefined || f === "1" ? undefined : f;
}

/**
 * Whether bar prices arrive multiplied by priceFactor. Documented bars are plain prices and the top-level
 * `high` string is "highestPrice*priceFactor/volume/minutes"; if the highest bar equals that scaled value
 * instead of the plain one, this build scales the bars too.
 */
function barsAreScaled(
  body: WireRecord,
  bars: readonly WireRecord[],
  priceFactor: string | undefined,
): boolean {
  if (priceFactor === undefined) return false;
  const scaledHigh = wireDecimal(text(body.high)?.split("/")[0]);
  if (scaledHigh === undefined) return false;
  let maxHigh: string | undefined;
  for (const bar of bars) {
    const h = wireDecimal(bar.h);
    if (h !== undefined && (maxHigh === undefined || decimal(h).greaterThan(maxHigh))) maxHigh = h;
  }
  return maxHigh !== undefined && decimal(maxHigh).equals(scaledHigh) && !decimal(scaledHigh).isZero();
}

/**
 * History's availability code, made delayed when mktDataDelay (ms) says the bars lag the market: without a
 * real-time subscription mdAvailability can still read S (streaming) while the newest bars are delayed.
 */
function historyAvailability(body: WireRecord): unknown {
  const delay = wireDecimal(body.mktDataDelay);
  const delayed = delay !== undefined && decimal(delay).greaterThan(0);
  const status = provenanceOf({ availability: body.mdAvailability, nowMs: 0 }).status;
  return delayed && status === "live" ? "D" : body.mdAvailability;
}

/**
 * ibkr_historical_bars from getHistory. Bars are sorted oldest first and the newest MAX_BARS kept; `t` (epoch
 * ms) becomes the bar time; volume is `v` times volumeFactor (IBKR sends US-stock volume in lots) and is left
 * out for midpoint and bid/ask bars, whose `v` is always 0. Provenance comes from mdAvailability and
 * mktDataDelay.
 */
export function mapHistoricalBars(
  history: unknown,
  ctx: HistoryContext & { nowMs: number },
): HistoricalBarsResult {
  const op = "getHistory";
  const body = requireRecord(history, op);
  const data = requireArray(body.data ?? [], op, "data");
  const rows = data.map((bar) => requireRecord(bar, op, "data[]"));
  const priceFactor = scaleFactor(body.priceFactor);
  const volumeFactor = scaleFactor(body.volumeFactor);
  const scaled = barsAreScaled(body, rows, priceFactor);
  const price = (value: unknown, field: string): string => {
    const d = wireDecimal(value);
    if (d === undefined) throw invalid(op, `data[].${field}`);
    return scaled && priceFactor !== undefined ? canonical(decimal(d).dividedBy(priceFactor)) : d;
  };
  const withVolume = ctx.dataType === "trades";
  const bars = rows
    .map((bar) => {
      const t = typeof bar.t === "string" && /^[0-9]+$/.test(bar.t) ? Number(bar.t) : bar.t;
      if (typeof t !== "number" || !Number.isFinite(t) || t <= 0) throw invalid(op, "data[].t");
      const v = withVolume ? wireDecimal(bar.v) : undefined;
      return {
        t,
        bar: compact({
          time: toRfc3339(t),
          open: price(bar.o, "o"),
          high: price(bar.h, "h"),
          low: price(bar.l, "l"),
          close: price(bar.c, "c"),
          volume: v === undefined ? undefined : volumeFactor === undefined ? v : multiply(v, volumeFactor),
        }),
      };
    })
    .sort((a, b) => a.t - b.t);
  const provenance = provenanceOf({ availability: historyAvailability(body), nowMs: ctx.nowMs });
  if (bars.length > MAX_BARS) {
    provenance.warnings.push(
      `The broker returned ${bars.length} bars; only the newest ${MAX_BARS} are shown.`,
    );
  }
  return compact({
    contract_id: ctx.contractId,
    symbol: symbol(body.symbol),
    duration: ctx.duration,
    bar_size: ctx.barSize,
    outside_rth: typeof body.outsideRth === "boolean" ? body.outsideRth : ctx.outsideRth,
    data_type: ctx.dataType,
    bars: bars.slice(-MAX_BARS).map((b) => b.bar),
    provenance,
  });
}

// ------------------------------------------------------------------------------------------------- FX

export interface CurrencyRateContext {
  readonly base: string;
  readonly quote: string;
  readonly nowMs: number;
}

/**
 * ibkr_currency_rate from getExchangeRate ({"rate": 0.85144}). Equal currencies give 1 without a body; a
 * missing, zero or negative rate (the broker's answer for an unknown pair) is BROKER_RESPONSE_INVALID.
 * as_of is the read time: the broker sends none.
 */
export function mapCurrencyRate(body: unknown, ctx: CurrencyRateContext): CurrencyRateResult {
  const base = ctx.base.toUpperCase();
  const quote = ctx.quote.toUpperCase();
  let rate: string | undefined;
  if (base === quote) rate = "1";
  else rate = positiveDecimal(requireRecord(body, "getExchangeRate").rate);
  if (rate === undefined) throw invalid("getExchangeRate", "rate");
  return { base, quote, rate, as_of: toRfc3339(ctx.nowMs) };
}
