// The 20 gotchas of cpapi-facts.md §10, one test each, at the wire level: what a client of the real
// Client Portal Gateway runs into, reproduced by the simulator. Gotcha 1 (TLS) is covered over real HTTPS
// in https.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import { STOCKS } from "../../src/simulator/index.ts";
import { fromNewYork } from "../../src/simulator/market-time.ts";
import { type TestSimulator, testSimulator, WEEKEND } from "../support/simulator.ts";

const ACCOUNT = "DU1234567";
const AAPL = 265598;
const SPY = 756733;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestSimulator;
afterEach(async () => {
  await t?.close();
});

function start(options: Parameters<typeof testSimulator>[0] = {}): TestSimulator {
  t = testSimulator({ seed: 11, ...options });
  return t;
}

/** The pre-flights, then time for per-endpoint pacing windows (1 per 5 s) to reopen. */
async function preflight(): Promise<void> {
  expect((await t.raw("GET", "/iserver/accounts")).status).toBe(200);
  expect((await t.raw("GET", "/portfolio/accounts")).status).toBe(200);
  t.clock.advance(5_000);
}

/** AAPL's price now, moved by a percentage and rounded to the cent. */
function px(percent = 0): number {
  const stock = STOCKS.find((s) => s.conid === AAPL) as (typeof STOCKS)[number];
  const last = t.sim.state.prices.price(stock, t.clock.now());
  return Math.round(last * (1 + percent / 100) * 100) / 100;
}

/** A buy limit 2% under the market: accepted without questions, and it rests. */
function limit(price: number = px(-2), extra: Record<string, unknown> = {}) {
  return { conid: AAPL, orderType: "LMT", side: "BUY", tif: "DAY", quantity: 1, price, ...extra };
}

async function submit(orders: unknown[]) {
  return t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, { orders });
}

describe("gotcha 2: two session tiers", () => {
  it("answers 401 everywhere without an SSO login", async () => {
    start({ scenario: "no-session" });
    for (const path of [
      "/iserver/accounts",
      "/portfolio/accounts",
      "/trsrv/stocks?symbols=AAPL",
      "/tickle",
      "/iserver/auth/status",
    ]) {
      expect((await t.raw("GET", path)).status, path).toBe(401);
    }
    t.sim.control.login();
    expect((await t.raw("GET", "/iserver/accounts")).status).toBe(200);
  });

  it("with SSO but no brokerage session, /iserver fails while /portfolio and /trsrv work", async () => {
    start({ scenario: "sso-only" });
    const accounts = await t.raw("GET", "/iserver/accounts");
    expect(accounts.status).toBe(400);
    expect(accounts.body).toEqual({ error: "Bad Request: no bridge", statusCode: 400 });
    expect((await t.raw("GET", "/portfolio/accounts")).status).toBe(200);
    expect((await t.raw("GET", "/trsrv/stocks?symbols=AAPL")).status).toBe(200);
    const status = await t.raw("GET", "/iserver/auth/status");
    expect(status.body).toMatchObject({ authenticated: false, competing: false, connected: true });
  });
});

describe("gotcha 3: idle expiry, 24 h cap, nightly reset", () => {
  it("ends the SSO session after 6 minutes without requests, not while requests keep coming", async () => {
    start();
    for (let i = 0; i < 10; i += 1) {
      t.clock.advance(5 * 60_000);
      expect((await t.raw("GET", "/tickle")).status).toBe(200);
    }
    t.clock.advance(6 * 60_000);
    expect((await t.raw("GET", "/tickle")).status).toBe(401);
  });

  it("ends the session 24 hours after login however busy it is", async () => {
    start({ startAt: Date.UTC(2026, 11, 1, 3, 0, 0) });
    for (let minutes = 0; minutes < 24 * 60 - 5; minutes += 5) {
      t.clock.advance(5 * 60_000);
      await t.raw("POST", "/tickle");
    }
    t.clock.advance(1_000);
    expect((await t.raw("GET", "/tickle")).status).toBe(200);
    t.clock.advance(5 * 60_000);
    expect((await t.raw("GET", "/tickle")).status).toBe(401);
  });

  it("resets the brokerage session at 01:00 New York time while the SSO session stays", async () => {
    const beforeReset = fromNewYork("20261202", 58);
    start({ startAt: beforeReset });
    await preflight();
    t.clock.advance(3 * 60_000);
    expect((await t.raw("GET", "/iserver/auth/status")).body).toMatchObject({ authenticated: false });
    expect((await t.raw("GET", "/iserver/accounts")).status).toBe(400);
    expect((await t.raw("GET", "/portfolio/accounts")).status).toBe(200);
  });
});

