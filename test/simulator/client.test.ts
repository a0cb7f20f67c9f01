// The real CPAPI client against the simulator with the broker's real pacing and session rules, on virtual
// time: a burst of mixed reads never earns a 429, identical reads coalesce, a session lost mid-burst is
// reported (never served stale) and recovers, keep-alive holds an idle session, and every way the gateway
// says no maps to its catalogue code (a garbled answer and a stalled snapshot stream included).
import { afterEach, describe, expect, it } from "vitest";
import {
  getAccountSummary,
  getContractInfo,
  getHistory,
  getLiveOrders,
  getMarketSnapshot,
  getOrderStatus,
  getPositions,
  getTrades,
  searchContracts,
  whatIfOrder,
} from "../../generated/cpapi/client.gen.ts";
import { isGatewayError } from "../../src/core/gateway-error.ts";
import { STOCKS } from "../../src/simulator/index.ts";
import { option, optionExpiries, stocksBySymbol } from "../../src/simulator/instruments.ts";
import { type TestSimulator, testSimulator } from "../support/simulator.ts";

const ACCOUNT = "DU1234567";
const AAPL = 265598;
const CONIDS = STOCKS.map((s) => s.conid);

function optionConids(count: number): number[] {
  const aapl = stocksBySymbol("AAPL")[0] as (typeof STOCKS)[number];
  const expiries = optionExpiries(t.clock.now());
  return Array.from(
    { length: count },
    (_, i) => option(aapl, expiries[i % expiries.length] as string, 200 + i, i % 2 === 0 ? "C" : "P").conid,
  );
}

let t: TestSimulator;
afterEach(async () => {
  await t?.close();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isGatewayError(error)) return error.code;
    throw error;
  }
  return "ok";
}

function statuses(): number[] {
  return t.sim.control.requests().map((r) => r.status);
}

describe("pacing against the simulator's real limits", () => {
  it("runs 1,000 mixed reads with zero 429s at no less than 90% of the allowed rate", async () => {
    t = testSimulator({ seed: 2, sessionTimings: { idleTimeoutMs: 3_600_000 } });
    const client = t.client();
    const tr = client.transport;
    // Every read distinct, so coalescing cannot hide any of them; the limited endpoints spread over the burst.
    const options = optionConids(150);
    const kinds: [number, (i: number) => Promise<unknown>][] = [
      [606, (i) => searchContracts(tr, { query: { symbol: `SYM${i}` } })],
      [
        200,
        (i) =>
          getMarketSnapshot(tr, {
            query: { conids: String(CONIDS[i % CONIDS.length]), fields: `31,84,${7000 + i}` },
          }),
      ],
      [150, (i) => getContractInfo(tr, { path: { conid: options[i] as number } })],
      [7, (i) => getLiveOrders(tr, { query: { filters: `submitted,x${i}` } })],
      [7, (i) => getTrades(tr, { query: { days: i + 1 } })],
      [20, (i) => getHistory(tr, { query: { conid: AAPL, period: `${i + 1}d`, bar: "1h" } })],
      [10, (i) => getPositions(tr, { path: { accountId: ACCOUNT, pageId: i } })],
    ];
    const schedule = kinds
      .flatMap(([count, run]) => Array.from({ length: count }, (_, i) => ({ at: (i + 0.5) / count, i, run })))
      .sort((a, b) => a.at - b.at);
    const results = await Promise.allSettled(schedule.map(({ i, run }) => run(i)));
    expect(
      results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason)),
    ).toEqual([]);
    const log = t.sim.control.requests();
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    const times = log.map((r) => r.at);
    const first = times[0] as number;
    const last = times[times.length - 1] as number;
    const allowed = ((last - first) / 1_000 + 1) * 10;
    // 1,000 reads plus the two account pre-flights and the snapshot re-asks.
    expect(log.length).toBeGreaterThanOrEqual(1_002);
    expect(log.length / allowed).toBeGreaterThanOrEqual(0.9);
  });

  it("serves 100 concurrent identical snapshot reads with one logical call (the pre-flight and its re-ask)", async () => {
    t = testSimulator({ seed: 2 });
    const tr = t.client().transport;
    const reads = Array.from({ length: 100 }, () =>
      getMarketSnapshot(tr, { query: { conids: String(AAPL), fields: "31,84,86" } }),
    );
    const answers = await Promise.all(reads);
    expect(t.sim.control.count("getMarketSnapshot")).toBe(2);
    expect(t.sim.control.count("getBrokerageAccounts")).toBe(1);
    for (const answer of answers)
      expect((answer.body as Record<string, string>[])[0]?.["31"]).toMatch(/^\d+\.\d{2}$/);
  });

  it("answers BROKER_RATE_LIMITED without a retry storm when the gateway has the caller in the penalty box", async () => {
    t = testSimulator({ scenario: "rate-limited" });
    const tr = t.client().transport;
    const codes = await Promise.all(
      Array.from({ length: 20 }, () => codeOf(getContractInfo(tr, { path: { conid: AAPL } }))),
    );
    expect(new Set(codes)).toEqual(new Set(["BROKER_RATE_LIMITED"]));
    // One probe reached the gateway; the other nineteen waited on the client's own back-off.
    expect(t.sim.control.requests().length).toBeLessThanOrEqual(2);
  });
});

