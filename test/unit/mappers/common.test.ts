import { describe, expect, it } from "vitest";
import {
  assetClassOf,
  cap,
  compact,
  contractId,
  dateFromCompact,
  idString,
  invalid,
  isNotReady,
  sideOf,
  timestampFromCompact,
  timestampFromDashed,
  timestampFromMs,
  wireDecimal,
} from "../../../src/cpapi/mappers/common.ts";

describe("wire readers", () => {
  it.each([
    ["1,300", "1300"],
    ["C199.50", "199.5"],
    ["H12", "12"],
    ["+1.82", "1.82"],
    ["-0.24", "-0.24"],
    ["24.6%", "24.6"],
    ["5.2M", "5200000"],
    ["3.9T", "3900000000000"],
    [199.5, "199.5"],
    // Already canonical text comes back as it is; anything else still goes through the decimal parse.
    ["250.01", "250.01"],
    ["-0", "0"],
    ["1.50", "1.5"],
    ["007", "7"],
    // More digits than decimal arithmetic keeps: rounded as before, not passed through.
    ["12345678901234567890123", "12345678901234567890000"],
    ["", undefined],
    ["N/A", undefined],
    [null, undefined],
  ] as const)("wireDecimal(%s) = %s", (value, expected) => {
    expect(wireDecimal(value)).toBe(expected);
  });

  it("normalises ids that drift between string and number", () => {
    expect([idString(265598), idString("265598"), idString(" 0042 "), idString(-1), idString("1e5")]).toEqual(
      ["265598", "265598", "42", undefined, undefined],
    );
    expect([contractId("265598@SMART"), contractId(0), contractId("abc")]).toEqual([
      "265598",
      undefined,
      undefined,
    ]);
  });

  it("reads the broker's time spellings as RFC 3339 UTC", () => {
    expect(timestampFromMs(1765913620418)).toBe("2025-12-16T19:33:40Z");
    expect(timestampFromMs(1765913723)).toBe("2025-12-16T19:35:23Z");
    expect(timestampFromMs("1765913620418")).toBe("2025-12-16T19:33:40Z");
    expect(timestampFromDashed("20251216-19:33:40")).toBe("2025-12-16T19:33:40Z");
    expect(timestampFromCompact("251216193102")).toBe("2025-12-16T19:31:02Z");
    expect([dateFromCompact("20260116"), dateFromCompact(20260229), dateFromCompact("JAN26")]).toEqual([
      "2026-01-16",
      undefined,
      undefined,
    ]);
  });

  it("maps security types and sides", () => {
    expect(
      ["STK", "OPT", "FOP", "FUT", "CASH", "IND", "BOND", "FUND", "CRYPTO", "WAR", undefined].map((t) =>
        assetClassOf(t),
      ),
    ).toEqual([
      "stock",
      "option",
      "option",
      "future",
      "forex",
      "index",
      "bond",
      "fund",
      "crypto",
      "other",
      "other",
    ]);
    expect(assetClassOf("STK", "ETF")).toBe("etf");
    expect(["BUY", "B", "Sell", "S", "x"].map(sideOf)).toEqual(["buy", "buy", "sell", "sell", undefined]);
  });

  it("caps text by code points and drops undefined properties", () => {
    expect(cap("  abcdef  ", 3)).toBe("abc");
    expect(cap("a😀b", 2)).toBe("a😀");
    expect(compact({ a: 1, b: undefined, c: null })).toEqual({ a: 1, c: null });
    expect(Object.keys(compact({ a: 1, b: undefined }))).toEqual(["a"]);
  });

  it("builds BROKER_RESPONSE_INVALID with operation and field only", () => {
    const error = invalid("getPositions", "acctId", "other_account");
    expect(error.code).toBe("BROKER_RESPONSE_INVALID");
    expect(error.details).toEqual({ operation_id: "getPositions", field: "acctId", reason: "other_account" });
    expect(isNotReady({ kind: "not_ready", reason: "pnl_cold" })).toBe(true);
    expect(isNotReady({ kind: "other" })).toBe(false);
  });
});