describe("gotcha 4: competing login", () => {
  it("flips to competing, keeps SSO, and ssodh/init takes the session back only with compete:true", async () => {
    start();
    await preflight();
    t.sim.control.compete();
    expect((await t.raw("GET", "/iserver/auth/status")).body).toMatchObject({
      authenticated: false,
      competing: true,
    });
    expect((await t.raw("GET", "/tickle")).body).toMatchObject({ collission: true });
    expect((await t.raw("GET", "/portfolio/accounts")).status).toBe(200);
    const polite = await t.raw("POST", "/iserver/auth/ssodh/init", { publish: true, compete: false });
    expect(polite.status).toBe(200);
    expect(polite.body).toMatchObject({ authenticated: false, competing: true });
    const taken = await t.raw("POST", "/iserver/auth/ssodh/init", { publish: true, compete: true });
    expect(taken.body).toMatchObject({ authenticated: true, competing: false });
  });
});

describe("gotcha 5: tickle and method variants", () => {
  it("answers the tickle with collission (sic), ssoExpires in ms and hmds 'no bridge', on GET and POST", async () => {
    start();
    const get = await t.raw("GET", "/tickle");
    t.clock.advance(1_000);
    const post = await t.raw("POST", "/tickle");
    for (const answer of [get, post]) {
      const body = answer.body as Record<string, unknown>;
      expect(body.collission).toBe(false);
      expect(body.ssoExpires).toBe(360_000);
      expect(body.hmds).toEqual({ error: "no bridge" });
      expect(typeof body.session).toBe("string");
    }
    expect((await t.raw("POST", "/iserver/auth/status")).status).toBe(200);
    expect((await t.raw("GET", "/logout")).body).toEqual({ status: true });
    t.clock.advance(1_000);
    expect((await t.raw("GET", "/tickle")).body).toEqual({ error: "no session" });
  });
});

describe("gotcha 6: /iserver/accounts first", () => {
  it("answers 500 'Please query /accounts first' until /iserver/accounts, again after a new session", async () => {
    start();
    const before = await t.raw("GET", `/iserver/marketdata/snapshot?conids=${AAPL}`);
    expect(before.status).toBe(500);
    expect(before.body).toEqual({ error: "Please query /accounts first" });
    expect((await submit([limit()])).body).toEqual({ error: "Please query /accounts first" });
    await t.raw("GET", "/iserver/accounts");
    expect((await t.raw("GET", `/iserver/marketdata/snapshot?conids=${AAPL}`)).status).toBe(200);
    t.sim.control.dropBrokerage();
    await t.raw("POST", "/iserver/auth/ssodh/init", { publish: true, compete: false });
    expect((await t.raw("GET", `/iserver/marketdata/snapshot?conids=${AAPL}`)).status).toBe(500);
  });
});

