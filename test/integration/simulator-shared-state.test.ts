// The default backend's simulator is one broker per profile: two gateways on one $IBKR_AGENT_HOME (two CLI
// commands, or a CLI command beside an MCP server) see each other's orders; `ibkr-agent simulator
// reset-state` removes the state and says what it held; a config naming another seed starts afresh with one
// log line and no account id in it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { composeGateway, type Gateway } from "../../src/gateway/index.ts";
import { STOCKS, simulatorStatePath } from "../../src/simulator/index.ts";
import { removeSimulatorState } from "../../src/simulator/persistence.ts";
import { CONFIG_HEADER, callOk, TEST_SECRET, TEST_SECRET_ENV, tempHome } from "../support/gateway.ts";
import { cli } from "../support/run.ts";
import { testSimulator } from "../support/simulator.ts";

const ACCOUNT = "DU1234567";
const AAPL = STOCKS.find((s) => s.symbol === "AAPL") as (typeof STOCKS)[number];

function defaultsEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, IBKR_AGENT_HOME: home };
  delete env.IBKR_AGENT_CONFIG;
  return env;
}

function profileState(home: string): string {
  const dir = join(home, "profiles", "simulator");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return simulatorStatePath(dir);
}

/** A state in the home's default profile holding one resting order, written by an in-process simulator. */
async function stateWithOneOrder(home: string, seed = 1): Promise<void> {
  const t = testSimulator({ statePath: profileState(home), seed, pacing: "bench" });
  try {
    await t.raw("GET", "/iserver/accounts");
    const price = Math.round(t.sim.state.book(AAPL, t.clock.now()).last * 0.99 * 100) / 100;
    const answer = await t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, {
      orders: [
        {
          conid: AAPL.conid,
          side: "BUY",
          orderType: "LMT",
          tif: "GTC",
          quantity: 4,
          price,
          cOID: "cli-0001",
        },
      ],
    });
    expect((answer.body as { order_id?: string }[])[0]?.order_id).toBe("1370093310");
  } finally {
    await t.close();
    t.sim.close();
  }
}

describe("one simulated broker per profile", () => {
  it("lists through a second gateway on the same home the order the first one placed", async () => {
    const home = tempHome();
    const env = defaultsEnv(home);
    const gateways: Gateway[] = [];
    try {
      const first = await composeGateway({ frontDoor: "cli", env, pacingProfile: "bench" });
      gateways.push(first);
      const second = await composeGateway({ frontDoor: "cli", env, pacingProfile: "bench" });
      gateways.push(second);
      const sim = first.broker.simulator;
      if (sim === null) throw new Error("the default backend is the simulator");
      const price = Math.round(sim.state.book(AAPL, sim.clock.now()).last * 0.99 * 100) / 100;
      const placed = await first.broker.client.orders.submit({
        accountId: ACCOUNT,
        orders: [
          {
            conid: AAPL.conid,
            side: "BUY",
            orderType: "LMT",
            tif: "GTC",
            quantity: 7,
            price,
            cOID: "gw-0001",
          },
        ],
      });
      expect(placed.orders.map((order) => order.orderId)).toEqual(["1370093310"]);

      const listed = await callOk(second, "ibkr_orders_list", { account_id: ACCOUNT });
      expect(listed.orders).toMatchObject([
        { broker_order_id: "1370093310", client_order_id: "gw-0001", side: "buy", quantity: "7" },
      ]);
    } finally {
      for (const gateway of gateways) await gateway.close();
    }
  });
});

describe("ibkr-agent simulator reset-state", () => {
  it("removes the profile's state and says what it held; a second run finds nothing", async () => {
    const home = tempHome();
    await stateWithOneOrder(home);
    const env = defaultsEnv(home);
    const first = await cli(["simulator", "reset-state", "--json"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      profile: "simulator",
      state_file: join(home, "profiles", "simulator", "simulator.sqlite"),
      removed: {
        seed: 1,
        scenario: "healthy",
        version: 2,
        created_at: "2026-12-01T15:00:00.000Z",
        saved_at: "2026-12-01T15:00:00.000Z",
        orders: 1,
        working_orders: 1,
        executions: 0,
      },
      deleted_files: [],
    });
    const again = await cli(["simulator", "reset-state"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      `The profile simulator has no simulator state; nothing to remove.\n  File: ${join(home, "profiles", "simulator", "simulator.sqlite")}\n`,
    );
  });

  it("refuses a configuration whose backend is a real gateway", async () => {
    const home = tempHome();
    const file = join(home, "real.yaml");
    writeFileSync(
      file,
      `${CONFIG_HEADER}broker:\n  backend: client_portal_gateway\n  base_url: https://localhost:5000/v1/api\n`,
    );
    const result = await cli(["simulator", "reset-state", "--json", "--config", file], {
      ...defaultsEnv(home),
      [TEST_SECRET_ENV]: TEST_SECRET,
    });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout || result.stderr).error.code).toBe("INPUT_INVALID_ARGUMENT");
  });
});

describe("a configuration with another seed", () => {
  it("starts the simulator afresh with one log line that names no account", async () => {
    const home = tempHome();
    await stateWithOneOrder(home, 1);
    const file = join(home, "seed2.yaml");
    writeFileSync(file, `${CONFIG_HEADER}broker:\n  simulator:\n    seed: 2\n`);
    const result = await cli(["accounts", "list", "--json", "--config", file], {
      ...defaultsEnv(home),
      [TEST_SECRET_ENV]: TEST_SECRET,
    });
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(
      "simulator state was created with another seed, scenario or format; starting afresh",
    );
    expect(lines[0]).not.toMatch(/DU\d|U\d{5}/);
    // What is stored now is the seed-2 simulator, without the seed-1 order.
    const removal = removeSimulatorState(simulatorStatePath(join(home, "profiles", "simulator")));
    expect(removal.removed).toMatchObject({ seed: 2, scenario: "healthy", orders: 0 });
  });
});
