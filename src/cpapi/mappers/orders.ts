// Orders and executions. /iserver/account/orders rows are camelCase with an int orderId; order status is
// snake_case with side "B"/"S" and sizes as "10.0"; trades are snake_case with trade_time_r in ms. All three
// become the one order item of contracts/tools/orders-read.yaml. The broker only knows the current brokerage
// session's orders; earlier ones are rebuilt from executions (at most 7 days) with detail fills_only.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { add, canonical, decimal } from "../../core/decimal.ts";
import {
  accountId,
  assetClassOf,
  brokerOrderId,
  cap,
  clientOrderId,
  compact,
  currency,
  exchange,
  invalid,
  pick,
  positiveDecimal,
  requireArray,
  requireContractId,
  requireDecimal,
  requireRecord,
  sameAccount,
  sideOf,
  symbol,
  text,
  timestampFromCompact,
  timestampFromDashed,
  timestampFromMs,
  UNTRUSTED_TEXT_CAP,
  wireDecimal,
} from "./common.ts";

export type OrdersListResult = Omit<ToolOutput<"ibkr_orders_list">, "source">;
export type OrdersHistoryResult = Omit<ToolOutput<"ibkr_orders_history">, "source">;
export type OrderStatusResult = Omit<ToolOutput<"ibkr_order_status">, "source">;
export type ExecutionsListResult = Omit<ToolOutput<"ibkr_executions_list">, "source">;
export type OrderItem = OrdersListResult["orders"][number];
export type Execution = ExecutionsListResult["executions"][number];
export type OrderStatus = OrderItem["status"];
export type OrderType = NonNullable<OrderItem["order_type"]>;
export type TimeInForce = NonNullable<OrderItem["time_in_force"]>;

const STATUSES: Readonly<Record<string, OrderStatus>> = {
  INACTIVE: "inactive",
  PENDINGSUBMIT: "pending_submit",
  APIPENDING: "pending_submit",
  PRESUBMITTED: "open",
  SUBMITTED: "open",
  WARNSTATE: "open",
  FILLED: "filled",
  PENDINGCANCEL: "pending_cancel",
  PRECANCELLED: "pending_cancel",
  CANCELLED: "cancelled",
  APICANCELLED: "cancelled",
  REJECTED: "rejected",
};

/**
 * The broker's status (PreSubmitted, pre_submitted, "Pending Cancel"...) as the OrderStatus enum. A working
 * order with fills is partially_filled; WarnState (working, with a warning) counts as open; anything else is
 * unknown rather than a guess.
 */
export function normaliseOrderStatus(value: unknown, filled?: string): OrderStatus {
  const k = (text(value) ?? "").toUpperCase().replace(/[\s_-]/g, "");
  const status = STATUSES[k] ?? "unknown";
  if (status === "open" && filled !== undefined && decimal(filled).greaterThan(0)) return "partially_filled";
  return status;
}

const ORDER_TYPES: Readonly<Record<string, OrderType>> = {
  LMT: "limit",
  LIMIT: "limit",
  MKT: "market",
  MARKET: "market",
  STP: "stop",
  STOP: "stop",
  STPLMT: "stop_limit",
  STOPLIMIT: "stop_limit",
  TRAIL: "trailing_stop",
  TRAILINGSTOP: "trailing_stop",
  TRAILLMT: "trailing_stop_limit",
  TRAILLIMIT: "trailing_stop_limit",
  TRAILINGSTOPLIMIT: "trailing_stop_limit",
};

/** LMT / LIMIT / Limit / "Stop Limit" / STOP_LIMIT / TRAILLMT ... as the output enum; others are "other". */
export function normaliseOrderType(value: unknown): OrderType | undefined {
  const t = text(value);
  if (t === undefined) return undefined;
  return ORDER_TYPES[t.toUpperCase().replace(/[\s_-]/g, "")] ?? "other";
}

/**
 * Time in force. Live orders spell a day order "CLOSE" (the order ends at the close; the same rows describe it
 * as ", Day"), order status spells it "DAY".
 */
export function normaliseTimeInForce(value: unknown): TimeInForce | undefined {
  const t = text(value)?.toUpperCase();
  if (t === undefined) return undefined;
  if (t === "DAY" || t === "CLOSE") return "day";
  if (t === "GTC") return "gtc";
  if (t === "IOC") return "ioc";
  if (t === "OPG") return "opg";
  return "other";
}

