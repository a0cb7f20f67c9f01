// Accounts: /iserver/accounts (the brokerage session's tradable list, paper flag) merged with
// /portfolio/accounts (names, currency, type). Session ids, server info and feature flags of the brokerage
// body are never copied out.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import {
  accountId,
  cappedText,
  compact,
  currency,
  invalid,
  isRecord,
  requireArray,
  requireRecord,
  text,
  type WireRecord,
} from "./common.ts";

export type AccountsListResult = Omit<ToolOutput<"ibkr_accounts_list">, "source">;
export type AccountMetadataResult = Omit<ToolOutput<"ibkr_account_metadata">, "source">;
export type AccountMode = "paper" | "live" | "unknown";

export interface AccountHashContext {
  /** Keyed hash of an account id, as the audit store computes it (store.hashAccountId). */
  readonly hashAccountId: (accountId: string) => string;
}

const PAPER_PREFIX = /^D[UF]/i;

/**
 * Paper or live, from every signal the broker gives: the id prefix (DU individual, DF advisor master are
 * paper), /iserver/accounts isPaper (whole login) and /portfolio/accounts type DEMO. Signals that disagree give
 * unknown rather than a guess, because "paper" is what lets the paper path touch an account.
 */
export function accountModeOf(id: string, isPaper: boolean | undefined, portfolioType?: string): AccountMode {
  const byPrefix = PAPER_PREFIX.test(id);
  if (isPaper !== undefined && isPaper !== byPrefix) return "unknown";
  if (portfolioType?.toUpperCase() === "DEMO" && !byPrefix) return "unknown";
  return byPrefix ? "paper" : "live";
}

function portfolioId(row: WireRecord): string | undefined {
  return accountId(row.accountId ?? row.id);
}

/**
 * The name the broker shows: the alias the user chose, else displayName unless it is the holder's name
 * (accountTitle; builds differ on which one displayName carries, and the holder's name is never returned),
 * else the /iserver alias, else the id itself.
 */
function displayNameOf(id: string, row: WireRecord | undefined, alias: unknown): string {
  const title = text(row?.accountTitle)?.toUpperCase();
  const candidates = [row?.accountAlias, row?.displayName, alias];
  for (const candidate of candidates) {
    const name = cappedText(candidate, 128);
    if (name !== undefined && name.toUpperCase() !== title) return name;
  }
  return id;
}

/**
 * ibkr_accounts_list from getPortfolioAccounts (array) and getBrokerageAccounts (object, or null when the
 * brokerage session is down: then no account is tradable and the mode rests on the id prefix).
 * Order: the /portfolio/accounts order, then accounts only the brokerage session lists.
 */
export function mapAccountsList(
  portfolio: unknown,
  brokerage: unknown,
  ctx: AccountHashContext,
): AccountsListResult {
  const rows = requireArray(portfolio, "getPortfolioAccounts");
  const iserver =
    brokerage === null || brokerage === undefined ? null : requireRecord(brokerage, "getBrokerageAccounts");
  const tradable: string[] = [];
  if (iserver !== null) {
    for (const entry of requireArray(iserver.accounts, "getBrokerageAccounts", "accounts")) {
      const id = accountId(entry);
      if (id === undefined) throw invalid("getBrokerageAccounts", "accounts");
      tradable.push(id);
    }
  }
  const isPaper = typeof iserver?.isPaper === "boolean" ? iserver.isPaper : undefined;
  const aliases = isRecord(iserver?.aliases) ? iserver.aliases : {};

  const byId = new Map<string, WireRecord>();
  const order: string[] = [];
  for (const row of rows) {
    if (!isRecord(row)) throw invalid("getPortfolioAccounts", "accountId");
    const id = portfolioId(row);
    if (id === undefined) throw invalid("getPortfolioAccounts", "accountId");
    if (!byId.has(id)) order.push(id);
    byId.set(id, row);
  }
  for (const id of tradable) if (!byId.has(id) && !order.includes(id)) order.push(id);

  return {
    accounts: order.map((id) => {
      const row = byId.get(id);
      return compact({
        account_id: id,
        account_id_hash: ctx.hashAccountId(id),
        display_name: displayNameOf(id, row, aliases[id]),
        account_mode: accountModeOf(id, isPaper, text(row?.type)),
        base_currency: currency(row?.currency),
        account_type: cappedText(row?.type, 64),
        tradable: tradable.includes(id),
      });
    }),
  };
}

export interface AccountMetadataContext extends AccountHashContext {
  /** The account asked for; the body must describe it. */
  readonly accountId: string;
  /** isPaper from /iserver/accounts when the workflow has it (adds a signal to the mode). */
  readonly isPaper?: boolean;
  /** acctProps[account].hasChildAccounts from /iserver/accounts, when known. */
  readonly hasChildAccounts?: boolean;
}

/**
 * ibkr_account_metadata from getAccountMeta (one /portfolio/accounts element). The holder's name
 * (accountTitle), description and parent structure are never copied.
 * is_advisor: an advisor master has an F/DF id or child accounts (faclient means the opposite: an account
 * managed by an advisor).
 */
export function mapAccountMetadata(meta: unknown, ctx: AccountMetadataContext): AccountMetadataResult {
  const row = requireRecord(meta, "getAccountMeta");
  const id = portfolioId(row);
  if (id === undefined || id.toUpperCase() !== ctx.accountId.toUpperCase()) {
    throw invalid("getAccountMeta", "accountId", id === undefined ? "missing_or_invalid" : "other_account");
  }
  const noClientTrading = row.noClientTrading;
  return compact({
    account_id: id,
    account_id_hash: ctx.hashAccountId(id),
    display_name: displayNameOf(id, row, undefined),
    account_mode: accountModeOf(id, ctx.isPaper, text(row.type)),
    base_currency: currency(row.currency),
    account_type: cappedText(row.type, 64),
    trading_type: cappedText(row.tradingType, 32),
    business_type: cappedText(row.businessType, 64),
    ib_entity: cappedText(row.ibEntity, 32),
    clearing_status: cappedText(row.clearingStatus, 8),
    is_advisor: /^D?F/i.test(id) || ctx.hasChildAccounts === true,
    client_trading_allowed: typeof noClientTrading === "boolean" ? !noClientTrading : undefined,
  });
}
