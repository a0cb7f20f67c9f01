// Crash safety end to end: `orders submit` as a real process against the simulator served over HTTPS, killed
// with SIGKILL at each step of the write (IBKR_AGENT_CRASH_AT), then run again with the same approval and key.
// The second process settles the row the first left pending (start-up recovery looks the order up by its cOID),
// and the idempotency step then replays the order or places it once: the broker ends up with exactly one order
// for the key, and the audit chain stays intact.
//
// Each crash point has a profile (state home) of its own and the four run side by side: a profile's CLI
// processes share the broker's pacing (/portfolio/accounts: 1 request per 5 s, one such call per command), so
// one profile for all four would spend a minute waiting. The simulator's own limits are lifted for the same
// reason (four profiles are four clients behind one source); each profile still paces itself as for IBKR.
// Each case orders a different quantity, which tells its orders apart at the shared broker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answer, ok } from "../support/cli-process.ts";
import {
  auditEvents,
  listedOrders,
  type PaperProfile,
  paperProfile,
  type SimulatorWire,
  simulatorWire,
} from "../support/paper-profile.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

let sim: SpawnedSimulator;
let wire: SimulatorWire;
const profiles: PaperProfile[] = [];

beforeAll(async () => {
  // Tuesday 10:00 in New York: the market is open for the whole file.
  sim = await spawnSimulator(["--time", "2026-12-01T15:00:00Z", "--seed", "3", "--pacing", "bench"]);
  wire = simulatorWire(sim);
});

afterAll(async () => {
  await wire?.close();
  await sim?.stop();
  for (const profile of profiles) profile.remove();
});

interface CrashCase {
  readonly point: string;
  readonly quantity: number;
  /** Whether the order reached the broker before the process died. */
  readonly placedBeforeCrash: boolean;
  /** How the second process settled the first one's pending row (null: there was none). */
  readonly resolved: { result_status: string; error_code?: string } | null;
}

const CASES: readonly CrashCase[] = [
  { point: "before_pending", quantity: 1, placedBeforeCrash: false, resolved: null },
  {
    point: "after_pending",
    quantity: 2,
    placedBeforeCrash: false,
    resolved: { result_status: "failed", error_code: "ORDER_OUTCOME_UNCERTAIN" },
  },
  {
    point: "after_broker_accepted",
    quantity: 3,
    placedBeforeCrash: true,
    resolved: { result_status: "completed" },
  },
  {
    point: "before_completion",
    quantity: 4,
    placedBeforeCrash: true,
    resolved: { result_status: "completed" },
  },
];

describe.concurrent("orders submit killed with SIGKILL at each step of the write, then run again", () => {
  for (const { point, quantity, placedBeforeCrash, resolved } of CASES) {
    it(`${point}: one broker order for the key, ${placedBeforeCrash ? "replayed" : "placed once"} by the second run, audit intact`, async () => {
      const profile = paperProfile(sim);
      profiles.push(profile);
      const mine = async () => (await wire.orders()).filter((order) => order.quantity === quantity);
      const approvalId = await profile.approvedOrder({ quantity: String(quantity) });
      const key = `crash-${point}`;

      const crashed = await profile.submit(approvalId, key, { IBKR_AGENT_CRASH_AT: point });
      expect(crashed.signal).toBe("SIGKILL");
      expect(crashed.code).toBe(null);
      expect(crashed.stdout).toBe("");
      expect((await mine()).length).toBe(placedBeforeCrash ? 1 : 0);

      const result = ok(await profile.submit(approvalId, key));
      expect(result).toMatchObject({
        approval_id: approvalId,
        mode: "paper",
        writer: "broker",
        replayed: placedBeforeCrash,
        order: { quantity: String(quantity) },
      });
      expect(result.client_order_id).toMatch(/^iag-[0-9a-f]{24}$/);
      // Exactly one order reached the broker for this submit, and it is the one the second run reported ...
      expect((await mine()).map((order) => String(order.order_id))).toEqual([result.broker_order_id]);
      // ... and the broker knows it by the submit's cOID.
      const withCoid = (await listedOrders(profile)).filter(
        (order) => order.client_order_id === result.client_order_id,
      );
      expect(withCoid.map((order) => order.broker_order_id)).toEqual([result.broker_order_id]);

      const verify = await profile.cli(["audit", "verify"]);
      expect(verify.code).toBe(0);
      expect(answer(verify)).toMatchObject({ chain_valid: true, first_break_sequence: null });

      const events = await auditEvents(profile);
      const settled = events
        .filter((event) => event.event_type === "order_outcome_resolved")
        .map((event) => ({
          result_status: event.result_status,
          ...(event.error_code !== undefined ? { error_code: event.error_code } : {}),
        }));
      expect(settled).toEqual(resolved === null ? [] : [resolved]);
      // Recorded once, whether the second run completed the write or recovery found it at the broker.
      const types = events.map((event) => event.event_type);
      expect(types.filter((type) => type === "order_submitted").length).toBe(1);
      expect(types.filter((type) => type === "approval_consumed").length).toBe(1);
      // Each CLI process of a profile waits its turn for /portfolio/accounts (1 per 5 s): about 25 s of
      // pacing per case, more on a loaded machine.
    }, 120_000);
  }
});
