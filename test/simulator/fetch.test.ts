// The third way to serve the simulator: msw's setupServer intercepting fetch in this process, for code
// that talks to the gateway with fetch instead of undici. Same handlers, same answers.
import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../../src/core/clock.ts";
import { createSimulator } from "../../src/simulator/index.ts";
import { MARKET_OPEN } from "../support/simulator.ts";

const sim = createSimulator({ clock: createManualClock(MARKET_OPEN), seed: 1 });
const server = setupServer(...sim.handlers);

beforeAll(() => server.listen({ onUnhandledFrame: "error" }));
afterAll(() => server.close());

describe("msw setupServer", () => {
  it("answers fetch from the simulator's handlers, with the simulator header", async () => {
    const accounts = await fetch("https://localhost:5055/v1/api/iserver/accounts");
    expect(accounts.status).toBe(200);
    expect(accounts.headers.get("x-ibkr-simulator")).toBe("1");
    expect(((await accounts.json()) as { accounts: string[] }).accounts).toEqual(["DU1234567"]);
    const snapshot = await fetch(
      "https://localhost:5055/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31",
    );
    expect(await snapshot.json()).toEqual([{ conid: 265598, conidEx: "265598" }]);
    expect(sim.control.count("getMarketSnapshot")).toBe(1);
  });

  it("answers a path the gateway does not have with 404", async () => {
    const answer = await fetch("https://localhost:5055/v1/api/no/such/endpoint");
    expect(answer.status).toBe(404);
  });
});
