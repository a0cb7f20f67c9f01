// Shared helpers of the wire -> domain mappers. The broker's JSON drifts (ids as string or number, camelCase
// next to snake_case, numbers as formatted strings), so every read of a wire field goes through one of these
// tolerant readers, and every field a tool output requires but the wire lacks fails the same way: with
// BROKER_RESPONSE_INVALID naming the operation and the field, never the value (it may be an account id).
import { toRfc3339 } from "../../core/clock.ts";
import { canonical, decimal, parseWireDecimal } from "../../core/decimal.ts";
import { GatewayError } from "../../core/gateway-error.ts";

export type WireRecord = Readonly<Record<string, unknown>>;

/** Why a mapper could not produce a tool output yet (the broker is still warming up), as a typed marker. */
export type NotReadyReason =
  /** First snapshot request for a conid: the row carries only conid/conidEx and the stream is starting. */
  | "snapshot_preflight"
  /** The row has data, but fields the tool requires (for example greeks) are not computed yet. */
  | "fields_missing"
  /** The broker has no market data for the contract (availability N: no subscription). */
  | "data_unavailable"
  /** First /iserver/account/pnl/partitioned request: {"upnl":{}} while the computation starts. */
  | "pnl_cold";

export interface NotReady {
  readonly kind: "not_ready";
  readonly reason: NotReadyReason;
  /** Wire field ids or names that were missing, when reason is fields_missing. */
  readonly missing?: readonly string[];
}

export function notReady(reason: NotReadyReason, missing?: readonly string[]): NotReady {
  return missing === undefined ? { kind: "not_ready", reason } : { kind: "not_ready", reason, missing };
}

/** True for the marker a mapper returns instead of a tool output while the broker is not ready. */
export function isNotReady(value: unknown): value is NotReady {
  return (
    value !== null &&
    typeof value === "object" &&
    (value as { kind?: unknown }).kind === "not_ready" &&
    typeof (value as { reason?: unknown }).reason === "string"
  );
}

/** The one failure of a mapper: a field the output needs is missing or unusable. */
export function invalid(operation: string, field: string, reason = "missing_or_invalid"): GatewayError {
  return new GatewayError("BROKER_RESPONSE_INVALID", {
    details: { operation_id: operation, field, reason },
  });
}

export function isRecord(value: unknown): value is WireRecord {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function requireRecord(value: unknown, operation: string, field = "body"): WireRecord {
  if (!isRecord(value)) throw invalid(operation, field, "not_an_object");
  return value;
}

export function requireArray(value: unknown, operation: string, field = "body"): readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(operation, field, "not_an_array");
  return value;
}

