// The simulator's order engine through the wire: fills against the deterministic market, stop and trailing
// triggers, partial fills, time in force, brackets (children wait for the parent, one child's fill reduces
// or cancels the other), OCA groups, the p12 prompt, cancel and the control API's forced fills.
import { afterEach, describe, expect, it } from "vitest";
import { STOCKS } from "../../src/simulator/index.ts";
import { fromNewYork } from "../../src/simulator/market-time.ts";
import { type TestSimulator, testSimulator } from "../support/simulator.ts";

const ACCOUNT = "DU1234567";
const AAPL = STOCKS.find((s) => s.symbol === "AAPL") as (typeof STOCKS)[number];

let t: TestSimulator;
afterEach(async () => {
  await t?.close();
});

async function start(options: Parameters<typeof testSimulator>[0] = {}): Promise<TestSimulator> {
  t = testSimulator({ seed: 5, pacing: "bench", ...options });
  await t.raw("GET", "/iserver/accounts");
  await t.raw("GET", "/portfolio/accounts");
  return t;
}

function last(): number {
  return t.sim.state.book(AAPL, t.clock.now()).last;
}

function at(percent: number): number {
  return Math.round(last() * (1 + percent / 100) * 100) / 100;
}

async function place(orders: Record<string, unknown>[]): Promise<number[]> {
  let answer = await t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, { orders });
  // Confirm the confirmable questions (stop warnings) the way the client would.
  for (let i = 0; i < 5 && Array.isArray(answer.body) && (answer.body as { id?: string }[])[0]?.id; i += 1) {
    const id = (answer.body as { id: string }[])[0]?.id as string;
    answer = await t.raw("POST", `/iserver/reply/${id}`, { confirmed: true });
  }
  expect(Array.isArray(answer.body), JSON.stringify(answer.body)).toBe(true);
  return (answer.body as { order_id: string }[]).map((o) => Number(o.order_id));
}

function order(id: number) {
  const found = t.sim.state.orders.get(id);
  if (found === undefined) throw new Error(`no order ${id}`);
  return found;
}

/** Moves time in one-minute steps, touching the gateway so the engine runs, until `done` or `minutes` pass. */
async function waitFor(done: () => boolean, minutes = 600): Promise<void> {
  for (let i = 0; i < minutes && !done(); i += 1) {
    t.clock.advance(60_000);
    await t.raw("GET", "/iserver/auth/status");
  }
}

const buy = (extra: Record<string, unknown>) => ({
  conid: AAPL.conid,
  side: "BUY",
  tif: "DAY",
  quantity: 10,
  ...extra,
});
const sell = (extra: Record<string, unknown>) => ({
  conid: AAPL.conid,
  side: "SELL",
  tif: "DAY",
  quantity: 10,
  ...extra,
});

describe("fills", () => {
  it("never reports a fill in the submit answer; a marketable limit fills an instant later at the ask", async () => {
    await start();
    const ask = t.sim.state.book(AAPL, t.clock.now()).ask;
    const [id] = await place([buy({ orderType: "LMT", price: at(1) })]);
    expect(order(id as number).status).toBe("Submitted");
    t.clock.advance(200);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(id as number)).toMatchObject({ status: "Filled", filled: 10 });
    expect(order(id as number).avgFillPrice).toBeCloseTo(ask, 2);
    const position = t.sim.state.accounts.get(ACCOUNT)?.positions.get(AAPL.conid);
    expect(position?.quantity).toBe(210);
  });

  it("leaves a limit under the market working until the price comes to it", async () => {
    await start();
    const [id] = await place([buy({ orderType: "LMT", price: at(-1) })]);
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(id as number).status).toBe("Submitted");
    t.sim.control.setPrice("AAPL", at(-1.5));
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(id as number).status).toBe("Filled");
  });

  it("fills a large order in parts, limited by liquidity each minute", async () => {
    await start();
    const [id] = await place([buy({ orderType: "LMT", price: at(2), quantity: 1_500, tif: "GTC" })]);
    t.clock.advance(200);
    await t.raw("GET", "/iserver/auth/status");
    const first = order(id as number).filled;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(1_500);
    await waitFor(() => order(id as number).status === "Filled", 30);
    expect(order(id as number).filled).toBe(1_500);
    const executions = t.sim.state.accounts.get(ACCOUNT)?.executions.filter((e) => e.orderId === id) ?? [];
    expect(executions.length).toBeGreaterThan(1);
  });

  it("cancels an IOC remainder and an unmarketable IOC", async () => {
    await start();
    const [unmarketable] = await place([buy({ orderType: "LMT", price: at(-2), tif: "IOC" })]);
    t.clock.advance(200);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(unmarketable as number)).toMatchObject({ status: "Cancelled", filled: 0 });
  });

  it("cancels a DAY order at the close and keeps a GTC order into the next session", async () => {
    await start();
    const [dayId] = await place([buy({ orderType: "LMT", price: at(-2) })]);
    const [gtcId] = await place([buy({ orderType: "LMT", price: at(-2.5), tif: "GTC" })]);
    t.sim.control.setPrice("AAPL", at(5));
    const close = fromNewYork("20261201", 16 * 60);
    t.clock.set(close + 60_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(dayId as number)).toMatchObject({
      status: "Cancelled",
      reason: "day order expired at the close",
    });
    expect(order(gtcId as number).status).toBe("Submitted");
  });
});

