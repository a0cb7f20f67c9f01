// What an order workflow needs to know about the account it acts on: that the broker lists it and can trade
// it now, its mode as the broker reports it (isPaper together with the id's paper prefix; a disagreement is
// an unknown mode, refused everywhere), and its keyed hash, the only form in which it reaches the store.
import { GatewayError } from "../../core/gateway-error.ts";
import type { AccountMode } from "../../core/orders.ts";
import type { ClientTransport } from "../../cpapi/index.ts";
import { accountModeOf } from "../../cpapi/mappers/index.ts";
import type { ReadDeps } from "../reads/deps.ts";

export interface OrderAccount {
  /** As the broker spells account ids (upper case). */
  readonly accountId: string;
  readonly accountIdHash: string;
  readonly mode: AccountMode | "unknown";
  /** The broker's isPaper flag for the login, when the brokerage session gave it. */
  readonly brokerSaysPaper: boolean | undefined;
  readonly baseCurrency: string | undefined;
}

export async function orderAccount(
  deps: ReadDeps,
  transport: ClientTransport,
  requested: string,
): Promise<OrderAccount> {
  const accountId = requested.toUpperCase();
  const facts = await deps.accounts.require(accountId, transport);
  if (!facts.tradable) {
    throw new GatewayError("BROKER_SESSION_REQUIRED", {
      message:
        "The broker lists the account but cannot take orders for it now: the brokerage session is down.",
      details: { field: "account_id" },
    });
  }
  return {
    accountId,
    accountIdHash: deps.store.hashAccountId(accountId),
    mode: accountModeOf(accountId, facts.isPaper),
    brokerSaysPaper: facts.isPaper,
    baseCurrency: facts.baseCurrency,
  };
}
