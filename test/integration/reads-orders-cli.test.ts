// `ibkr-agent orders list` as a real process: the test serves the simulator over HTTPS (its state shared
// with the test, which places and fills an order through the simulator's wire API), and the spawned CLI
// reaches it like a real Client Portal Gateway with the certificate pinned. Human output is a table; --json
// is the tool result.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SimulatorServer } from "../../src/simulator/index.ts";
import { CONFIG_HEADER, TEST_SECRET, TEST_SECRET_ENV, tempHome } from "../support/gateway.ts";
import { cli } from "../support/run.ts";
import { type TestSimulator, testSimulator } from "../support/simulator.ts";

let t: TestSimulator | undefined;
let server: SimulatorServer | undefined;
afterEach(async () => {
  await server?.close();
  await t?.close();
});

/** A home with a config pointing at the served simulator, as an operator would point at a real gateway. */
function homeFor(served: SimulatorServer): { env: NodeJS.ProcessEnv; config: string } {
  const home = tempHome();
  const ca = join(home, "simulator.pem");
  writeFileSync(ca, served.certificatePem);
  const config = join(home, "config.yaml");
  writeFileSync(
    config,
    `${CONFIG_HEADER}broker:\n  backend: client_portal_gateway\n  base_url: ${served.baseUrl}\n  ca_file: ${ca}\n`,
  );
  return { env: { IBKR_AGENT_HOME: home, [TEST_SECRET_ENV]: TEST_SECRET }, config };
}

describe("ibkr-agent orders list", () => {
  it("prints the session's orders as a table, and the tool result with --json", async () => {
    // Broker-side pacing off: the two CLI processes and the test share one simulated gateway.
    t = testSimulator({ pacing: "bench" });
    server = await t.sim.serve({ port: 0 });
    await t.raw("GET", "/iserver/accounts");
    t.sim.control.setPrice("AAPL", 200);
    const placed = await t.raw("POST", "/iserver/account/DU1234567/orders", {
      orders: [
        { conid: 265598, side: "BUY", orderType: "LMT", price: 196, quantity: 10, tif: "DAY", cOID: "cli-1" },
      ],
    });
    const id = Number((placed.body as { order_id: string }[])[0]?.order_id);
    t.clock.advance(1_000);
    t.sim.control.fill(id, { price: 195.5 });
    // The session's first order list is the broker's empty cold read; take it here so each CLI process
    // gets the full list on its first ask instead of waiting out the 5 s pacing for a second one.
    await t.raw("GET", "/iserver/account/orders");

    // Separate homes: each process has its own pacing file, so neither waits for the other.
    const human = homeFor(server);
    const machine = homeFor(server);
    const [table, json] = await Promise.all([
      cli(["--config", human.config, "orders", "list", "--account", "DU1234567"], human.env),
      cli(["--config", machine.config, "orders", "list", "--account", "DU1234567", "--json"], machine.env),
    ]);

    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain("SIMULATED DATA from the built-in simulator - not a real IBKR account.");
    expect(table.stdout).toMatch(/account id:\s+DU1234567/);
    expect(table.stdout).toMatch(/complete:\s+true/);
    expect(table.stdout).toMatch(
      /BROKER ORDER ID\s+SYMBOL\s+SIDE\s+ORDER TYPE\s+QUANTITY\s+FILLED QUANTITY\s+LIMIT PRICE\s+STATUS/,
    );
    expect(table.stdout).toMatch(new RegExp(`${id}\\s+AAPL\\s+buy\\s+limit\\s+10\\s+10\\s+196\\s+filled`));

    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      account_id: "DU1234567",
      complete: true,
      orders: [
        {
          broker_order_id: String(id),
          client_order_id: "cli-1",
          symbol: "AAPL",
          side: "buy",
          status: "filled",
          filled_quantity: "10",
          average_fill_price: "195.5",
          detail: "session",
        },
      ],
      source: { backend: "client_portal_gateway", simulated: true },
    });
  }, 60_000);
});
