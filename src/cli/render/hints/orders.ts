// Preferred table columns of the orders tools' result lists (their natural reading order).
import type { RenderHints } from "./types.ts";

export const ORDERS_HINTS: RenderHints = {
  ibkr_orders_list: {
    orders: ["broker_order_id", "symbol", "side", "quantity", "filled_quantity", "order_type", "status"],
  },
  ibkr_executions_list: { executions: ["execution_id", "symbol", "side", "quantity", "price", "time"] },
};
