// The persisted simulator in one process: several simulator instances on one real SQLite state file, as the
// CLI commands and MCP servers of a profile have them. One instance's orders, fills and control changes are
// the others' at their next request; reads that change nothing write nothing; advancing the same saved state
// to the same instant gives the same books; a late start leaves a checkpoint; the person stays logged in;
// another seed or scenario starts afresh; reset-state takes running instances along; lost and garbled
// answers; stalled snapshot streams.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { responseCheck } from "../../generated/cpapi/checks.gen.ts";
import { CPAPI_OPERATIONS, type CpapiOperationId } from "../../generated/cpapi/operations.gen.ts";
import { exportDurable, importDurable } from "../../src/simulator/durable.ts";
import { GARBLED_MARKER, garbledAnswer } from "../../src/simulator/garble.ts";
import { STOCKS } from "../../src/simulator/index.ts";
import type { SimPersistence } from "../../src/simulator/persistence.ts";
import { removeSimulatorState } from "../../src/simulator/persistence.ts";
import { MARKET_OPEN, type TestSimulator, testSimulator } from "../support/simulator.ts";

const ACCOUNT = "DU1234567";
const AAPL = STOCKS.find((s) => s.symbol === "AAPL") as (typeof STOCKS)[number];
const HOUR = 3_600_000;

const dirs: string[] = [];
const sims: TestSimulator[] = [];
afterEach(async () => {
  for (const t of sims.splice(0)) {
    await t.close();
    t.sim.close();
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "sim-state-"));
  dirs.push(dir);
  return join(dir, "simulator.sqlite");
}

interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

function open(
  statePath: string,
  options: { seed?: number; scenario?: string; at?: number; lines?: LogLine[] } = {},
): TestSimulator {
  const lines = options.lines;
  const t = testSimulator({
    statePath,
    seed: options.seed ?? 5,
    scenario: options.scenario ?? "healthy",
    startAt: options.at ?? MARKET_OPEN,
    pacing: "bench",
    ...(lines ? { log: (level, message, fields) => lines.push({ level, message, fields }) } : {}),
  });
  sims.push(t);
  return t;
}

function version(t: TestSimulator): number {
  return (t.sim.state.sharing as SimPersistence).version();
}

function lastPrice(t: TestSimulator): number {
  return t.sim.state.book(AAPL, t.clock.now()).last;
}

async function placeLimit(t: TestSimulator, price: number, coid: string, quantity = 10): Promise<number> {
  await t.raw("GET", "/iserver/accounts");
  const answer = await t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, {
    orders: [{ conid: AAPL.conid, side: "BUY", orderType: "LMT", tif: "DAY", quantity, price, cOID: coid }],
  });
  const id = (answer.body as { order_id?: string }[])[0]?.order_id;
  expect(id, JSON.stringify(answer.body)).toBeDefined();
  return Number(id);
}

/** Lists the account's orders the way the client does: the first list of a session may be the cold one. */
async function liveOrders(t: TestSimulator): Promise<Record<string, unknown>[]> {
  await t.raw("GET", "/iserver/accounts");
  let answer = await t.raw("GET", "/iserver/account/orders");
  if ((answer.body as { snapshot: boolean }).snapshot === false)
    answer = await t.raw("GET", "/iserver/account/orders");
  return (answer.body as { orders: Record<string, unknown>[] }).orders;
}

async function aaplPosition(t: TestSimulator): Promise<number | undefined> {
  await t.raw("GET", "/portfolio/accounts");
  const answer = await t.raw("GET", `/portfolio/${ACCOUNT}/positions/0`);
  const rows = answer.body as { conid: number; position: number }[];
  return rows.find((row) => row.conid === AAPL.conid)?.position;
}

