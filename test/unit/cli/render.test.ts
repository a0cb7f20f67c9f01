// Human output: aligned, money formatted, provenance in words, simulated data announced.
import { describe, expect, it } from "vitest";
import { formatValue, groupDigits, renderResult } from "../../../src/cli/render/result.ts";

describe("result rendering", () => {
  it("groups digits without changing them", () => {
    expect(groupDigits("1234567.891")).toBe("1,234,567.891");
    expect(groupDigits("-1000")).toBe("-1,000");
    expect(groupDigits("999")).toBe("999");
  });

  it("formats money and provenance", () => {
    expect(formatValue({ amount: "1234.5", currency: "USD" })).toBe("1,234.50 USD");
    expect(formatValue({ status: "delayed", age_seconds: 900, warnings: ["15-minute delayed data"] })).toBe(
      "delayed (900 s old) - 15-minute delayed data",
    );
  });

  it("renders a simulated account list as a banner and a table in the hinted column order", () => {
    const text = renderResult("ibkr_accounts_list", {
      source: { backend: "simulator", simulated: true },
      accounts: [
        {
          account_id: "DU1234567",
          account_id_hash: "a".repeat(64),
          display_name: "Paper",
          account_mode: "paper",
          base_currency: "USD",
          account_type: "DEMO",
          tradable: true,
        },
        {
          account_id: "U7654321",
          account_id_hash: "b".repeat(64),
          display_name: "Main",
          account_mode: "live",
          base_currency: "EUR",
          account_type: "INDIVIDUAL",
          tradable: false,
        },
      ],
    });
    expect(text).toBe(
      [
        "SIMULATED DATA from the built-in simulator - not a real IBKR account.",
        "",
        "Accounts (2):",
        "ACCOUNT ID  ACCOUNT MODE  DISPLAY NAME  BASE CURRENCY  ACCOUNT TYPE  TRADABLE",
        "----------  ------------  ------------  -------------  ------------  --------",
        "DU1234567   paper         Paper         USD            DEMO          true",
        "U7654321    live          Main          EUR            INDIVIDUAL    false",
      ].join("\n"),
    );
  });

  it("right-aligns money columns", () => {
    const text = renderResult("ibkr_positions_list", {
      positions: [
        { symbol: "AAPL", market_value: { amount: "19955", currency: "USD" } },
        { symbol: "SPY", market_value: { amount: "512.3", currency: "USD" } },
      ],
    });
    expect(text).toContain("AAPL    19,955.00 USD");
    expect(text).toContain("SPY        512.30 USD");
  });
});