describe("session loss", () => {
  it("reports the lost session to every call still queued, then recovers after a new login", async () => {
    t = testSimulator({ seed: 2, sessionTimings: { idleTimeoutMs: 3_600_000 } });
    const client = t.client();
    const tr = client.transport;
    let completed = 0;
    const calls = Array.from({ length: 120 }, (_, i) =>
      searchContracts(tr, { query: { symbol: `S${i}` } }).then(() => {
        completed += 1;
        if (completed === 40) t.sim.control.logout();
      }),
    );
    const codes = await Promise.all(calls.map((call) => codeOf(call)));
    const ok = codes.filter((c) => c === "ok").length;
    expect(ok).toBeGreaterThanOrEqual(40);
    expect(ok).toBeLessThan(60);
    expect(new Set(codes.filter((c) => c !== "ok"))).toEqual(new Set(["BROKER_SESSION_REQUIRED"]));
    // The client stopped sending once it saw the session gone, instead of hammering the gateway.
    expect(statuses().filter((s) => s === 401).length).toBeLessThanOrEqual(12);
    t.sim.control.login();
    t.clock.advance(10_000);
    expect((await client.session.status()).state).toBe("authenticated");
    expect(await codeOf(searchContracts(tr, { query: { symbol: "AAPL" } }))).toBe("ok");
  });

  it("keeps an idle session alive with the keep-alive tickle, and refuses reads once keep-alive fails", async () => {
    t = testSimulator({ seed: 2 });
    const client = t.client();
    for (let minute = 0; minute < 30; minute += 1) {
      t.clock.advance(60_000);
      expect((await client.session.keepAlive()).state).toBe("authenticated");
    }
    t.sim.control.logout();
    t.clock.advance(60_000);
    const failed = await client.session.keepAlive();
    expect(failed.state).toBe("expired");
    expect(failed.manualAction).toMatch(/log in/i);
    const before = t.sim.control.requests().length;
    // A session this client had seen and lost: expired, and the person must log in again.
    expect(await codeOf(getAccountSummary(client.transport, { path: { accountId: ACCOUNT } }))).toBe(
      "BROKER_SESSION_EXPIRED",
    );
    expect(t.sim.control.requests().length).toBe(before);
  });

  it("reports a competing login honestly and never takes the session back on its own", async () => {
    t = testSimulator({ scenario: "competing-session" });
    const client = t.client({ allowSessionInit: true });
    const status = await client.session.keepAlive();
    expect(status.state).toBe("competing");
    expect(t.sim.control.requests().filter((r) => r.operationId === "initBrokerageSession")).toEqual([]);
  });

  it("starts a lost brokerage session with ssodh/init (compete:false) only when configured", async () => {
    t = testSimulator({ scenario: "sso-only" });
    const off = t.client();
    expect((await off.session.keepAlive()).state).toBe("sso_only");
    expect(t.sim.control.count("initBrokerageSession")).toBe(0);
    t.clock.advance(2_000);
    const on = t.client({ allowSessionInit: true });
    expect((await on.session.keepAlive()).state).toBe("authenticated");
    expect(t.sim.control.count("initBrokerageSession")).toBe(1);
  });
});