/** "0/10" (filled/total) or "5" (all filled) from sizeAndFills, as [filled, total]. */
function sizeAndFills(value: unknown): [string | undefined, string | undefined] {
  const t = text(value);
  if (t === undefined) return [undefined, undefined];
  const parts = t.split("/");
  if (parts.length === 2) return [wireDecimal(parts[0]), wireDecimal(parts[1])];
  const all = wireDecimal(t);
  return [all, all];
}

function prices(
  type: OrderType | undefined,
  price: unknown,
  aux: unknown,
): { limit_price?: string; stop_price?: string } {
  const p = wireDecimal(price);
  const a = wireDecimal(aux);
  switch (type) {
    case "limit":
    case "trailing_stop_limit":
      return { limit_price: p };
    case "stop":
    case "trailing_stop":
      // Stop orders carry the trigger in auxPrice; some rows put it in price when there is no limit.
      return { stop_price: a ?? p };
    case "stop_limit":
      return { limit_price: p, stop_price: a };
    default:
      return { limit_price: p, stop_price: a };
  }
}

function untrusted(value: unknown): string | undefined {
  const t = text(value);
  return t === undefined ? undefined : cap(t, UNTRUSTED_TEXT_CAP);
}

/** One /iserver/account/orders row (camelCase). */
export function mapLiveOrder(value: unknown): OrderItem {
  const op = "getLiveOrders";
  const row = requireRecord(value, op, "order");
  const id = brokerOrderId(pick(row, "orderId", "order_id"));
  if (id === undefined) throw invalid(op, "orderId");
  const account = accountId(pick(row, "acct", "account", "accountId"));
  if (account === undefined) throw invalid(op, "acct");
  const side = sideOf(row.side);
  if (side === undefined) throw invalid(op, "side");
  const [sfFilled, sfTotal] = sizeAndFills(row.sizeAndFills);
  const filled = wireDecimal(pick(row, "filledQuantity", "filled_quantity")) ?? sfFilled;
  if (filled === undefined) throw invalid(op, "filledQuantity");
  const type = normaliseOrderType(pick(row, "origOrderType", "orderType", "order_type"));
  return compact({
    broker_order_id: id,
    client_order_id: clientOrderId(pick(row, "order_ref", "orderRef", "cOID")),
    account_id: account,
    contract_id: requireContractId(pick(row, "conid", "conidex"), op, "conid"),
    symbol: symbol(pick(row, "ticker", "symbol")),
    asset_class: text(row.secType) === undefined ? undefined : assetClassOf(row.secType),
    side,
    order_type: type,
    time_in_force: normaliseTimeInForce(pick(row, "timeInForce", "tif")),
    status: normaliseOrderStatus(pick(row, "status", "order_status"), filled),
    quantity: wireDecimal(row.totalSize) ?? sfTotal,
    filled_quantity: filled,
    remaining_quantity: wireDecimal(row.remainingQuantity),
    ...prices(type, row.price, pick(row, "auxPrice", "stop_price")),
    average_fill_price: positiveDecimal(pick(row, "avgPrice", "average_price")),
    currency: currency(pick(row, "cashCcy", "currency")),
    description: untrusted(pick(row, "orderDesc", "order_description")),
    detail: "session" as const,
    updated_at: timestampFromMs(row.lastExecutionTime_r) ?? timestampFromCompact(row.lastExecutionTime),
  });
}

/**
 * One /iserver/account/order/status/{id} body (snake_case). size is the remaining quantity, cum_fill the
 * filled one, order_time the submit time (YYMMDDhhmmss, UTC). The body carries no cOID: pass it when known.
 */
export function mapOrderStatusBody(value: unknown, clientId?: string): OrderItem {
  const op = "getOrderStatus";
  const row = requireRecord(value, op);
  const id = brokerOrderId(pick(row, "order_id", "orderId"));
  if (id === undefined) throw invalid(op, "order_id");
  const account = accountId(pick(row, "account", "order_clearing_account"));
  if (account === undefined) throw invalid(op, "account");
  const side = sideOf(row.side);
  if (side === undefined) throw invalid(op, "side");
  const filled = requireDecimal(pick(row, "cum_fill", "filled_quantity"), op, "cum_fill");
  const type = normaliseOrderType(pick(row, "order_type", "orig_order_type"));
  return compact({
    broker_order_id: id,
    client_order_id: clientOrderId(clientId ?? pick(row, "order_ref", "cOID")),
    account_id: account,
    contract_id: requireContractId(pick(row, "conid", "conidex"), op, "conid"),
    symbol: symbol(row.symbol),
    asset_class: text(row.sec_type) === undefined ? undefined : assetClassOf(row.sec_type),
    side,
    order_type: type,
    time_in_force: normaliseTimeInForce(row.tif),
    status: normaliseOrderStatus(row.order_status, filled),
    quantity: wireDecimal(row.total_size),
    filled_quantity: filled,
    remaining_quantity: wireDecimal(row.size),
    ...prices(type, row.limit_price, pick(row, "stop_price", "aux_price")),
    average_fill_price: positiveDecimal(row.average_price),
    currency: currency(row.currency),
    description: untrusted(row.order_description),
    detail: "session" as const,
    submitted_at: timestampFromCompact(row.order_time),
  });
}

