// Exact decimal numbers for money and quantities. Values travel as strings ("199.55"); arithmetic uses
// decimal.js so notional, collars and limits never suffer binary floating-point drift. Broker wire values
// arrive in many spellings ("1,300", "C199.5", 199.5, "5.2M") and are normalised here, in one place.
import { Decimal } from "decimal.js";

export type DecimalString = string;

const CANONICAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Canonical decimal string: no exponent, no trailing fractional zeros, no "-0". */
export function canonical(value: Decimal.Value): DecimalString {
  const d = new Decimal(value);
  if (!d.isFinite()) throw new RangeError(`not a finite decimal: ${String(value)}`);
  const text = d.toFixed();
  const trimmed = text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  return trimmed === "-0" ? "0" : trimmed;
}

export function isDecimalString(value: string): boolean {
  return CANONICAL.test(value);
}

export function decimal(value: Decimal.Value): Decimal {
  return new Decimal(value);
}

export function add(a: Decimal.Value, b: Decimal.Value): DecimalString {
  return canonical(new Decimal(a).plus(b));
}

export function subtract(a: Decimal.Value, b: Decimal.Value): DecimalString {
  return canonical(new Decimal(a).minus(b));
}

export function multiply(a: Decimal.Value, b: Decimal.Value): DecimalString {
  return canonical(new Decimal(a).times(b));
}

export function compare(a: Decimal.Value, b: Decimal.Value): -1 | 0 | 1 {
  return new Decimal(a).comparedTo(b) as -1 | 0 | 1;
}

const SUFFIX: Record<string, number> = { K: 3, M: 6, B: 9 };

/**
 * Parses a broker wire value into a canonical decimal string, or null when there is no number.
 * Handles numbers, thousands separators ("1,300"), the snapshot prefixes C (prior close) and H (halted),
 * and K/M/B suffixes ("5.2M"). Returns null for "", "N/A" and similar placeholders.
 */
export function parseWireDecimal(value: unknown): DecimalString | null {
  if (typeof value === "number") return Number.isFinite(value) ? canonical(value) : null;
  if (typeof value !== "string") return null;
  let text = value.trim().replaceAll(",", "");
  if (/^[CH]-?[0-9.]/.test(text)) text = text.slice(1);
  const suffix = text.slice(-1).toUpperCase();
  let exponent = 0;
  if (suffix in SUFFIX) {
    exponent = SUFFIX[suffix] ?? 0;
    text = text.slice(0, -1);
  }
  if (!/^-?[0-9]*\.?[0-9]+$/.test(text)) return null;
  return canonical(new Decimal(text).times(new Decimal(10).pow(exponent)));
}
