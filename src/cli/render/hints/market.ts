// Preferred table columns of the market tools' result lists (their natural reading order).
import type { RenderHints } from "./types.ts";

export const MARKET_HINTS: RenderHints = {
  ibkr_contracts_search: {
    candidates: [
      "contract_id",
      "symbol",
      "asset_class",
      "exchange",
      "currency",
      "company_name",
      "has_options",
      "has_futures",
    ],
  },
  ibkr_options_chain: {
    contracts: [
      "contract_id",
      "expiry",
      "strike",
      "right",
      "multiplier",
      "currency",
      "trading_class",
      "exchange",
    ],
  },
  ibkr_historical_bars: { bars: ["time", "open", "high", "low", "close", "volume"] },
  ibkr_market_holidays: { days: ["date", "kind", "regular_open", "regular_close"] },
};
