// ibkr_market_depth with the gateway configured for a real Client Portal Gateway that is the simulator's
// HTTPS server: REST over undici and the websocket over `ws`, both trusting only the pinned certificate.
// Without the pin nothing is trusted, REST or websocket.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSimulator, type Simulator, type SimulatorServer } from "../../src/simulator/index.ts";
import { CONFIG_HEADER, callOk, tempHome, testGateway } from "../support/gateway.ts";
import { MARKET_OPEN } from "../support/simulator.ts";

let server: SimulatorServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function served(): Promise<{ sim: Simulator; server: SimulatorServer; caFile: string }> {
  const sim = createSimulator({ scenario: "healthy", seed: 1, startAt: MARKET_OPEN });
  server = await sim.serve({ port: 0 });
  const caFile = join(tempHome(), "simulator.pem");
  writeFileSync(caFile, server.certificatePem);
  return { sim, server, caFile };
}

const settle = async (sim: Simulator) => {
  for (let i = 0; i < 50 && sim.websockets.connections() > 0; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe("ibkr_market_depth over HTTPS and wss", () => {
  it("reads the book through the pinned certificate and says it is simulated", async () => {
    const { sim, server: https, caFile } = await served();
    const { gateway } = await testGateway({
      config: `${CONFIG_HEADER}broker:\n  backend: client_portal_gateway\n  base_url: ${https.baseUrl}\n  ca_file: ${caFile}\n`,
    });
    expect(gateway.broker.client.tlsMode()).toBe("pinned");
    const depth = await callOk(gateway, "ibkr_market_depth", {
      account_id: "DU1234567",
      contract_id: "265598",
      exchange: "NASDAQ",
      levels: 3,
    });
    expect(depth).toMatchObject({
      account_id: "DU1234567",
      contract_id: "265598",
      exchange: "NASDAQ",
      provenance: { status: "live", warnings: [] },
      source: { backend: "client_portal_gateway", simulated: true },
    });
    const bids = depth.bids as { price: string }[];
    const asks = depth.asks as { price: string }[];
    expect(bids).toHaveLength(3);
    expect(asks).toHaveLength(3);
    expect(Number(bids[0]?.price)).toBeLessThan(Number(asks[0]?.price));
    await settle(sim);
    expect(sim.websockets.connections()).toBe(0);
    expect(sim.websockets.depthSubscriptions()).toEqual([]);
  });

  it("trusts nothing without the pinned certificate", async () => {
    const { sim, server: https } = await served();
    const { gateway } = await testGateway({
      config: `${CONFIG_HEADER}broker:\n  backend: client_portal_gateway\n  base_url: ${https.baseUrl}\n`,
    });
    const outcome = await gateway.dispatch("ibkr_market_depth", {
      account_id: "DU1234567",
      contract_id: "265598",
    });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe("BROKER_BACKEND_UNAVAILABLE");
    expect(outcome.error.details).toMatchObject({ failure: "tls" });
    expect(sim.websockets.connections()).toBe(0);
  });
});
