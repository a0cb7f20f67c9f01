// The order tools as an MCP agent meets them: the MCP SDK's Client over StdioClientTransport spawns
// `ibkr-agent mcp serve --transport stdio` (one server process for the whole file) against the simulator
// served over HTTPS by `ibkr-agent simulator` at a fixed market time, configured as a real Client Portal
// Gateway: one run goes preview -> approve -> paper submit -> replay. What the broker received is read from
// the simulator's control API, and the store is checked from this process afterwards. Every refusal code of
// the order tools, over MCP and the CLI alike, is in test/e2e/orders-refusals.test.ts (one shared table).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashOperatorPin } from "../../src/config/pin.ts";
import { composeGateway, type Gateway } from "../../src/gateway/index.ts";
import { ROOT } from "../support/run.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

const BIN = join(ROOT, "src/cli/bin.ts");
const SECRET_ENV = "IBKR_AGENT_E2E_AUDIT_SECRET";
const SECRET = "e2e-audit-secret-0123456789abcdef0123456789";
const PAPER = "DU1234567";
const OTHER_PAPER = "DU2345678";
const PIN = "246810";
const SCOPES = [
  "ibkr:health:read",
  "ibkr:accounts:read",
  "ibkr:marketdata:read",
  "ibkr:orders:read",
  "ibkr:risk:read",
  "ibkr:audit:read",
  "ibkr:orders:preview",
  "ibkr:approvals:create",
  "ibkr:orders:paper:submit",
  "ibkr:orders:paper:cancel",
  "ibkr:orders:paper:modify",
  "ibkr:orders:live:submit",
  "ibkr:orders:live:cancel",
  "ibkr:safety:engage",
];

let sim: SpawnedSimulator;
let control: Agent;
let client: Client;
let stderr = "";
let root: string;
let env: Record<string, string>;

function configText(): string {
  return `audit:
  secret_env: ${SECRET_ENV}
  retention_days: 2555
broker:
  backend: client_portal_gateway
  base_url: ${sim.baseUrl}
  ca_file: ${sim.certificateFile}
auth:
  enabled_scopes: [${SCOPES.join(", ")}]
safety:
  paper_trading_enabled: true
  live_trading_enabled: true
order_preview:
  enabled: true
  account_modes: [paper, live]
paper_trading:
  enabled: true
  allowed_accounts: [${PAPER}]
operator:
  pin_hash: "${hashOperatorPin(PIN, { ln: 14 })}"
live_trading:
  enabled: true
  allowed_accounts: [U7654321]
  risk_policy_id: small
  paper_to_live_checklist_acknowledged: true
  policies:
  - id: small
    max_order_quantity: "100"
    max_order_notional: "50000"
    allowed_symbols: [AAPL]
`;
}

async function brokerCount(operationId: string): Promise<number> {
  const answer = await request(`https://localhost:${sim.port}/__simulator/requests`, { dispatcher: control });
  const log = (await answer.body.json()) as { operationId: string }[];
  return log.filter((entry) => entry.operationId === operationId).length;
}

interface ToolResult {
  readonly isError: boolean;
  readonly structured: Record<string, unknown>;
}

async function callTool(name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const result = await client.callTool({ name, arguments: args });
  return {
    isError: result.isError === true,
    structured: (result.structuredContent ?? {}) as Record<string, unknown>,
  };
}

async function ok(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await callTool(name, args);
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.structured)}`);
  return result.structured;
}

function order(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    account_id: PAPER,
    symbol: "AAPL",
    side: "buy",
    quantity: "10",
    order_type: "limit",
    limit_price: "265",
    ...extra,
  };
}

/** A gateway of this test process on the server's home and config: the same store file, another process. */
async function sameHome(): Promise<Gateway> {
  return composeGateway({ frontDoor: "cli", env: { ...env } });
}

beforeAll(async () => {
  sim = await spawnSimulator([
    "--time",
    "2026-12-01T15:00:00Z",
    "--scenario",
    "multi-account",
    "--pacing",
    "bench",
  ]);
  control = new Agent({ connect: { ca: readFileSync(sim.certificateFile, "utf8") } });
  root = mkdtempSync(join(tmpdir(), "ibkr-mcp-orders-"));
  const file = join(root, "config.yaml");
  writeFileSync(file, configText());
  env = { IBKR_AGENT_HOME: join(root, "state"), IBKR_AGENT_CONFIG: file, [SECRET_ENV]: SECRET };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "mcp", "serve", "--transport", "stdio"],
    cwd: ROOT,
    env,
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  client = new Client({ name: "mcp-orders-e2e", version: "1.0.0" });
  await client.connect(transport);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await control?.close();
  await sim?.stop();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe("the order tools over MCP stdio", () => {
  it("run preview -> approve -> paper submit -> replay, placing one order", async () => {
    const preview = await ok("ibkr_order_preview", order());
    expect(preview).toMatchObject({ order_sent: false, account_id: PAPER, risk: { decision: "accepted" } });
    const approval = await ok("ibkr_approvals_create", { account_id: PAPER, preview_id: preview.preview_id });
    expect(approval).toMatchObject({
      status: "approved",
      approved_by: "agent",
      preview_id: preview.preview_id,
    });
    const args = { account_id: PAPER, approval_id: approval.approval_id, idempotency_key: "mcp-run-0001" };
    const before = await brokerCount("placeOrders");
    const submit = await ok("ibkr_paper_order_submit", args);
    expect(submit).toMatchObject({
      mode: "paper",
      writer: "broker",
      replayed: false,
      status: "open",
      order: { symbol: "AAPL", side: "buy", quantity: "10", limit_price: "265" },
    });
    const replay = await ok("ibkr_paper_order_submit", args);
    expect(replay).toMatchObject({ replayed: true, broker_order_id: submit.broker_order_id });
    expect(await brokerCount("placeOrders")).toBe(before + 1);
  });

  it("leaves an intact audit chain without raw account ids in the store", async () => {
    const gateway = await sameHome();
    try {
      expect(gateway.store.verify().chain_valid).toBe(true);
      const calls = [...gateway.store.exportEvents()].filter((e) => e.event_type === "tool_call");
      expect(calls.every((e) => e.front_door === "mcp_stdio" || e.front_door === "cli")).toBe(true);
      const path = gateway.loaded.paths.storePath;
      for (const file of [path, `${path}-wal`]) {
        if (!existsSync(file)) continue;
        const bytes = readFileSync(file).toString("latin1");
        expect(bytes.includes(PAPER) || bytes.includes(OTHER_PAPER), file).toBe(false);
      }
      // The server's diagnostics name no account and no PIN.
      expect(stderr).not.toContain(PAPER);
      expect(stderr).not.toContain(PIN);
    } finally {
      await gateway.close();
    }
  });
});