describe("every way the gateway says no, mapped to the catalogue", () => {
  const stock = STOCKS.find((s) => s.conid === AAPL) as (typeof STOCKS)[number];
  const price = (pct: number) =>
    Math.round(t.sim.state.prices.price(stock, t.clock.now()) * (1 + pct / 100) * 100) / 100;
  const ticket = (extra: Record<string, unknown> = {}) => ({
    conid: AAPL,
    orderType: "LMT" as const,
    side: "BUY" as const,
    tif: "DAY" as const,
    quantity: 1,
    price: price(-2),
    ...extra,
  });

  it.each([
    ["gateway-down", "BROKER_BACKEND_UNAVAILABLE"],
    ["no-session", "BROKER_SESSION_REQUIRED"],
    ["sso-only", "BROKER_SESSION_REQUIRED"],
    ["competing-session", "BROKER_SESSION_REQUIRED"],
    ["rate-limited", "BROKER_RATE_LIMITED"],
  ])("scenario %s -> %s", async (scenario, code) => {
    t = testSimulator({ scenario });
    expect(await codeOf(getContractInfo(t.client().transport, { path: { conid: AAPL } }))).toBe(code);
  });

  it("maps a rejected order, an unknown question, a refused question and a stale reply", async () => {
    t = testSimulator({ seed: 2 });
    // One client: two clients without a shared coordination file would break the pacing between them.
    const c = t.client();
    const submit = (orders: ReturnType<typeof ticket>[]) =>
      codeOf(c.orders.submit({ accountId: ACCOUNT, orders }));
    expect(await submit([ticket({ price: undefined })])).toBe("BROKER_ORDER_REJECTED");
    t.sim.control.queueQuestions(["o99999"]);
    expect(await submit([ticket()])).toBe("BROKER_QUESTION_UNAPPROVED");
    expect(await submit([ticket({ price: price(8) })])).toBe("BROKER_QUESTION_UNAPPROVED");
    // A person acknowledged o163 in the approval: the same order goes through.
    const approved = await c.orders.submit({
      accountId: ACCOUNT,
      orders: [ticket({ price: price(8) })],
      approvedQuestions: ["o163"],
    });
    expect(approved.answered.map((a) => a.questionIds[0])).toEqual(["o163"]);
    expect(t.sim.state.orders.all().filter((o) => o.status !== "Cancelled")).toHaveLength(1);
  });

  it("maps a garbled read to BROKER_RESPONSE_INVALID without its body, and a garbled order answer to ORDER_OUTCOME_UNCERTAIN", async () => {
    t = testSimulator({ seed: 2 });
    const client = t.client();
    t.sim.control.garbleNextResponse("whatIfOrder");
    const failure = await whatIfOrder(client.transport, {
      path: { accountId: ACCOUNT },
      body: { orders: [ticket()] },
    }).then(
      () => null,
      (error: { code: string; message: string; details?: Record<string, unknown> }) => error,
    );
    expect(failure?.code).toBe("BROKER_RESPONSE_INVALID");
    expect(failure?.details).toEqual({
      operation_id: "whatIfOrder",
      http_status: 200,
      reason: "schema_mismatch",
      instance_path: "",
    });
    expect(JSON.stringify({ ...failure, message: failure?.message })).not.toContain(
      "simulator-garbled-answer",
    );
    // One-shot: the same what-if is answered next time.
    const answered = await whatIfOrder(client.transport, {
      path: { accountId: ACCOUNT },
      body: { orders: [ticket()] },
    });
    expect(Object.keys(answered.body as object)).toContain("amount");
    // On an order write the order really is placed; unreadable, its outcome is uncertain, never "failed".
    t.sim.control.garbleNextResponse("placeOrders");
    expect(await codeOf(client.orders.submit({ accountId: ACCOUNT, orders: [ticket()] }))).toBe(
      "ORDER_OUTCOME_UNCERTAIN",
    );
    expect(t.sim.state.orders.all().map((o) => o.status)).toEqual(["Submitted"]);
  });

  it("re-asks a stalled snapshot stream as the client always does, and gets values once it is released", async () => {
    t = testSimulator({ seed: 2 });
    const client = t.client();
    t.sim.control.setSnapshotStalled(AAPL, true);
    const stalled = await getMarketSnapshot(client.transport, {
      query: { conids: String(AAPL), fields: "31" },
    });
    // The pre-flight ask and both re-asks came back empty.
    expect(stalled.body).toEqual([{ conid: AAPL, conidEx: "265598" }]);
    expect(t.sim.control.count("getMarketSnapshot")).toBe(3);
    t.sim.control.setSnapshotStalled(AAPL, false);
    const released = await getMarketSnapshot(client.transport, {
      query: { conids: String(AAPL), fields: "31" },
    });
    expect((released.body as Record<string, unknown>[])[0]?.["31"]).toMatch(/^\d+\.\d{2}$/);
    expect(t.sim.control.count("getMarketSnapshot")).toBe(4);
  });

  it("maps an unknown order on cancel, modify and status to ORDER_NOT_FOUND", async () => {
    t = testSimulator({ seed: 2 });
    const client = t.client();
    expect(await codeOf(client.orders.modify({ accountId: ACCOUNT, orderId: 42, order: ticket() }))).toBe(
      "ORDER_NOT_FOUND",
    );
    expect(await codeOf(getOrderStatus(client.transport, { path: { orderId: 42 } }))).toBe("ORDER_NOT_FOUND");
  });
});