/** The first of several spellings of a field that is present and not null (casing drift). */
export function pick(record: WireRecord, ...keys: readonly string[]): unknown {
  for (const key of keys) {
    const value = record[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

/** Case-insensitive field lookup for undocumented shapes whose spelling is not known in advance. */
export function pickLoose(record: WireRecord, ...keys: readonly string[]): unknown {
  const wanted = new Set(keys.map((k) => k.toLowerCase().replaceAll("_", "")));
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined || value === null) continue;
    if (wanted.has(key.toLowerCase().replaceAll("_", ""))) return value;
  }
  return undefined;
}

/** A trimmed non-empty string, or undefined. Numbers are accepted because the wire flips types. */
export function text(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** Trims and cuts a string to the schema's maxLength (by code points, so no half surrogate pair remains). */
export function cap(value: string, maxLength: number): string {
  const trimmed = value.trim();
  const chars = Array.from(trimmed);
  return chars.length <= maxLength ? trimmed : chars.slice(0, maxLength).join("").trimEnd();
}

export function cappedText(value: unknown, maxLength: number): string | undefined {
  const t = text(value);
  return t === undefined ? undefined : cap(t, maxLength);
}

/**
 * Cap for untrusted free text whose schema sets no maxLength: it passes through unchanged (trimmed) unless it
 * is absurdly long, so one broker string cannot bloat a tool result.
 */
export const UNTRUSTED_TEXT_CAP = 4_000;

/** Ids drift between string and number on the wire; the domain uses digit strings. */
export function idString(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (/^[0-9]{1,20}$/.test(trimmed)) return trimmed.replace(/^0+(?=[0-9])/, "");
  }
  return undefined;
}

const CONTRACT_ID = /^[0-9]{1,12}$/;

/** A conid as the ContractId pattern wants it; "265598@SMART" (conidex) gives "265598". */
export function contractId(value: unknown): string | undefined {
  const raw = typeof value === "string" ? value.split("@")[0] : value;
  const id = idString(raw);
  return id !== undefined && CONTRACT_ID.test(id) && id !== "0" ? id : undefined;
}

export function requireContractId(value: unknown, operation: string, field: string): string {
  const id = contractId(value);
  if (id === undefined) throw invalid(operation, field);
  return id;
}

const BROKER_ORDER_ID = /^[0-9]{1,20}$/;

export function brokerOrderId(value: unknown): string | undefined {
  const id = idString(value);
  return id !== undefined && BROKER_ORDER_ID.test(id) ? id : undefined;
}

const ACCOUNT_ID = /^[A-Za-z0-9]{1,32}$/;

export function accountId(value: unknown): string | undefined {
  const t = text(value);
  return t !== undefined && ACCOUNT_ID.test(t) ? t : undefined;
}

/** Same account, ignoring case (the broker always upper-cases ids; callers may not). */
export function sameAccount(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toUpperCase() === b.toUpperCase();
}

const SYMBOL = /^[A-Za-z0-9 .\-/]+$/;

export function symbol(value: unknown): string | undefined {
  const t = text(value);
  return t !== undefined && t.length <= 32 && SYMBOL.test(t) ? t : undefined;
}

const CURRENCY = /^[A-Z]{3}$/;

export function currency(value: unknown): string | undefined {
  const t = text(value)?.toUpperCase();
  return t !== undefined && CURRENCY.test(t) ? t : undefined;
}

const EXCHANGE = /^[A-Z0-9._-]{1,16}$/;

export function exchange(value: unknown): string | undefined {
  const t = text(value)?.toUpperCase();
  return t !== undefined && EXCHANGE.test(t) ? t : undefined;
}

const CLIENT_ORDER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function clientOrderId(value: unknown): string | undefined {
  const t = text(value);
  return t !== undefined && CLIENT_ORDER_ID.test(t) ? t : undefined;
}

const CANONICAL_WIRE = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$/;

/**
 * A wire number in any spelling the broker uses ("1,300", "C199.5", "5.2M", "+1.82", "24.6%", 199.5) as a
 * canonical decimal string, or undefined when there is no number.
 */
export function wireDecimal(value: unknown): string | undefined {
  if (typeof value === "string") {
    let t = value.trim();
    if (t.endsWith("%")) t = t.slice(0, -1).trim();
    if (t.startsWith("+")) t = t.slice(1);
    // Most wire numbers are already canonical ("250.01", "-1"): the same string the decimal parse would give
    // (at most 15 digits, so no rounding is involved), without building decimals for it.
    if (t.length <= 16 && t !== "-0" && CANONICAL_WIRE.test(t)) return t;
    // Trillions appear in fundamentals (market caps); the core parser stops at B.
    if (/^[0-9.,]+T$/i.test(t)) {
      const base = parseWireDecimal(t.slice(0, -1));
      return base === null ? undefined : canonical(decimal(base).times("1e12"));
    }
    return parseWireDecimal(t) ?? undefined;
  }
  return parseWireDecimal(value) ?? undefined;
}

export function requireDecimal(value: unknown, operation: string, field: string): string {
  const d = wireDecimal(value);
  if (d === undefined) throw invalid(operation, field);
  return d;
}

export function positiveDecimal(value: unknown): string | undefined {
  const d = wireDecimal(value);
  return d !== undefined && !d.startsWith("-") && d !== "0" ? d : undefined;
}

/** Epoch milliseconds (number or digit string) as an RFC 3339 timestamp. */
export function timestampFromMs(value: unknown): string | undefined {
  const ms = typeof value === "string" && /^[0-9]{10,14}$/.test(value.trim()) ? Number(value) : value;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) return undefined;
  // Seconds slip in where milliseconds are documented (the ledger uses seconds); 1e11 ms is 1973.
  return toRfc3339(ms < 1e11 ? ms * 1000 : ms);
}

