// Order-read tools: the session's orders (/iserver/account/orders), order history (the session's orders plus
// orders rebuilt from up to 7 days of executions), one order's status (by broker id through
// /iserver/account/order/status, else by client order id among the session's orders) and executions
// (/iserver/account/trades). Every tool takes an explicit account the broker lists; orders and fills of
// other accounts of the login are never shown.
import { getLiveOrders, getOrderStatus } from "../../../generated/cpapi/client.gen.ts";
import { TOOLS, type ToolInput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { GatewayError, isGatewayError } from "../../core/gateway-error.ts";
import {
  mapExecutionsList,
  mapOrderStatusByBrokerId,
  mapOrderStatusByClientId,
  mapOrdersHistory,
  mapOrdersList,
} from "../../cpapi/mappers/index.ts";
import { type ReadCall, type ReadDeps, readCall } from "./deps.ts";
import { historyRange } from "./orders/history-range.ts";
import { readTrades } from "./orders/trades.ts";

/**
 * Broker order ids are positive integers (ten digits in practice). An id with a leading zero is never one
 * (the broker would read "007" as order 7, a different order), and one too long to be sent exactly as a JSON
 * number is not either; such ids are only looked up as client order ids.
 */
const BROKER_ORDER_ID = /^[1-9][0-9]{0,14}$/;

const HISTORY_LIMIT = TOOLS.ibkr_orders_history.inputSchema.properties.limit.default;
const EXECUTION_DAYS = TOOLS.ibkr_executions_list.inputSchema.properties.days.default;

function liveOrders(call: ReadCall, accountId: string) {
  return getLiveOrders(call.transport, { query: { accountId } });
}

/** The order by broker id, or null when the broker has none for this session and account. */
async function statusByBrokerId(call: ReadCall, accountId: string, orderId: string) {
  try {
    const answer = await getOrderStatus(call.transport, { path: { orderId: Number(orderId) } });
    return mapOrderStatusByBrokerId(answer.body, { accountId });
  } catch (error) {
    // The endpoint answers 503 for orders of another session or account; the client maps that to this code.
    if (isGatewayError(error) && error.code === "ORDER_NOT_FOUND") return null;
    throw error;
  }
}

function orderNotFound(listComplete: boolean): GatewayError {
  if (!listComplete) {
    return new GatewayError("ORDER_NOT_FOUND", {
      message:
        "No order with this id was found, but the broker had not finished loading this session's orders.",
      userAction: "Call again in a few seconds; the broker loads the session's orders shortly after login.",
      retryable: true,
      details: { field: "broker_order_id", reason: "orders_loading" },
    });
  }
  return new GatewayError("ORDER_NOT_FOUND", {
    message:
      "This account has no order with this id in the current brokerage session, by broker order id or by client order id.",
    userAction:
      "Check the id with ibkr_orders_list; orders of earlier sessions cannot be looked up by id, but ibkr_orders_history lists what the broker keeps of them.",
    details: { field: "broker_order_id" },
  });
}

export function ordersReads(deps: ReadDeps) {
  return {
    async "reads.ordersList"(args: Record<string, unknown>, context: OperationContext) {
      const { account_id: accountId } = args as ToolInput<"ibkr_orders_list">;
      const call = readCall(deps, context);
      await deps.accounts.require(accountId, call.transport);
      const answer = await liveOrders(call, accountId);
      return { ...mapOrdersList(answer.body, { accountId }), source: call.source };
    },

    async "reads.ordersHistory"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_orders_history">;
      const call = readCall(deps, context);
      // The range is checked before the broker is asked anything.
      const range = historyRange(input, call.now);
      await deps.accounts.require(input.account_id, call.transport);
      const live = await liveOrders(call, input.account_id);
      const trades = await readTrades(deps, call, input.account_id, range.tradeDays);
      const history = mapOrdersHistory(live.body, trades, {
        accountId: input.account_id,
        fromMs: range.fromMs,
        toMs: range.toMs,
        limit: input.limit ?? HISTORY_LIMIT,
        ...(input.status !== undefined ? { status: input.status } : {}),
      });
      return { ...history, source: call.source };
    },

    async "reads.orderStatus"(args: Record<string, unknown>, context: OperationContext) {
      const { account_id: accountId, broker_order_id: id } = args as ToolInput<"ibkr_order_status">;
      const call = readCall(deps, context);
      await deps.accounts.require(accountId, call.transport);
      if (BROKER_ORDER_ID.test(id)) {
        const found = await statusByBrokerId(call, accountId, id);
        if (found !== null) return { ...found, source: call.source };
      }
      // Not a broker id of this session and account: the gateway's cOID is on the session's order rows.
      const live = await liveOrders(call, accountId);
      const found = mapOrderStatusByClientId(live.body, { accountId, clientOrderId: id });
      if (found !== null) return { ...found, source: call.source };
      throw orderNotFound(mapOrdersList(live.body, { accountId }).complete);
    },

    async "reads.executionsList"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_executions_list">;
      const days = input.days ?? EXECUTION_DAYS;
      const call = readCall(deps, context);
      await deps.accounts.require(input.account_id, call.transport);
      const trades = await readTrades(deps, call, input.account_id, days);
      return { ...mapExecutionsList(trades, { accountId: input.account_id, days }), source: call.source };
    },
  };
}
