// Preferred table columns of the research tools' result lists (their natural reading order).
import type { RenderHints } from "./types.ts";

export const RESEARCH_HINTS: RenderHints = {
  ibkr_scanner_run: {
    results: ["rank", "symbol", "value", "company_name", "listing_exchange", "contract_id"],
  },
  ibkr_news_list: { headlines: ["published_at", "provider", "headline", "article_id"] },
};
