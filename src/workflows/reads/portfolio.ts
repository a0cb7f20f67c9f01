// Portfolio tools: balances (/portfolio/{id}/summary), the day's P&L per currency (/portfolio/{id}/ledger),
// the broker's running P&L (/iserver/account/pnl/partitioned), position pages and a one-call snapshot.
// Every tool first checks the account against the broker's own list (deps.accounts.require), so an account
// the login does not hold never reaches a /portfolio/{id} or /iserver path.
import {
  getAccountLedger,
  getAccountSummary,
  invalidatePositions,
} from "../../../generated/cpapi/client.gen.ts";
import type { ToolInput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import {
  mapAccountSummary,
  mapPnlDaily,
  mapPortfolioSnapshot,
  mapPositionsPage,
} from "../../cpapi/mappers/index.ts";
import type { AccountFacts } from "./account-directory.ts";
import { type ReadDeps, readCall } from "./deps.ts";
import { readFirstPositions, readPositionsPage } from "./portfolio/positions.ts";
import { readRealtimePnl } from "./portfolio/realtime-pnl.ts";

type AccountArgs = { readonly account_id: string };

/** The running P&L carries no currency on the wire; without the account's base currency it cannot be labelled. */
function requireBaseCurrency(facts: AccountFacts): string {
  if (facts.baseCurrency !== undefined) return facts.baseCurrency;
  throw new GatewayError("BROKER_RESPONSE_INVALID", {
    details: { operation_id: "getPortfolioAccounts", field: "currency", reason: "missing_or_invalid" },
  });
}

export function portfolioReads(deps: ReadDeps) {
  return {
    async "reads.accountSummary"(args: Record<string, unknown>, context: OperationContext) {
      const { account_id: accountId } = args as AccountArgs;
      const call = readCall(deps, context);
      const facts = await deps.accounts.require(accountId, call.transport);
      const summary = await getAccountSummary(call.transport, { path: { accountId } });
      return {
        ...mapAccountSummary(summary.body, { accountId, baseCurrency: facts.baseCurrency }),
        source: call.source,
      };
    },

    async "reads.pnlDaily"(args: Record<string, unknown>, context: OperationContext) {
      const { account_id: accountId } = args as AccountArgs;
      const call = readCall(deps, context);
      const facts = await deps.accounts.require(accountId, call.transport);
      const ledger = await getAccountLedger(call.transport, { path: { accountId } });
      return {
        ...mapPnlDaily(ledger.body, { accountId, baseCurrency: facts.baseCurrency }),
        source: call.source,
      };
    },

    async "reads.pnlRealtime"(args: Record<string, unknown>, context: OperationContext) {
      const { account_id: accountId } = args as AccountArgs;
      const call = readCall(deps, context);
      const facts = await deps.accounts.require(accountId, call.transport);
      const baseCurrency = requireBaseCurrency(facts);
      const figures = await readRealtimePnl(call.transport, deps.clock, { accountId, baseCurrency });
      return { ...figures, source: call.source };
    },

    async "reads.positionsList"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_positions_list">;
      const accountId = input.account_id;
      const page = input.page ?? 0;
      const call = readCall(deps, context);
      await deps.accounts.require(accountId, call.transport);
      // The broker answers positions from a cache it rebuilds about once a minute or when told to (POST
      // .../positions/invalidate). It is told to only when the caller asks (refresh: true, e.g. right after a
      // fill): a rebuild is slower, and rebuilding on every read would let the pages of one walk through the
      // list come from different rebuilds, so a position could shift between pages and be missed or shown
      // twice. Without refresh, consecutive pages come from the same cached list.
      if (input.refresh === true) await invalidatePositions(call.transport, { path: { accountId } });
      const body = await readPositionsPage(call.transport, accountId, page);
      return { ...mapPositionsPage(body, { accountId, page }), source: call.source };
    },

    async "reads.portfolioSnapshot"(args: Record<string, unknown>, context: OperationContext) {
      const { account_id: accountId } = args as AccountArgs;
      const call = readCall(deps, context);
      const facts = await deps.accounts.require(accountId, call.transport);
      // The three reads are independent, so they go together (the pacer keeps them within the broker's
      // limits). Positions come from the broker's cache as they are: the snapshot is an overview, and its
      // contract does not let it rebuild the cache (ibkr_positions_list with refresh does).
      const [summary, ledger, positions] = await Promise.all([
        getAccountSummary(call.transport, { path: { accountId } }),
        getAccountLedger(call.transport, { path: { accountId } }),
        readFirstPositions(call.transport, accountId),
      ]);
      return {
        ...mapPortfolioSnapshot(summary.body, ledger.body, positions.page, {
          accountId,
          baseCurrency: facts.baseCurrency,
          morePositions: positions.more,
        }),
        source: call.source,
      };
    },
  };
}
