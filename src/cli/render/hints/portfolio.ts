// Preferred table columns of the portfolio tools' result lists (their natural reading order).
import type { RenderHints } from "./types.ts";

export const PORTFOLIO_HINTS: RenderHints = {
  ibkr_positions_list: {
    positions: [
      "symbol",
      "contract_id",
      "quantity",
      "market_price",
      "market_value",
      "average_cost",
      "unrealized_pnl",
    ],
  },
};
