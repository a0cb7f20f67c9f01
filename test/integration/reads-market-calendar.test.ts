// Historical bars, exchange sessions and holidays, and FX rates through the composed gateway against the
// in-process simulator: values checked against the simulator's price path, calendar and wire answers, the
// broker's limits and refusals mapped to the catalogue's codes, and provenance on bars.
import { describe, expect, it } from "vitest";
import { getExchangeRate } from "../../generated/cpapi/client.gen.ts";
import { toRfc3339 } from "../../src/core/clock.ts";
import { canonical } from "../../src/core/decimal.ts";
import type { Gateway } from "../../src/gateway/index.ts";
import { instrumentByConid, type Stock } from "../../src/simulator/instruments.ts";
import { roundTick } from "../../src/simulator/prices.ts";
import { callOk, testGateway } from "../support/gateway.ts";
import { MARKET_OPEN, WEEKEND } from "../support/simulator.ts";

async function failure(gateway: Gateway, tool: string, args: unknown) {
  const outcome = await gateway.dispatch(tool, args);
  if (outcome.ok) throw new Error(`${tool} unexpectedly succeeded`);
  const { code, message, userAction, details } = outcome.error;
  return { code, message, userAction, details };
}

const AAPL = instrumentByConid(265598) as Stock;
const price = (value: number) => canonical((Math.round(value * 100) / 100).toFixed(2));

interface Bar {
  time: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume?: string;
}

describe("ibkr_historical_bars", () => {
  it("returns hourly bars of the regular session, oldest first, closing at the simulator's price", async () => {
    const { gateway, sim, clock } = await testGateway();
    const result = await callOk(gateway, "ibkr_historical_bars", {
      contract_id: "265598",
      duration: "1d",
      bar_size: "1h",
    });
    expect(result).toMatchObject({
      contract_id: "265598",
      symbol: "AAPL",
      duration: "1d",
      bar_size: "1h",
      outside_rth: false,
      data_type: "trades",
      provenance: { status: "live", warnings: [] },
      source: { backend: "simulator", simulated: true },
    });
    const bars = result.bars as Bar[];
    // The last 24 hours: Monday's session from 09:30 New York in hourly bars, and today's first one.
    expect(bars.map((b) => b.time)).toEqual([
      "2026-11-30T15:30:00Z",
      "2026-11-30T16:30:00Z",
      "2026-11-30T17:30:00Z",
      "2026-11-30T18:30:00Z",
      "2026-11-30T19:30:00Z",
      "2026-11-30T20:30:00Z",
      "2026-12-01T14:30:00Z",
    ]);
    const first = bars[0] as Bar;
    expect(first.open).toBe(price(sim.state.prices.price(AAPL, Date.UTC(2026, 10, 30, 15, 30))));
    expect(first.close).toBe(price(sim.state.prices.price(AAPL, Date.UTC(2026, 10, 30, 16, 30))));
    // Today's bar is still open: it closes at the price of the moment the broker was asked.
    expect((bars.at(-1) as Bar).close).toBe(price(sim.state.prices.price(AAPL, clock.now())));
    for (const bar of bars) {
      expect(Number(bar.low)).toBeLessThanOrEqual(Math.min(Number(bar.open), Number(bar.close)));
      expect(Number(bar.high)).toBeGreaterThanOrEqual(Math.max(Number(bar.open), Number(bar.close)));
      expect(bar.volume).toMatch(/^[1-9][0-9]*$/);
    }
  });

  it("sends the session flag and the data type: bid/ask bars from the pre-market on, without volume", async () => {
    const { gateway, sim } = await testGateway();
    const args = { contract_id: "265598", duration: "2h", bar_size: "30min", data_type: "bid_ask" };
    const extended = await callOk(gateway, "ibkr_historical_bars", { ...args, outside_rth: true });
    expect(extended).toMatchObject({ outside_rth: true, data_type: "bid_ask" });
    const bars = extended.bars as Bar[];
    // 08:00 to 10:00 in New York: pre-market bars, then the first half hour of the session.
    expect(bars.map((b) => b.time)).toEqual([
      "2026-12-01T13:00:00Z",
      "2026-12-01T13:30:00Z",
      "2026-12-01T14:00:00Z",
      "2026-12-01T14:30:00Z",
    ]);
    expect(bars.every((b) => b.volume === undefined)).toBe(true);
    // The simulator builds bid/ask bars a tick below the trade price at the open of each bar.
    const opening = sim.state.prices.price(AAPL, Date.UTC(2026, 11, 1, 13, 0));
    expect((bars[0] as Bar).open).toBe(price(roundTick(opening - 0.01)));
    const regular = await callOk(gateway, "ibkr_historical_bars", args);
    expect((regular.bars as Bar[]).map((b) => b.time)).toEqual(["2026-12-01T14:30:00Z"]);
  });

  it("labels the bars delayed when the broker delays them", async () => {
    const { gateway } = await testGateway({ scenario: "delayed-data" });
    const result = await callOk(gateway, "ibkr_historical_bars", {
      contract_id: "265598",
      duration: "1d",
      bar_size: "1h",
    });
    expect(result.provenance).toEqual({
      status: "delayed",
      warnings: ["Delayed market data (typically 15-20 minutes behind)."],
    });
  });

  it("refuses a duration beyond the broker's limits without asking it", async () => {
    const { gateway, sim } = await testGateway();
    for (const duration of ["31min", "9h", "1001d", "793w", "183m", "16y", "0d"]) {
      expect(
        await failure(gateway, "ibkr_historical_bars", { contract_id: "265598", duration, bar_size: "1d" }),
      ).toEqual({
        code: "INPUT_INVALID_TIME_RANGE",
        message: `duration ${duration} is outside what the broker serves (1 to 30min, 8h, 1000d, 792w, 182m (months) or 15y).`,
        userAction:
          "Use a duration of at most 30min, 8h, 1000d, 792w, 182m (months) or 15y; for a longer span use a larger unit and bar size.",
        details: { field: "duration" },
      });
    }
    expect(sim.control.count("getHistory")).toBe(0);
    const longest = await callOk(gateway, "ibkr_historical_bars", {
      contract_id: "265598",
      duration: "15y",
      bar_size: "1w",
    });
    // The longest period allowed reaches back fifteen years.
    expect((longest.bars as Bar[])[0]?.time.slice(0, 4)).toBe("2011");
  });

  it("maps the broker's refusals: no bars in the period and an unknown contract", async () => {
    const { gateway } = await testGateway({ startAt: WEEKEND });
    expect(
      await failure(gateway, "ibkr_historical_bars", {
        contract_id: "265598",
        duration: "2h",
        bar_size: "5min",
      }),
    ).toMatchObject({
      code: "HISTORICAL_BARS_UNAVAILABLE",
      userAction: "Try a longer duration, a larger bar size, or include data outside regular trading hours.",
    });
    expect(
      await failure(gateway, "ibkr_historical_bars", {
        contract_id: "424242",
        duration: "1d",
        bar_size: "1h",
      }),
    ).toMatchObject({ code: "INPUT_INVALID_CONTRACT", details: { field: "contract_id" } });
  });
});

