// Account endpoints: /iserver/accounts (the brokerage pre-flight, with isPaper for the whole login),
// account switching for multi-account logins, /portfolio/accounts (the portfolio pre-flight; note the
// lowercase `faclient`) and one account's attributes.
import type { SimAccount } from "../accounts.ts";
import type { SimulatorState } from "../state.ts";
import { badRequest, fail, ok, type Route, SERVER_INFO } from "./types.ts";

const ALLOWED_ASSET_TYPES =
  "STK,CFD,OPT,FOP,WAR,FUT,BAG,PDC,CASH,IND,BOND,BILL,FUND,SLB,News,CMDTY,IOPT,ICU,ICS,PHYSS,CRYPTO";
const CHART_PERIODS = {
  STK: ["*"],
  OPT: ["2h", "1d", "2d", "1w", "1m"],
  FUT: ["*"],
  CASH: ["*"],
  IND: ["*"],
};

function sessionId(state: SimulatorState): string {
  return `${(0x6761a2f3 + state.epochState.epoch).toString(16)}.0000002c`;
}

const getBrokerageAccounts: Route = (_request, state) => {
  state.epochState.accountsQueried = true;
  const ids = [...state.accounts.keys()];
  const paper = [...state.accounts.values()].every((a) => a.paper);
  return ok({
    accounts: ids,
    acctProps: Object.fromEntries(
      ids.map((id) => [
        id,
        {
          hasChildAccounts: false,
          supportsCashQty: true,
          supportsFractions: true,
          allowCustomerTime: false,
          autoFx: false,
          liteUnderPro: false,
          noFxConv: false,
        },
      ]),
    ),
    aliases: Object.fromEntries([["All", "All"], ...ids.map((id) => [id, id])]),
    allowFeatures: {
      showGFIS: true,
      allowEventContract: true,
      allowFXConv: true,
      allowMTA: true,
      allowTypeAhead: true,
      snapshotRefreshTimeout: 30,
      liteUser: false,
      showWebNews: true,
      research: true,
      allowCrypto: false,
      allowFA: ids.length > 1,
      allowedAssetTypes: ALLOWED_ASSET_TYPES,
    },
    chartPeriods: CHART_PERIODS,
    groups: ids.length > 1 ? ["All"] : [],
    profiles: [],
    selectedAccount: state.selectedAccount,
    serverInfo: SERVER_INFO,
    sessionId: sessionId(state),
    isFT: false,
    isPaper: paper,
  });
};

const switchAccount: Route = (request, state) => {
  const body = (request.body ?? {}) as { acctId?: unknown };
  if (typeof body.acctId !== "string") return badRequest("acctId needed");
  if (!state.accounts.has(body.acctId)) return fail(500, `Account ${body.acctId} is not valid`);
  state.selectedAccount = body.acctId;
  return ok({ set: true, acctId: body.acctId });
};

export function portfolioAccount(account: SimAccount): Record<string, unknown> {
  return {
    id: account.id,
    "PrepaidCrypto-Z": false,
    "PrepaidCrypto-P": false,
    brokerageAccess: true,
    accountId: account.id,
    accountVan: account.id,
    accountTitle: account.title,
    displayName: account.title,
    accountAlias: null,
    accountStatus: account.openedAt,
    currency: account.currency,
    type: account.type,
    tradingType: "STKNOPT",
    businessType: "IB_PROSERVE",
    category: "",
    ibEntity: "IBLLC-US",
    faclient: false,
    clearingStatus: "O",
    covestor: false,
    noClientTrading: false,
    trackVirtualFXPortfolio: true,
    acctCustType: "INDIVIDUAL",
    parent: { mmc: [], accountId: "", isMParent: false, isMChild: false, isMultiplex: false },
    desc: `${account.id} - ${account.title}`,
  };
}

const getPortfolioAccounts: Route = (_request, state) => {
  state.epochState.portfolioQueried = true;
  return ok([...state.accounts.values()].map(portfolioAccount));
};

const getAccountMeta: Route = (request, state) => {
  const account = state.accounts.get(request.params.accountId ?? "");
  if (account === undefined) return badRequest("accountId is not valid");
  return ok(portfolioAccount(account));
};

export const ACCOUNT_ROUTES = {
  getBrokerageAccounts,
  switchAccount,
  getPortfolioAccounts,
  getAccountMeta,
} satisfies Record<string, Route>;