describe("one state file, several simulator instances", () => {
  it("shows the first instance's order to the second: in the list, in order status and, later, filled", async () => {
    const path = stateFile();
    const a = open(path);
    const b = open(path);
    const limit = Math.round(lastPrice(a) * 1.01 * 100) / 100;
    const id = await placeLimit(a, limit, "shared-0001");
    expect(id).toBe(1370093350);

    // The session's cold first order list was A's; B's first list already has the order.
    const cold = await a.raw("GET", "/iserver/account/orders");
    expect(cold.body).toEqual({ orders: [], snapshot: false });
    await b.raw("GET", "/iserver/accounts");
    const listed = await b.raw("GET", "/iserver/account/orders");
    const rows = (listed.body as { orders: Record<string, unknown>[]; snapshot: boolean }).orders;
    expect((listed.body as { snapshot: boolean }).snapshot).toBe(true);
    expect(rows.map((row) => [row.orderId, row.order_ref, row.status])).toEqual([
      [1370093350, "shared-0001", "Submitted"],
    ]);
    const status = await b.raw("GET", `/iserver/account/order/status/${id}`);
    expect(status.status).toBe(200);
    expect((status.body as { order_status: string }).order_status).toBe("Submitted");

    // A minute later the marketable limit has filled, whichever instance looks.
    a.clock.advance(60_000);
    b.clock.set(a.clock.now());
    const filled = await b.raw("GET", `/iserver/account/order/status/${id}`);
    expect((filled.body as { order_status: string; cum_fill: string }).order_status).toBe("Filled");
    expect((filled.body as { cum_fill: string }).cum_fill).toBe("10.0");
    expect(await aaplPosition(b)).toBe(210);
    expect(await aaplPosition(a)).toBe(210);
  });

  it("takes in another instance's save at its next request, and saves nothing for reads that change nothing", async () => {
    const path = stateFile();
    const a = open(path);
    const b = open(path);
    await b.raw("GET", "/tickle");
    const before = version(b);
    await placeLimit(a, Math.round(lastPrice(a) * 0.99 * 100) / 100, "reload-0001");
    expect(b.sim.state.orders.all()).toEqual([]);
    await b.raw("GET", "/tickle");
    expect(b.sim.state.orders.all().map((order) => order.cOID)).toEqual(["reload-0001"]);
    expect(version(b)).toBe(version(a));
    expect(version(b)).toBeGreaterThan(before);

    const settled = version(b);
    for (let i = 0; i < 5; i += 1) {
      b.clock.advance(1_000);
      await b.raw("GET", "/iserver/auth/status");
    }
    expect(version(b)).toBe(settled);

    // A control change is a shared write too.
    b.sim.control.setMarketData("none");
    await a.raw("GET", "/tickle");
    expect(a.sim.state.marketData).toBe("none");
  });

  it("advances one saved state to one instant into the same books in every instance", async () => {
    const path = stateFile();
    const a = open(path);
    const last = lastPrice(a);
    // Marketable limits larger than one minute's liquidity fill in several executions.
    for (const coid of ["det-0001", "det-0002", "det-0003"])
      await placeLimit(a, Math.round(last * 1.01 * 100) / 100, coid, 300);
    await placeLimit(a, Math.round(last * 0.995 * 100) / 100, "det-0004", 40);
    await a.raw("POST", `/iserver/account/${ACCOUNT}/orders`, {
      orders: [
        {
          conid: AAPL.conid,
          side: "SELL",
          orderType: "TRAIL",
          tif: "GTC",
          quantity: 5,
          trailingAmt: 1,
          trailingType: "amt",
          cOID: "det-0005",
        },
      ],
    });
    const c = open(path);
    const d = open(path);
    await c.raw("GET", "/tickle");
    await d.raw("GET", "/tickle");
    expect(version(c)).toBe(version(d));
    // All move three hours on: C through a request (saved), D from the loaded state in memory alone, and A,
    // which saved the state, from its own memory (so nothing was lost on the way through the file).
    const later = MARKET_OPEN + 3 * HOUR;
    c.clock.set(later);
    d.clock.set(later);
    await c.raw("GET", "/tickle");
    d.sim.state.advance(later);
    a.sim.state.advance(later);
    const fromC = exportDurable(c.sim.state);
    for (const other of [exportDurable(d.sim.state), exportDurable(a.sim.state)]) {
      expect(other.accounts).toEqual(fromC.accounts);
      expect(other.engine).toEqual(fromC.engine);
    }
    // The trailing stop carried its tracked extreme through the file.
    expect(fromC.engine.orders.find((order) => order.cOID === "det-0005")?.trailExtreme).not.toBeNull();
    expect(fromC.accounts[0]?.executions.length).toBeGreaterThan(3);
  });

  it("catches up after hours of silence and leaves a checkpoint, so the next instance starts from there", async () => {
    const path = stateFile();
    const a = open(path);
    await placeLimit(a, Math.round(lastPrice(a) * 0.99 * 100) / 100, "late-0001");
    // The price path keeps that bid out of reach; push it further away so nothing can fill.
    a.sim.control.setPrice("AAPL", lastPrice(a) * 1.5);
    const placedVersion = version(a);
    const b = open(path, { at: MARKET_OPEN + 5 * HOUR });
    await b.raw("GET", "/tickle");
    expect(version(b)).toBe(placedVersion + 1);
    const c = open(path, { at: MARKET_OPEN + 5 * HOUR });
    expect(exportDurable(c.sim.state).engine.lastAdvance).toBe(Date.UTC(2026, 11, 1, 20, 0, 0));
    expect(c.sim.state.orders.all().map((order) => order.status)).toEqual(["Submitted"]);
  });

  it("keeps the person logged in across hours of silence and through the nightly reset", async () => {
    const path = stateFile();
    const a = open(path);
    const id = await placeLimit(a, Math.round(lastPrice(a) * 0.99 * 100) / 100, "night-0001");
    // 06:00 New York the next morning: 20 hours of silence and one nightly reset later.
    const morning = Date.UTC(2026, 11, 2, 11, 0, 0);
    const b = open(path, { at: morning });
    const tickle = await b.raw("GET", "/tickle");
    expect(tickle.status).toBe(200);
    expect(
      (tickle.body as { iserver: { authStatus: { authenticated: boolean } } }).iserver.authStatus,
    ).toMatchObject({ authenticated: true, competing: false });
    expect(b.sim.state.session.snapshot(morning).epoch).toBe(2);
    // A new brokerage session: yesterday's day order is no longer the session's.
    await b.raw("GET", "/iserver/accounts");
    expect((await b.raw("GET", `/iserver/account/order/status/${id}`)).status).toBe(503);

    // An in-memory simulator left alone that long has idled out.
    const memory = testSimulator({ seed: 5, pacing: "bench" });
    sims.push(memory);
    memory.clock.set(morning);
    expect((await memory.raw("GET", "/tickle")).status).toBe(401);
  });

  it("starts afresh, with one log line, when another seed or scenario opens the file", async () => {
    const path = stateFile();
    const lines: LogLine[] = [];
    const a = open(path, { lines });
    await placeLimit(a, Math.round(lastPrice(a) * 0.99 * 100) / 100, "seed-0001");
    const b = open(path, { seed: 6, lines });
    expect(b.sim.state.orders.all()).toEqual([]);
    expect(lines).toEqual([
      {
        level: "warn",
        message: "simulator state was created with another seed, scenario or format; starting afresh",
        fields: { previous_seed: 5, previous_scenario: "healthy", seed: 6, scenario: "healthy" },
      },
    ]);
    const c = open(path, { seed: 6, scenario: "multi-account", lines });
    expect(c.sim.state.accounts.size).toBe(2);
    expect(lines.length).toBe(2);
    expect(lines[1]?.fields).toEqual({
      previous_seed: 6,
      previous_scenario: "healthy",
      seed: 6,
      scenario: "multi-account",
    });

    // The first instance never mixes the new state into its own: it stops answering and says so once.
    expect((await a.raw("GET", "/tickle")).networkError).toBe(true);
    expect((await a.raw("GET", "/tickle")).networkError).toBe(true);
    expect(lines.length).toBe(3);
    expect(lines[2]?.message).toBe(
      "simulator state now belongs to another seed or scenario; this process stops using it",
    );
    expect(JSON.stringify(lines)).not.toMatch(/DU\d|U\d{5}/);
  });

  it("reset-state removes the state, says what it held, and running instances start afresh", async () => {
    const path = stateFile();
    const a = open(path);
    await placeLimit(a, Math.round(lastPrice(a) * 1.01 * 100) / 100, "reset-0001");
    a.clock.advance(60_000);
    await a.raw("GET", "/tickle");
    const removal = removeSimulatorState(path);
    expect(removal).toEqual({
      path,
      removed: {
        seed: 5,
        scenario: "healthy",
        version: 3,
        createdAt: MARKET_OPEN,
        savedAt: MARKET_OPEN + 60_000,
        orders: 1,
        workingOrders: 0,
        executions: 1,
      },
      deletedFiles: [],
    });
    expect(await aaplPosition(a)).toBe(200);
    expect(a.sim.state.orders.all()).toEqual([]);
    expect(removeSimulatorState(path).removed?.orders).toBe(0);
    expect(removeSimulatorState(join(path, "..", "missing.sqlite")).removed).toBeNull();
  });
});

