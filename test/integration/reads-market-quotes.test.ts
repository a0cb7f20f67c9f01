// Quotes and greeks through the composed gateway against the in-process simulator, with values checked
// against the simulator's own market, and every path of the market-data policy: live data passes; delayed
// data is refused unless allowed; no subscription is MARKET_DATA_UNAVAILABLE; frozen or old values are
// refused while the regular session runs and labelled outside it; a stream that never delivers, or greeks
// not computed yet, are MARKET_DATA_INCOMPLETE - never made-up values.
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { toRfc3339 } from "../../src/core/clock.ts";
import { canonical } from "../../src/core/decimal.ts";
import type { Gateway } from "../../src/gateway/index.ts";
import type { Simulator } from "../../src/simulator/index.ts";
import {
  instrumentByConid,
  type OptionContract,
  option,
  optionExpiries,
  optionStrikes,
  type Stock,
} from "../../src/simulator/instruments.ts";
import { lastCloseAt } from "../../src/simulator/market-time.ts";
import { CONFIG_HEADER, callOk, testGateway } from "../support/gateway.ts";
import { MARKET_OPEN, WEEKEND } from "../support/simulator.ts";

async function failure(gateway: Gateway, tool: string, args: unknown) {
  const outcome = await gateway.dispatch(tool, args);
  if (outcome.ok) throw new Error(`${tool} unexpectedly succeeded`);
  const { code, message, userAction, details } = outcome.error;
  return { code, message, userAction, details };
}

const AAPL = instrumentByConid(265598) as Stock;
const SIZE_WARNING = "Bid and ask sizes are as the broker sends them; for US stocks that is lots of 100.";
const OUTSIDE = "Outside the regular trading session: these are the last values the broker has.";
const ALLOW_DELAYED = `${CONFIG_HEADER}market_data:\n  allow_delayed: true\n`;
const price = (value: number) => canonical(value.toFixed(2));

/** An at-the-money AAPL call of the first listed expiry, as the simulator lists it on `at`. */
function atTheMoneyCall(sim: Simulator, at: number): OptionContract {
  const strikes = optionStrikes(sim.state.prices.price(AAPL, lastCloseAt(at)));
  return option(AAPL, optionExpiries(at)[0] as string, strikes[12] as number, "C");
}