describe("ibkr_market_session", () => {
  it("reports the regular session of an exchange from its reference stock", async () => {
    const { gateway, sim } = await testGateway();
    expect(await callOk(gateway, "ibkr_market_session", { exchange: "NASDAQ" })).toEqual({
      exchange: "NASDAQ",
      symbol: "AAPL",
      time_zone: "America/New_York",
      date: "2026-12-01",
      phase: "regular",
      regular_open: "2026-12-01T14:30:00Z",
      regular_close: "2026-12-01T21:00:00Z",
      extended_open: "2026-12-01T09:00:00Z",
      extended_close: "2026-12-02T01:00:00Z",
      next_regular_open: "2026-12-02T14:30:00Z",
      checked_at: "2026-12-01T15:00:00Z",
      source: { backend: "simulator", simulated: true },
    });
    // Schedules change rarely: a second question about the same exchange is answered from the first.
    await callOk(gateway, "ibkr_market_session", { exchange: "NASDAQ" });
    expect(sim.control.count("getTradingSchedule")).toBe(1);
  });

  it("says extended before the open and closed at the weekend, with the next regular open", async () => {
    const early = await testGateway({ startAt: Date.UTC(2026, 11, 1, 12, 0) });
    expect(await callOk(early.gateway, "ibkr_market_session", { exchange: "NYSE" })).toMatchObject({
      symbol: "IBM",
      phase: "extended",
      next_regular_open: "2026-12-01T14:30:00Z",
    });
    const weekend = await testGateway({ startAt: WEEKEND });
    const result = await callOk(weekend.gateway, "ibkr_market_session", { exchange: "ARCA", symbol: "spy" });
    expect(result).toMatchObject({
      exchange: "ARCA",
      symbol: "SPY",
      date: "2026-12-05",
      phase: "closed",
      next_regular_open: "2026-12-07T14:30:00Z",
    });
    expect(result).not.toHaveProperty("regular_open");
  });

  it("needs a symbol for an exchange without a reference stock, and one listed there", async () => {
    const { gateway, sim } = await testGateway();
    expect(await failure(gateway, "ibkr_market_session", { exchange: "BVME" })).toEqual({
      code: "INPUT_INVALID_CONTRACT",
      message: "The gateway has no reference stock for BVME.",
      userAction:
        "Pass symbol: a stock listed on BVME. Exchanges with a reference stock: NASDAQ, NYSE, ARCA, LSE, IBIS, SBF, AEB, EBS, SEHK, TSEJ, ASX, TSE.",
      details: { field: "symbol", reason: "no_reference_symbol" },
    });
    expect(sim.control.count("getTradingSchedule")).toBe(0);
    expect(await failure(gateway, "ibkr_market_session", { exchange: "NYSE", symbol: "AAPL" })).toMatchObject(
      {
        code: "INPUT_INVALID_CONTRACT",
        message: "The broker has no trading schedule of AAPL on NYSE.",
        details: { reason: "not_listed_on_exchange" },
      },
    );
  });
});

