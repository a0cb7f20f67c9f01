import { describe, expect, it } from "vitest";
import {
  isNotReady,
  mapCurrencyRate,
  mapHistoricalBars,
  mapMarketSnapshot,
  mapOptionGreeks,
  provenanceOf,
  snapshotAvailability,
} from "../../../src/cpapi/mappers/index.ts";
import { clone, expectGatewayError, expectValid, fixture } from "./helpers.ts";

// Two seconds after the fixtures' _updated (1765913723418 = 2025-12-16T19:35:23.418Z).
const NOW = 1765913725418;
const AAPL = { contractId: "265598", nowMs: NOW, maxSnapshotAgeSeconds: 30 };
const SIZE_WARNING = "Bid and ask sizes are as the broker sends them; for US stocks that is lots of 100.";

function quote(body: unknown, ctx: Parameters<typeof mapMarketSnapshot>[1]) {
  const result = mapMarketSnapshot(body, ctx);
  if (isNotReady(result)) throw new Error(`not ready: ${result.reason}`);
  expectValid("ibkr_market_snapshot", result);
  return result;
}

describe("mapMarketSnapshot", () => {
  it("maps a live quote with field ids, provenance and a derived prior close", () => {
    expect(quote(fixture("getMarketSnapshot.live"), { ...AAPL, currency: "USD" })).toEqual({
      contract_id: "265598",
      symbol: "AAPL",
      currency: "USD",
      last: "274.61",
      last_is_prior_close: false,
      halted: false,
      bid: "274.6",
      ask: "274.62",
      bid_size: "2",
      ask_size: "3",
      open: "272.82",
      high: "275.43",
      low: "272.11",
      prior_close: "272.79",
      change: "1.82",
      change_percent: "0.67",
      volume: "38417532",
      provenance: {
        status: "live",
        age_seconds: 2,
        as_of: "2025-12-16T19:35:23Z",
        warnings: [SIZE_WARNING],
      },
    });
  });

  it("scales bid/ask sizes of US stocks from lots to shares when told", () => {
    const result = quote(fixture("getMarketSnapshot.live"), { ...AAPL, usStock: true });
    expect([result.bid_size, result.ask_size]).toEqual(["200", "300"]);
    expect(result.provenance.warnings).toEqual([]);
    const unscaled = quote(fixture("getMarketSnapshot.live"), { ...AAPL, usStock: false });
    expect([unscaled.bid_size, unscaled.ask_size]).toEqual(["2", "3"]);
  });

  it("marks delayed data and parses formatted sizes", () => {
    const result = quote(fixture("getMarketSnapshot.delayed"), { ...AAPL, usStock: false });
    expect(result.provenance).toEqual({
      status: "delayed",
      age_seconds: 2,
      as_of: "2025-12-16T19:35:23Z",
      warnings: ["Delayed market data (typically 15-20 minutes behind)."],
    });
    expect([result.bid_size, result.ask_size, result.volume]).toEqual(["900", "1300", "37920144"]);
  });

  it("strips the C prefix of the last price and says it is the prior close", () => {
    const result = quote(fixture("getMarketSnapshot.prior-close"), {
      contractId: "272093",
      nowMs: 1765888725418,
      maxSnapshotAgeSeconds: 30,
      usStock: true,
    });
    expect(result).toMatchObject({
      last: "476.39",
      last_is_prior_close: true,
      halted: false,
      prior_close: "476.39",
    });
    expect(result.provenance.warnings).toEqual(["No trade today: last is the prior close."]);
  });

  it("strips the H prefix and says the contract is halted", () => {
    const body = clone(fixture("getMarketSnapshot.live")) as Record<string, unknown>[];
    (body[0] as Record<string, unknown>)["31"] = "H150.25";
    const result = quote(body, { ...AAPL, usStock: true });
    expect(result).toMatchObject({ last: "150.25", halted: true, last_is_prior_close: false });
    expect(result.provenance.warnings).toEqual(["The broker marks this contract as halted."]);
  });

  it("marks values older than the maximum age as stale", () => {
    const result = quote(fixture("getMarketSnapshot.live"), { ...AAPL, nowMs: NOW + 120_000, usStock: true });
    expect(result.provenance).toEqual({
      status: "stale",
      age_seconds: 122,
      as_of: "2025-12-16T19:35:23Z",
      warnings: ["Last updated 122 seconds ago, more than the allowed 30 seconds (was live)."],
    });
  });

  it("picks the requested row of a multi-contract answer", () => {
    const result = quote(fixture("getMarketSnapshot.multi"), {
      ...AAPL,
      contractId: "756733",
      usStock: true,
    });
    expect(result).toMatchObject({ symbol: "SPY", last: "680.73", bid_size: "900", volume: "52108321" });
    expect(result).not.toHaveProperty("open");
  });

  it("returns the pre-flight marker for a row with only conid and conidEx", () => {
    expect(mapMarketSnapshot(fixture("getMarketSnapshot.preflight"), AAPL)).toEqual({
      kind: "not_ready",
      reason: "snapshot_preflight",
    });
  });

  it("reports unavailable data (N) and data without an availability code as delayed", () => {
    const none = quote([{ conid: 265598, conidEx: "265598", "6509": "N", _updated: NOW - 1000 }], AAPL);
    expect(none.provenance.status).toBe("unavailable");
    expect(none).not.toHaveProperty("last");
    const unknown = quote([{ conid: "265598", "31": "274.61", _updated: NOW - 1000 }], {
      ...AAPL,
      usStock: true,
    });
    expect(unknown.provenance).toEqual({
      status: "delayed",
      age_seconds: 1,
      as_of: "2025-12-16T19:35:24Z",
      warnings: ["The broker did not say whether this data is live; it is treated as delayed."],
    });
  });

  it("refuses an answer without the requested contract", () => {
    expectGatewayError(
      () => mapMarketSnapshot(fixture("getMarketSnapshot.live"), { ...AAPL, contractId: "1" }),
      "BROKER_RESPONSE_INVALID",
      {
        operation_id: "getMarketSnapshot",
        field: "conid",
      },
    );
  });
});