describe("ibkr_market_snapshot", () => {
  it("returns the simulator's live quote, with currency from the contract and its provenance", async () => {
    const { gateway, sim, clock } = await testGateway();
    const result = await callOk(gateway, "ibkr_market_snapshot", { contract_id: "265598" });
    const quote = sim.state.quote(AAPL, clock.now());
    expect(result).toEqual({
      contract_id: "265598",
      symbol: "AAPL",
      currency: "USD",
      last: price(quote.last),
      last_is_prior_close: false,
      halted: false,
      bid: price(quote.bid),
      ask: price(quote.ask),
      bid_size: String(quote.bidSize),
      ask_size: String(quote.askSize),
      last_size: String(quote.lastSize),
      open: price(quote.open as number),
      high: price(quote.high as number),
      low: price(quote.low as number),
      prior_close: price(quote.priorClose),
      change: price(quote.last - quote.priorClose),
      change_percent: canonical((((quote.last - quote.priorClose) / quote.priorClose) * 100).toFixed(2)),
      volume: String(quote.volume),
      provenance: { status: "live", age_seconds: 0, as_of: toRfc3339(clock.now()), warnings: [SIZE_WARNING] },
      source: { backend: "simulator", simulated: true },
    });
  });

  it("follows a price move, and asks for the contract details only once per process", async () => {
    const { gateway, sim } = await testGateway();
    await callOk(gateway, "ibkr_market_snapshot", { contract_id: "265598" });
    sim.control.setPrice("AAPL", 301.25);
    const moved = await callOk(gateway, "ibkr_market_snapshot", { contract_id: "265598" });
    expect(moved.last).toBe("301.25");
    expect(sim.control.count("getContractInfo")).toBe(1);
    // The first request only opened the stream; the client asked again once.
    expect(sim.control.count("getMarketSnapshot")).toBe(3);
  });

  it("refuses delayed data by default and labels it when the policy allows it", async () => {
    const refused = await testGateway({ scenario: "delayed-data" });
    expect(await failure(refused.gateway, "ibkr_market_snapshot", { contract_id: "265598" })).toEqual({
      code: "MARKET_DATA_DELAYED",
      message:
        "Only delayed market data (15-20 minutes behind) is available for contract 265598, and the policy does not accept it.",
      userAction:
        "Subscribe to real-time data for this exchange, or allow delayed data with `market_data.allow_delayed`.",
      details: { contract_id: "265598", allow_delayed: false },
    });
    const [event] = [...refused.gateway.store.exportEvents()].filter((e) => e.event_type === "tool_call");
    expect(event).toMatchObject({
      decision: "refuse",
      result_status: "refused",
      error_code: "MARKET_DATA_DELAYED",
    });

    const { gateway, sim, clock } = await testGateway({ scenario: "delayed-data", config: ALLOW_DELAYED });
    const result = await callOk(gateway, "ibkr_market_snapshot", { contract_id: "265598" });
    // The values are the market of 15 minutes ago, received just now.
    expect(result.last).toBe(price(sim.state.prices.price(AAPL, clock.now() - 15 * 60_000)));
    expect(result.provenance).toEqual({
      status: "delayed",
      age_seconds: 0,
      as_of: toRfc3339(clock.now()),
      warnings: ["Delayed market data (typically 15-20 minutes behind).", SIZE_WARNING],
    });
  });

  it("answers MARKET_DATA_UNAVAILABLE without a market-data subscription", async () => {
    const { gateway } = await testGateway({ scenario: "no-market-data-subscription" });
    expect(await failure(gateway, "ibkr_market_snapshot", { contract_id: "265598" })).toMatchObject({
      code: "MARKET_DATA_UNAVAILABLE",
      userAction: "Check the market-data subscription for this exchange in the IBKR account settings.",
      details: { contract_id: "265598" },
    });
  });

  it("refuses frozen values while the market is open and labels them frozen at the weekend", async () => {
    const open = await testGateway({ scenario: "frozen-data" });
    expect(await failure(open.gateway, "ibkr_market_snapshot", { contract_id: "265598" })).toEqual({
      code: "MARKET_DATA_STALE",
      message:
        "The broker sends only frozen values (the last close) for contract 265598 while the market is open.",
      userAction:
        "Retry in a moment; if it persists, check the market is open and the data subscription is active.",
      details: { contract_id: "265598", status: "frozen", age_seconds: 64800, max_age_seconds: 30 },
    });
    expect(open.sim.control.count("getTradingSchedule")).toBe(1);

    const { gateway, sim } = await testGateway({ scenario: "frozen-data", startAt: WEEKEND });
    const result = await callOk(gateway, "ibkr_market_snapshot", { contract_id: "265598" });
    const close = lastCloseAt(WEEKEND);
    expect(result.provenance).toEqual({
      status: "frozen",
      age_seconds: Math.floor((WEEKEND - close) / 1000),
      as_of: toRfc3339(close),
      warnings: [
        "Frozen market data: the last values recorded at the close.",
        "No trade today: last is the prior close.",
        SIZE_WARNING,
        OUTSIDE,
      ],
    });
    expect(result).toMatchObject({
      last_is_prior_close: true,
      last: price(sim.state.prices.price(AAPL, close)),
    });
  });

  it("labels a quote stale, not refused, once time moves past the close", async () => {
    const { gateway, sim, clock } = await testGateway();
    const live = await callOk(gateway, "ibkr_market_snapshot", { contract_id: "265598" });
    expect((live.provenance as { status: string }).status).toBe("live");
    // To 21:00 in New York, after the extended session: the quote stays at the 16:00 close.
    sim.control.advance(Date.UTC(2026, 11, 2, 2, 0, 0) - clock.now());
    sim.control.login();
    const later = await callOk(gateway, "ibkr_market_snapshot", { contract_id: "265598" });
    const close = lastCloseAt(clock.now());
    expect(later.provenance).toEqual({
      status: "stale",
      age_seconds: Math.floor((clock.now() - close) / 1000),
      as_of: toRfc3339(close),
      warnings: [
        `Last updated ${Math.floor((clock.now() - close) / 1000)} seconds ago, more than the allowed 30 seconds (was live).`,
        "No trade today: last is the prior close.",
        SIZE_WARNING,
        OUTSIDE,
      ],
    });
    expect(later.last).toBe(price(sim.state.prices.price(AAPL, close)));
  });

  it("refuses a live quote older than max_snapshot_age_seconds while the market is open", async () => {
    // A broker whose stream stopped two minutes ago in the middle of the session.
    const stopped = (clockNow: () => number, updated: boolean) =>
      http.get("*/v1/api/iserver/marketdata/snapshot", () =>
        HttpResponse.json(
          [
            {
              "31": "266.86",
              "55": "AAPL",
              "84": "266.85",
              "86": "266.87",
              "6509": "RpB",
              ...(updated ? { _updated: clockNow() - 120_000 } : {}),
              conid: 265598,
              conidEx: "265598",
            },
          ],
          { headers: { "x-ibkr-simulator": "1" } },
        ),
      );
    const strict = await testGateway();
    strict.sim.handlers.unshift(stopped(strict.clock.now, true));
    expect(await failure(strict.gateway, "ibkr_market_snapshot", { contract_id: "265598" })).toMatchObject({
      code: "MARKET_DATA_STALE",
      message:
        "The values for contract 265598 were last updated 120 seconds ago while the market is open; the limit is 30 seconds (market_data.max_snapshot_age_seconds).",
      details: { contract_id: "265598", status: "stale", age_seconds: 120, max_age_seconds: 30 },
    });
    const undated = await testGateway();
    undated.sim.handlers.unshift(stopped(undated.clock.now, false));
    expect(await failure(undated.gateway, "ibkr_market_snapshot", { contract_id: "265598" })).toMatchObject({
      code: "MARKET_DATA_STALE",
      message: "The broker did not say how old the values for contract 265598 are, and the market is open.",
    });

    const lenient = await testGateway({
      config: `${CONFIG_HEADER}market_data:\n  max_snapshot_age_seconds: 300\n`,
    });
    lenient.sim.handlers.unshift(stopped(lenient.clock.now, true));
    const result = await callOk(lenient.gateway, "ibkr_market_snapshot", { contract_id: "265598" });
    expect(result).toMatchObject({ last: "266.86", bid: "266.85", ask: "266.87" });
    expect((result.provenance as { status: string; age_seconds: number }).age_seconds).toBe(120);
    expect((result.provenance as { status: string }).status).toBe("live");
  });

  it("turns a stream that stays empty after the client's re-asks into MARKET_DATA_INCOMPLETE", async () => {
    const { gateway, sim } = await testGateway();
    // A broker whose stream never starts: every answer is the pre-flight row (conid and conidEx only).
    sim.handlers.unshift(
      http.get("*/v1/api/iserver/marketdata/snapshot", () =>
        HttpResponse.json([{ conid: 265598, conidEx: "265598" }], { headers: { "x-ibkr-simulator": "1" } }),
      ),
    );
    expect(await failure(gateway, "ibkr_market_snapshot", { contract_id: "265598" })).toEqual({
      code: "MARKET_DATA_INCOMPLETE",
      message: "The broker's data stream for contract 265598 has not delivered values yet.",
      userAction: "Retry in a few seconds; the first request for a contract only starts the data stream.",
      details: { contract_id: "265598", reason: "snapshot_preflight" },
    });
  });

  it("refuses a contract id the broker does not know before opening a stream", async () => {
    const { gateway, sim } = await testGateway();
    expect(await failure(gateway, "ibkr_market_snapshot", { contract_id: "424242" })).toMatchObject({
      code: "INPUT_INVALID_CONTRACT",
      userAction: "Look the contract up with ibkr_contracts_search and pass its contract id.",
      details: { field: "contract_id" },
    });
    expect(sim.control.count("getMarketSnapshot")).toBe(0);
  });
});

