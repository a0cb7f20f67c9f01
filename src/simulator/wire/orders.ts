// Orders and executions in the gateway's spellings, which differ per endpoint: live orders are camelCase
// with an integer orderId and side BUY/SELL; order status is snake_case with side B/S; submit answers carry
// order_id as a string; trades are snake_case with sizes as numbers and prices as strings.
import type { Execution } from "../accounts.ts";
import type { Instrument } from "../instruments.ts";
import type { OrderTicket, OrderType, SimOrder } from "../orders.ts";
import { compactTime, price, quantity, tradeTime } from "./format.ts";

const DISPLAY_TYPE: Record<OrderType, string> = {
  LMT: "Limit",
  MKT: "Market",
  STP: "Stop",
  STOP_LIMIT: "Stop Limit",
  MIDPRICE: "Mid Price",
  TRAIL: "Trail",
  TRAILLMT: "Trail Limit",
};
const ORIGINAL_TYPE: Record<OrderType, string> = {
  LMT: "LIMIT",
  MKT: "MARKET",
  STP: "STOP",
  STOP_LIMIT: "STOP_LIMIT",
  MIDPRICE: "MIDPRICE",
  TRAIL: "TRAILING STOP",
  TRAILLMT: "TRAILING STOP LIMIT",
};
const TIF_DISPLAY: Record<string, string> = { DAY: "CLOSE", GTC: "GTC", IOC: "IOC", OPG: "OPG", PAX: "PAX" };
const STATUS_DESCRIPTION: Record<string, string> = {
  PreSubmitted: "Order Submitted",
  Submitted: "Order Submitted",
  Filled: "Order Filled",
  PendingCancel: "Order Cancel Pending",
  Cancelled: "Order Cancelled",
  Inactive: "Order Inactive",
};

function symbolOf(instrument: Instrument): string {
  return instrument.kind === "stock" ? instrument.symbol : instrument.underlying.symbol;
}

function description(instrument: Instrument): string {
  if (instrument.kind === "stock") return instrument.symbol;
  return `${instrument.underlying.symbol} ${instrument.expiry} ${instrument.strike} ${instrument.right === "C" ? "Call" : "Put"}`;
}

function listing(instrument: Instrument): string {
  return instrument.kind === "stock" ? instrument.listingDisplay : "SMART";
}

function companyName(instrument: Instrument): string {
  return instrument.kind === "stock" ? instrument.companyName : instrument.underlying.companyName;
}

function pricePart(ticket: OrderTicket): string {
  if (ticket.orderType === "MKT") return "";
  if (ticket.orderType === "TRAIL" || ticket.orderType === "TRAILLMT") {
    return ` ${ticket.trailingType === "%" ? `${ticket.trailingAmt}%` : price(ticket.trailingAmt ?? 0)}`;
  }
  const px = ticket.orderType === "STP" ? ticket.auxPrice : ticket.price;
  const stop =
    ticket.orderType === "STOP_LIMIT" && ticket.auxPrice !== undefined
      ? ` Stop ${price(ticket.auxPrice)}`
      : "";
  return px === undefined ? "" : ` ${price(px)}${stop}`;
}

export function orderDescription(order: SimOrder): string {
  const t = order.ticket;
  const verb =
    order.status === "Filled" ? (t.side === "BUY" ? "Bought" : "Sold") : t.side === "BUY" ? "Buy" : "Sell";
  const tif = t.tif === "DAY" ? "Day" : t.tif;
  return `${verb} ${quantity(t.quantity)} ${DISPLAY_TYPE[t.orderType]}${pricePart(t)}, ${tif}`;
}

export function liveOrder(order: SimOrder): Record<string, unknown> {
  const t = order.ticket;
  const row: Record<string, unknown> = {
    acct: order.accountId,
    conidex: String(order.instrument.conid),
    conid: order.instrument.conid,
    account: order.accountId,
    orderId: order.orderId,
    cashCcy: "USD",
    sizeAndFills: `${quantity(order.filled)}/${quantity(t.quantity)}`,
    orderDesc: orderDescription(order),
    description1: description(order.instrument),
    ticker: symbolOf(order.instrument),
    secType: order.instrument.kind === "stock" ? "STK" : "OPT",
    listingExchange: listing(order.instrument),
    remainingQuantity: Math.max(0, t.quantity - order.filled),
    filledQuantity: order.filled,
    totalSize: t.quantity,
    companyName: companyName(order.instrument),
    status: order.status,
    order_ccp_status: order.status,
    origOrderType: ORIGINAL_TYPE[t.orderType],
    supportsTaxOpt: "1",
    lastExecutionTime: compactTime(order.lastExecutionAt ?? order.updatedAt),
    orderType: DISPLAY_TYPE[t.orderType],
    bgColor: "#FFFFFF",
    fgColor: "#000000",
    isEventTrading: "0",
    timeInForce: TIF_DISPLAY[t.tif] ?? t.tif,
    lastExecutionTime_r: order.lastExecutionAt ?? order.updatedAt,
    side: t.side,
  };
  if (order.cOID !== null) row.order_ref = order.cOID;
  if (t.price !== undefined) row.price = price(t.price);
  if (t.auxPrice !== undefined) row.auxPrice = price(t.auxPrice);
  if (order.filled > 0) row.avgPrice = price(order.avgFillPrice);
  if (order.parentOrderId !== null) row.parentId = order.parentOrderId;
  return row;
}

