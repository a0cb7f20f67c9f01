// Small text pieces the order and operator renderers share: aligned facts, money, an order in words, titled
// blocks, the marking of outside text (untrusted.ts) and the simulated-data banner.
import { formatValue } from "./result.ts";

export { brokerText, recordedText } from "./untrusted.ts";

export const SIMULATED_BANNER = "SIMULATED DATA from the built-in simulator - not a real IBKR account.";

export interface Money {
  readonly amount: string;
  readonly currency: string;
}

/** `label: value` lines with the values aligned; rows whose value is undefined are left out. */
export function facts(rows: readonly (readonly [string, unknown])[]): string {
  const shown = rows.filter(([, value]) => value !== undefined);
  if (shown.length === 0) return "";
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${formatValue(value)}`).join("\n");
}

/** "1,234.50 USD", or "-" when the broker gave no figure. */
export function money(value: Money | undefined): string {
  return value === undefined ? "-" : formatValue(value);
}

export interface OrderFields {
  readonly side: string;
  readonly quantity: string;
  readonly order_type: string;
  readonly limit_price?: string;
  readonly stop_price?: string;
  readonly trailing_amount?: string;
  readonly trailing_percent?: string;
  readonly time_in_force: string;
}

/** The price part of an order: "limit 190.50", "stop 180 limit 179.50", "trailing stop 1.5%". */
export function priceWords(order: Omit<OrderFields, "side" | "quantity" | "time_in_force">): string {
  switch (order.order_type) {
    case "limit":
      return `limit ${order.limit_price ?? "?"}`;
    case "stop":
      return `stop ${order.stop_price ?? "?"}`;
    case "stop_limit":
      return `stop ${order.stop_price ?? "?"} limit ${order.limit_price ?? "?"}`;
    case "trailing_stop":
      return order.trailing_percent !== undefined
        ? `trailing stop ${order.trailing_percent}%`
        : `trailing stop ${order.trailing_amount ?? "?"}`;
    default:
      return order.order_type.replaceAll("_", " ");
  }
}

/** "BUY 10 AAPL limit 190.50, DAY". */
export function orderWords(order: OrderFields, symbol: string): string {
  return `${order.side.toUpperCase()} ${order.quantity} ${symbol} ${priceWords(order)}, ${order.time_in_force.toUpperCase()}`;
}

/** A titled block: "Title:" followed by its body, or nothing when the body is empty. */
export function section(title: string, body: string): string {
  return body === "" ? "" : `${title}\n${body}`;
}

/** Joins blocks with one blank line, skipping empty ones. */
export function blocks(...parts: readonly (string | undefined)[]): string {
  return parts.filter((part): part is string => part !== undefined && part !== "").join("\n\n");
}

/** Indents every line of a block. */
export function indent(text: string, by = "  "): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? line : `${by}${line}`))
    .join("\n");
}

export function isSimulated(result: { source?: { simulated?: boolean } }): boolean {
  return result.source?.simulated === true;
}