describe("gotcha 7: snapshot pre-flight and sticky fields", () => {
  it("answers the first request per conid with conid/conidEx only, then string values that keep every field asked", async () => {
    start();
    await preflight();
    const first = await t.raw("GET", `/iserver/marketdata/snapshot?conids=${AAPL}&fields=31,84`);
    expect(first.body).toEqual([{ conid: AAPL, conidEx: "265598" }]);
    const second = await t.raw("GET", `/iserver/marketdata/snapshot?conids=${AAPL}&fields=86`);
    const row = (second.body as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect(Object.keys(row).sort()).toEqual([
      "31",
      "6119",
      "6509",
      "84",
      "86",
      "_updated",
      "conid",
      "conidEx",
      "server_id",
    ]);
    expect(typeof row["31"]).toBe("string");
    expect(row.conid).toBe(AAPL);
    expect(row["6119"]).toBe(row.server_id);
    expect(row._updated).toBe(t.clock.now());
  });

  it("delivers computed option greeks a moment after the subscription starts", async () => {
    start();
    await preflight();
    const chain = await t.raw(
      "GET",
      `/iserver/secdef/info?conid=${AAPL}&sectype=OPT&month=JAN27&strike=280&right=C`,
    );
    const option = (chain.body as { conid: number }[])[0]?.conid as number;
    const path = `/iserver/marketdata/snapshot?conids=${option}&fields=31,7308,7309,7310,7311,7633`;
    await t.raw("GET", path);
    const early = (await t.raw("GET", path)).body as Record<string, string>[];
    expect(early[0]?.["7308"]).toBeUndefined();
    t.clock.advance(1_000);
    const later = ((await t.raw("GET", path)).body as Record<string, string>[])[0] as Record<string, string>;
    expect(Number(later["7308"])).toBeGreaterThan(0);
    expect(Number(later["7308"])).toBeLessThan(1);
    expect(Number(later["7310"])).toBeLessThan(0);
    expect(later["7633"]).toMatch(/^\d+\.\d%$/);
  });
});

describe("gotcha 8: snapshot value formats and availability codes", () => {
  it("formats sizes with separators, volume with suffixes, and marks a closed market's last price with C", async () => {
    start();
    await preflight();
    const path = `/iserver/marketdata/snapshot?conids=${SPY}&fields=31,85,87,88,7762`;
    await t.raw("GET", path);
    const sizes = new Set<string>();
    for (let i = 0; i < 30; i += 1) {
      const row = ((await t.raw("GET", path)).body as Record<string, string>[])[0] as Record<string, string>;
      sizes.add(row["85"] as string).add(row["88"] as string);
      expect(row["87"]).toMatch(/^\d+(\.\d)?[KMB]$/);
      expect(row["7762"]).toMatch(/^\d+$/);
      expect(row["6509"]).toBe("RpB");
      t.clock.advance(60_000);
    }
    expect([...sizes].some((size) => /^\d{1,3}(,\d{3})+$/.test(size))).toBe(true);
  });

  it.each([
    ["delayed-data", "DPB"],
    ["frozen-data", "ZPB"],
    ["no-market-data-subscription", "N"],
  ])("%s reports 6509 %s", async (scenario, code) => {
    start({ scenario });
    await preflight();
    const path = `/iserver/marketdata/snapshot?conids=${AAPL}&fields=31,84,86`;
    await t.raw("GET", path);
    const row = ((await t.raw("GET", path)).body as Record<string, string>[])[0] as Record<string, string>;
    expect(row["6509"]).toBe(code);
    if (code === "N") expect(row["31"]).toBeUndefined();
    else expect(row["31"]).toMatch(/^C?\d+\.\d{2}$/);
  });

  it("prefixes the last price with C when the market is closed", async () => {
    start({ startAt: WEEKEND });
    await preflight();
    const path = `/iserver/marketdata/snapshot?conids=${AAPL}&fields=31`;
    await t.raw("GET", path);
    const row = ((await t.raw("GET", path)).body as Record<string, string>[])[0] as Record<string, string>;
    expect(row["31"]).toMatch(/^C\d+\.\d{2}$/);
  });
});

describe("gotcha 9: the first order list is empty", () => {
  it("answers {orders:[], snapshot:false} first and for force=true, then the orders with snapshot:true", async () => {
    start();
    await preflight();
    await submit([limit()]);
    expect((await t.raw("GET", "/iserver/account/orders")).body).toEqual({ orders: [], snapshot: false });
    t.clock.advance(5_000);
    const warm = (await t.raw("GET", "/iserver/account/orders")).body as {
      orders: unknown[];
      snapshot: boolean;
    };
    expect(warm.snapshot).toBe(true);
    expect(warm.orders).toHaveLength(1);
    t.clock.advance(5_000);
    expect((await t.raw("GET", "/iserver/account/orders?force=true")).body).toEqual({
      orders: [],
      snapshot: false,
    });
  });
});

describe("gotcha 10: every order answer is HTTP 200", () => {
  it("answers success, question, reject and the p12 prompt all with 200 and different shapes", async () => {
    start();
    await preflight();
    const success = await submit([limit()]);
    expect(success.status).toBe(200);
    expect((success.body as { order_id?: unknown }[])[0]?.order_id).toMatch(/^\d+$/);
    const question = await submit([limit(px(10))]);
    expect(question.status).toBe(200);
    expect((question.body as { messageIds: string[] }[])[0]?.messageIds).toEqual(["o163"]);
    const reject = await submit([{ conid: AAPL, orderType: "LMT", side: "BUY", tif: "DAY", quantity: 1 }]);
    expect(reject.status).toBe(200);
    expect(reject.body).toEqual({ error: "Missing order price: a limit order needs price" });
    t.sim.control.queueQuestions(["p12"]);
    const prompt = await submit([limit()]);
    expect(prompt.status).toBe(200);
    expect(prompt.body).toMatchObject({
      messageId: "p12",
      prompt: true,
      options: ["Use on this order", "Always use", "Do not use"],
    });
  });
});

describe("gotcha 11: the reply chain", () => {
  it("asks round after round with fresh UUID reply ids, then places the order", async () => {
    start({ scenario: "questions" });
    await preflight();
    let answer = await submit([limit()]);
    const seen: string[] = [];
    for (let round = 0; round < 2; round += 1) {
      const question = (answer.body as { id: string; messageIds: string[] }[])[0] as {
        id: string;
        messageIds: string[];
      };
      expect(question.id).toMatch(UUID);
      seen.push(...question.messageIds);
      answer = await t.raw("POST", `/iserver/reply/${question.id}`, { confirmed: true });
    }
    expect(seen).toEqual(["o10153", "o10152"]);
    expect(answer.body).toMatchObject({ messageId: "p12" });
  });

  it("discards the order on confirmed:false, refuses unknown ids, and answers 503 to a stale reply", async () => {
    start();
    await preflight();
    const first = await submit([limit(px(10))]);
    const id = (first.body as { id: string }[])[0]?.id as string;
    expect((await t.raw("POST", `/iserver/reply/${id}`, { confirmed: false })).body).toEqual({
      error: "Order not confirmed ",
    });
    expect((await t.raw("POST", `/iserver/reply/${id}`, { confirmed: true })).body).toEqual({
      error: `reply id not found: '${id}'`,
    });
    const again = await submit([limit(px(10))]);
    const staleId = (again.body as { id: string }[])[0]?.id as string;
    await t.raw("GET", "/tickle");
    const stale = await t.raw("POST", `/iserver/reply/${staleId}`, { confirmed: true });
    expect(stale.status).toBe(503);
    expect(t.sim.state.orders.all()).toHaveLength(0);
  });
});

describe("gotcha 12: suppressed questions", () => {
  it("skips suppressed question ids for the rest of the brokerage session, until reset", async () => {
    start();
    await preflight();
    expect((await t.raw("POST", "/iserver/questions/suppress", { messageIds: ["o163"] })).body).toEqual({
      status: "submitted",
    });
    const placed = await submit([limit(px(10))]);
    expect((placed.body as { order_status: string }[])[0]?.order_status).toBe("Submitted");
    await t.raw("POST", "/iserver/questions/suppress/reset");
    const asked = await submit([limit(px(11))]);
    expect((asked.body as { messageIds: string[] }[])[0]?.messageIds).toEqual(["o163"]);
  });
});

describe("gotcha 13: cOID uniqueness and linked groups", () => {
  it("refuses a cOID used in the last 24 hours and accepts it after", async () => {
    start();
    await preflight();
    await submit([limit(px(-2), { cOID: "client-1" })]);
    const duplicate = await submit([limit(px(-2), { cOID: "client-1" })]);
    expect(duplicate.body).toEqual({
      error: "Order couldn't be submitted: Local order ID=client-1 is already registered.",
    });
    t.clock.advance(24 * 3_600_000 + 1);
    // A day later the session is long gone: log in again.
    t.sim.control.login();
    await preflight();
    const later = await submit([limit(px(-2), { cOID: "client-1", tif: "GTC" })]);
    expect(Array.isArray(later.body)).toBe(true);
  });

  it("links bracket children to the parent's cOID and makes them one OCA group", async () => {
    start();
    await preflight();
    const answer = await submit([
      limit(px(-1), { cOID: "parent-1" }),
      {
        conid: AAPL,
        orderType: "LMT",
        side: "SELL",
        tif: "DAY",
        quantity: 1,
        price: px(2),
        parentId: "parent-1",
      },
      {
        conid: AAPL,
        orderType: "STP",
        side: "SELL",
        tif: "DAY",
        quantity: 1,
        auxPrice: px(-2.5),
        parentId: "parent-1",
      },
    ]);
    // The stop child raises o10331 (stop order warning), which is confirmable.
    const question = (answer.body as { id: string; messageIds: string[] }[])[0];
    expect(question?.messageIds).toEqual(["o10331"]);
    const placed = await t.raw("POST", `/iserver/reply/${question?.id}`, { confirmed: true });
    expect((placed.body as unknown[]).length).toBe(3);
    const [parent, take, stop] = t.sim.state.orders.all();
    expect(take?.parentOrderId).toBe(parent?.orderId);
    expect(stop?.parentOrderId).toBe(parent?.orderId);
    expect(take?.ocaGroup).toBe(stop?.ocaGroup);
    expect(take?.ocaGroup).not.toBeNull();
  });

  it("refuses a child whose parentId names no order of the request", async () => {
    start();
    await preflight();
    const answer = await submit([limit(px(-2), { parentId: "nobody" })]);
    expect(answer.body).toEqual({ error: "Parent order nobody is not part of this request" });
  });
});

describe("gotcha 14: id types drift between endpoints", () => {
  it("uses strings for submit order_id and secdef conid, integers in live orders, order status and snapshots", async () => {
    start();
    await preflight();
    const submitted = await submit([limit()]);
    const orderId = (submitted.body as { order_id: unknown }[])[0]?.order_id;
    expect(typeof orderId).toBe("string");
    await t.raw("GET", "/iserver/account/orders");
    t.clock.advance(5_000);
    const live = (await t.raw("GET", "/iserver/account/orders")).body as {
      orders: { orderId: unknown; conid: unknown }[];
    };
    expect(typeof live.orders[0]?.orderId).toBe("number");
    const status = (await t.raw("GET", `/iserver/account/order/status/${orderId}`)).body as {
      order_id: unknown;
    };
    expect(typeof status.order_id).toBe("number");
    const search = (await t.raw("GET", "/iserver/secdef/search?symbol=AAPL")).body as { conid: unknown }[];
    expect(search[0]?.conid).toBe("265598");
    const positions = (await t.raw("GET", `/portfolio/${ACCOUNT}/positions/0`)).body as { conid: unknown }[];
    expect(typeof positions[0]?.conid).toBe("number");
  });
});

describe("gotcha 15: casing drifts between endpoints", () => {
  it("answers camelCase live orders, snake_case order status and trades, lowercase summary keys and faclient", async () => {
    start();
    await preflight();
    const submitted = await submit([limit(px(1))]);
    const orderId = (submitted.body as { order_id: string }[])[0]?.order_id as string;
    t.clock.advance(1_000);
    await t.raw("GET", "/iserver/account/orders");
    await t.raw("GET", "/iserver/account/trades");
    t.clock.advance(5_000);
    const live = (await t.raw("GET", "/iserver/account/orders")).body as {
      orders: Record<string, unknown>[];
    };
    expect(live.orders[0]).toHaveProperty("totalSize");
    const status = (await t.raw("GET", `/iserver/account/order/status/${orderId}`)).body as Record<
      string,
      unknown
    >;
    expect(status).toHaveProperty("order_status", "Filled");
    expect(status).toHaveProperty("total_size", "1.0");
    const trades = (await t.raw("GET", "/iserver/account/trades")).body as Record<string, unknown>[];
    expect(trades[0]).toHaveProperty("execution_id");
    expect(trades[0]).toHaveProperty("trade_time_r");
    const summary = (await t.raw("GET", `/portfolio/${ACCOUNT}/summary`)).body as Record<string, unknown>;
    expect(Object.keys(summary).every((key) => key === key.toLowerCase())).toBe(true);
    expect(summary).toHaveProperty("netliquidation-s");
    const accounts = (await t.raw("GET", "/portfolio/accounts")).body as Record<string, unknown>[];
    expect(accounts[0]).toHaveProperty("faclient", false);
  });
});

describe("gotcha 16: cancel and modify semantics", () => {
  it("answers a cancel with 'Request was submitted' while the order is still PendingCancel, then Cancelled", async () => {
    start();
    await preflight();
    const submitted = await submit([limit()]);
    const orderId = (submitted.body as { order_id: string }[])[0]?.order_id as string;
    t.clock.advance(200);
    const cancel = await t.raw("DELETE", `/iserver/account/${ACCOUNT}/order/${orderId}`);
    expect(cancel.body).toEqual({
      msg: "Request was submitted",
      order_id: Number(orderId),
      conid: AAPL,
      account: ACCOUNT,
    });
    expect((await t.raw("GET", `/iserver/account/order/status/${orderId}`)).body).toMatchObject({
      order_status: "PendingCancel",
    });
    t.clock.advance(1_000);
    expect((await t.raw("GET", `/iserver/account/order/status/${orderId}`)).body).toMatchObject({
      order_status: "Cancelled",
    });
    const unknown = await t.raw("DELETE", `/iserver/account/${ACCOUNT}/order/123`);
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ error: "OrderID 123 doesn't exist" });
  });

  it("modifies with one full order object, and refuses an array or a changed side", async () => {
    start();
    await preflight();
    const orderId = ((await submit([limit()])).body as { order_id: string }[])[0]?.order_id as string;
    const path = `/iserver/account/${ACCOUNT}/order/${orderId}`;
    const newPrice = px(-1.5);
    expect((await t.raw("POST", path, [limit(newPrice)])).status).toBe(400);
    expect((await t.raw("POST", path, limit(newPrice, { side: "SELL" }))).body).toEqual({
      error: "The side of an order cannot be changed",
    });
    const modified = await t.raw("POST", path, limit(newPrice, { quantity: 3 }));
    expect(modified.body).toEqual([{ order_id: orderId, order_status: "Submitted", encrypt_message: "1" }]);
    expect(t.sim.state.orders.get(Number(orderId))?.ticket).toMatchObject({ price: newPrice, quantity: 3 });
    expect((await t.raw("POST", `/iserver/account/${ACCOUNT}/order/999`, limit())).body).toEqual({
      error: "OrderID 999 doesn't exist",
    });
  });
});

