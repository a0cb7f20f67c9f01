import { describe, expect, it } from "vitest";
import {
  isNotReady,
  mapAccountSummary,
  mapPnlDaily,
  mapPnlRealtime,
  mapPortfolioSnapshot,
  mapPositionsPage,
} from "../../../src/cpapi/mappers/index.ts";
import { clone, expectGatewayError, expectValid, fixture } from "./helpers.ts";

const ACCOUNT = { accountId: "DU1234567" };
const usd = (amount: string) => ({ amount, currency: "USD" });

function summaryEntry(amount: number, currency: string | null = "USD") {
  return { amount, currency, isNull: false, timestamp: 1765913723000, value: null, severity: 0 };
}

describe("mapAccountSummary", () => {
  it("reads the totals from `amount` in the base currency", () => {
    const result = mapAccountSummary(fixture("getAccountSummary.paper"), ACCOUNT);
    expectValid("ibkr_account_summary", result);
    expect(result).toEqual({
      account_id: "DU1234567",
      base_currency: "USD",
      net_liquidation: usd("1008439.22"),
      total_cash: usd("893388.47"),
      settled_cash: usd("893388.47"),
      buying_power: usd("3649760.48"),
      available_funds: usd("912440.12"),
      excess_liquidity: usd("979352.7"),
      initial_margin: usd("95686.65"),
      maintenance_margin: usd("28774.07"),
      gross_position_value: usd("114738.3"),
      equity_with_loan: usd("1008126.77"),
      as_of: "2025-12-16T19:35:23Z",
    });
  });

  it("sums the -s and -c segments when a build sends no total, and leaves out null figures", () => {
    const body = {
      accountcode: { ...summaryEntry(0, null), value: "DU1234567" },
      "netliquidation-s": summaryEntry(1000.5),
      "netliquidation-c": summaryEntry(250.25),
      buyingpower: { ...summaryEntry(0), isNull: true },
      availablefunds: { ...summaryEntry(0), amount: undefined, value: "1,200.50" },
    };
    const result = mapAccountSummary(body, { ...ACCOUNT, baseCurrency: "USD" });
    expectValid("ibkr_account_summary", result);
    expect(result.net_liquidation).toEqual(usd("1250.75"));
    expect(result.available_funds).toEqual(usd("1200.5"));
    expect(result).not.toHaveProperty("buying_power");
  });

  it("refuses a summary of another account and one without net liquidation", () => {
    expectGatewayError(
      () => mapAccountSummary(fixture("getAccountSummary.paper"), { accountId: "DU7654321" }),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getAccountSummary", field: "accountcode", reason: "other_account" },
    );
    const body = clone(fixture("getAccountSummary.paper")) as Record<string, unknown>;
    delete body.netliquidation;
    delete body["netliquidation-s"];
    delete body["netliquidation-c"];
    expectGatewayError(() => mapAccountSummary(body, ACCOUNT), "BROKER_RESPONSE_INVALID", {
      field: "netliquidation",
    });
  });
});

describe("mapPnlDaily", () => {
  it("takes totals from BASE and one row per currency", () => {
    const result = mapPnlDaily(fixture("getAccountLedger.paper"), { ...ACCOUNT, baseCurrency: "USD" });
    expectValid("ibkr_pnl_daily", result);
    expect(result).toEqual({
      account_id: "DU1234567",
      base_currency: "USD",
      realized_pnl: usd("0"),
      unrealized_pnl: usd("4821.3"),
      by_currency: [
        {
          currency: "USD",
          realized_pnl: "0",
          unrealized_pnl: "4821.3",
          cash_balance: "893388.47",
          exchange_rate: "1",
        },
      ],
      // The ledger's timestamp is in epoch seconds.
      as_of: "2025-12-16T19:35:23Z",
    });
  });

  it("finds the base currency from the row at rate 1 and keeps other currencies in their own units", () => {
    const ledger = clone(fixture("getAccountLedger.paper")) as Record<string, Record<string, unknown>>;
    ledger.EUR = {
      ...ledger.USD,
      currency: "EUR",
      secondkey: "EUR",
      cashbalance: -1250.5,
      realizedpnl: 12.4,
      unrealizedpnl: 0,
      exchangerate: 1.17432,
    };
    const result = mapPnlDaily(ledger, ACCOUNT);
    expectValid("ibkr_pnl_daily", result);
    expect(result.base_currency).toBe("USD");
    expect(result.by_currency).toContainEqual({
      currency: "EUR",
      realized_pnl: "12.4",
      unrealized_pnl: "0",
      cash_balance: "-1250.5",
      exchange_rate: "1.17432",
    });
  });

  it("refuses a ledger of another account", () => {
    expectGatewayError(
      () => mapPnlDaily(fixture("getAccountLedger.paper"), { accountId: "U7654321", baseCurrency: "USD" }),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getAccountLedger", field: "acctcode" },
    );
  });
});

describe("mapPnlRealtime", () => {
  const ctx = { ...ACCOUNT, baseCurrency: "USD", nowMs: Date.UTC(2025, 11, 16, 19, 40, 0) };

  it("maps the account's Core row", () => {
    const result = mapPnlRealtime(fixture("getPartitionedPnl.warm"), ctx);
    if (isNotReady(result)) throw new Error("expected figures");
    expectValid("ibkr_pnl_realtime", result);
    expect(result).toEqual({
      account_id: "DU1234567",
      base_currency: "USD",
      daily_pnl: usd("1532.8"),
      unrealized_pnl: usd("4821.3"),
      net_liquidation: usd("1008439.22"),
      excess_liquidity: usd("979352.7"),
      market_value: usd("114738.3"),
      as_of: "2025-12-16T19:40:00Z",
    });
  });

  it("returns the pnl_cold marker for the first answer {upnl:{}} and for a missing account row", () => {
    expect(mapPnlRealtime(fixture("getPartitionedPnl.cold"), ctx)).toEqual({
      kind: "not_ready",
      reason: "pnl_cold",
    });
    const other = mapPnlRealtime(fixture("getPartitionedPnl.warm"), { ...ctx, accountId: "DU7654321" });
    expect(isNotReady(other) && other.reason).toBe("pnl_cold");
  });

  it("refuses a row without daily P&L", () => {
    expectGatewayError(
      () => mapPnlRealtime({ upnl: { "DU1234567.Core": { rowType: 1, nl: 1, upl: 2 } } }, ctx),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getPartitionedPnl", field: "dpl" },
    );
  });
});