describe("ibkr_market_holidays", () => {
  it("lists the simulator's NYSE holidays and early closes and how far the schedule reaches", async () => {
    const { gateway } = await testGateway();
    expect(await callOk(gateway, "ibkr_market_holidays", { exchange: "NYSE" })).toEqual({
      exchange: "NYSE",
      symbol: "IBM",
      time_zone: "America/New_York",
      covers_from: "2026-12-01",
      covers_until: "2027-01-01",
      days: [
        {
          date: "2026-12-24",
          kind: "early_close",
          regular_open: "2026-12-24T14:30:00Z",
          regular_close: "2026-12-24T18:00:00Z",
        },
        { date: "2026-12-25", kind: "closed" },
        { date: "2027-01-01", kind: "closed" },
      ],
      source: { backend: "simulator", simulated: true },
    });
  });

  it("refuses an exchange without a reference stock the same way as the session tool", async () => {
    const { gateway } = await testGateway();
    expect((await failure(gateway, "ibkr_market_holidays", { exchange: "BVME" })).code).toBe(
      "INPUT_INVALID_CONTRACT",
    );
  });
});

describe("ibkr_currency_rate", () => {
  it("returns the broker's rate with the time it was read", async () => {
    const { gateway, clock } = await testGateway({ startAt: MARKET_OPEN });
    const result = await callOk(gateway, "ibkr_currency_rate", { base: "USD", quote: "EUR" });
    const wire = await getExchangeRate(gateway.broker.client.transport, {
      query: { source: "USD", target: "EUR" },
    });
    expect(result).toEqual({
      base: "USD",
      quote: "EUR",
      rate: canonical(String((wire.body as { rate: number }).rate)),
      as_of: toRfc3339(clock.now()),
      source: { backend: "simulator", simulated: true },
    });
    expect(Number(result.rate)).toBeGreaterThan(0.8);
    expect(Number(result.rate)).toBeLessThan(0.92);
  });

  it("answers 1 for equal currencies without asking the broker", async () => {
    const { gateway, sim } = await testGateway();
    expect(await callOk(gateway, "ibkr_currency_rate", { base: "EUR", quote: "EUR" })).toMatchObject({
      rate: "1",
    });
    expect(sim.control.count("getExchangeRate")).toBe(0);
  });

  it("refuses a currency the broker has no rate for", async () => {
    const { gateway } = await testGateway();
    expect(await failure(gateway, "ibkr_currency_rate", { base: "USD", quote: "XXX" })).toEqual({
      code: "INPUT_INVALID_ARGUMENT",
      message: "The broker has no exchange rate from USD to XXX.",
      userAction: "Check that both are ISO 4217 codes of currencies the broker converts, such as USD or EUR.",
      details: { field: "quote", operation_id: "getExchangeRate" },
    });
  });
});