describe("gotcha 17: order status lives in one brokerage session", () => {
  it("answers 503 for an order of an earlier session and lists only current-session orders (plus working GTC)", async () => {
    start();
    await preflight();
    const day = ((await submit([limit()])).body as { order_id: string }[])[0]?.order_id as string;
    const gtc = ((await submit([limit(px(-2.5), { tif: "GTC" })])).body as { order_id: string }[])[0]
      ?.order_id as string;
    t.sim.control.dropBrokerage();
    await t.raw("POST", "/iserver/auth/ssodh/init", { publish: true, compete: false });
    await preflight();
    const status = await t.raw("GET", `/iserver/account/order/status/${day}`);
    expect(status.status).toBe(503);
    await t.raw("GET", "/iserver/account/orders");
    t.clock.advance(5_000);
    const live = (await t.raw("GET", "/iserver/account/orders")).body as { orders: { orderId: number }[] };
    expect(live.orders.map((o) => String(o.orderId))).toEqual([gtc]);
  });
});

describe("gotcha 18: pacing", () => {
  it("answers the 11th request within a second with 429 and keeps refusing during the penalty box", async () => {
    // Refused requests do not keep the session alive; a long idle timeout keeps this test about pacing.
    start({ sessionTimings: { idleTimeoutMs: 3_600_000 } });
    for (let i = 0; i < 10; i += 1) expect((await t.raw("GET", "/iserver/auth/status")).status).toBe(200);
    expect((await t.raw("GET", "/iserver/auth/status")).status).toBe(429);
    t.clock.advance(5 * 60_000);
    expect((await t.raw("GET", "/iserver/auth/status")).status).toBe(429);
    t.clock.advance(5 * 60_000);
    expect((await t.raw("GET", "/iserver/auth/status")).status).toBe(200);
  });

  it("limits the order list to 1 per 5 s and scanner params to 1 per 15 min", async () => {
    start({ pacing: { penaltyMs: 1_000 } });
    await preflight();
    expect((await t.raw("GET", "/iserver/account/orders")).status).toBe(200);
    t.clock.advance(4_000);
    expect((await t.raw("GET", "/iserver/account/orders")).status).toBe(429);
    t.clock.advance(5_000);
    expect((await t.raw("GET", "/iserver/account/orders")).status).toBe(200);
    expect((await t.raw("GET", "/iserver/scanner/params")).status).toBe(200);
    t.clock.advance(14 * 60_000);
    expect((await t.raw("GET", "/iserver/scanner/params")).status).toBe(429);
  });

  it("lifts every limit in the bench profile", async () => {
    start({ pacing: "bench" });
    for (let i = 0; i < 50; i += 1) expect((await t.raw("GET", "/iserver/auth/status")).status).toBe(200);
  });

  it("starts in the penalty box in the rate-limited scenario", async () => {
    start({ scenario: "rate-limited" });
    expect((await t.raw("GET", "/tickle")).status).toBe(429);
    t.clock.advance(60_000);
    expect((await t.raw("GET", "/tickle")).status).toBe(200);
  });
});

