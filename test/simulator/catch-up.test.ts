// A process that starts long after the last save catches up in one advance, jumping over the stretches in
// which no order can act (nights, the weekend). The jump must not change the outcome: the same saved state
// advanced minute by minute ends in exactly the same books and orders.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { exportDurable } from "../../src/simulator/durable.ts";
import { STOCKS } from "../../src/simulator/index.ts";
import { type TestSimulator, testSimulator } from "../support/simulator.ts";

const ACCOUNT = "DU1234567";
const AAPL = STOCKS.find((s) => s.symbol === "AAPL") as (typeof STOCKS)[number];
/** Friday 2026-12-04 15:00 New York, an hour before the close. */
const FRIDAY = Date.UTC(2026, 11, 4, 20, 0, 0);
/** Monday 2026-12-07 11:00 New York. */
const MONDAY = Date.UTC(2026, 11, 7, 16, 0, 0);

const sims: TestSimulator[] = [];
let dir = "";
afterEach(async () => {
  for (const t of sims.splice(0)) {
    await t.close();
    t.sim.close();
  }
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function open(path: string): TestSimulator {
  const t = testSimulator({ statePath: path, seed: 11, startAt: FRIDAY, pacing: "bench" });
  sims.push(t);
  return t;
}

async function placeConfirmed(t: TestSimulator, orders: Record<string, unknown>[]): Promise<void> {
  let answer = await t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, { orders });
  for (let i = 0; i < 5 && (answer.body as { id?: string }[])[0]?.id !== undefined; i += 1) {
    answer = await t.raw("POST", `/iserver/reply/${(answer.body as { id: string }[])[0]?.id}`, {
      confirmed: true,
    });
  }
  expect((answer.body as { order_id?: string }[])[0]?.order_id, JSON.stringify(answer.body)).toBeDefined();
}

describe("catching up over nights and a weekend", () => {
  it("ends where advancing minute by minute ends", async () => {
    dir = mkdtempSync(join(tmpdir(), "sim-catch-up-"));
    const path = join(dir, "simulator.sqlite");
    const a = open(path);
    await a.raw("GET", "/iserver/accounts");
    const last = a.sim.state.book(AAPL, FRIDAY).last;
    const px = (factor: number) => Math.round(last * factor * 100) / 100;
    const base = { conid: AAPL.conid, quantity: 20 };
    await placeConfirmed(a, [
      { ...base, side: "BUY", orderType: "LMT", tif: "DAY", price: px(0.995), cOID: "c-day" },
    ]);
    await placeConfirmed(a, [
      { ...base, side: "BUY", orderType: "LMT", tif: "GTC", price: px(0.99), cOID: "c-gtc" },
    ]);
    await placeConfirmed(a, [
      {
        ...base,
        side: "SELL",
        orderType: "LMT",
        tif: "GTC",
        price: px(1.01),
        outsideRTH: true,
        cOID: "c-ext",
      },
    ]);
    await placeConfirmed(a, [
      {
        ...base,
        side: "SELL",
        orderType: "TRAIL",
        tif: "GTC",
        trailingAmt: 1.5,
        trailingType: "amt",
        cOID: "c-trail",
      },
    ]);
    await placeConfirmed(a, [{ ...base, side: "BUY", orderType: "MKT", tif: "OPG", cOID: "c-opg" }]);
    await placeConfirmed(a, [
      { ...base, side: "BUY", orderType: "LMT", tif: "GTC", price: px(0.998), cOID: "c-parent" },
      { ...base, side: "SELL", orderType: "LMT", tif: "GTC", price: px(1.015), parentId: "c-parent" },
      { ...base, side: "SELL", orderType: "STP", tif: "GTC", auxPrice: px(0.97), parentId: "c-parent" },
    ]);

    const jump = open(path);
    const steps = open(path);
    jump.sim.state.advance(MONDAY);
    for (let t = Math.ceil((FRIDAY + 1) / 60_000) * 60_000; t <= MONDAY; t += 60_000)
      steps.sim.state.advance(t);
    const jumped = exportDurable(jump.sim.state);
    const stepped = exportDurable(steps.sim.state);
    expect(jumped.engine).toEqual(stepped.engine);
    expect(jumped.accounts).toEqual(stepped.accounts);
    // The walk did something worth comparing: the day order expired, and Monday's open filled the OPG order.
    const status = Object.fromEntries(
      jumped.engine.orders.map((o) => [o.cOID ?? `child-${o.orderId}`, o.status]),
    );
    expect(status["c-day"]).toBe("Cancelled");
    expect(status["c-opg"]).toBe("Filled");
    expect(jumped.accounts[0]?.executions.length).toBeGreaterThan(0);
  });
});