function liveOrderRows(body: unknown): { rows: readonly unknown[]; snapshot: boolean } {
  const op = "getLiveOrders";
  const record = requireRecord(body, op);
  const rows =
    record.orders === undefined || record.orders === null ? [] : requireArray(record.orders, op, "orders");
  return { rows, snapshot: record.snapshot === true };
}

function newestFirst<T extends { updated_at?: string; submitted_at?: string }>(a: T, b: T): number {
  const ta = a.updated_at ?? a.submitted_at ?? "";
  const tb = b.updated_at ?? b.submitted_at ?? "";
  return tb.localeCompare(ta);
}

/** Live orders of one account; rows of other accounts of the login are dropped. */
function liveOrdersOf(body: unknown, account: string): { orders: OrderItem[]; snapshot: boolean } {
  const { rows, snapshot } = liveOrderRows(body);
  const orders = rows.map(mapLiveOrder).filter((o) => sameAccount(o.account_id, account));
  return { orders: orders.sort(newestFirst), snapshot };
}

export interface OrdersAccountContext {
  readonly accountId: string;
}

/**
 * ibkr_orders_list from getLiveOrders. complete is the body's snapshot flag: the first call of a session
 * answers {"orders":[],"snapshot":false} even when orders exist.
 */
export function mapOrdersList(body: unknown, ctx: OrdersAccountContext): OrdersListResult {
  const { orders, snapshot } = liveOrdersOf(body, ctx.accountId);
  return { account_id: ctx.accountId, orders, complete: snapshot };
}

/**
 * ibkr_order_status by broker order id, from getOrderStatus. null when the order belongs to another account
 * (the workflow answers ORDER_NOT_FOUND rather than show it).
 */
export function mapOrderStatusByBrokerId(
  body: unknown,
  ctx: OrdersAccountContext & { readonly clientOrderId?: string },
): OrderStatusResult | null {
  const order = mapOrderStatusBody(body, ctx.clientOrderId);
  if (!sameAccount(order.account_id, ctx.accountId)) return null;
  return { order, matched_by: "broker_order_id" };
}

/**
 * ibkr_order_status by client order id (cOID = order_ref), from getLiveOrders. null when no order of the
 * account carries it.
 */
export function mapOrderStatusByClientId(
  body: unknown,
  ctx: OrdersAccountContext & { readonly clientOrderId: string },
): OrderStatusResult | null {
  const { orders } = liveOrdersOf(body, ctx.accountId);
  const order = orders.find((o) => o.client_order_id === ctx.clientOrderId);
  return order === undefined ? null : { order, matched_by: "client_order_id" };
}

// ----------------------------------------------------------------------------------------- executions

interface Fill {
  readonly execution: Execution;
  readonly account: string;
  readonly ms: number;
}

function mapTrade(value: unknown): Fill {
  const op = "getTrades";
  const row = requireRecord(value, op, "trade");
  const executionId = text(row.execution_id);
  if (executionId === undefined || !/^[A-Za-z0-9._:-]{1,64}$/.test(executionId))
    throw invalid(op, "execution_id");
  const account = accountId(pick(row, "account", "accountCode"));
  if (account === undefined) throw invalid(op, "account");
  const side = sideOf(row.side);
  if (side === undefined) throw invalid(op, "side");
  const quantity = positiveDecimal(row.size);
  if (quantity === undefined) throw invalid(op, "size");
  const executedAt = timestampFromMs(row.trade_time_r) ?? timestampFromDashed(row.trade_time);
  if (executedAt === undefined) throw invalid(op, "trade_time");
  return {
    account,
    ms: Date.parse(executedAt),
    execution: compact({
      execution_id: executionId,
      broker_order_id: brokerOrderId(pick(row, "order_id", "orderId")),
      client_order_id: clientOrderId(row.order_ref),
      contract_id: requireContractId(pick(row, "conid", "conidEx"), op, "conid"),
      symbol: symbol(row.symbol),
      asset_class: text(row.sec_type) === undefined ? undefined : assetClassOf(row.sec_type),
      side,
      quantity,
      price: requireDecimal(row.price, op, "price"),
      currency: currency(row.currency),
      commission: wireDecimal(row.commission),
      net_amount: wireDecimal(row.net_amount),
      exchange: exchange(row.exchange),
      executed_at: executedAt,
    }),
  };
}