describe("ibkr_option_greeks", () => {
  it("returns the simulator's greeks once the broker has computed them", async () => {
    const { gateway, sim, clock } = await testGateway();
    const call = atTheMoneyCall(sim, MARKET_OPEN);
    const id = String(call.conid);
    // The first request opens the stream; computed fields follow about a second later.
    expect(await failure(gateway, "ibkr_option_greeks", { contract_id: id })).toEqual({
      code: "MARKET_DATA_INCOMPLETE",
      message: `The broker has not computed the greeks of contract ${id} yet.`,
      userAction: "Retry in a few seconds; the first request for a contract only starts the data stream.",
      details: {
        contract_id: id,
        reason: "fields_missing",
        missing_fields: ["7308", "7309", "7310", "7311"],
      },
    });
    sim.control.advance(2_000);
    const result = await callOk(gateway, "ibkr_option_greeks", { contract_id: id });
    const model = sim.state.prices.optionQuote(call, clock.now());
    expect(result).toMatchObject({
      contract_id: id,
      underlying_contract_id: "265598",
      delta: canonical(model.delta.toFixed(3)),
      gamma: canonical(model.gamma.toFixed(3)),
      theta: canonical(model.theta.toFixed(3)),
      vega: canonical(model.vega.toFixed(3)),
      implied_volatility_percent: canonical((model.iv * 100).toFixed(1)),
      provenance: { status: "live", age_seconds: 0, as_of: toRfc3339(clock.now()), warnings: [] },
      source: { backend: "simulator", simulated: true },
    });
    const quote = sim.state.quote(call, clock.now());
    expect(result).toMatchObject({ bid: price(quote.bid), ask: price(quote.ask), last: price(quote.last) });
  });

  it("refuses a stock with INPUT_UNSUPPORTED_ASSET_CLASS before opening a stream", async () => {
    const { gateway, sim } = await testGateway();
    expect(await failure(gateway, "ibkr_option_greeks", { contract_id: "265598" })).toEqual({
      code: "INPUT_UNSUPPORTED_ASSET_CLASS",
      message: "Contract 265598 is not an option (the broker lists it as stock), so it has no greeks.",
      userAction:
        "Get an option's contract_id from ibkr_options_chain, or use ibkr_market_snapshot for this contract.",
      details: { field: "contract_id", asset_class: "stock" },
    });
    expect(sim.control.count("getMarketSnapshot")).toBe(0);
  });

  it("applies the market-data policy: delayed, unavailable and frozen data", async () => {
    const delayed = await testGateway({ scenario: "delayed-data" });
    const id = String(atTheMoneyCall(delayed.sim, MARKET_OPEN).conid);
    expect((await failure(delayed.gateway, "ibkr_option_greeks", { contract_id: id })).code).toBe(
      "MARKET_DATA_DELAYED",
    );
    const none = await testGateway({ scenario: "no-market-data-subscription" });
    expect((await failure(none.gateway, "ibkr_option_greeks", { contract_id: id })).code).toBe(
      "MARKET_DATA_UNAVAILABLE",
    );
    const frozen = await testGateway({ scenario: "frozen-data" });
    await failure(frozen.gateway, "ibkr_option_greeks", { contract_id: id });
    frozen.sim.control.advance(2_000);
    expect(await failure(frozen.gateway, "ibkr_option_greeks", { contract_id: id })).toMatchObject({
      code: "MARKET_DATA_STALE",
      details: { contract_id: id, status: "frozen", max_age_seconds: 30 },
    });
  });

  it("labels greeks from before the weekend stale instead of refusing them", async () => {
    const { gateway, sim } = await testGateway({ startAt: WEEKEND });
    const id = String(atTheMoneyCall(sim, WEEKEND).conid);
    await failure(gateway, "ibkr_option_greeks", { contract_id: id });
    sim.control.advance(2_000);
    const result = await callOk(gateway, "ibkr_option_greeks", { contract_id: id });
    const provenance = result.provenance as { status: string; warnings: string[] };
    expect(provenance.status).toBe("stale");
    expect(provenance.warnings.at(-1)).toBe(OUTSIDE);
  });
});