/** Sizes in order status are strings with at least one decimal ("10.0"). */
function withDecimal(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : quantity(value);
}

export function orderStatusBody(order: SimOrder): Record<string, unknown> {
  const t = order.ticket;
  const body: Record<string, unknown> = {
    sub_type: null,
    request_id: String(order.orderId % 1000),
    server_id: "0",
    order_id: order.orderId,
    conidex: String(order.instrument.conid),
    conid: order.instrument.conid,
    symbol: symbolOf(order.instrument),
    side: t.side === "BUY" ? "B" : "S",
    contract_description_1: description(order.instrument),
    listing_exchange: listing(order.instrument),
    option_acct: "c",
    company_name: companyName(order.instrument),
    size: withDecimal(Math.max(0, t.quantity - order.filled)),
    total_size: withDecimal(t.quantity),
    currency: "USD",
    account: order.accountId,
    order_type: ORIGINAL_TYPE[t.orderType],
    cum_fill: withDecimal(order.filled),
    order_status: order.status,
    order_ccp_status: order.status === "Filled" ? "2" : "0",
    order_status_description: STATUS_DESCRIPTION[order.status] ?? order.status,
    tif: t.tif,
    fg_color: "#000000",
    bg_color: "#FFFFFF",
    order_not_editable: order.status === "Filled" || order.status === "Cancelled",
    editable_fields: "\u001e",
    cannot_cancel_order: order.status === "Filled" || order.status === "Cancelled",
    deactivate_order: false,
    sec_type: order.instrument.kind === "stock" ? "STK" : "OPT",
    available_chart_periods: "#R|1",
    order_description: orderDescription(order),
    order_description_with_contract: orderDescription(order).replace(
      ` ${quantity(t.quantity)} `,
      ` ${quantity(t.quantity)} ${description(order.instrument)} `,
    ),
    alert_active: 1,
    child_order_type: order.parentOrderId === null ? "0" : "A",
    order_clearing_account: order.accountId,
    size_and_fills: `${quantity(order.filled)}/${quantity(t.quantity)}`,
    allowed_duplicate_opposite: true,
    order_time: compactTime(order.createdAt),
    outside_rth: t.outsideRTH === true,
  };
  if (t.price !== undefined) body.limit_price = price(t.price);
  if (t.auxPrice !== undefined) body.stop_price = price(t.auxPrice);
  if (order.filled > 0) body.average_price = price(order.avgFillPrice);
  if (order.reason !== null) body.order_status_reason = order.reason;
  return body;
}

export function tradeRow(execution: Execution, instrument: Instrument): Record<string, unknown> {
  const bought = execution.side === "BUY";
  const multiplier = instrument.kind === "option" ? 100 : 1;
  const gross = execution.quantity * execution.price * multiplier;
  return {
    execution_id: execution.executionId,
    symbol: symbolOf(instrument),
    supports_tax_opt: "1",
    side: bought ? "B" : "S",
    order_description: `${bought ? "Bot" : "Sold"} ${quantity(execution.quantity)} @ ${price(execution.price)} on ${execution.exchange}`,
    trade_time: tradeTime(execution.at),
    trade_time_r: execution.at,
    size: execution.quantity,
    price: price(execution.price),
    ...(execution.orderRef !== null ? { order_ref: execution.orderRef } : {}),
    submitter: "simuser01",
    exchange: execution.exchange,
    commission: execution.commission.toFixed(2),
    net_amount: Math.round(gross * 100) / 100,
    account: execution.accountId,
    accountCode: execution.accountId,
    account_allocation_name: execution.accountId,
    company_name: companyName(instrument),
    contract_description_1: description(instrument),
    sec_type: instrument.kind === "stock" ? "STK" : "OPT",
    listing_exchange: listing(instrument),
    conid: instrument.conid,
    conidEx: String(instrument.conid),
    clearing_id: "IB",
    clearing_name: "IB",
    liquidation_trade: "0",
    is_event_trading: "0",
    order_id: execution.orderId,
  };
}
