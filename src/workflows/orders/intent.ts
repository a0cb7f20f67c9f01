// From tool arguments to order legs: which price fields each order type needs and allows, the price order
// of a bracket, and the changes a modify may make. A field the type does not allow, or two that exclude each
// other, is ORDER_VALIDATION_FAILED naming the field; a missing price field is a preview-policy refusal
// (ORDER_LIMIT_PRICE_REQUIRED), as the catalogue has it. The schema has already checked types and patterns.

import { compare } from "../../core/decimal.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import type { OrderLeg, OrderType, Side, TimeInForce } from "../../core/orders.ts";

export interface PriceFields {
  readonly limit_price?: string;
  readonly stop_price?: string;
  readonly trailing_amount?: string;
  readonly trailing_percent?: string;
}

const PRICE_FIELDS = ["limit_price", "stop_price", "trailing_amount", "trailing_percent"] as const;
type PriceField = (typeof PRICE_FIELDS)[number];

/** Fields each order type needs ("trailing" = exactly one of the two trailing fields). */
const NEEDS: Record<OrderType, readonly (PriceField | "trailing")[]> = {
  limit: ["limit_price"],
  stop: ["stop_price"],
  stop_limit: ["limit_price", "stop_price"],
  trailing_stop: ["trailing"],
};

function allowed(type: OrderType): ReadonlySet<PriceField> {
  return new Set(
    NEEDS[type].flatMap((need) => (need === "trailing" ? ["trailing_amount", "trailing_percent"] : [need])),
  ) as ReadonlySet<PriceField>;
}

export function invalidOrder(field: string, message: string, userAction?: string): GatewayError {
  return new GatewayError("ORDER_VALIDATION_FAILED", {
    message,
    ...(userAction !== undefined ? { userAction } : {}),
    details: { field },
  });
}

function missingPrice(field: string, type: OrderType): GatewayError {
  return new GatewayError("ORDER_POLICY_REFUSED", {
    message: `A ${type.replace("_", " ")} order needs ${field}.`,
    userAction: `Add ${field} and preview again.`,
    details: { field, refusal_reasons: ["ORDER_LIMIT_PRICE_REQUIRED"] },
  });
}

/** Checks the price fields against the order type and returns them as leg fields. */
function priceFields(type: OrderType, fields: PriceFields): Partial<OrderLeg> {
  const ok = allowed(type);
  for (const field of PRICE_FIELDS) {
    if (fields[field] !== undefined && !ok.has(field)) {
      throw invalidOrder(field, `${field} is not allowed for a ${type.replace("_", " ")} order.`);
    }
  }
  for (const need of NEEDS[type]) {
    if (need === "trailing") {
      const given = [fields.trailing_amount, fields.trailing_percent].filter((v) => v !== undefined);
      if (given.length === 0) throw missingPrice("trailing_amount or trailing_percent", type);
      if (given.length > 1) {
        throw invalidOrder("trailing_percent", "Give trailing_amount or trailing_percent, not both.");
      }
    } else if (fields[need] === undefined) {
      throw missingPrice(need, type);
    }
  }
  for (const field of PRICE_FIELDS) {
    const value = fields[field];
    if (value !== undefined && compare(value, "0") <= 0) {
      throw invalidOrder(field, `${field} must be above zero.`);
    }
  }
  if (fields.trailing_percent !== undefined && compare(fields.trailing_percent, "100") >= 0) {
    throw invalidOrder("trailing_percent", "trailing_percent must be below 100.");
  }
  return {
    ...(fields.limit_price !== undefined ? { limitPrice: fields.limit_price } : {}),
    ...(fields.stop_price !== undefined ? { stopPrice: fields.stop_price } : {}),
    ...(fields.trailing_amount !== undefined ? { trailingAmount: fields.trailing_amount } : {}),
    ...(fields.trailing_percent !== undefined ? { trailingPercent: fields.trailing_percent } : {}),
  };
}

export interface SingleOrderInput extends PriceFields {
  readonly side: Side;
  readonly quantity: string;
  readonly order_type: OrderType;
  readonly time_in_force?: TimeInForce;
}

export function singleLeg(input: SingleOrderInput): OrderLeg {
  return {
    role: "single",
    side: input.side,
    quantity: input.quantity,
    orderType: input.order_type,
    timeInForce: input.time_in_force ?? "day",
    ...priceFields(input.order_type, input),
  };
}

