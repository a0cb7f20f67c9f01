// A gateway configured for a real Client Portal Gateway that turns out to be the HTTPS simulator: the very
// first result of the process already says simulated, because `source` is read once the broker's replies
// (header x-ibkr-simulator: 1) have been seen, not before the first request.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSimulator, type SimulatorServer } from "../../src/simulator/index.ts";
import { CONFIG_HEADER, callOk, tempHome, testGateway } from "../support/gateway.ts";

let server: SimulatorServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("source over a real HTTPS connection", () => {
  it("labels the first result of a fresh gateway as simulated when the gateway is the simulator", async () => {
    server = await createSimulator({ scenario: "healthy" }).serve({ port: 0 });
    const caFile = join(tempHome(), "simulator.pem");
    writeFileSync(caFile, server.certificatePem);
    const { gateway } = await testGateway({
      config: `${CONFIG_HEADER}broker:\n  backend: client_portal_gateway\n  base_url: ${server.baseUrl}\n  ca_file: ${caFile}\n`,
    });
    expect(gateway.broker.source()).toEqual({ backend: "client_portal_gateway", simulated: false });
    const list = await callOk(gateway, "ibkr_positions_list", { account_id: "DU1234567" });
    expect(list.source).toEqual({ backend: "client_portal_gateway", simulated: true });
    expect((list.positions as unknown[]).length).toBe(3);
  });
});
