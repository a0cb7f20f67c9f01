// The CLI as a spawned process against the simulator served over HTTPS by `ibkr-agent simulator`, configured
// exactly as for a real Client Portal Gateway (backend client_portal_gateway, the certificate pinned). Every
// answer is still labelled simulated, because the broker said so on the wire.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/run.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

const SECRET_ENV = "IBKR_AGENT_E2E_AUDIT_SECRET";
let sim: SpawnedSimulator;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sim = await spawnSimulator(["--time", "2026-12-01T15:00:00Z", "--seed", "3"]);
  home = mkdtempSync(join(tmpdir(), "ibkr-e2e-cli-"));
  const config = join(home, "config.yaml");
  writeFileSync(
    config,
    [
      "audit:",
      `  secret_env: ${SECRET_ENV}`,
      "broker:",
      "  backend: client_portal_gateway",
      `  base_url: ${sim.baseUrl}`,
      `  ca_file: ${sim.certificateFile}`,
      "",
    ].join("\n"),
  );
  env = {
    IBKR_AGENT_HOME: join(home, "state"),
    IBKR_AGENT_CONFIG: config,
    [SECRET_ENV]: "e2e-secret-0123456789abcdef0123456789ab",
  };
});

afterAll(async () => {
  await sim?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("ibkr-agent against a Client Portal Gateway over HTTPS (the simulator)", () => {
  it("lists the accounts as JSON, labelled simulated by the broker's own answer", async () => {
    const result = await cli(["accounts", "list", "--json"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as {
      accounts: { account_id: string; account_mode: string }[];
      source: unknown;
    };
    expect(body.accounts.map((a) => [a.account_id, a.account_mode])).toEqual([["DU1234567", "paper"]]);
    expect(body.source).toEqual({ backend: "client_portal_gateway", simulated: true });
  });

  it("prints the backend status as readable text with the simulated banner", async () => {
    const result = await cli(["backend", "status"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("SIMULATED DATA from the built-in simulator - not a real IBKR account.");
    expect(result.stdout).toMatch(/state:\s+ready/);
  });

  it("exits with the catalogue's input code and a next step for an account the broker does not list", async () => {
    const result = await cli(["account", "metadata", "--account", "U0000000"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Error INPUT_UNAUTHORIZED_ACCOUNT");
    expect(result.stderr).toContain("What to do:");
    expect(result.stderr).toMatch(/Audit event: [0-9a-f-]{36}/);
  });

  it("keeps this backend's state in its own profile", async () => {
    const result = await cli(["health", "--json"], env);
    expect(result.code).toBe(0);
    const config = await cli(["config", "show", "--json"], env);
    expect(JSON.parse(config.stdout)).toMatchObject({ config: { broker: { profile: "client-portal" } } });
  });

  it("reports a dead gateway with the broker-session exit code and what to start", async () => {
    // Its own state home: a gateway that is down has its own coordination file and audit log.
    const down = {
      ...env,
      IBKR_AGENT_HOME: join(home, "down-state"),
      IBKR_AGENT_CONFIG: join(home, "down.yaml"),
    };
    writeFileSync(
      down.IBKR_AGENT_CONFIG,
      `audit:\n  secret_env: ${SECRET_ENV}\nbroker:\n  backend: client_portal_gateway\n  base_url: https://127.0.0.1:9/v1/api\n  allow_insecure_tls_for_localhost: true\n`,
    );
    const result = await cli(["accounts", "list"], down);
    expect(result.stderr).toContain("Error BROKER_BACKEND_UNAVAILABLE");
    expect(result.stderr).toContain("is not running");
    expect(result.code).toBe(3);
  });
});