export interface BracketInput {
  readonly side: Side;
  readonly quantity: string;
  readonly entry_limit_price: string;
  readonly take_profit_limit_price: string;
  readonly stop_loss_stop_price: string;
  readonly time_in_force?: TimeInForce;
}

/** Entry limit, then take-profit limit and stop-loss stop on the other side, in submit order. */
export function bracketLegs(input: BracketInput): OrderLeg[] {
  const entry = input.entry_limit_price;
  const profit = input.take_profit_limit_price;
  const loss = input.stop_loss_stop_price;
  const buy = input.side === "buy";
  const ordered = buy
    ? compare(loss, entry) < 0 && compare(entry, profit) < 0
    : compare(profit, entry) < 0 && compare(entry, loss) < 0;
  if (!ordered) {
    throw invalidOrder(
      "take_profit_limit_price",
      buy
        ? "For a buy bracket the prices must be stop_loss_stop_price < entry_limit_price < take_profit_limit_price."
        : "For a sell bracket the prices must be take_profit_limit_price < entry_limit_price < stop_loss_stop_price.",
      "Fix the prices and preview again.",
    );
  }
  const exit: Side = buy ? "sell" : "buy";
  const timeInForce = input.time_in_force ?? "day";
  const quantity = input.quantity;
  return [
    { role: "entry", side: input.side, quantity, orderType: "limit", limitPrice: entry, timeInForce },
    { role: "take_profit", side: exit, quantity, orderType: "limit", limitPrice: profit, timeInForce },
    { role: "stop_loss", side: exit, quantity, orderType: "stop", stopPrice: loss, timeInForce },
  ];
}

export interface ModifyChanges extends PriceFields {
  readonly quantity?: string;
  readonly time_in_force?: TimeInForce;
}

const CHANGE_FIELDS = ["quantity", ...PRICE_FIELDS, "time_in_force"] as const;

/** The changes as given (only the fields present), refused when empty or self-contradicting. */
export function modifyChanges(input: ModifyChanges): ModifyChanges {
  const changes: Record<string, string> = {};
  for (const field of CHANGE_FIELDS) {
    const value = input[field];
    if (value !== undefined) changes[field] = value;
  }
  if (Object.keys(changes).length === 0) {
    throw invalidOrder(
      "quantity",
      "A modify needs at least one change: quantity, limit_price, stop_price, trailing_amount, trailing_percent or time_in_force.",
    );
  }
  if (input.stop_price !== undefined && (input.trailing_amount ?? input.trailing_percent) !== undefined) {
    throw invalidOrder("stop_price", "stop_price cannot be changed together with a trailing distance.");
  }
  if (input.trailing_amount !== undefined && input.trailing_percent !== undefined) {
    throw invalidOrder("trailing_percent", "Give trailing_amount or trailing_percent, not both.");
  }
  return changes as ModifyChanges;
}

/** The working order's leg with the changes applied; a change the order type does not have is refused. */
export function modifiedLeg(current: OrderLeg, changes: ModifyChanges): OrderLeg {
  const ok = allowed(current.orderType);
  for (const field of PRICE_FIELDS) {
    if (changes[field] !== undefined && !ok.has(field)) {
      throw invalidOrder(
        field,
        `The order is a ${current.orderType.replace("_", " ")} order; it has no ${field}.`,
      );
    }
  }
  // A trailing order switches between amount and percent when the other one is given.
  const trailing =
    changes.trailing_amount !== undefined
      ? { trailing_amount: changes.trailing_amount }
      : changes.trailing_percent !== undefined
        ? { trailing_percent: changes.trailing_percent }
        : {
            ...(current.trailingAmount !== undefined ? { trailing_amount: current.trailingAmount } : {}),
            ...(current.trailingPercent !== undefined ? { trailing_percent: current.trailingPercent } : {}),
          };
  const prices: PriceFields = {
    ...(current.limitPrice !== undefined ? { limit_price: current.limitPrice } : {}),
    ...(current.stopPrice !== undefined ? { stop_price: current.stopPrice } : {}),
    ...(changes.limit_price !== undefined ? { limit_price: changes.limit_price } : {}),
    ...(changes.stop_price !== undefined ? { stop_price: changes.stop_price } : {}),
    ...trailing,
  };
  return {
    role: current.role,
    side: current.side,
    quantity: changes.quantity ?? current.quantity,
    orderType: current.orderType,
    timeInForce: changes.time_in_force ?? current.timeInForce,
    ...priceFields(current.orderType, prices),
  };
}
