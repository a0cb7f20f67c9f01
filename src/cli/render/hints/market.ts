// Preferred table columns of the market tools' result lists (their natural reading order).
import type { RenderHints } from "./types.ts";

export const MARKET_HINTS: RenderHints = {
  ibkr_contracts_search: {
    candidates: ["contract_id", "symbol", "asset_class", "exchange", "currency", "description"],
  },
  ibkr_historical_bars: { bars: ["time", "open", "high", "low", "close", "volume"] },
};