describe("stops and trailing stops", () => {
  it("holds a stop as PreSubmitted until the price reaches it, then fills like a market order", async () => {
    await start();
    const [id] = await place([sell({ orderType: "STP", auxPrice: at(-1) })]);
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(id as number).status).toBe("PreSubmitted");
    t.sim.control.setPrice("AAPL", at(-1.2));
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(id as number)).toMatchObject({ status: "Filled", triggered: true });
  });

  it("trails the best price by the amount and triggers on the way back", async () => {
    await start();
    const start0 = last();
    const [id] = await place([sell({ orderType: "TRAIL", trailingAmt: 2, trailingType: "amt" })]);
    t.sim.control.setPrice("AAPL", start0 + 5);
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(id as number).trailExtreme).toBeCloseTo(start0 + 5, 1);
    expect(order(id as number).status).toBe("PreSubmitted");
    t.sim.control.setPrice("AAPL", start0 + 2.5);
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(id as number).status).toBe("Filled");
  });
});

describe("brackets and OCA", () => {
  async function bracket(): Promise<[number, number, number]> {
    const ids = await place([
      buy({ orderType: "LMT", price: at(-1), cOID: "entry-1" }),
      sell({ orderType: "LMT", price: at(3), parentId: "entry-1" }),
      sell({ orderType: "STP", auxPrice: at(-2.5), parentId: "entry-1" }),
    ]);
    return ids as [number, number, number];
  }

  it("keeps the children from working until the parent fills", async () => {
    await start();
    const [parent, take] = await bracket();
    t.sim.control.setPrice("AAPL", at(4));
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(parent).status).toBe("Submitted");
    expect(order(take)).toMatchObject({ held: true, filled: 0 });
  });

  it("activates the children on the parent's fill, and one child's fill cancels the other", async () => {
    await start();
    const [parent, take, stop] = await bracket();
    t.sim.control.setPrice("AAPL", at(-1.5));
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(parent).status).toBe("Filled");
    expect(order(take)).toMatchObject({ held: false, status: "Submitted" });
    expect(order(stop)).toMatchObject({ held: false, status: "PreSubmitted" });
    t.sim.control.setPrice("AAPL", at(5));
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(take).status).toBe("Filled");
    expect(order(stop)).toMatchObject({ status: "Cancelled", reason: "OCA group member filled" });
  });

  it("cancels the children when the unfilled parent is cancelled", async () => {
    await start();
    const [parent, take, stop] = await bracket();
    await t.raw("DELETE", `/iserver/account/${ACCOUNT}/order/${parent}`);
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect([order(parent).status, order(take).status, order(stop).status]).toEqual([
      "Cancelled",
      "Cancelled",
      "Cancelled",
    ]);
  });

  it("makes a whole request one OCA group with isSingleGroup", async () => {
    await start();
    const [a, b] = await place([
      buy({ orderType: "LMT", price: at(-1), isSingleGroup: true }),
      buy({ orderType: "LMT", price: at(-2), isSingleGroup: true }),
    ]);
    t.sim.control.fill(a as number);
    expect(order(b as number).status).toBe("Cancelled");
  });
});

describe("prompt and forced fills", () => {
  it("holds the order behind the p12 prompt until /iserver/notification answers it", async () => {
    await start();
    t.sim.control.queueQuestions(["p12"]);
    const prompt = await t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, {
      orders: [buy({ orderType: "LMT", price: at(1) })],
    });
    const body = prompt.body as { orderId: number; reqId: string };
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(body.orderId)).toMatchObject({ status: "PreSubmitted", filled: 0 });
    const ack = await t.raw("POST", "/iserver/notification", {
      orderId: body.orderId,
      reqId: body.reqId,
      text: "Do not use",
    });
    expect(ack.body).toBe("Request was submitted");
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/auth/status");
    expect(order(body.orderId).status).toBe("Filled");
  });

  it("fills any working order on request, partly or fully, at a given price", async () => {
    await start();
    const [id] = await place([buy({ orderType: "LMT", price: at(-2) })]);
    t.sim.control.fill(id as number, { quantity: 4, price: 200 });
    expect(order(id as number)).toMatchObject({ filled: 4, avgFillPrice: 200, status: "Submitted" });
    t.sim.control.fill(id as number);
    expect(order(id as number)).toMatchObject({ filled: 10, status: "Filled" });
  });
});

describe("determinism", () => {
  it("gives the same prices for the same seed and different ones for another seed", async () => {
    const a = testSimulator({ seed: 42 });
    const b = testSimulator({ seed: 42 });
    const c = testSimulator({ seed: 43 });
    const when = a.clock.now() + 3_600_000;
    const p = (x: TestSimulator) => x.sim.state.prices.price(AAPL, when);
    expect(p(a)).toBe(p(b));
    expect(p(a)).not.toBe(p(c));
    expect(Math.abs(p(a) / AAPL.basePrice - 1)).toBeLessThan(0.25);
  });
});
