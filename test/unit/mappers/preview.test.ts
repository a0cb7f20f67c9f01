// The broker-backed parts of an order preview (contract, quote, what-if) assembled into a full preview
// output, so the shapes are checked against the real tool schemas.
import { describe, expect, it } from "vitest";
import {
  isNotReady,
  mapContractResolve,
  mapDepthBook,
  mapPreviewQuote,
  mapWhatIf,
  provenanceOf,
} from "../../../src/cpapi/mappers/index.ts";
import { expectGatewayError, expectValid, fixture } from "./helpers.ts";

const NOW = 1765913725418;
const CURRENCIES = { baseCurrency: "USD", contractCurrency: "USD" };
const usd = (amount: string) => ({ amount, currency: "USD" });

function previewOf(whatIf: object, quote: object) {
  const {
    valid_exchanges: _routes,
    company_name: _name,
    ...contract
  } = mapContractResolve(fixture("searchContracts.aapl"), [fixture("getContractInfo.aapl")], {
    symbol: "AAPL",
    exchange: "NASDAQ",
  });
  return {
    preview_id: "pv_0123456789abcdef",
    account_id: "DU1234567",
    created_at: "2025-12-16T19:35:25Z",
    expires_at: "2025-12-16T19:40:25Z",
    order_sent: false,
    order: { side: "buy", quantity: "10", order_type: "limit", limit_price: "270", time_in_force: "day" },
    contract,
    what_if: whatIf,
    risk: { policy_id: "default", decision: "accepted", warnings: [] },
    quote,
  };
}

describe("mapWhatIf", () => {
  it("parses the display strings into money", () => {
    const whatIf = mapWhatIf(fixture("whatIfOrder.success"), CURRENCIES);
    expect(whatIf).toEqual({
      order_value: usd("2700"),
      commission: usd("1"),
      total: usd("2701"),
      initial_margin: { current: usd("95687"), change: usd("675"), after: usd("96362") },
      maintenance_margin: { current: usd("28774"), change: usd("675"), after: usd("29449") },
      equity_with_loan: { current: usd("1008127"), change: usd("-1"), after: usd("1008126") },
    });
    const quote = mapPreviewQuote(fixture("getMarketSnapshot.live"), {
      contractId: "265598",
      nowMs: NOW,
      maxSnapshotAgeSeconds: 30,
      currency: "USD",
      usStock: true,
    });
    if (isNotReady(quote)) throw new Error("expected a quote");
    expect(quote).toEqual({
      bid: "274.6",
      ask: "274.62",
      last: "274.61",
      currency: "USD",
      provenance: { status: "live", age_seconds: 2, as_of: "2025-12-16T19:35:23Z", warnings: [] },
    });
    expectValid("ibkr_order_preview", previewOf(whatIf, quote));
  });

  it("passes the broker warning through unchanged and uses margin figures in the base currency", () => {
    const whatIf = mapWhatIf(fixture("whatIfOrder.no-market-data"), {
      baseCurrency: "EUR",
      contractCurrency: "USD",
    });
    expect(whatIf.broker_warning).toBe(
      "21/You are trying to submit an order without having market data for this instrument. \nIB strongly recommends against this kind of blind trading which may result in \nerroneous or unexpected trades.",
    );
    expect(whatIf.commission).toEqual(usd("1"));
    expect(whatIf.initial_margin.change).toEqual({ amount: "675", currency: "EUR" });
    const { order: _single, ...bracket } = previewOf(whatIf, {
      currency: "USD",
      provenance: { status: "delayed", warnings: [] },
    });
    expectValid("ibkr_bracket_order_preview", {
      ...bracket,
      legs: [
        {
          role: "entry",
          side: "buy",
          quantity: "10",
          order_type: "limit",
          limit_price: "270",
          time_in_force: "day",
        },
        {
          role: "take_profit",
          side: "sell",
          quantity: "10",
          order_type: "limit",
          limit_price: "280",
          time_in_force: "day",
        },
        {
          role: "stop_loss",
          side: "sell",
          quantity: "10",
          order_type: "stop",
          stop_price: "260",
          time_in_force: "day",
        },
      ],
    });
  });

  it("takes the upper end of a commission range", () => {
    const body = { ...(fixture("whatIfOrder.success") as Record<string, unknown>) };
    body.amount = {
      amount: "2,700.00 USD (10 Shares)",
      commission: "1.00 - 1.50 USD",
      total: "2,701.50 USD",
    };
    expect(mapWhatIf(body, CURRENCIES).commission).toEqual(usd("1.5"));
  });

  it("turns a broker error into BROKER_ORDER_REJECTED and a missing margin change into an invalid answer", () => {
    const rejected = expectGatewayError(
      () => mapWhatIf(fixture("whatIfOrder.error"), CURRENCIES),
      "BROKER_ORDER_REJECTED",
      { operation_id: "whatIfOrder", untrusted_fields: ["broker_message"] },
    );
    expect(String(rejected.details?.broker_message)).toMatch(/^We cannot accept an order at the limit price/);
    const body = {
      ...(fixture("whatIfOrder.success") as Record<string, unknown>),
      initial: { current: "1" },
    };
    expectGatewayError(() => mapWhatIf(body, CURRENCIES), "BROKER_RESPONSE_INVALID", {
      operation_id: "whatIfOrder",
      field: "initial.change",
    });
  });

  it("returns the pre-flight marker instead of a quote", () => {
    expect(
      mapPreviewQuote(fixture("getMarketSnapshot.preflight"), {
        contractId: "265598",
        nowMs: NOW,
        maxSnapshotAgeSeconds: 30,
        currency: "USD",
      }),
    ).toEqual({ kind: "not_ready", reason: "snapshot_preflight" });
  });
});

describe("mapDepthBook", () => {
  it("splits ladder rows into bids (highest first) and asks (lowest first)", () => {
    const rows = [
      { row: 0, focus: 0, price: "274.64", ask: "3" },
      { row: 1, focus: 0, price: "274.62", ask: "1,200" },
      { row: 2, focus: 1, price: "274.61" },
      { row: 3, focus: 0, price: "274.60", bid: "800" },
      { row: 4, focus: 0, price: "274.58", bid: "5" },
      { row: 5, focus: 0, price: "274.57", bid: "0" },
      "junk",
    ];
    const result = mapDepthBook(rows, {
      accountId: "DU1234567",
      contractId: "265598",
      exchange: "NASDAQ",
      levels: 1,
      provenance: provenanceOf({ availability: "R", nowMs: NOW }),
    });
    expectValid("ibkr_market_depth", result);
    expect(result).toEqual({
      account_id: "DU1234567",
      contract_id: "265598",
      exchange: "NASDAQ",
      bids: [{ price: "274.6", size: "800" }],
      asks: [{ price: "274.62", size: "1200" }],
      provenance: { status: "live", warnings: [] },
    });
  });
});
