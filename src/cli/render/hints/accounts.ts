// Preferred table columns of the accounts tools' result lists (their natural reading order).
import type { RenderHints } from "./types.ts";

export const ACCOUNTS_HINTS: RenderHints = {
  ibkr_accounts_list: {
    accounts: ["account_id", "account_mode", "display_name", "base_currency", "account_type", "tradable"],
  },
};
