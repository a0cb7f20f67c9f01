// The order as the gateway reasons about it: legs with exact decimal strings, the words of the tool contracts
// (buy/sell, limit/stop/stop_limit/trailing_stop, day/gtc). Gates and workflows share these; the CPAPI wire
// ticket is built from them in one place (cpapi/mappers/order-ticket.ts).
import { compare, decimal, multiply } from "./decimal.ts";

export type Side = "buy" | "sell";
export type OrderType = "limit" | "stop" | "stop_limit" | "trailing_stop";
export type TimeInForce = "day" | "gtc";
export type AccountMode = "paper" | "live";
/** single: a lone order; entry, take_profit and stop_loss: the legs of a bracket. */
export type LegRole = "single" | "entry" | "take_profit" | "stop_loss";

export interface OrderLeg {
  readonly role: LegRole;
  readonly side: Side;
  readonly quantity: string;
  readonly orderType: OrderType;
  readonly limitPrice?: string;
  readonly stopPrice?: string;
  readonly trailingAmount?: string;
  readonly trailingPercent?: string;
  readonly timeInForce: TimeInForce;
}

export interface Money {
  readonly amount: string;
  readonly currency: string;
}

/** The price that values a leg: its limit, else its stop, else (trailing stops) the market reference. */
export function valuationPrice(leg: OrderLeg, reference: string | undefined): string | undefined {
  return leg.limitPrice ?? leg.stopPrice ?? reference;
}

/** Quantity times price times the contract multiplier, or undefined when no price is known. */
export function legNotional(
  leg: OrderLeg,
  reference: string | undefined,
  multiplier = "1",
): string | undefined {
  const price = valuationPrice(leg, reference);
  return price === undefined ? undefined : multiply(multiply(leg.quantity, price), multiplier);
}

/** The leg that carries a position's exposure: the single order, or a bracket's entry. */
export function primaryLeg(legs: readonly OrderLeg[]): OrderLeg {
  const leg = legs.find((l) => l.role === "single" || l.role === "entry") ?? legs[0];
  if (leg === undefined) throw new RangeError("an order has at least one leg");
  return leg;
}

export function isWholeNumber(value: string): boolean {
  return decimal(value).isInteger();
}

export function isPositive(value: string): boolean {
  return compare(value, "0") > 0;
}

/** The leg as the tool contracts spell it (snake_case, only the fields it has). */
export function legView(leg: OrderLeg): Record<string, string> {
  const view: Record<string, string> = {
    side: leg.side,
    quantity: leg.quantity,
    order_type: leg.orderType,
  };
  if (leg.limitPrice !== undefined) view.limit_price = leg.limitPrice;
  if (leg.stopPrice !== undefined) view.stop_price = leg.stopPrice;
  if (leg.trailingAmount !== undefined) view.trailing_amount = leg.trailingAmount;
  if (leg.trailingPercent !== undefined) view.trailing_percent = leg.trailingPercent;
  view.time_in_force = leg.timeInForce;
  return view;
}

/** A leg back from its contract spelling (a stored preview). */
export function legFromView(role: LegRole, view: Record<string, unknown>): OrderLeg {
  const text = (key: string) => (typeof view[key] === "string" ? (view[key] as string) : undefined);
  return {
    role,
    side: view.side as Side,
    quantity: String(view.quantity),
    orderType: view.order_type as OrderType,
    ...(text("limit_price") !== undefined ? { limitPrice: text("limit_price") } : {}),
    ...(text("stop_price") !== undefined ? { stopPrice: text("stop_price") } : {}),
    ...(text("trailing_amount") !== undefined ? { trailingAmount: text("trailing_amount") } : {}),
    ...(text("trailing_percent") !== undefined ? { trailingPercent: text("trailing_percent") } : {}),
    timeInForce: (view.time_in_force as TimeInForce) ?? "day",
  };
}