/** The six numeric capture groups of a date regex (every group is digits); missing ones are 0. */
function groups(match: RegExpExecArray): [number, number, number, number, number, number] {
  const n = (i: number) => Number(match[i] ?? 0);
  return [n(1), n(2), n(3), n(4), n(5), n(6)];
}

/** "20251216-19:33:40" (UTC, trades) as RFC 3339. */
export function timestampFromDashed(value: unknown): string | undefined {
  const m =
    typeof value === "string" ? /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})$/.exec(value.trim()) : null;
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = groups(m);
  return toRfc3339(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** "251216193102" (YYMMDDhhmmss, UTC; live orders and order status) as RFC 3339. */
export function timestampFromCompact(value: unknown): string | undefined {
  const m =
    typeof value === "string" ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value.trim()) : null;
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = groups(m);
  return toRfc3339(Date.UTC(2000 + y, mo - 1, d, h, mi, s));
}

/** "20260116" as "2026-01-16", or undefined when it is not a real calendar date. */
export function dateFromCompact(value: unknown): string | undefined {
  const t = typeof value === "number" ? String(value) : text(value);
  const m = t === undefined ? null : /^(\d{4})(\d{2})(\d{2})$/.exec(t);
  if (m === null) return undefined;
  const [y, mo, d] = groups(m);
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d)
    return undefined;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

export type AssetClass =
  | "stock"
  | "etf"
  | "option"
  | "future"
  | "forex"
  | "index"
  | "bond"
  | "fund"
  | "crypto"
  | "other";

const SEC_TYPES: Readonly<Record<string, AssetClass>> = {
  STK: "stock",
  ETF: "etf",
  OPT: "option",
  FOP: "option",
  FUT: "future",
  CONTFUT: "future",
  CASH: "forex",
  IND: "index",
  BOND: "bond",
  BILL: "bond",
  FUND: "fund",
  MF: "fund",
  CRYPTO: "crypto",
};

/** IBKR secType / assetClass / instrument_type as the AssetClass enum; unknown types are "other". */
export function assetClassOf(secType: unknown, detailType?: unknown): AssetClass {
  const key = text(secType)?.toUpperCase();
  const mapped = key === undefined ? undefined : SEC_TYPES[key];
  if (mapped === undefined) return "other";
  // Stocks and ETFs share secType STK; the richer position rows say which one in `type`.
  if (mapped === "stock" && text(detailType)?.toUpperCase() === "ETF") return "etf";
  return mapped;
}

/** Side from BUY/SELL, B/S, Buy/Sell, Bot/Sld. */
export function sideOf(value: unknown): "buy" | "sell" | undefined {
  const t = text(value)?.toUpperCase();
  if (t === "BUY" || t === "B" || t === "BOT" || t === "BOUGHT") return "buy";
  if (t === "SELL" || t === "S" || t === "SLD" || t === "SOLD" || t === "SSHORT") return "sell";
  return undefined;
}

/** Drops undefined properties, so optional output fields are absent rather than present-and-undefined. */
export function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

/** Largest of several epoch-ms values (the newest broker timestamp), or undefined when none is usable. */
export function newestMs(values: readonly unknown[]): number | undefined {
  let best: number | undefined;
  for (const v of values) {
    const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) continue;
    const ms = n < 1e11 ? n * 1000 : n;
    if (best === undefined || ms > best) best = ms;
  }
  return best;
}