describe("the stored file", () => {
  it("holds no raw account id, and gives every one back when read", async () => {
    const path = stateFile();
    const a = open(path, { scenario: "multi-account" });
    await a.raw("GET", "/iserver/accounts");
    const price = Math.round(lastPrice(a) * 0.99 * 100) / 100;
    const answer = await a.raw("POST", "/iserver/account/DU2345678/orders", {
      orders: [
        {
          acctId: "DU2345678",
          conid: AAPL.conid,
          side: "BUY",
          orderType: "LMT",
          tif: "GTC",
          quantity: 1,
          price,
          cOID: "for-DU1234567",
        },
      ],
    });
    expect((answer.body as { order_id?: string }[])[0]?.order_id).toBe("1370093350");
    await a.raw("POST", "/iserver/account", { acctId: "DU2345678" });
    for (const file of [path, `${path}-wal`]) {
      const bytes = readFileSync(file).toString("latin1");
      expect(bytes.includes("DU1234567"), file).toBe(false);
      expect(bytes.includes("DU2345678"), file).toBe(false);
    }
    const b = open(path, { scenario: "multi-account" });
    expect(b.sim.state.selectedAccount).toBe("DU2345678");
    expect(b.sim.state.orders.all().map((o) => [o.accountId, o.ticket.acctId, o.cOID])).toEqual([
      ["DU2345678", "DU2345678", "for-DU1234567"],
    ]);
    expect([...b.sim.state.accounts.keys()]).toEqual(["DU1234567", "DU2345678"]);
  });
});

