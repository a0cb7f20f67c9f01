// Preferred table columns for result lists whose natural reading order is not alphabetical; a tool without a
// hint renders every column it has. One file per tool area.
import { ACCOUNTS_HINTS } from "./accounts.ts";
import { AUDIT_HINTS } from "./audit.ts";
import { MARKET_HINTS } from "./market.ts";
import { ORDERS_HINTS } from "./orders.ts";
import { PORTFOLIO_HINTS } from "./portfolio.ts";
import { RESEARCH_HINTS } from "./research.ts";
import type { RenderHints } from "./types.ts";

export const RENDER_HINTS: RenderHints = {
  ...ACCOUNTS_HINTS,
  ...PORTFOLIO_HINTS,
  ...MARKET_HINTS,
  ...ORDERS_HINTS,
  ...RESEARCH_HINTS,
  ...AUDIT_HINTS,
};
