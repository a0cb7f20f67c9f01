// Executions of one account from /iserver/account/trades, read the way the endpoint needs:
// - it answers for the login's *selected* account, so a login with several tradable accounts selects the
//   requested one first (POST /iserver/account, under the client's order-in-flight lock);
// - a cold read right after login can be empty even when there were fills, and an agent that wrongly sees
//   "no fills" may place an order again, so an empty first answer is asked once more (the pacer spaces it
//   the broker's 5 seconds apart).
// Rows of other accounts that still slip through are dropped by the mappers, so a race with another
// process switching the selection can only leave fills out, never show another account's.
import { getTrades } from "../../../../generated/cpapi/client.gen.ts";
import type { OperationContext } from "../../../core/call-context.ts";
import type { ReadCall, ReadDeps } from "../deps.ts";

/** What a read of executions needs of a call (the order workflows' recovery and reconciler have no tool call). */
export type TradesCall = Pick<ReadCall, "transport"> & {
  readonly context: Pick<OperationContext, "noteBrokerRequest">;
};

function tradableAccounts(brokerage: unknown): number {
  if (brokerage === null || typeof brokerage !== "object") return 0;
  const accounts = (brokerage as { accounts?: unknown }).accounts;
  return Array.isArray(accounts) ? accounts.length : 0;
}

/** The getTrades body (wire JSON) covering `days` (1 = today) for accountId, which the caller has checked. */
export async function readTrades(
  deps: ReadDeps,
  call: TradesCall,
  accountId: string,
  days: number,
): Promise<unknown> {
  const listing = await deps.accounts.listing(call.transport);
  // The cached listing cannot say which account is selected now (another process may have switched since),
  // so a multi-account login always selects before reading.
  const switched = tradableAccounts(listing.brokerage) > 1;
  if (switched) {
    call.context.noteBrokerRequest();
    await deps.broker.client.switchAccount(accountId);
  }
  // After a switch, an identical read in flight for another account must not be shared.
  const first = await getTrades(call.transport, { query: { days } }, { fresh: switched });
  if (!Array.isArray(first.body) || first.body.length > 0) return first.body;
  return (await getTrades(call.transport, { query: { days } }, { fresh: true })).body;
}