describe("gotcha 19: cold reads and cached positions", () => {
  it("answers the first P&L with {upnl:{}} and the first trade list empty", async () => {
    start();
    await preflight();
    expect((await t.raw("GET", "/iserver/account/pnl/partitioned")).body).toEqual({ upnl: {} });
    t.clock.advance(5_000);
    const warm = (await t.raw("GET", "/iserver/account/pnl/partitioned")).body as {
      upnl: Record<string, unknown>;
    };
    expect(Object.keys(warm.upnl)).toEqual([`${ACCOUNT}.Core`]);
    const submitted = await submit([limit(px(1))]);
    t.clock.advance(1_000);
    void submitted;
    expect((await t.raw("GET", "/iserver/account/trades")).body).toEqual([]);
    t.clock.advance(5_000);
    expect(((await t.raw("GET", "/iserver/account/trades")).body as unknown[]).length).toBe(1);
  });

  it("pages positions by 100 and serves the cached list until invalidated", async () => {
    start();
    await preflight();
    const before = (await t.raw("GET", `/portfolio/${ACCOUNT}/positions/0`)).body as {
      conid: number;
      position: number;
      pageSize: number;
    }[];
    expect(before.every((p) => p.pageSize === 100)).toBe(true);
    expect((await t.raw("GET", `/portfolio/${ACCOUNT}/positions/1`)).body).toEqual([]);
    await submit([{ conid: 8314, orderType: "MKT", side: "BUY", tif: "DAY", quantity: 5 }]).then(
      async (question) => {
        // A market order raises o10151 first; confirm it.
        const id = (question.body as { id: string }[])[0]?.id as string;
        await t.raw("POST", `/iserver/reply/${id}`, { confirmed: true });
      },
    );
    t.clock.advance(1_000);
    await t.raw("GET", "/tickle");
    const cached = (await t.raw("GET", `/portfolio/${ACCOUNT}/positions/0`)).body as { conid: number }[];
    expect(cached.map((p) => p.conid)).toEqual(before.map((p) => p.conid));
    await t.raw("POST", `/portfolio/${ACCOUNT}/positions/invalidate`);
    const fresh = (await t.raw("GET", `/portfolio/${ACCOUNT}/positions/0`)).body as {
      conid: number;
      position: number;
    }[];
    expect(fresh.find((p) => p.conid === 8314)?.position).toBe(5);
  });
});

