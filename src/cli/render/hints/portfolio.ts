// Preferred table columns of the portfolio tools' result lists (their natural reading order). Positions show
// the description because an option's symbol alone ("AAPL") does not say which contract it is, and the
// average price rather than the average cost, so it can be compared with the market price on the same row.
import type { RenderHints } from "./types.ts";

const POSITION_COLUMNS = [
  "symbol",
  "description",
  "contract_id",
  "quantity",
  "average_price",
  "market_price",
  "market_value",
  "unrealized_pnl",
];

export const PORTFOLIO_HINTS: RenderHints = {
  ibkr_positions_list: { positions: POSITION_COLUMNS },
  ibkr_portfolio_snapshot: { positions: POSITION_COLUMNS },
  ibkr_pnl_daily: {
    by_currency: ["currency", "realized_pnl", "unrealized_pnl", "cash_balance", "exchange_rate"],
  },
};
