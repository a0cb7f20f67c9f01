// The accounts the broker lists for this login, read once and kept for a minute (/portfolio/accounts is
// paced at 1 request per 5 s, and account lists do not change mid-session). Account-scoped tools take an
// explicit account id; one the broker does not list is refused with INPUT_UNAUTHORIZED_ACCOUNT - there is no
// implicit default account.
import { getBrokerageAccounts, getPortfolioAccounts } from "../../../generated/cpapi/client.gen.ts";
import type { Clock } from "../../core/clock.ts";
import { GatewayError, isGatewayError } from "../../core/gateway-error.ts";
import type { ClientTransport } from "../../cpapi/index.ts";

export interface AccountListing {
  /** /portfolio/accounts body (an array). */
  readonly portfolio: unknown;
  /** /iserver/accounts body, or null while the brokerage session is down (no account is tradable then). */
  readonly brokerage: unknown;
  readonly readAt: number;
}

export interface AccountFacts {
  readonly accountId: string;
  /** The whole login's isPaper flag from /iserver/accounts, when the brokerage session answered. */
  readonly isPaper: boolean | undefined;
  /** /iserver/accounts lists it (orders can be placed for it). */
  readonly tradable: boolean;
  readonly hasChildAccounts: boolean | undefined;
  /** Base currency from /portfolio/accounts (`currency`), when the broker gives one. */
  readonly baseCurrency: string | undefined;
}

export interface AccountDirectory {
  listing(transport: ClientTransport, options?: { fresh?: boolean }): Promise<AccountListing>;
  /** The facts about one account the broker lists; INPUT_UNAUTHORIZED_ACCOUNT when it lists no such account. */
  require(accountId: string, transport: ClientTransport): Promise<AccountFacts>;
}

const TTL_MS = 60_000;

function ids(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function portfolioIds(body: unknown): string[] {
  if (!Array.isArray(body)) return [];
  return body
    .map((row) => (row !== null && typeof row === "object" ? (row as Record<string, unknown>) : {}))
    .map((row) => row.accountId ?? row.id)
    .filter((id): id is string => typeof id === "string");
}

/** The account's `currency` in /portfolio/accounts (its base currency). */
function portfolioCurrency(body: unknown, accountId: string): string | undefined {
  if (!Array.isArray(body)) return undefined;
  for (const row of body) {
    if (row === null || typeof row !== "object") continue;
    const { accountId: rowAccountId, id, currency } = row as Record<string, unknown>;
    const rowId = rowAccountId ?? id;
    if (typeof rowId === "string" && rowId.toUpperCase() === accountId.toUpperCase())
      return typeof currency === "string" ? currency : undefined;
  }
  return undefined;
}

export function createAccountDirectory(clock: Clock): AccountDirectory {
  let cached: AccountListing | null = null;
  let pending: Promise<AccountListing> | null = null;

  async function read(transport: ClientTransport): Promise<AccountListing> {
    const portfolio = (await getPortfolioAccounts(transport)).body;
    let brokerage: unknown = null;
    try {
      brokerage = (await getBrokerageAccounts(transport)).body;
    } catch (error) {
      // With only the web session (no brokerage session) /portfolio still lists the accounts.
      if (!isGatewayError(error) || error.code !== "BROKER_SESSION_REQUIRED") throw error;
    }
    return { portfolio, brokerage, readAt: clock.now() };
  }

  const directory: AccountDirectory = {
    async listing(transport, options = {}) {
      if (!options.fresh && cached !== null && clock.now() - cached.readAt < TTL_MS) return cached;
      pending ??= read(transport).finally(() => {
        pending = null;
      });
      cached = await pending;
      return cached;
    },
    async require(accountId, transport) {
      const listing = await directory.listing(transport);
      const brokerage =
        listing.brokerage !== null && typeof listing.brokerage === "object"
          ? (listing.brokerage as Record<string, unknown>)
          : null;
      const tradable = ids(brokerage?.accounts);
      const known = new Set([...portfolioIds(listing.portfolio), ...tradable].map((id) => id.toUpperCase()));
      if (!known.has(accountId.toUpperCase())) {
        throw new GatewayError("INPUT_UNAUTHORIZED_ACCOUNT", {
          message: "The broker does not list that account for this login.",
          userAction:
            "Call ibkr_accounts_list (ibkr-agent accounts list) and use one of the account ids it returns.",
          details: { field: "account_id" },
        });
      }
      const props = brokerage?.acctProps;
      const own =
        props !== null && typeof props === "object"
          ? (props as Record<string, unknown>)[accountId]
          : undefined;
      const children =
        own !== null && typeof own === "object"
          ? (own as Record<string, unknown>).hasChildAccounts
          : undefined;
      return {
        accountId,
        isPaper: typeof brokerage?.isPaper === "boolean" ? brokerage.isPaper : undefined,
        tradable: tradable.some((id) => id.toUpperCase() === accountId.toUpperCase()),
        hasChildAccounts: typeof children === "boolean" ? children : undefined,
        baseCurrency: portfolioCurrency(listing.portfolio, accountId),
      };
    },
  };
  return directory;
}