describe("gotcha 20: history encoding", () => {
  it("answers bars with t in ms, high/low as price*priceFactor/volume/minutes strings, and points = bars - 1", async () => {
    start();
    await preflight();
    const answer = await t.raw("GET", `/iserver/marketdata/history?conid=${AAPL}&period=1w&bar=1d`);
    const body = answer.body as {
      data: { o: number; h: number; l: number; c: number; v: number; t: number }[];
      high: string;
      low: string;
      priceFactor: number;
      volumeFactor: number;
      points: number;
      mdAvailability: string;
      mktDataDelay: number;
    };
    expect(body.priceFactor).toBe(100);
    expect(body.volumeFactor).toBe(100);
    expect(body.points).toBe(body.data.length - 1);
    expect(body.mdAvailability).toBe("S");
    expect(body.mktDataDelay).toBe(0);
    for (const bar of body.data) {
      expect(bar.t % 1_000).toBe(0);
      expect(new Date(bar.t).getUTCHours()).toBe(14);
      expect(bar.h).toBeGreaterThanOrEqual(Math.max(bar.o, bar.c));
      expect(bar.l).toBeLessThanOrEqual(Math.min(bar.o, bar.c));
    }
    const [high, , minutes] = body.high.split("/");
    expect(Number(high)).toBe(Math.round(Math.max(...body.data.map((d) => d.h)) * 100));
    expect(Number(minutes) % 1_440).toBe(0);
    expect(body.low).toMatch(/^\d+\/[\d.]+\/\d+$/);
  });

  it("answers a bad bar size with 400", async () => {
    start();
    await preflight();
    const answer = await t.raw("GET", `/iserver/marketdata/history?conid=${AAPL}&period=1d&bar=7q`);
    expect(answer.status).toBe(400);
  });
});
