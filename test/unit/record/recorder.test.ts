// The recording sequence and its wire tap: only reads are listed, a write can never leave the tap, responses
// are copied byte for byte (errors included), and the option month is chosen the way the docs say.
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { CPAPI_OPERATIONS } from "../../../generated/cpapi/operations.gen.ts";
import { createCapture } from "../../../src/cpapi/recording/capture.ts";
import {
  nearestMonth,
  optionMonthsOf,
  parseWireBody,
  RECORDING_STEPS,
} from "../../../src/cpapi/recording/recorder.ts";
import { createSimulator } from "../../../src/simulator/index.ts";

const ORIGIN = "https://localhost:5055";

describe("the recording sequence", () => {
  it("lists only GET operations, none of them a session or order write", () => {
    for (const step of RECORDING_STEPS) {
      expect(CPAPI_OPERATIONS[step.operationId].method, step.operationId).toBe("GET");
    }
    const ids = RECORDING_STEPS.map((s) => s.operationId);
    for (const write of [
      "placeOrders",
      "modifyOrder",
      "cancelOrder",
      "replyToQuestion",
      "answerNotification",
      "whatIfOrder",
      "initBrokerageSession",
      "logout",
      "invalidatePositions",
      "switchAccount",
      "postTickle",
      "postAuthStatus",
      "unsubscribeAllMarketData",
    ]) {
      expect(ids).not.toContain(write);
    }
  });

  it("covers the calls of the brief in order, each with its own file name", () => {
    expect(RECORDING_STEPS.map((s) => `${s.operationId}.recorded-${s.label}`)).toEqual([
      "getAuthStatus.recorded-session",
      "getTickle.recorded-session",
      "validateSso.recorded-session",
      "getBrokerageAccounts.recorded-session",
      "getPortfolioAccounts.recorded-session",
      "getAccountMeta.recorded-account",
      "getAccountSummary.recorded-account",
      "getAccountLedger.recorded-account",
      "getPositions.recorded-page0",
      "getPartitionedPnl.recorded-account",
      "getLiveOrders.recorded-account",
      "getTrades.recorded-1day",
      "searchContracts.recorded-aapl",
      "getContractInfo.recorded-aapl",
      "getStocksBySymbol.recorded-aapl",
      "getMarketSnapshot.recorded-aapl",
      "getHistory.recorded-aapl-1w-1d",
      "getExchangeRate.recorded-usd-eur",
      "getTradingSchedule.recorded-aapl",
      "getOptionStrikes.recorded-aapl-nearest",
    ]);
  });

  it("skips the account calls when no account is known, and strikes without an option month", () => {
    const context = { accountId: null, optionMonth: null };
    for (const id of ["getAccountMeta", "getPositions", "getOptionStrikes"]) {
      const step = RECORDING_STEPS.find((s) => s.operationId === id);
      expect(() => step?.input(context), id).toThrow();
    }
    const positions = RECORDING_STEPS.find((s) => s.operationId === "getPositions");
    expect(positions?.input({ accountId: "DU1234567", optionMonth: null })).toEqual({
      path: { accountId: "DU1234567", pageId: 0 },
    });
  });
});

describe("nearestMonth", () => {
  const dec2025 = Date.UTC(2025, 11, 16);
  it("picks the first month not before the current one", () => {
    expect(nearestMonth(["NOV25", "DEC25", "JAN26"], dec2025)).toBe("DEC25");
    expect(nearestMonth(["MAR26", "JAN26", "FEB26"], dec2025)).toBe("JAN26");
  });
  it("falls back to the earliest listed when all are past, and to the first entry when none parse", () => {
    expect(nearestMonth(["OCT24", "SEP24"], dec2025)).toBe("SEP24");
    expect(nearestMonth(["weird"], dec2025)).toBe("weird");
    expect(nearestMonth([], dec2025)).toBeNull();
  });
  it("reads the months of the OPT section of the AAPL row", () => {
    const body = [
      { conid: "38708077", sections: [{ secType: "OPT", months: "JUN30" }] },
      { conid: "265598", sections: [{ secType: "STK" }, { secType: "OPT", months: "DEC25;JAN26" }] },
    ];
    expect(optionMonthsOf(body)).toEqual(["DEC25", "JAN26"]);
    expect(optionMonthsOf({ error: "x" })).toEqual([]);
  });
});

describe("parseWireBody", () => {
  it("keeps JSON as JSON, text as text and an empty body as null", () => {
    expect(parseWireBody('{"a":1}')).toEqual({ a: 1 });
    expect(parseWireBody("Access Denied")).toBe("Access Denied");
    expect(parseWireBody("  ")).toBeNull();
  });
});

describe("the wire tap", () => {
  const sims: ReturnType<typeof createSimulator>[] = [];
  afterEach(() => {
    sims.length = 0;
  });

  function tapped(scenario = "healthy") {
    const sim = createSimulator({ scenario, pacing: "bench" });
    sims.push(sim);
    const capture = createCapture({ allowMethods: new Set(["GET"]) });
    return { sim, capture, dispatcher: capture.wrap(sim.dispatcher()) };
  }

  it("refuses anything but GET before it reaches the gateway", async () => {
    const { sim, capture, dispatcher } = tapped();
    await expect(
      request(`${ORIGIN}/v1/api/logout`, { dispatcher, method: "POST", body: "{}" }),
    ).rejects.toMatchObject({ code: "READONLY_WRITE_FORBIDDEN" });
    await expect(
      request(`${ORIGIN}/v1/api/iserver/account/DU1234567/orders`, {
        dispatcher,
        method: "POST",
        body: JSON.stringify({ orders: [] }),
      }),
    ).rejects.toMatchObject({ code: "READONLY_WRITE_FORBIDDEN" });
    expect(sim.control.count("logout")).toBe(0);
    expect(sim.control.count("placeOrders")).toBe(0);
    expect(sim.control.requests()).toEqual([]);
    expect(capture.exchanges).toEqual([]);
  });

  it("copies each answer as received, error answers included, while the caller still reads it", async () => {
    const { capture, dispatcher } = tapped("no-session");
    const reply = await request(`${ORIGIN}/v1/api/portfolio/accounts`, { dispatcher });
    const text = await reply.body.text();
    expect(reply.statusCode).toBe(401);
    expect(capture.exchanges).toHaveLength(1);
    const [exchange] = capture.exchanges;
    expect(exchange).toMatchObject({
      sequence: 0,
      method: "GET",
      path: "/v1/api/portfolio/accounts",
      status: 401,
      text,
      truncated: false,
    });
    expect(exchange?.headers["x-ibkr-simulator"]).toBe("1");
  });
});
