// The simulator's websocket (/v1/api/ws) in-process: the same protocol handler the HTTPS server uses, over
// sim.websocket(). The session hand-shake ("waiting for session", the /tickle session value, `system` and
// `sts`), the depth ladder derived from the quote, unsubscribe, `tic`, heartbeats, and the refusals.
import { afterEach, describe, expect, it } from "vitest";
import type { Simulator, SimWebSocketHandlers } from "../../src/simulator/index.ts";
import { instrumentByConid } from "../../src/simulator/instruments.ts";
import { MARKET_OPEN, type TestSimulator, testSimulator, WEEKEND } from "../support/simulator.ts";

const WAITING = { message: "waiting for session" };

interface Probe {
  readonly messages: unknown[];
  readonly errors: unknown[];
  readonly closes: number[];
  opened: boolean;
  send(text: string): void;
  close(code?: number): void;
  /** Messages received since the last take(). */
  take(): Promise<unknown[]>;
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function probe(sim: Simulator): Probe {
  let seen = 0;
  const p: Probe = {
    messages: [],
    errors: [],
    closes: [],
    opened: false,
    send: () => {},
    close: () => {},
    async take() {
      await flush();
      const out = p.messages.slice(seen);
      seen = p.messages.length;
      return out;
    },
  };
  const handlers: SimWebSocketHandlers = {
    onOpen: () => {
      p.opened = true;
    },
    onMessage: (text) => p.messages.push(JSON.parse(text)),
    onError: (error) => p.errors.push(error),
    onClose: (code) => p.closes.push(code),
  };
  const socket = sim.websocket(handlers);
  p.send = (text) => socket.send(text);
  p.close = (code) => socket.close(code);
  return p;
}

let current: TestSimulator | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});

function simulator(scenario = "healthy", startAt = MARKET_OPEN): TestSimulator {
  current = testSimulator({ scenario, seed: 1, startAt });
  return current;
}

async function sessionOf(t: TestSimulator): Promise<string> {
  const answer = await t.raw("GET", "/tickle");
  return (answer.body as { session: string }).session;
}

async function confirmed(t: TestSimulator): Promise<Probe> {
  const p = probe(t.sim);
  expect(await p.take()).toEqual([WAITING]);
  p.send(JSON.stringify({ session: await sessionOf(t) }));
  await p.take();
  return p;
}

describe("the session hand-shake", () => {
  it("asks for the session, ignores commands and wrong values until the /tickle session arrives", async () => {
    const t = simulator();
    const p = probe(t.sim);
    expect(await p.take()).toEqual([WAITING]);
    expect(p.opened).toBe(true);

    p.send("sbd+DU1234567+265598+NASDAQ");
    expect(await p.take()).toEqual([WAITING]);
    p.send(JSON.stringify({ session: "0123456789abcdef0123456789abcdef" }));
    expect(await p.take()).toEqual([WAITING]);
    expect(t.sim.websockets.depthSubscriptions()).toEqual([]);

    p.send(JSON.stringify({ session: await sessionOf(t) }));
    expect(await p.take()).toEqual([
      { topic: "system", success: "simuser01", isFT: false, isPaper: true },
      {
        topic: "sts",
        args: {
          authenticated: true,
          competing: false,
          message: "",
          fail: "",
          serverName: "JifN00000",
          serverVersion: "Build 10.37.1c, Oct 21, 2025 3:52:07 PM",
          username: "simuser01",
        },
      },
    ]);
    expect(t.sim.websockets.connections()).toBe(1);
  });

  it("refuses the connection while nobody is logged in, as an upgrade answered 401", async () => {
    const t = simulator("no-session");
    const p = probe(t.sim);
    await p.take();
    expect(p.opened).toBe(false);
    expect(p.errors).toEqual([{ code: "WS_UPGRADE_REFUSED", status: 401 }]);
    expect(p.closes).toEqual([1006]);
    expect(t.sim.websockets.connections()).toBe(0);
  });

  it("reports the missing brokerage session in sts and serves no depth without it", async () => {
    const t = simulator("sso-only");
    const p = probe(t.sim);
    await p.take();
    p.send(JSON.stringify({ session: await sessionOf(t) }));
    const [system, sts] = await p.take();
    expect(system).toMatchObject({ topic: "system", success: "simuser01" });
    expect(sts).toMatchObject({ topic: "sts", args: { authenticated: false, competing: false } });
    p.send("sbd+DU1234567+265598+NASDAQ");
    expect(await p.take()).toEqual([
      expect.objectContaining({ topic: "sts", args: expect.objectContaining({ authenticated: false }) }),
    ]);
    expect(t.sim.websockets.depthSubscriptions()).toEqual([]);
  });

  it("says competing in sts when another login holds the brokerage session", async () => {
    const t = simulator("competing-session");
    const p = probe(t.sim);
    await p.take();
    p.send(JSON.stringify({ session: await sessionOf(t) }));
    const [, sts] = await p.take();
    expect(sts).toMatchObject({ topic: "sts", args: { authenticated: false, competing: true } });
  });

  it("asks for the session again once the login ended", async () => {
    const t = simulator();
    const p = await confirmed(t);
    t.sim.control.logout();
    p.send("tic");
    expect(await p.take()).toEqual([WAITING]);
  });

  it("refuses the connection when nothing listens", async () => {
    const t = simulator("gateway-down");
    const p = probe(t.sim);
    await p.take();
    expect(p.opened).toBe(false);
    expect(p.errors).toEqual([expect.objectContaining({ code: "ECONNREFUSED" })]);
    expect(p.closes).toEqual([1006]);
  });
});