describe("lost answers", () => {
  it("places the order but fails the caller with a closed socket, once", async () => {
    const path = stateFile();
    const a = open(path);
    const b = open(path);
    // Armed in one instance, it takes the next placeOrders of any instance sharing the state.
    a.sim.control.loseNextResponse("placeOrders");
    const client = b.client({ pacingProfile: "bench" });
    const price = Math.round(lastPrice(b) * 0.99 * 100) / 100;
    const order = {
      conid: AAPL.conid,
      side: "BUY",
      orderType: "LMT",
      tif: "DAY",
      quantity: 1,
      price,
    } as const;
    const lost = await client.orders
      .submit({ accountId: ACCOUNT, orders: [{ ...order, cOID: "lost-0001" }] })
      .then(
        () => null,
        (error: { code: string; details?: Record<string, unknown> }) => error,
      );
    expect(lost?.code).toBe("ORDER_OUTCOME_UNCERTAIN");
    expect(lost?.details).toMatchObject({ operation_id: "placeOrders", failure: "reset" });
    expect(b.sim.state.orders.all().map((o) => [o.cOID, o.status])).toEqual([["lost-0001", "Submitted"]]);
    expect(
      b.sim.control
        .requests()
        .filter((entry) => entry.lost === true)
        .map((e) => e.operationId),
    ).toEqual(["placeOrders"]);
    // One-shot: the next order's answer arrives, and A sees both orders and no fault left.
    const next = await client.orders.submit({
      accountId: ACCOUNT,
      orders: [{ ...order, cOID: "lost-0002" }],
    });
    expect(next.orders.map((o) => o.orderId)).toEqual(["1370093351"]);
    expect(a.sim.control.summary()).toMatchObject({
      lost_responses: [],
      orders: [{ order_id: 1370093350 }, { order_id: 1370093351 }],
    });
  });

  it("reports the undici socket error on the raw dispatcher", async () => {
    const t = testSimulator({ seed: 5, pacing: "bench" });
    sims.push(t);
    t.sim.control.loseNextResponse("getTickle");
    const { request } = await import("undici");
    const failure = await request("https://localhost:5055/v1/api/tickle", {
      dispatcher: t.sim.dispatcher(),
    }).then(
      () => null,
      (error: { code: string }) => error.code,
    );
    expect(failure).toBe("UND_ERR_SOCKET");
    const answered = await request("https://localhost:5055/v1/api/tickle", {
      dispatcher: t.sim.dispatcher(),
    });
    expect(answered.statusCode).toBe(200);
    await answered.body.dump();
    expect(() => t.sim.control.loseNextResponse("noSuchOperation")).toThrow(
      "no CPAPI operation noSuchOperation",
    );
  });
});

