// The spawned HTTPS simulator: a lost answer destroys the connection after the order was really placed, a
// garbled answer and a stalled snapshot stream are armed through the control routes, and `--state FILE`
// keeps orders across restarts of the server (and starts afresh for another seed).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { createSimulator, STOCKS } from "../../src/simulator/index.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

const ACCOUNT = "DU1234567";
const AAPL = 265598;
const TIME = ["--time", "2026-12-01T15:00:00Z", "--pacing", "bench"];
// A bid 1% under the seed-3 market at that time: it rests, and asks no price question.
const LIMIT = (() => {
  const sim = createSimulator({ seed: 3, startAt: Date.parse("2026-12-01T15:00:00Z") });
  const stock = STOCKS.find((s) => s.conid === AAPL) as (typeof STOCKS)[number];
  return Math.round(sim.state.book(stock, sim.clock.now()).last * 0.99 * 100) / 100;
})();

const running: SpawnedSimulator[] = [];
const agents: Agent[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close();
  for (const sim of running.splice(0)) await sim.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(args: string[]): Promise<{ sim: SpawnedSimulator; agent: Agent }> {
  const sim = await spawnSimulator(args);
  running.push(sim);
  const agent = new Agent({ connect: { ca: readFileSync(sim.certificateFile, "utf8") } });
  agents.push(agent);
  return { sim, agent };
}

async function call(
  sim: SpawnedSimulator,
  agent: Agent,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<unknown> {
  const answer = await request(`https://localhost:${sim.port}${path}`, {
    dispatcher: agent,
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  return answer.body.json();
}

function order(coid: string) {
  return {
    orders: [
      { conid: AAPL, side: "BUY", orderType: "LMT", tif: "GTC", quantity: 2, price: LIMIT, cOID: coid },
    ],
  };
}

describe("lost answers over HTTPS", () => {
  it("destroys the connection after placing the order, once", async () => {
    const { sim, agent } = await start(["--seed", "3", ...TIME]);
    await call(sim, agent, "POST", "/__simulator/lose-response", { operation_id: "placeOrders" });
    await call(sim, agent, "GET", "/v1/api/iserver/accounts");
    const lost = await request(`https://localhost:${sim.port}/v1/api/iserver/account/${ACCOUNT}/orders`, {
      dispatcher: agent,
      method: "POST",
      body: JSON.stringify(order("https-lost-1")),
      headers: { "content-type": "application/json" },
    }).then(
      () => null,
      (error: { code: string }) => error.code,
    );
    expect(lost).toBe("UND_ERR_SOCKET");
    const state = (await call(sim, agent, "GET", "/__simulator/state")) as Record<string, unknown>;
    expect(state.orders).toEqual([{ order_id: 1370093330, status: "Submitted", filled: 0, quantity: 2 }]);
    expect(state.lost_responses).toEqual([]);
    const next = await call(
      sim,
      agent,
      "POST",
      `/v1/api/iserver/account/${ACCOUNT}/orders`,
      order("https-lost-2"),
    );
    expect(next).toEqual([{ order_id: "1370093331", order_status: "Submitted", encrypt_message: "1" }]);
    const refused = await call(sim, agent, "POST", "/__simulator/lose-response", { operation_id: "nope" });
    expect(refused).toEqual({ error: "no CPAPI operation nope" });
  });
});

describe("garbled answers and stalled snapshots over HTTPS", () => {
  it("takes both controls through /__simulator/ and serves them to the next callers", async () => {
    const { sim, agent } = await start(["--seed", "3", ...TIME]);
    const armed = (await call(sim, agent, "POST", "/__simulator/garble-response", {
      operation_id: "getTickle",
    })) as Record<string, unknown>;
    expect(armed.garbled_responses).toEqual(["getTickle"]);
    const garbled = await request(`https://localhost:${sim.port}/v1/api/tickle`, { dispatcher: agent });
    expect(garbled.statusCode).toBe(200);
    expect(await garbled.body.json()).toEqual(["simulator-garbled-answer"]);
    expect(Object.keys((await call(sim, agent, "GET", "/v1/api/tickle")) as object)).toContain("session");
    const stalled = (await call(sim, agent, "POST", "/__simulator/snapshot-stalled", {
      conid: AAPL,
      stalled: true,
    })) as Record<string, unknown>;
    expect([stalled.garbled_responses, stalled.stalled_snapshots]).toEqual([[], [AAPL]]);
    await call(sim, agent, "GET", "/v1/api/iserver/accounts");
    const snapshot = `/v1/api/iserver/marketdata/snapshot?conids=${AAPL}&fields=31`;
    for (let ask = 0; ask < 3; ask += 1) {
      expect(await call(sim, agent, "GET", snapshot)).toEqual([{ conid: AAPL, conidEx: "265598" }]);
    }
    await call(sim, agent, "POST", "/__simulator/snapshot-stalled", { conid: AAPL, stalled: false });
    const released = (await call(sim, agent, "GET", snapshot)) as Record<string, unknown>[];
    expect(released[0]?.["31"]).toMatch(/^\d+\.\d{2}$/);
    expect(await call(sim, agent, "POST", "/__simulator/snapshot-stalled", { conid: "AAPL" })).toEqual({
      error: "conid must be a number",
    });
    expect(await call(sim, agent, "POST", "/__simulator/garble-response", {})).toEqual({
      error: "operation_id must be a CPAPI operation id",
    });
  });
});

describe("ibkr-agent simulator --state FILE", () => {
  it("keeps orders across restarts and starts afresh for another seed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sim-https-state-"));
    dirs.push(dir);
    const file = join(dir, "served.sqlite");
    const first = await start(["--seed", "3", "--state", file, ...TIME]);
    expect(first.sim.info.state_file).toBe(file);
    await call(first.sim, first.agent, "GET", "/v1/api/iserver/accounts");
    await call(first.sim, first.agent, "POST", `/v1/api/iserver/account/${ACCOUNT}/orders`, order("kept-1"));
    expect(await first.sim.stop()).toBe(0);

    const second = await start(["--seed", "3", "--state", file, ...TIME]);
    const kept = (await call(second.sim, second.agent, "GET", "/__simulator/state")) as Record<
      string,
      unknown
    >;
    expect(kept.orders).toEqual([{ order_id: 1370093330, status: "Submitted", filled: 0, quantity: 2 }]);
    expect(await second.sim.stop()).toBe(0);
    expect(second.sim.output().stderr).toBe("");

    const other = await start(["--seed", "4", "--state", file, ...TIME]);
    const fresh = (await call(other.sim, other.agent, "GET", "/__simulator/state")) as Record<
      string,
      unknown
    >;
    expect(fresh.orders).toEqual([]);
    expect(fresh.seed).toBe(4);
    const lines = other.sim.output().stderr.trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(
      "simulator state was created with another seed, scenario or format; starting afresh",
    );
    expect(lines[0]).not.toMatch(/DU\d/);
  });
});