interface Row {
  readonly row: number;
  readonly focus: number;
  readonly price: string;
  readonly bid?: string;
  readonly ask?: string;
}

describe("market depth (sbd / ubd)", () => {
  it("answers sbd with a BookTrader ladder around the quote: asks above, bids below, best prices first", async () => {
    const t = simulator();
    const p = await confirmed(t);
    p.send("sbd+DU1234567+265598+NASDAQ");
    const [book] = (await p.take()) as [{ topic: string; data: Row[] }];
    expect(book.topic).toBe("sbd+DU1234567+265598");
    expect(Object.keys(book)).toEqual(["topic", "data"]);

    const rows = book.data;
    expect(rows.map((r) => r.row)).toEqual(rows.map((_, i) => i));
    const cents = rows.map((r) => Math.round(Number(r.price) * 100));
    // One row per tick from the highest ask down to the lowest bid.
    expect(cents.slice(1).every((c, i) => c === (cents[i] as number) - 1)).toBe(true);
    const asks = rows.filter((r) => r.ask !== undefined);
    const bids = rows.filter((r) => r.bid !== undefined);
    expect(asks).toHaveLength(20);
    expect(bids).toHaveLength(20);
    expect(rows.some((r) => r.ask !== undefined && r.bid !== undefined)).toBe(false);
    // The top of the book is the quote: AAPL at 10:00 New York, seed 1.
    expect(asks.at(-1)).toMatchObject({ price: "266.87", ask: "7" });
    expect(bids[0]).toMatchObject({ price: "266.85", bid: "23" });
    expect(rows.filter((r) => r.focus === 1)).toEqual([
      { row: rows.findIndex((r) => r.price === "266.86"), focus: 1, price: "266.86" },
    ]);
    const quote = t.sim.state.quote(instrumentByConid(265598) as never, t.clock.now());
    expect([
      quote.bid.toFixed(2),
      String(quote.bidSize),
      quote.ask.toFixed(2),
      String(quote.askSize),
    ]).toEqual(["266.85", "23", "266.87", "7"]);
    expect(t.sim.websockets.depthSubscriptions()).toEqual([
      { connection: 1, accountId: "DU1234567", conid: 265598, exchange: "NASDAQ" },
    ]);
  });

  it("keeps pushing the book until ubd cancels the account's depth", async () => {
    const t = simulator();
    const p = await confirmed(t);
    p.send("sbd+DU1234567+756733");
    const [first] = (await p.take()) as [{ topic: string }];
    expect(first.topic).toBe("sbd+DU1234567+756733");
    expect(t.sim.websockets.depthSubscriptions()).toEqual([
      { connection: 1, accountId: "DU1234567", conid: 756733, exchange: null },
    ]);
    t.clock.advance(1_000);
    t.sim.websockets.push();
    expect(((await p.take()) as { topic: string }[]).map((m) => m.topic)).toEqual(["sbd+DU1234567+756733"]);

    p.send("ubd+DU1234567");
    expect(await p.take()).toEqual([]);
    expect(t.sim.websockets.depthSubscriptions()).toEqual([]);
    t.sim.websockets.push();
    expect(await p.take()).toEqual([]);
  });

  it("shows ETF-deep sizes with thousands separators, as the gateway prints sizes", async () => {
    const t = simulator();
    const p = await confirmed(t);
    p.send("sbd+DU1234567+756733+ARCA");
    const [book] = (await p.take()) as [{ data: Row[] }];
    const sizes = book.data.flatMap((r) => [r.bid, r.ask]).filter((s): s is string => s !== undefined);
    expect(sizes).toHaveLength(40);
    expect(sizes.every((s) => /^[1-9][0-9]{0,2}(,[0-9]{3})*$/.test(s))).toBe(true);
    expect(sizes.some((s) => s.includes(","))).toBe(true);
  });

  it("sends an empty ladder without a market-data subscription and while the market is closed", async () => {
    for (const [scenario, startAt] of [
      ["no-market-data-subscription", MARKET_OPEN],
      ["delayed-data", MARKET_OPEN],
      ["healthy", WEEKEND],
    ] as const) {
      const t = testSimulator({ scenario, seed: 1, startAt });
      try {
        const p = probe(t.sim);
        await p.take();
        p.send(JSON.stringify({ session: await sessionOf(t) }));
        await p.take();
        p.send("sbd+DU1234567+265598+NASDAQ");
        expect(await p.take()).toEqual([{ topic: "sbd+DU1234567+265598", data: [] }]);
      } finally {
        await t.close();
      }
    }
  });

  it("answers an error on the topic for an account or contract it does not know", async () => {
    const t = simulator();
    const p = await confirmed(t);
    p.send("sbd+DU9999999+265598+NASDAQ");
    p.send("sbd+DU1234567+999999+NASDAQ");
    expect(await p.take()).toEqual([
      { topic: "sbd+DU9999999+265598", error: "Account DU9999999 is not available for this session" },
      { topic: "sbd+DU1234567+999999", error: "Invalid contract id" },
    ]);
    expect(t.sim.websockets.depthSubscriptions()).toEqual([]);
  });
});

