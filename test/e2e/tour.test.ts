// `ibkr-agent tour` as a new user runs it: a spawned CLI with a fresh $IBKR_AGENT_HOME and no config. Every
// step must answer from the simulator (no "not available" fallback), in order, with the simulated banner,
// the MCP client snippet and the next steps, and exit 0.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "../support/run.ts";

const homes: string[] = [];
function tempHome(): string {
  const home = mkdtempSync(join(tmpdir(), "ibkr-tour-"));
  homes.push(home);
  return home;
}
afterAll(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

const HEADINGS = [
  "== 1. Session status",
  "== 2. Accounts",
  "== 3. Positions of DU1234567",
  "== 4. A quote for AAPL",
  "== Connect an MCP client",
  "== Next steps",
];

describe("ibkr-agent tour", () => {
  it("walks through session, accounts, positions and a quote on the simulator, then MCP and next steps", async () => {
    const home = tempHome();
    const result = await cli(["tour"], { IBKR_AGENT_HOME: home, IBKR_AGENT_CONFIG: "" });
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out.startsWith("ibkr-agent tour\n")).toBe(true);
    expect(out).toContain(
      "SIMULATED DATA: everything below comes from the simulated Client Portal Gateway built into ibkr-agent. " +
        "No IBKR account is used and nothing reaches Interactive Brokers.",
    );
    const positions = HEADINGS.map((heading) => out.indexOf(`\n${heading}\n`));
    expect(positions.every((at) => at > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);

    const section = (i: number) => out.slice(positions[i], positions[i + 1]);
    expect(section(0)).toContain("$ ibkr-agent backend status");
    expect(section(0)).toMatch(/state: +ready/);
    expect(section(1)).toContain("$ ibkr-agent accounts list");
    expect(section(1)).toMatch(/DU1234567 +paper/);
    expect(section(2)).toContain("$ ibkr-agent positions list --account DU1234567");
    expect(section(2)).toMatch(/Positions \(\d+\):/);
    expect(section(3)).toContain("$ ibkr-agent contracts resolve AAPL");
    expect(section(3)).toMatch(/contract id: +265598/);
    expect(section(3)).toContain("$ ibkr-agent market snapshot --contract-id 265598");
    expect(section(3)).toMatch(/provenance: +\S/);
    expect(out).not.toContain("This step is not available");
    expect(out).not.toContain("This step failed");

    // The snippet is JSON a client can read, starting this checkout's MCP server with this state root.
    const snippet = section(4).slice(section(4).indexOf("{"), section(4).lastIndexOf("}") + 1);
    const { mcpServers } = JSON.parse(snippet) as {
      mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }>;
    };
    const server = mcpServers["ibkr-agent"];
    if (server === undefined) throw new Error("the snippet has no ibkr-agent server");
    expect(server.command).toBe(process.execPath);
    expect(server.args.slice(1)).toEqual(["mcp", "serve", "--transport", "stdio"]);
    expect(server.args[0]?.endsWith("src/cli/bin.ts")).toBe(true);
    expect(server.env).toEqual({ IBKR_AGENT_HOME: home });
    // ... and it works: an MCP client started from it lists the read tools.
    const client = new Client({ name: "tour-snippet", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: server.command,
        args: server.args,
        env: server.env,
        stderr: "pipe",
      }),
    );
    try {
      expect((await client.listTools()).tools).toHaveLength(34);
    } finally {
      await client.close();
    }

    expect(section(5)).toContain("getting-started.md");
    expect(section(5)).toContain("real-gateway.md");
  }, 60_000);

  it("always uses the simulator with the safe defaults, even when a config file is set", async () => {
    const home = tempHome();
    const file = join(home, "health-only.yaml");
    writeFileSync(
      file,
      "audit:\n  secret_env: TOUR_TEST_SECRET\nauth:\n  enabled_scopes: [ibkr:health:read]\n",
    );
    const result = await cli(["tour"], { IBKR_AGENT_HOME: home, IBKR_AGENT_CONFIG: file });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `The tour ignores the configuration ${file} and runs on the simulator with the safe defaults.`,
    );
    expect(result.stdout).toMatch(/DU1234567 +paper/);
    expect(result.stdout).not.toContain("AUTH_MISSING_SCOPE");
  }, 60_000);

  it("prints the same steps as JSON with --json", async () => {
    const result = await cli(["tour", "--json"], { IBKR_AGENT_HOME: tempHome(), IBKR_AGENT_CONFIG: "" });
    expect(result.code, result.stderr).toBe(0);
    const tour = JSON.parse(result.stdout) as {
      simulated: boolean;
      steps: { title: string; calls: { tool: string; status: string; command: string }[] }[];
    };
    expect(tour.simulated).toBe(true);
    expect(tour.steps.map((step) => step.title)).toEqual([
      "1. Session status",
      "2. Accounts",
      "3. Positions of DU1234567",
      "4. A quote for AAPL",
    ]);
    expect(tour.steps.flatMap((step) => step.calls.map((c) => [c.tool, c.status]))).toEqual([
      ["ibkr_backend_status", "ok"],
      ["ibkr_accounts_list", "ok"],
      ["ibkr_positions_list", "ok"],
      ["ibkr_contract_resolve", "ok"],
      ["ibkr_market_snapshot", "ok"],
    ]);
  }, 60_000);
});
