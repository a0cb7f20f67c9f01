// The simulator as a spawned HTTPS server (gotcha 1: self-signed TLS under /v1/api) and the client over
// real TLS: a pinned certificate over localhost, IPv4 and IPv6 loopback; refusal without trust; the
// localhost bypass; the control API over HTTP; a clean stop on SIGTERM; clear errors for bad flags.
import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAuthStatus, getBrokerageAccounts, searchContracts } from "../../generated/cpapi/client.gen.ts";
import { isGatewayError } from "../../src/core/gateway-error.ts";
import { createCpapiClient } from "../../src/cpapi/index.ts";
import { DEFAULT_SIMULATOR_PORT } from "../../src/simulator/index.ts";
import { cli } from "../support/run.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

let sim: SpawnedSimulator;

beforeAll(async () => {
  sim = await spawnSimulator(["--scenario", "healthy", "--seed", "4", "--time", "2026-12-01T15:00:00Z"]);
});

afterAll(async () => {
  await sim?.stop();
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; failure: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (isGatewayError(error)) return { code: error.code, failure: error.details?.failure };
    throw error;
  }
  throw new Error("expected a failure");
}

describe("the spawned HTTPS simulator", () => {
  it("never takes the real gateway's port by default", () => {
    expect(DEFAULT_SIMULATOR_PORT).toBe(5055);
    expect(sim.baseUrl).toMatch(/^https:\/\/localhost:\d+\/v1\/api$/);
    expect(sim.info.addresses).toEqual(["127.0.0.1", "::1"]);
  });

  it.each(["localhost", "127.0.0.1", "[::1]"])(
    "serves the client over TLS with the pinned certificate on %s",
    async (host) => {
      const client = createCpapiClient({
        baseUrl: `https://${host}:${sim.port}/v1/api`,
        caFile: sim.certificateFile,
      });
      try {
        const status = await getAuthStatus(client.transport);
        expect(status.body).toMatchObject({ authenticated: true });
        const accounts = await getBrokerageAccounts(client.transport);
        expect(accounts.body).toMatchObject({ accounts: ["DU1234567"], isPaper: true });
        expect(client.simulated()).toBe(true);
        expect(client.tlsMode()).toBe("pinned");
      } finally {
        await client.close();
      }
    },
  );

  it("is refused as untrusted without the certificate, with a TLS-specific action", async () => {
    const client = createCpapiClient({ baseUrl: sim.baseUrl });
    try {
      expect(await failure(getAuthStatus(client.transport))).toEqual({
        code: "BROKER_BACKEND_UNAVAILABLE",
        failure: "tls",
      });
    } finally {
      await client.close();
    }
  });

  it("is reachable with the localhost TLS bypass", async () => {
    const client = createCpapiClient({ baseUrl: sim.baseUrl, allowInsecureTlsForLocalhost: true });
    try {
      expect((await searchContracts(client.transport, { query: { symbol: "AAPL" } })).body).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("labels every answer, errors included, with x-ibkr-simulator: 1", async () => {
    const dispatcher = new Agent({ connect: { ca: readFileSync(sim.certificateFile, "utf8") } });
    try {
      for (const path of [
        "/v1/api/iserver/auth/status",
        "/v1/api/nothing/here",
        "/v1/api/iserver/account/orders",
      ]) {
        const answer = await request(`https://localhost:${sim.port}${path}`, { dispatcher });
        await answer.body.text();
        expect(answer.headers["x-ibkr-simulator"], path).toBe("1");
      }
    } finally {
      await dispatcher.close();
    }
  });

  it("offers the control API over HTTP", async () => {
    const dispatcher = new Agent({ connect: { ca: readFileSync(sim.certificateFile, "utf8") } });
    const post = async (action: string, body: unknown) => {
      const answer = await request(`https://localhost:${sim.port}/__simulator/${action}`, {
        dispatcher,
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
      return { status: answer.statusCode, body: (await answer.body.json()) as Record<string, unknown> };
    };
    try {
      const moved = await post("advance", { ms: 3_600_000 });
      expect(moved.status).toBe(200);
      expect(String(moved.body.now)).toMatch(/^2026-12-01T16:0/);
      expect((await post("advance", { ms: "soon" })).status).toBe(400);
      // An hour without requests ended the session; log in again as a person would.
      expect((moved.body.session as { sso: string }).sso).toBe("logged_out");
      await post("login", {});
      const competing = await post("compete", {});
      expect(competing.body.session).toMatchObject({ competing: true, authenticated: false });
      await post("login", {});
    } finally {
      await dispatcher.close();
    }
  });
});

describe("starting and stopping", () => {
  it("resets connections in the gateway-down scenario", async () => {
    const down = await spawnSimulator(["--scenario", "gateway-down"]);
    const client = createCpapiClient({ baseUrl: down.baseUrl, caFile: down.certificateFile });
    try {
      expect((await failure(getAuthStatus(client.transport))).code).toBe("BROKER_BACKEND_UNAVAILABLE");
    } finally {
      await client.close();
      await down.stop();
    }
  });

  it("stops cleanly on SIGTERM and on SIGINT", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const running = await spawnSimulator([]);
      expect(await running.stop(signal)).toBe(0);
    }
  });

  it("refuses an unknown scenario with the list of scenarios and the input exit code", async () => {
    const result = await cli(["simulator", "--scenario", "moon-landing", "--port", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown simulator scenario "moon-landing"');
    expect(result.stderr).toContain("competing-session");
  });

  it("lists the scenarios", async () => {
    const result = await cli(["simulator", "--list-scenarios", "--json"]);
    expect(result.code).toBe(0);
    const names = (JSON.parse(result.stdout) as { name: string }[]).map((s) => s.name);
    expect(names).toContain("healthy");
    expect(names).toContain("no-market-data-subscription");
  });
});
