// Account tools: the accounts of this login (from /portfolio/accounts and /iserver/accounts) and one
// account's facts. The account holder's name is never returned.
import { getAccountMeta } from "../../../generated/cpapi/client.gen.ts";
import type { ToolInput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { mapAccountMetadata, mapAccountsList } from "../../cpapi/mappers/index.ts";
import { type ReadDeps, readCall } from "./deps.ts";

export function accountReads(deps: ReadDeps) {
  const hashAccountId = (id: string) => deps.store.hashAccountId(id);
  return {
    async "reads.accountsList"(_args: Record<string, unknown>, context: OperationContext) {
      const call = readCall(deps, context);
      const listing = await deps.accounts.listing(call.transport, { fresh: true });
      return {
        ...mapAccountsList(listing.portfolio, listing.brokerage, { hashAccountId }),
        source: call.source,
      };
    },

    async "reads.accountMetadata"(args: Record<string, unknown>, context: OperationContext) {
      const { account_id: accountId } = args as ToolInput<"ibkr_account_metadata">;
      const call = readCall(deps, context);
      const facts = await deps.accounts.require(accountId, call.transport);
      const meta = await getAccountMeta(call.transport, { path: { accountId } });
      return {
        ...mapAccountMetadata(meta.body, {
          hashAccountId,
          accountId,
          ...(facts.isPaper !== undefined ? { isPaper: facts.isPaper } : {}),
          ...(facts.hasChildAccounts !== undefined ? { hasChildAccounts: facts.hasChildAccounts } : {}),
        }),
        source: call.source,
      };
    },
  };
}
