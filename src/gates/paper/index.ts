// The paper gate: the lighter paper path only ever reaches an account the broker reports as a paper account
// (isPaper from /iserver/accounts) whose id also has a paper prefix (DU, DUH, DF), so a wrong allowlist entry
// can never send a real-money order through it.
import { GatewayError } from "../../core/gateway-error.ts";

const PAPER_PREFIX = /^D[UF]/i;

export interface PaperFacts {
  readonly enabled: boolean;
  readonly accountId: string;
  readonly allowedAccounts: readonly string[];
  /** The broker's isPaper flag for the login; undefined when the brokerage session did not say. */
  readonly brokerSaysPaper: boolean | undefined;
}

export function assertPaperAccount(facts: PaperFacts): void {
  if (!facts.enabled) {
    throw new GatewayError("PAPER_TRADING_DISABLED", {
      message: "Paper trading is disabled in the configuration.",
      details: { field: "paper_trading.enabled" },
    });
  }
  const wanted = facts.accountId.toUpperCase();
  if (!facts.allowedAccounts.some((id) => id.toUpperCase() === wanted)) {
    throw new GatewayError("PAPER_TRADING_DISABLED", {
      message: "The account is not on the paper allowlist.",
      userAction: "Add the account to `paper_trading.allowed_accounts`, or use an account listed there.",
      details: { field: "account_id" },
    });
  }
  if (facts.brokerSaysPaper !== true || !PAPER_PREFIX.test(facts.accountId)) {
    throw new GatewayError("PAPER_ACCOUNT_REFUSED", {
      details: {
        field: "account_id",
        broker_reports_paper: facts.brokerSaysPaper ?? null,
        paper_prefix: PAPER_PREFIX.test(facts.accountId),
      },
    });
  }
}