describe("provenanceOf", () => {
  it.each([
    ["RpB", "live"],
    ["DPB", "delayed"],
    ["ZpB", "frozen"],
    ["YpB", "frozen"],
    ["N", "unavailable"],
    ["S", "live"],
    ["i", "delayed"],
  ] as const)("%s -> %s", (code, status) => {
    expect(provenanceOf({ availability: code, nowMs: NOW }).status).toBe(status);
  });

  it("keeps frozen data frozen however old, and warns for frozen-delayed", () => {
    expect(
      provenanceOf({ availability: "Y", updatedMs: NOW - 86_400_000, nowMs: NOW, maxAgeSeconds: 30 }),
    ).toEqual({
      status: "frozen",
      age_seconds: 86400,
      as_of: "2025-12-15T19:35:25Z",
      warnings: ["Frozen delayed market data: the last delayed values recorded at the close."],
    });
  });
});

describe("mapOptionGreeks", () => {
  const OPTION = { contractId: "812345678", nowMs: NOW, maxSnapshotAgeSeconds: 30 };

  it("maps greeks, implied volatility and prices", () => {
    const result = mapOptionGreeks(fixture("getMarketSnapshot.option-greeks"), OPTION);
    if (isNotReady(result)) throw new Error(result.reason);
    expectValid("ibkr_option_greeks", result);
    expect(result).toEqual({
      contract_id: "812345678",
      delta: "0.512",
      gamma: "0.024",
      theta: "-0.153",
      vega: "0.318",
      implied_volatility_percent: "24.6",
      bid: "8.9",
      ask: "9",
      last: "8.95",
      provenance: { status: "live", age_seconds: 2, as_of: "2025-12-16T19:35:23Z", warnings: [] },
    });
  });

  it("returns markers while the stream starts, greeks are missing or there is no data", () => {
    expect(mapOptionGreeks(fixture("getMarketSnapshot.preflight"), AAPL)).toEqual({
      kind: "not_ready",
      reason: "snapshot_preflight",
    });
    expect(mapOptionGreeks(fixture("getMarketSnapshot.live"), AAPL)).toEqual({
      kind: "not_ready",
      reason: "fields_missing",
      missing: ["7308", "7309", "7310", "7311"],
    });
    const body = clone(fixture("getMarketSnapshot.option-greeks")) as Record<string, unknown>[];
    (body[0] as Record<string, unknown>)["6509"] = "N";
    expect(mapOptionGreeks(body, OPTION)).toEqual({ kind: "not_ready", reason: "data_unavailable" });
  });

  it("refuses a contract the broker says is not an option", () => {
    const body = clone(fixture("getMarketSnapshot.live")) as Record<string, unknown>[];
    (body[0] as Record<string, unknown>)["6070"] = "STK";
    expectGatewayError(() => mapOptionGreeks(body, AAPL), "INPUT_UNSUPPORTED_ASSET_CLASS");
  });
});

