// A simulator started for another time than the gateway's clock (`ibkr-agent simulator --time`, or a
// persisted simulator moved forward): quote ages and the trading session are judged on the simulator's
// clock, which every simulator answer carries (x-ibkr-simulator-time), so its live market is neither old nor
// closed just because the two clocks differ. A real Client Portal Gateway sends no such header: there the
// gateway's own clock is the market's.
import { describe, expect, it } from "vitest";
import { getTickle } from "../../generated/cpapi/client.gen.ts";
import { createManualClock } from "../../src/core/clock.ts";
import { createCpapiClient } from "../../src/cpapi/index.ts";
import { composeGateway } from "../../src/gateway/index.ts";
import { createSimulator } from "../../src/simulator/index.ts";
import { TEST_SECRET, TEST_SECRET_ENV, tempHome } from "../support/gateway.ts";
import { MARKET_OPEN } from "../support/simulator.ts";

const HOUR = 3_600_000;

describe("a simulator on another clock", () => {
  it("tells the client its time, and the client's market clock follows it", async () => {
    const simClock = createManualClock(MARKET_OPEN + HOUR);
    const ours = createManualClock(MARKET_OPEN + 4 * HOUR);
    const sim = createSimulator({ clock: simClock, seed: 1 });
    const client = createCpapiClient({
      baseUrl: "https://localhost:5000/v1/api",
      dispatcher: sim.dispatcher(),
      clock: ours,
    });
    try {
      expect(client.marketNow()).toBe(MARKET_OPEN + 4 * HOUR);
      await getTickle(client.transport);
      expect(client.simulated()).toBe(true);
      expect(client.marketNow()).toBe(MARKET_OPEN + HOUR);
      ours.advance(5_000);
      expect(client.marketNow()).toBe(MARKET_OPEN + HOUR + 5_000);
    } finally {
      await client.close();
      sim.close();
    }
  });

  it("passes a live quote as live when the gateway's clock is three hours ahead of the simulator's", async () => {
    const home = tempHome();
    // 10:00 in New York for the simulator, 13:00 for the gateway: both in the regular session, so without the
    // simulator's clock the quote would look three hours old and be refused as MARKET_DATA_STALE.
    const simClock = createManualClock(MARKET_OPEN);
    const ours = createManualClock(MARKET_OPEN + 3 * HOUR);
    const sim = createSimulator({ clock: simClock, seed: 1 });
    const gateway = await composeGateway({
      frontDoor: "sdk",
      env: { IBKR_AGENT_HOME: home, [TEST_SECRET_ENV]: TEST_SECRET },
      clock: ours,
      simulator: sim,
      // Virtual waits move both clocks, so the snapshot stream warms up as it would in real time.
      sleep: async (ms) => {
        for (let i = 0; i < 30; i += 1) await new Promise((resolve) => setImmediate(resolve));
        simClock.advance(ms);
        ours.advance(ms);
      },
    });
    try {
      const outcome = await gateway.dispatch("ibkr_market_snapshot", { contract_id: "265598" });
      if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
      const provenance = (outcome.result as { provenance: Record<string, unknown> }).provenance;
      expect(provenance.status).toBe("live");
      expect(provenance.age_seconds).toBeLessThanOrEqual(2);
      // as_of is the simulator's time of the values, on its own clock.
      expect(Date.parse(String(provenance.as_of))).toBeLessThanOrEqual(simClock.now());
      expect(Date.parse(String(provenance.as_of))).toBeGreaterThan(simClock.now() - 60_000);
    } finally {
      await gateway.close();
      sim.close();
    }
  });
});