const OPTION_ROW = {
  acctId: "DU1234567",
  conid: 812345678,
  contractDesc: "AAPL JAN2026 275 C [AAPL  260116C00275000 100]",
  position: -2,
  mktPrice: 8.95,
  mktValue: -1790,
  currency: "USD",
  avgCost: 912.3,
  avgPrice: 9.123,
  realizedPnl: 0,
  unrealizedPnl: 34.6,
  exchs: null,
  expiry: "20260116",
  putOrCall: "C",
  multiplier: 100,
  strike: "275",
  assetClass: "OPT",
  undConid: 265598,
  model: "",
  ticker: "AAPL",
  listingExchange: null,
};

describe("mapPositionsPage", () => {
  it("maps a page of stock and ETF positions", () => {
    const result = mapPositionsPage(fixture("getPositions.paper"), { ...ACCOUNT, page: 0 });
    expectValid("ibkr_positions_list", result);
    expect(result.page).toBe(0);
    expect(result.page_size).toBe(100);
    expect(result.has_more).toBe(false);
    expect(result.positions[0]).toEqual({
      contract_id: "265598",
      symbol: "AAPL",
      description: "AAPL",
      asset_class: "stock",
      currency: "USD",
      quantity: "200",
      average_price: "251.3",
      average_cost: "251.3",
      market_price: "274.61",
      market_value: "54922",
      unrealized_pnl: "4662",
      realized_pnl: "0",
      listing_exchange: "NASDAQ",
    });
    expect(result.positions.map((p) => [p.symbol, p.asset_class, p.market_value])).toEqual([
      ["AAPL", "stock", "54922"],
      ["MSFT", "stock", "28583.4"],
      ["SPY", "etf", "13614.6"],
    ]);
  });

  it("maps an option position with strike, right, expiry, multiplier and underlying", () => {
    const result = mapPositionsPage([OPTION_ROW], { ...ACCOUNT, page: 1 });
    expectValid("ibkr_positions_list", result);
    expect(result.positions[0]).toEqual({
      contract_id: "812345678",
      symbol: "AAPL",
      description: "AAPL JAN2026 275 C [AAPL  260116C00275000 100]",
      asset_class: "option",
      currency: "USD",
      quantity: "-2",
      average_price: "9.123",
      average_cost: "912.3",
      market_price: "8.95",
      market_value: "-1790",
      unrealized_pnl: "34.6",
      realized_pnl: "0",
      multiplier: "100",
      expiry: "2026-01-16",
      strike: "275",
      right: "call",
      underlying_contract_id: "265598",
    });
  });

  it("says has_more for a full page and handles an empty one", () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ ...OPTION_ROW, conid: 900000 + i }));
    const full = mapPositionsPage(rows, { ...ACCOUNT, page: 0 });
    expectValid("ibkr_positions_list", full);
    expect(full.has_more).toBe(true);
    const empty = mapPositionsPage(fixture("getPositions.empty"), { ...ACCOUNT, page: 3 });
    expectValid("ibkr_positions_list", empty);
    expect(empty).toEqual({
      account_id: "DU1234567",
      page: 3,
      page_size: 100,
      positions: [],
      has_more: false,
    });
  });

  it("refuses rows of another account and rows without market value", () => {
    expectGatewayError(
      () => mapPositionsPage([{ ...OPTION_ROW, acctId: "DU7654321" }], { ...ACCOUNT, page: 0 }),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getPositions", field: "acctId" },
    );
    expectGatewayError(
      () => mapPositionsPage([{ ...OPTION_ROW, mktValue: null }], { ...ACCOUNT, page: 0 }),
      "BROKER_RESPONSE_INVALID",
      { field: "mktValue" },
    );
  });
});

describe("mapPortfolioSnapshot", () => {
  it("combines summary, ledger cash and the first positions page", () => {
    const result = mapPortfolioSnapshot(
      fixture("getAccountSummary.paper"),
      fixture("getAccountLedger.paper"),
      fixture("getPositions.paper"),
      ACCOUNT,
    );
    expectValid("ibkr_portfolio_snapshot", result);
    expect(result).toMatchObject({
      account_id: "DU1234567",
      base_currency: "USD",
      net_liquidation: usd("1008439.22"),
      total_cash: usd("893388.47"),
      buying_power: usd("3649760.48"),
      excess_liquidity: usd("979352.7"),
      initial_margin: usd("95686.65"),
      maintenance_margin: usd("28774.07"),
      cash_balances: [usd("893388.47")],
      positions_truncated: false,
      as_of: "2025-12-16T19:35:23Z",
    });
    expect(result.positions).toHaveLength(3);
  });

  it("lets the workflow say whether more positions exist", () => {
    const result = mapPortfolioSnapshot(
      fixture("getAccountSummary.paper"),
      fixture("getAccountLedger.paper"),
      fixture("getPositions.paper"),
      { ...ACCOUNT, morePositions: true },
    );
    expect(result.positions_truncated).toBe(true);
  });
});
