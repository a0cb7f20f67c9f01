// Preferred table columns of the orders tools' result lists (their natural reading order): which order,
// what was asked, how far it got.
import type { RenderHints } from "./types.ts";

export const ORDERS_HINTS: RenderHints = {
  ibkr_orders_list: {
    orders: [
      "broker_order_id",
      "symbol",
      "side",
      "order_type",
      "quantity",
      "filled_quantity",
      "limit_price",
      "status",
    ],
  },
  ibkr_orders_history: {
    orders: [
      "broker_order_id",
      "updated_at",
      "symbol",
      "side",
      "filled_quantity",
      "average_fill_price",
      "status",
      "detail",
    ],
  },
  ibkr_executions_list: {
    executions: [
      "executed_at",
      "symbol",
      "side",
      "quantity",
      "price",
      "commission",
      "broker_order_id",
      "execution_id",
    ],
  },
};
