import { describe, expect, it } from "vitest";
import { accountModeOf, mapAccountMetadata, mapAccountsList } from "../../../src/cpapi/mappers/index.ts";
import { clone, expectGatewayError, expectValid, fixture, hashAccountId } from "./helpers.ts";

describe("mapAccountsList", () => {
  it("merges the paper login's /portfolio and /iserver accounts", () => {
    const result = mapAccountsList(
      fixture("getPortfolioAccounts.paper"),
      fixture("getBrokerageAccounts.paper"),
      {
        hashAccountId,
      },
    );
    expectValid("ibkr_accounts_list", result);
    expect(result).toEqual({
      accounts: [
        {
          account_id: "DU1234567",
          account_id_hash: hashAccountId("DU1234567"),
          // displayName equals the holder's name (accountTitle) on this build, so the alias is shown instead.
          display_name: "DU1234567",
          account_mode: "paper",
          base_currency: "USD",
          account_type: "DEMO",
          tradable: true,
        },
      ],
    });
  });

  it("adds accounts only the brokerage session lists and marks live accounts", () => {
    const result = mapAccountsList(
      fixture("getPortfolioAccounts.live"),
      fixture("getBrokerageAccounts.multi"),
      {
        hashAccountId,
      },
    );
    expectValid("ibkr_accounts_list", result);
    expect(result.accounts.map((a) => [a.account_id, a.account_mode, a.tradable, a.base_currency])).toEqual([
      ["U7654321", "live", true, "USD"],
      ["U7654322", "live", true, undefined],
    ]);
    expect(result.accounts[1]).toEqual({
      account_id: "U7654322",
      account_id_hash: hashAccountId("U7654322"),
      display_name: "U7654322",
      account_mode: "live",
      tradable: true,
    });
  });

  it("never copies the session id, server info or holder's name", () => {
    const text = JSON.stringify(
      mapAccountsList(fixture("getPortfolioAccounts.live"), fixture("getBrokerageAccounts.live"), {
        hashAccountId,
      }),
    );
    expect(text).not.toContain("6761a2f3");
    expect(text).not.toContain("JifN");
    expect(text).not.toContain("Simulated Live Trader");
  });

  it("uses a user-chosen alias as display name", () => {
    const portfolio = clone(fixture("getPortfolioAccounts.paper")) as Record<string, unknown>[];
    (portfolio[0] as Record<string, unknown>).accountAlias = "Paper playground";
    const result = mapAccountsList(portfolio, fixture("getBrokerageAccounts.paper"), { hashAccountId });
    expect(result.accounts[0]?.display_name).toBe("Paper playground");
  });

  it("marks nothing tradable when the brokerage session is down", () => {
    const result = mapAccountsList(fixture("getPortfolioAccounts.paper"), null, { hashAccountId });
    expectValid("ibkr_accounts_list", result);
    expect(result.accounts[0]).toMatchObject({ account_mode: "paper", tradable: false });
  });

  it("reports unknown when the paper signals disagree", () => {
    const brokerage = clone(fixture("getBrokerageAccounts.live")) as Record<string, unknown>;
    brokerage.isPaper = true;
    const result = mapAccountsList(fixture("getPortfolioAccounts.live"), brokerage, { hashAccountId });
    expectValid("ibkr_accounts_list", result);
    expect(result.accounts[0]?.account_mode).toBe("unknown");
  });

  it("refuses a row without a usable account id, without echoing ids", () => {
    const portfolio = clone(fixture("getPortfolioAccounts.paper")) as Record<string, unknown>[];
    const row = portfolio[0] as Record<string, unknown>;
    row.accountId = "DU 1234567";
    row.id = null;
    const error = expectGatewayError(
      () => mapAccountsList(portfolio, fixture("getBrokerageAccounts.paper"), { hashAccountId }),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getPortfolioAccounts", field: "accountId" },
    );
    expect(error.message).not.toContain("1234567");
  });

  it("refuses a brokerage body without an accounts list", () => {
    expectGatewayError(
      () => mapAccountsList(fixture("getPortfolioAccounts.paper"), { isPaper: true }, { hashAccountId }),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getBrokerageAccounts", field: "accounts" },
    );
  });
});

describe("accountModeOf", () => {
  it.each([
    ["DU1234567", true, "DEMO", "paper"],
    ["DF1234567", undefined, undefined, "paper"],
    ["U1234567", false, "INDIVIDUAL", "live"],
    ["U1234567", undefined, undefined, "live"],
    ["U1234567", true, undefined, "unknown"],
    ["DU1234567", false, undefined, "unknown"],
    ["U1234567", false, "DEMO", "unknown"],
  ] as const)("%s isPaper=%s type=%s -> %s", (id, isPaper, type, mode) => {
    expect(accountModeOf(id, isPaper, type)).toBe(mode);
  });
});

describe("mapAccountMetadata", () => {
  it("maps the account attributes without the holder's name", () => {
    const result = mapAccountMetadata(fixture("getAccountMeta.paper"), {
      accountId: "DU1234567",
      hashAccountId,
      isPaper: true,
    });
    expectValid("ibkr_account_metadata", result);
    expect(result).toEqual({
      account_id: "DU1234567",
      account_id_hash: hashAccountId("DU1234567"),
      display_name: "DU1234567",
      account_mode: "paper",
      base_currency: "USD",
      account_type: "DEMO",
      trading_type: "STKNOPT",
      business_type: "IB_PROSERVE",
      ib_entity: "IBLLC-US",
      clearing_status: "O",
      is_advisor: false,
      client_trading_allowed: true,
    });
    expect(JSON.stringify(result)).not.toContain("Simulated Paper Trader");
  });

  it("flags an advisor master and client trading disabled", () => {
    const meta = clone(fixture("getAccountMeta.paper")) as Record<string, unknown>;
    meta.accountId = "F1234567";
    meta.id = "F1234567";
    meta.type = "INDIVIDUAL";
    meta.noClientTrading = true;
    const result = mapAccountMetadata(meta, { accountId: "F1234567", hashAccountId });
    expectValid("ibkr_account_metadata", result);
    expect(result).toMatchObject({ account_mode: "live", is_advisor: true, client_trading_allowed: false });
  });

  it("refuses a body that describes another account", () => {
    expectGatewayError(
      () => mapAccountMetadata(fixture("getAccountMeta.paper"), { accountId: "DU7654321", hashAccountId }),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getAccountMeta", field: "accountId", reason: "other_account" },
    );
  });
});