describe("tic and heartbeats", () => {
  it("answers tic and keeps the session alive with it", async () => {
    const t = simulator();
    const p = await confirmed(t);
    t.sim.control.advance(5 * 60_000);
    p.send("tic");
    expect(await p.take()).toEqual([{ topic: "tic", alive: true, lastAccessed: MARKET_OPEN + 5 * 60_000 }]);
    // Seven minutes after the last REST request (the idle limit is six), but two after the tic.
    t.sim.control.advance(2 * 60_000);
    expect(t.sim.control.summary()).toMatchObject({ session: { sso: "logged_in" } });
    t.sim.control.advance(6 * 60_000);
    expect(t.sim.control.summary()).toMatchObject({ session: { sso: "logged_out" } });
  });

  it("sends the system heartbeat to confirmed connections only", async () => {
    const t = simulator();
    const waiting = probe(t.sim);
    await waiting.take();
    const p = await confirmed(t);
    t.sim.websockets.heartbeat();
    expect(await p.take()).toEqual([{ topic: "system", hb: MARKET_OPEN }]);
    expect(await waiting.take()).toEqual([]);
  });

  it("forgets the subscriptions of a closed connection", async () => {
    const t = simulator();
    const p = await confirmed(t);
    p.send("sbd+DU1234567+265598+NASDAQ");
    await p.take();
    p.close();
    await p.take();
    expect(p.closes).toEqual([1000]);
    expect(t.sim.websockets.connections()).toBe(0);
    expect(t.sim.websockets.depthSubscriptions()).toEqual([]);
  });
});