describe("mapHistoricalBars", () => {
  const CTX = {
    contractId: "265598",
    duration: "4d",
    barSize: "1d",
    outsideRth: false,
    dataType: "trades" as const,
    nowMs: NOW,
  };

  it("maps bars with times from ms and volume times volumeFactor", () => {
    const result = mapHistoricalBars(fixture("getHistory.aapl-daily"), CTX);
    expectValid("ibkr_historical_bars", result);
    expect(result).toMatchObject({
      contract_id: "265598",
      symbol: "AAPL",
      duration: "4d",
      bar_size: "1d",
      outside_rth: false,
      data_type: "trades",
      provenance: { status: "live", warnings: [] },
    });
    expect(result.bars).toHaveLength(4);
    expect(result.bars[0]).toEqual({
      time: "2025-12-10T14:30:00Z",
      open: "272.15",
      high: "275.02",
      low: "271.4",
      close: "274.11",
      volume: "41231162",
    });
    expect(result.bars.map((b) => b.time)).toEqual([
      "2025-12-10T14:30:00Z",
      "2025-12-11T14:30:00Z",
      "2025-12-12T14:30:00Z",
      "2025-12-15T14:30:00Z",
    ]);
  });

  it("sorts bars oldest first, unscales bars sent times priceFactor and drops midpoint volume", () => {
    const body = {
      symbol: "EUR.USD",
      priceFactor: 100000,
      volumeFactor: 1,
      high: "117500/0/0",
      low: "117010/0/60",
      mdAvailability: "DPB",
      data: [
        { o: 117300, c: 117450, h: 117500, l: 117290, v: 0, t: 1765913400000 },
        { o: 117100, c: 117300, h: 117320, l: 117010, v: 0, t: 1765913100000 },
      ],
    };
    const result = mapHistoricalBars(body, { ...CTX, contractId: "12087792", dataType: "midpoint" });
    expectValid("ibkr_historical_bars", result);
    expect(result.bars).toEqual([
      { time: "2025-12-16T19:25:00Z", open: "1.171", high: "1.1732", low: "1.1701", close: "1.173" },
      { time: "2025-12-16T19:30:00Z", open: "1.173", high: "1.175", low: "1.1729", close: "1.1745" },
    ]);
    expect(result.provenance.status).toBe("delayed");
  });

  it("refuses a bar without a time", () => {
    expectGatewayError(
      () => mapHistoricalBars({ data: [{ o: 1, h: 1, l: 1, c: 1 }] }, CTX),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getHistory", field: "data[].t" },
    );
  });
});

describe("mapCurrencyRate", () => {
  const CTX = { base: "USD", quote: "EUR", nowMs: NOW };

  it("maps the rate with the read time", () => {
    const result = mapCurrencyRate(fixture("getExchangeRate.usd-eur"), CTX);
    expectValid("ibkr_currency_rate", result);
    expect(result).toEqual({ base: "USD", quote: "EUR", rate: "0.85144", as_of: "2025-12-16T19:35:25Z" });
  });

  it("answers 1 for equal currencies and refuses a zero rate", () => {
    expect(mapCurrencyRate(undefined, { ...CTX, quote: "USD" }).rate).toBe("1");
    expectGatewayError(() => mapCurrencyRate({ rate: 0 }, CTX), "BROKER_RESPONSE_INVALID", {
      operation_id: "getExchangeRate",
      field: "rate",
    });
  });
});

describe("snapshotAvailability", () => {
  it("says what the broker labels the data, before old values become stale", () => {
    const delayed = fixture("getMarketSnapshot.delayed");
    expect(snapshotAvailability(delayed, "265598")).toBe("delayed");
    const old = quote(delayed, { ...AAPL, nowMs: NOW + 600_000, usStock: true });
    expect(old.provenance.status).toBe("stale");
    expect(snapshotAvailability(fixture("getMarketSnapshot.live"), "265598")).toBe("live");
    expect(snapshotAvailability([{ conid: 265598, "6509": "N" }], "265598")).toBe("unavailable");
    expect(snapshotAvailability([{ conid: 265598, "31": "1" }], "265598")).toBe("delayed");
  });
});

describe("mapHistoricalBars provenance", () => {
  const CTX = {
    contractId: "265598",
    duration: "4d",
    barSize: "1d",
    outsideRth: false,
    dataType: "trades" as const,
    nowMs: NOW,
  };

  it("labels bars delayed when mktDataDelay is set, even with mdAvailability S", () => {
    const body = { ...(clone(fixture("getHistory.aapl-daily")) as object), mktDataDelay: 900000 };
    expect(mapHistoricalBars(body, CTX).provenance).toEqual({
      status: "delayed",
      warnings: ["Delayed market data (typically 15-20 minutes behind)."],
    });
    const frozen = { ...(body as object), mdAvailability: "Z" };
    expect(mapHistoricalBars(frozen, CTX).provenance.status).toBe("frozen");
    expect(mapHistoricalBars(fixture("getHistory.aapl-daily"), CTX).provenance.status).toBe("live");
  });
});