describe("order rows a restarted process can match", () => {
  it("carries the cOID as order_ref and names a bracket child's parent", async () => {
    const t = testSimulator({ seed: 5, pacing: "bench" });
    sims.push(t);
    await t.raw("GET", "/iserver/accounts");
    const last = lastPrice(t);
    const answer = await t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, {
      orders: [
        {
          conid: AAPL.conid,
          side: "BUY",
          orderType: "LMT",
          tif: "GTC",
          quantity: 5,
          price: Math.round(last * 0.99 * 100) / 100,
          cOID: "bracket-parent",
        },
        {
          conid: AAPL.conid,
          side: "SELL",
          orderType: "LMT",
          tif: "GTC",
          quantity: 5,
          price: Math.round(last * 1.02 * 100) / 100,
          parentId: "bracket-parent",
        },
      ],
    });
    // The stop child would ask the stop-order question; two legs are enough to pin the linkage.
    expect(Array.isArray(answer.body), JSON.stringify(answer.body)).toBe(true);
    const rows = await liveOrders(t);
    expect(
      rows
        .map((row) => ({ orderId: row.orderId, order_ref: row.order_ref, parentId: row.parentId }))
        .sort((x, y) => Number(x.orderId) - Number(y.orderId)),
    ).toEqual([
      { orderId: 1370093350, order_ref: "bracket-parent", parentId: undefined },
      { orderId: 1370093351, order_ref: undefined, parentId: 1370093350 },
    ]);
  });
});

describe("what the stored state forgets", () => {
  it("drops finished orders and executions older than the trades window, and keeps counting executions", async () => {
    const path = stateFile();
    const a = open(path);
    await placeLimit(a, Math.round(lastPrice(a) * 1.01 * 100) / 100, "old-0001", 1);
    a.clock.advance(60_000);
    await a.raw("GET", "/tickle");
    expect(exportDurable(a.sim.state).accounts[0]?.executions.map((e) => e.executionId)).toEqual([
      "0000e0d5.51a9f726.01.01",
    ]);
    // Nine days on (a Thursday), a new order: the stored state holds only the new one.
    a.clock.set(Date.UTC(2026, 11, 10, 15, 0, 0));
    await placeLimit(a, Math.round(lastPrice(a) * 1.01 * 100) / 100, "old-0002", 1);
    a.clock.advance(60_000);
    await a.raw("GET", "/tickle");
    const stored = exportDurable(open(path, { at: Date.UTC(2026, 11, 10, 15, 1, 0) }).sim.state);
    expect(stored.engine.orders.map((order) => order.cOID)).toEqual(["old-0002"]);
    expect(stored.accounts[0]?.executions.map((e) => e.executionId)).toEqual(["0000e0d5.51a9f727.02.01"]);
    expect(stored.accounts[0]?.executionCount).toBe(2);
    expect(stored.engine.coids.map(([coid]) => coid)).toEqual(["old-0002"]);
  });
});

