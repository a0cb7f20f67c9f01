// ibkr_market_depth through the composed gateway and the in-process simulator: the account check, the
// /tickle session value, one websocket session (sbd, the first book, ubd, close), the book mapped with
// best prices first. The refusals: no session, no brokerage session, a competing login, no market-data
// subscription, a closed market, an account the broker does not list, nothing listening. The session
// value never shows up in a result, an error or any file the gateway writes.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { instrumentByConid } from "../../src/simulator/instruments.ts";
import { sessionToken } from "../../src/simulator/routes/session.ts";
import { callCode, callOk, testGateway } from "../support/gateway.ts";
import { MARKET_OPEN, WEEKEND } from "../support/simulator.ts";

const AAPL = { account_id: "DU1234567", contract_id: "265598" };

interface Level {
  readonly price: string;
  readonly size: string;
  readonly venue?: string;
}

interface Depth {
  readonly account_id: string;
  readonly contract_id: string;
  readonly exchange?: string;
  readonly bids: Level[];
  readonly asks: Level[];
  readonly provenance: Record<string, unknown>;
  readonly source: Record<string, unknown>;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("ibkr_market_depth against the in-process simulator", () => {
  it("returns the book around the simulator's quote, best prices first, as many levels as asked", async () => {
    const { gateway, sim, clock } = await testGateway();
    const depth = (await callOk(gateway, "ibkr_market_depth", {
      ...AAPL,
      exchange: "NASDAQ",
      levels: 5,
    })) as unknown as Depth;
    expect(depth).toEqual({
      account_id: "DU1234567",
      contract_id: "265598",
      exchange: "NASDAQ",
      bids: [
        { price: "266.85", size: "23" },
        { price: "266.84", size: "16" },
        { price: "266.83", size: "20" },
        expect.any(Object),
        expect.any(Object),
      ],
      asks: [
        { price: "266.87", size: "7" },
        { price: "266.88", size: "8" },
        { price: "266.89", size: "3" },
        expect.any(Object),
        expect.any(Object),
      ],
      provenance: { status: "live", age_seconds: 0, as_of: "2026-12-01T15:00:00Z", warnings: [] },
      source: { backend: "simulator", simulated: true },
    });
    const bids = depth.bids.map((l) => Number(l.price));
    const asks = depth.asks.map((l) => Number(l.price));
    expect(bids).toEqual([...bids].sort((a, b) => b - a));
    expect(asks).toEqual([...asks].sort((a, b) => a - b));
    expect(new Set(bids).size).toBe(5);
    expect(new Set(asks).size).toBe(5);
    expect(bids[0]).toBeLessThanOrEqual(asks[0] as number);
    expect(bids.every((p) => p < (asks[0] as number))).toBe(true);

    // The same top of book as the simulator's quote at that instant.
    const quote = sim.state.quote(instrumentByConid(265598) as never, clock.now());
    expect(depth.bids[0]).toEqual({ price: quote.bid.toFixed(2), size: String(quote.bidSize) });
    expect(depth.asks[0]).toEqual({ price: quote.ask.toFixed(2), size: String(quote.askSize) });

    // The subscription was cancelled and the socket closed.
    await settle();
    expect(sim.websockets.depthSubscriptions()).toEqual([]);
    expect(sim.websockets.connections()).toBe(0);
  });

  it("returns 10 levels a side by default, at most 20, and follows the price when it moves", async () => {
    const { gateway, sim } = await testGateway();
    const byDefault = (await callOk(gateway, "ibkr_market_depth", {
      account_id: "DU1234567",
      contract_id: "756733",
    })) as unknown as Depth;
    expect(byDefault.bids).toHaveLength(10);
    expect(byDefault.asks).toHaveLength(10);
    expect(byDefault.exchange).toBeUndefined();

    const most = (await callOk(gateway, "ibkr_market_depth", { ...AAPL, levels: 20 })) as unknown as Depth;
    expect(most.bids).toHaveLength(20);
    expect(most.asks).toHaveLength(20);

    sim.control.setPrice("AAPL", 300);
    const moved = (await callOk(gateway, "ibkr_market_depth", { ...AAPL, levels: 1 })) as unknown as Depth;
    expect(moved.bids.map((l) => l.price)).toEqual(["299.99"]);
    expect(moved.asks.map((l) => l.price)).toEqual(["300.01"]);
  });

  it("refuses levels outside 1-20 before any broker call", async () => {
    const { gateway, sim } = await testGateway();
    expect(await callCode(gateway, "ibkr_market_depth", { ...AAPL, levels: 21 })).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    expect(sim.control.requests()).toEqual([]);
  });

  it("needs the session: BROKER_SESSION_REQUIRED without a login or a brokerage session", async () => {
    const none = await testGateway({ scenario: "no-session" });
    expect(await callCode(none.gateway, "ibkr_market_depth", AAPL)).toBe("BROKER_SESSION_REQUIRED");

    const ssoOnly = await testGateway({ scenario: "sso-only" });
    const outcome = await ssoOnly.gateway.dispatch("ibkr_market_depth", AAPL);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe("BROKER_SESSION_REQUIRED");
    expect(outcome.error.details).toEqual({ channel: "websocket", reason: "brokerage_session" });
  });

  it("says BROKER_SESSION_COMPETING when another login holds the brokerage session", async () => {
    const { gateway } = await testGateway({ scenario: "competing-session" });
    expect(await callCode(gateway, "ibkr_market_depth", AAPL)).toBe("BROKER_SESSION_COMPETING");
  });

  it("answers MARKET_DATA_UNAVAILABLE with an action when the broker sends an empty book", async () => {
    for (const [scenario, startAt] of [
      ["no-market-data-subscription", MARKET_OPEN],
      ["healthy", WEEKEND],
    ] as const) {
      const { gateway, sim } = await testGateway({ scenario, startAt });
      const outcome = await gateway.dispatch("ibkr_market_depth", AAPL);
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.error.code).toBe("MARKET_DATA_UNAVAILABLE");
      expect(outcome.error.details).toEqual({ channel: "websocket", reason: "empty_book" });
      expect(outcome.error.userAction).toBe(
        "Check the market-depth (level 2) subscription for this exchange in the IBKR account settings, try another exchange, or ask again while the market is open.",
      );
      await settle();
      expect(sim.websockets.depthSubscriptions()).toEqual([]);
      expect(sim.websockets.connections()).toBe(0);
    }
  });

  it("refuses an account the broker does not list, and a contract it does not know", async () => {
    const { gateway } = await testGateway();
    expect(
      await callCode(gateway, "ibkr_market_depth", { account_id: "DU7777777", contract_id: "265598" }),
    ).toBe("INPUT_UNAUTHORIZED_ACCOUNT");
    const unknown = await gateway.dispatch("ibkr_market_depth", {
      account_id: "DU1234567",
      contract_id: "999999",
    });
    expect(unknown.ok).toBe(false);
    if (unknown.ok) return;
    expect(unknown.error.code).toBe("MARKET_DATA_UNAVAILABLE");
    expect(unknown.error.details).toEqual({
      channel: "websocket",
      reason: "refused",
      broker_message: "Invalid contract id",
    });
  });

  it("answers BROKER_BACKEND_UNAVAILABLE when nothing listens", async () => {
    const { gateway } = await testGateway({ scenario: "gateway-down" });
    expect(await callCode(gateway, "ibkr_market_depth", AAPL)).toBe("BROKER_BACKEND_UNAVAILABLE");
  });

  it("never leaks the session value into results, errors or the files it writes", async () => {
    const { gateway, sim, home } = await testGateway();
    const ok = await gateway.dispatch("ibkr_market_depth", AAPL);
    const failed = await gateway.dispatch("ibkr_market_depth", { ...AAPL, contract_id: "999999" });
    const token = sessionToken(sim.state);
    expect(token).toMatch(/^[0-9a-f]{8}simulated/);
    expect(ok.ok).toBe(true);
    expect(JSON.stringify(ok)).not.toContain(token);
    expect(JSON.stringify(failed)).not.toContain(token);
    if (!failed.ok) expect(`${failed.error.message} ${failed.error.userAction}`).not.toContain(token);
    await gateway.close();
    const files = filesUnder(home);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(readFileSync(file).includes(token)).toBe(false);
  });
});