function fillsOf(body: unknown, account: string): Fill[] {
  return requireArray(body, "getTrades")
    .map(mapTrade)
    .filter((f) => sameAccount(f.account, account))
    .sort((a, b) => b.ms - a.ms);
}

/** ibkr_executions_list from getTrades (fills of other accounts of the login are dropped), newest first. */
export function mapExecutionsList(
  body: unknown,
  ctx: OrdersAccountContext & { readonly days: number },
): ExecutionsListResult {
  return {
    account_id: ctx.accountId,
    days: ctx.days,
    executions: fillsOf(body, ctx.accountId).map((f) => f.execution),
  };
}

// -------------------------------------------------------------------------------------- orders history

export interface OrdersHistoryContext extends OrdersAccountContext {
  readonly fromMs: number;
  readonly toMs: number;
  readonly status?: OrderStatus;
  /** 1-500. */
  readonly limit: number;
}

/**
 * An order rebuilt from its executions: filled quantity and volume-weighted average price are exact; the
 * order's size, type and limit are unknown. status is filled: the order is absent from the session, so it no
 * longer works, and it executed (a partial fill whose rest was cancelled cannot be told apart).
 */
function orderFromFills(fills: readonly Fill[], account: string): OrderItem {
  const first = fills[0] as Fill;
  let quantity = "0";
  let notional = "0";
  for (const f of fills) {
    quantity = add(quantity, f.execution.quantity);
    notional = add(notional, decimal(f.execution.quantity).times(f.execution.price).toFixed());
  }
  const times = fills.map((f) => f.ms);
  const e = first.execution;
  return compact({
    broker_order_id: e.broker_order_id as string,
    client_order_id: fills.map((f) => f.execution.client_order_id).find((c) => c !== undefined),
    account_id: account,
    contract_id: e.contract_id,
    symbol: e.symbol,
    asset_class: e.asset_class,
    side: e.side,
    status: "filled" as const,
    filled_quantity: quantity,
    average_fill_price: canonical(decimal(notional).dividedBy(quantity).toDecimalPlaces(8)),
    currency: e.currency,
    detail: "fills_only" as const,
    submitted_at: toRfc3339(Math.min(...times)),
    updated_at: toRfc3339(Math.max(...times)),
  });
}

function orderTimeMs(order: OrderItem): number | undefined {
  const t = order.updated_at ?? order.submitted_at;
  return t === undefined ? undefined : Date.parse(t);
}

/**
 * ibkr_orders_history from getLiveOrders (session orders, full detail) and getTrades (days to cover the
 * range). Executions of orders the session does not know are grouped by order id into fills_only orders;
 * executions without an order id are skipped. Orders are kept when their last activity (session orders
 * without a time are kept) lies in [from, to] and the status matches; newest first, at most limit.
 */
export function mapOrdersHistory(
  liveOrders: unknown,
  trades: unknown,
  ctx: OrdersHistoryContext,
): OrdersHistoryResult {
  const session = liveOrdersOf(liveOrders, ctx.accountId).orders;
  const known = new Set(session.map((o) => o.broker_order_id));
  const groups = new Map<string, Fill[]>();
  for (const fill of fillsOf(trades, ctx.accountId)) {
    const id = fill.execution.broker_order_id;
    if (id === undefined || known.has(id)) continue;
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [fill]);
    else group.push(fill);
  }
  const rebuilt = [...groups.values()].map((fills) => orderFromFills(fills, ctx.accountId));
  const inRange = (order: OrderItem): boolean => {
    const t = orderTimeMs(order);
    return t === undefined ? order.detail === "session" : t >= ctx.fromMs && t <= ctx.toMs;
  };
  const matching = [...session, ...rebuilt]
    .filter(inRange)
    .filter((o) => ctx.status === undefined || o.status === ctx.status)
    .sort(newestFirst);
  return {
    account_id: ctx.accountId,
    from: toRfc3339(ctx.fromMs),
    to: toRfc3339(ctx.toMs),
    orders: matching.slice(0, ctx.limit),
    truncated: matching.length > ctx.limit,
  };
}