describe("garbled answers", () => {
  const whatIf = (t: TestSimulator) =>
    t.raw("POST", `/iserver/account/${ACCOUNT}/orders/whatif`, {
      orders: [
        {
          conid: AAPL.conid,
          side: "BUY",
          orderType: "LMT",
          tif: "DAY",
          quantity: 1,
          price: Math.round(lastPrice(t) * 0.99 * 100) / 100,
        },
      ],
    });

  it("answers the next 200 of that operation with JSON its contract refuses, once, in any instance", async () => {
    const path = stateFile();
    const a = open(path);
    const b = open(path);
    a.sim.control.garbleNextResponse("whatIfOrder");
    const check = (await responseCheck("whatIfOrder", 200)) as (body: unknown) => boolean;
    // The pre-flight refusal comes first and goes out as it is: the garble waits for a 200.
    const refused = await whatIf(b);
    expect([refused.status, refused.body]).toEqual([500, { error: "Please query /accounts first" }]);
    expect(a.sim.control.summary()).toMatchObject({ garbled_responses: ["whatIfOrder"] });
    await b.raw("GET", "/iserver/accounts");
    const garbled = await whatIf(b);
    expect([garbled.status, garbled.body]).toEqual([200, ["simulator-garbled-answer"]]);
    expect(check(garbled.body)).toBe(false);
    // One-shot: the next what-if is the real one again, and no instance has a garble left.
    const next = await whatIf(b);
    expect(next.status).toBe(200);
    expect(check(next.body)).toBe(true);
    expect(Object.keys(next.body as object)).toContain("amount");
    expect(a.sim.control.summary()).toMatchObject({ garbled_responses: [] });
    expect(
      b.sim.control
        .requests()
        .filter((entry) => entry.operationId === "whatIfOrder")
        .map((entry) => [entry.status, entry.garbled]),
    ).toEqual([
      [500, undefined],
      [200, true],
      [200, undefined],
    ]);
  });

  it("garbles every operation's answer into a kind its contract does not admit", async () => {
    for (const id of Object.keys(CPAPI_OPERATIONS) as CpapiOperationId[]) {
      const check = await responseCheck(id, 200);
      expect(check, id).not.toBeNull();
      expect(check?.(garbledAnswer(CPAPI_OPERATIONS[id])), id).toBe(false);
    }
    // An object where the contract declares an array, an array for an object, a string for either.
    expect(garbledAnswer(CPAPI_OPERATIONS.whatIfOrder)).toEqual([GARBLED_MARKER]);
    expect(garbledAnswer(CPAPI_OPERATIONS.getMarketSnapshot)).toEqual({ garbled: GARBLED_MARKER });
    expect(garbledAnswer(CPAPI_OPERATIONS.placeOrders)).toBe(GARBLED_MARKER);
    expect(garbledAnswer({ ...CPAPI_OPERATIONS.getTickle, responses: { "200": {} } })).toBeUndefined();
    const t = testSimulator({ seed: 5, pacing: "bench" });
    sims.push(t);
    expect(() => t.sim.control.garbleNextResponse("noSuchOperation")).toThrow(
      "no CPAPI operation noSuchOperation",
    );
  });
});

describe("stalled snapshot streams", () => {
  const SPY = 756733;
  const ROW_KEYS = ["31", "6119", "6509", "84", "_updated", "conid", "conidEx", "server_id"];

  it("answers a stalled conid with conid/conidEx only, however often asked, in any instance, until released", async () => {
    const path = stateFile();
    const a = open(path);
    const b = open(path);
    await b.raw("GET", "/iserver/accounts");
    const snapshot = async () =>
      (await b.raw("GET", `/iserver/marketdata/snapshot?conids=${AAPL.conid},${SPY}&fields=31,84`))
        .body as Record<string, unknown>[];
    a.sim.control.setSnapshotStalled(AAPL.conid, true);
    expect(await snapshot()).toEqual([
      { conid: AAPL.conid, conidEx: "265598" },
      { conid: SPY, conidEx: "756733" },
    ]);
    for (let ask = 0; ask < 3; ask += 1) {
      const rows = await snapshot();
      expect(rows[0]).toEqual({ conid: AAPL.conid, conidEx: "265598" });
      expect(Object.keys(rows[1] as object).sort()).toEqual(ROW_KEYS);
    }
    expect(a.sim.control.summary()).toMatchObject({ stalled_snapshots: [AAPL.conid] });
    a.sim.control.setSnapshotStalled(AAPL.conid, false);
    const released = await snapshot();
    expect(Object.keys(released[0] as object).sort()).toEqual(ROW_KEYS);
    expect(released[0]?.conid).toBe(AAPL.conid);
    expect(b.sim.control.summary()).toMatchObject({ stalled_snapshots: [] });
    expect(() => a.sim.control.setSnapshotStalled(1, true)).toThrow("no simulated instrument 1");
  });

  it("takes in a stored state saved before the garble and stall controls existed", () => {
    const a = open(stateFile());
    a.sim.control.garbleNextResponse("getTickle");
    a.sim.control.setSnapshotStalled(AAPL.conid, true);
    const saved = exportDurable(a.sim.state);
    expect([saved.garbledResponses, saved.stalledSnapshots]).toEqual([["getTickle"], [AAPL.conid]]);
    const { garbledResponses: _g, stalledSnapshots: _s, ...older } = saved;
    importDurable(a.sim.state, older);
    expect([a.sim.state.garbledResponses, [...a.sim.state.stalledSnapshots]]).toEqual([[], []]);
  });
});
