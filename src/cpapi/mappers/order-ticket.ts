// The one place an order leg becomes a CPAPI order ticket (OrderRequest of contracts/cpapi/orders.yaml):
// BUY/SELL, LMT/STP/STOP_LIMIT/TRAIL, DAY/GTC, the limit in `price`, the stop in `auxPrice`, trailing
// distance in trailingAmt with trailingType amt or %. A bracket is one request: the entry carries the cOID,
// each exit names it as parentId and carries no cOID of its own (the broker's rule for children).
import type { components } from "../../../generated/cpapi/types.gen.ts";
import type { OrderLeg, OrderType } from "../../core/orders.ts";

export type OrderTicket = components["schemas"]["OrderRequest"];

const WIRE_TYPES: Record<OrderType, OrderTicket["orderType"]> = {
  limit: "LMT",
  stop: "STP",
  stop_limit: "STOP_LIMIT",
  trailing_stop: "TRAIL",
};

export interface TicketContext {
  readonly accountId: string;
  readonly conid: number;
  /** For the order that carries it (a single order or a bracket's entry). */
  readonly clientOrderId?: string;
  /** For bracket exits: the entry's cOID. */
  readonly parentClientOrderId?: string;
}

/** JSON numbers for the wire; the decimal strings are exact and short, so Number() keeps them. */
function wireNumber(value: string): number {
  return Number(value);
}

export function orderTicket(leg: OrderLeg, ctx: TicketContext): OrderTicket {
  const ticket: OrderTicket = {
    acctId: ctx.accountId,
    conid: ctx.conid,
    orderType: WIRE_TYPES[leg.orderType],
    side: leg.side === "buy" ? "BUY" : "SELL",
    tif: leg.timeInForce === "gtc" ? "GTC" : "DAY",
    quantity: wireNumber(leg.quantity),
  };
  if (ctx.clientOrderId !== undefined) ticket.cOID = ctx.clientOrderId;
  if (ctx.parentClientOrderId !== undefined) ticket.parentId = ctx.parentClientOrderId;
  if (leg.limitPrice !== undefined) ticket.price = wireNumber(leg.limitPrice);
  if (leg.stopPrice !== undefined) ticket.auxPrice = wireNumber(leg.stopPrice);
  if (leg.trailingAmount !== undefined) {
    ticket.trailingAmt = wireNumber(leg.trailingAmount);
    ticket.trailingType = "amt";
  } else if (leg.trailingPercent !== undefined) {
    ticket.trailingAmt = wireNumber(leg.trailingPercent);
    ticket.trailingType = "%";
  }
  return ticket;
}
