// The market commands as a user runs them: the CLI spawned as a process against the simulator served over
// HTTPS at a fixed simulated time (a regular session), configured like a real Client Portal Gateway with a
// pinned certificate. Human tables and --json, exit codes, and a refusal on stderr.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET, TEST_SECRET_ENV } from "../support/gateway.ts";
import { cli } from "../support/run.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

let sim: SpawnedSimulator;
let env: NodeJS.ProcessEnv;
// One home for every command of this file (the support's per-test homes are removed after each test).
let home: string;

beforeAll(async () => {
  sim = await spawnSimulator(["--scenario", "healthy", "--seed", "1", "--time", "2026-12-01T15:00:00Z"]);
  home = mkdtempSync(join(tmpdir(), "ibkr-market-cli-"));
  const config = join(home, "config.yaml");
  writeFileSync(
    config,
    [
      "audit:",
      `  secret_env: ${TEST_SECRET_ENV}`,
      "broker:",
      "  backend: client_portal_gateway",
      `  base_url: ${sim.baseUrl}`,
      `  ca_file: ${sim.certificateFile}`,
      "",
    ].join("\n"),
  );
  env = { IBKR_AGENT_HOME: home, IBKR_AGENT_CONFIG: config, [TEST_SECRET_ENV]: TEST_SECRET };
});

afterAll(async () => {
  await sim?.stop();
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
});

const BANNER = "SIMULATED DATA from the built-in simulator - not a real IBKR account.";

describe("ibkr-agent market snapshot", () => {
  it("prints the quote as an aligned list with its provenance in words", async () => {
    const result = await cli(["market", "snapshot", "--contract-id", "265598"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(BANNER);
    expect(result.stdout).toMatch(/^contract id: +265598$/m);
    expect(result.stdout).toMatch(/^symbol: +AAPL$/m);
    expect(result.stdout).toMatch(/^currency: +USD$/m);
    expect(result.stdout).toMatch(/^last: +\d+\.\d{1,2}$/m);
    expect(result.stdout).toMatch(/^bid size: +\d+$/m);
    expect(result.stdout).toMatch(
      /^provenance: +live \(\d+ s old\) - Bid and ask sizes are as the broker sends them; for US stocks that is lots of 100\.$/m,
    );
  });

  it("prints the result object with --json", async () => {
    const result = await cli(["market", "snapshot", "--contract-id", "265598", "--json"], env);
    expect(result.code).toBe(0);
    const quote = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(quote).toMatchObject({
      contract_id: "265598",
      symbol: "AAPL",
      currency: "USD",
      last_is_prior_close: false,
      provenance: { status: "live" },
      source: { backend: "client_portal_gateway", simulated: true },
    });
    expect(Number(quote.bid)).toBeLessThan(Number(quote.ask));
  });
});

describe("ibkr-agent contracts search", () => {
  it("prints the candidates as a table in the hinted column order", async () => {
    const result = await cli(["contracts", "search", "ACME", "--by-name"], env);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(BANNER);
    expect(result.stdout).toContain("Candidates (2):");
    expect(result.stdout).toMatch(
      /^CONTRACT ID +SYMBOL +ASSET CLASS +EXCHANGE +CURRENCY +COMPANY NAME +HAS OPTIONS +HAS FUTURES$/m,
    );
    expect(result.stdout).toMatch(
      /^ +990001 +ACME +stock +NYSE +USD +ACME CORP \(SIMULATED\) +false +false$/m,
    );
    expect(result.stdout).toMatch(
      /^ +990002 +ACME +stock +NASDAQ +USD +ACME HOLDINGS INC \(SIMULATED\) +false +false$/m,
    );
  });

  it("prints the candidates with --json", async () => {
    const result = await cli(["contracts", "search", "AAPL", "--json"], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      query: "AAPL",
      candidates: [
        {
          contract_id: "265598",
          symbol: "AAPL",
          asset_class: "stock",
          company_name: "APPLE INC",
          exchange: "NASDAQ",
          currency: "USD",
          has_options: true,
          has_futures: false,
        },
      ],
      source: { backend: "client_portal_gateway", simulated: true },
    });
  });

  it("refuses an ambiguous symbol on stderr with the catalogue's exit code", async () => {
    const result = await cli(["contracts", "resolve", "ACME"], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      "Error INPUT_AMBIGUOUS_CONTRACT: ACME matches 2 contracts: 990001 (NYSE, USD); 990002 (NASDAQ, USD).",
    );
    expect(result.stderr).toContain(
      "What to do: Pass exchange (NYSE or NASDAQ) or currency to pick one, or use one of these contract ids directly.",
    );
  });
});
