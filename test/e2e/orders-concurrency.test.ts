// Several CLI processes of one profile at once, against the simulator served over HTTPS: submits racing with the
// same idempotency key end in exactly one broker order, and a kill switch engaged by one process stops the next
// submit of another. The processes share the profile's store and coordination file, nothing in memory. The
// simulator enforces IBKR's pacing, and the racers stay within it: they queue for /portfolio/accounts (1 request
// per 5 s for the whole profile), so in practice the first places the order and the others replay it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answer } from "../support/cli-process.ts";
import {
  type PaperProfile,
  paperProfile,
  type SimulatorWire,
  simulatorWire,
} from "../support/paper-profile.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

const RACERS = 4;
let sim: SpawnedSimulator;
let wire: SimulatorWire;
let profile: PaperProfile;

beforeAll(async () => {
  // Tuesday 10:00 in New York: the market is open for the whole file.
  sim = await spawnSimulator(["--time", "2026-12-01T15:00:00Z", "--seed", "5"]);
  wire = simulatorWire(sim);
  profile = paperProfile(sim);
});

afterAll(async () => {
  await wire?.close();
  await sim?.stop();
  profile?.remove();
});

describe("CLI processes of one profile at the same time", () => {
  it(`${RACERS} submits with one approval and one key: one broker order, the others replay it or are told it is in progress`, async () => {
    const approvalId = await profile.approvedOrder({ quantity: "7" });
    const placedBefore = await wire.count("placeOrders");

    const runs = await Promise.all(
      Array.from({ length: RACERS }, () => profile.submit(approvalId, "race-same-key-01")),
    );
    const outcomes = runs.map((run) => {
      const body = answer(run);
      const error = body.error as { code?: string } | undefined;
      return {
        code: run.code,
        outcome: error?.code ?? (body.replayed === true ? "replayed" : "placed"),
        body,
      };
    });
    // IDEMPOTENCY_IN_PROGRESS is in the catalogue's "other" group: exit code 1.
    for (const { code, outcome } of outcomes) {
      expect([
        { code: 0, outcome: "placed" },
        { code: 0, outcome: "replayed" },
        { code: 1, outcome: "IDEMPOTENCY_IN_PROGRESS" },
      ]).toContainEqual({ code, outcome });
    }
    const placed = outcomes.filter((o) => o.outcome === "placed");
    expect(placed.length).toBe(1);
    const orderId = placed[0]?.body.broker_order_id;
    for (const replay of outcomes.filter((o) => o.outcome === "replayed")) {
      expect(replay.body.broker_order_id).toBe(orderId);
    }
    expect(await wire.count("placeOrders")).toBe(placedBefore + 1);
    expect(await wire.rateLimited()).toBe(0);
    expect(
      (await wire.orders()).filter((order) => order.quantity === 7).map((o) => String(o.order_id)),
    ).toEqual([orderId]);
  });

  it("a kill switch engaged by one process refuses the next submit of another at once", async () => {
    const approvalId = await profile.approvedOrder({ quantity: "9" });
    const engaged = await profile.cli(["kill-switch", "engage", "--reason", "e2e: stop all order submits"]);
    expect(engaged.code).toBe(0);
    const placedBefore = await wire.count("placeOrders");

    const refused = await profile.submit(approvalId, "after-kill-switch-01");
    // KILL_SWITCH_ENGAGED is in the catalogue's "other" group: exit code 1.
    expect(refused.code).toBe(1);
    expect(answer(refused)).toMatchObject({ error: { code: "KILL_SWITCH_ENGAGED" } });
    expect(await wire.count("placeOrders")).toBe(placedBefore);
    expect((await wire.orders()).filter((order) => order.quantity === 9)).toEqual([]);

    const status = answer(await profile.cli(["kill-switch", "status"]));
    expect(status).toMatchObject({
      state: "engaged",
      reason: "e2e: stop all order submits",
      live_armed: false,
    });
  });
});
