// The order tools as an MCP agent meets them: the MCP SDK's Client over StdioClientTransport spawns
// `ibkr-agent mcp serve --transport stdio` (one server process for the whole file) against the simulator
// served over HTTPS by `ibkr-agent simulator` at a fixed market time, configured as a real Client Portal
// Gateway. One table reaches the order tools' refusal codes, each as an isError tool result with
// structuredContent.error; one run goes preview -> approve -> paper submit -> replay. What the broker
// received is read from the simulator's control API, and the store is checked from this process afterwards.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
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

/** POST to the simulator's control API (loopback HTTPS, its own certificate). */
async function simulatorControl(action: string, body: Record<string, unknown>): Promise<void> {
  const answer = await request(`https://localhost:${sim.port}/__simulator/${action}`, {
    method: "POST",
    dispatcher: control,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(answer.statusCode, action).toBe(200);
  await answer.body.dump();
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

async function approved(extra: Record<string, unknown> = {}, tool = "ibkr_order_preview") {
  const preview = await ok(tool, extra.entry_limit_price !== undefined ? extra : order(extra));
  const approval = await ok("ibkr_approvals_create", {
    account_id: (extra.account_id as string | undefined) ?? PAPER,
    preview_id: preview.preview_id,
  });
  return { previewId: String(preview.preview_id), approvalId: String(approval.approval_id) };
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

  it("answers every refusal of the order tools as an isError result with structuredContent.error", async () => {
    const placed = await brokerCount("placeOrders");
    const used = await approved();
    await ok("ibkr_paper_order_submit", {
      account_id: PAPER,
      approval_id: used.approvalId,
      idempotency_key: "mcp-used-01",
    });
    const bracket = await approved(
      {
        account_id: PAPER,
        symbol: "AAPL",
        side: "buy",
        quantity: "10",
        entry_limit_price: "265",
        take_profit_limit_price: "274",
        stop_loss_stop_price: "258",
      },
      "ibkr_bracket_order_preview",
    );
    const spare = await approved({ limit_price: "264" });
    const revoked = await approved({ limit_price: "263" });
    const questioned = await approved({ limit_price: "262" });
    const lost = await approved({ limit_price: "261" });
    const stopped = await approved({ limit_price: "260" });
    const other = await approved({ account_id: OTHER_PAPER });
    const submit = (a: { approvalId: string }, key: string) => ({
      account_id: PAPER,
      approval_id: a.approvalId,
      idempotency_key: key,
    });
    const rows: {
      code: string;
      tool: string;
      args: Record<string, unknown>;
      before?: () => Promise<void>;
    }[] = [
      {
        code: "INPUT_INVALID_ARGUMENT",
        tool: "ibkr_paper_order_submit",
        args: { ...submit(spare, "x"), idempotency_key: "short" },
      },
      {
        code: "INPUT_UNAUTHORIZED_ACCOUNT",
        tool: "ibkr_order_preview",
        args: order({ account_id: "U0000000" }),
      },
      { code: "INPUT_AMBIGUOUS_CONTRACT", tool: "ibkr_order_preview", args: order({ symbol: "ACME" }) },
      { code: "INPUT_INVALID_CONTRACT", tool: "ibkr_order_preview", args: order({ contract_id: "990002" }) },
      { code: "ORDER_POLICY_REFUSED", tool: "ibkr_order_preview", args: order({ quantity: "0" }) },
      { code: "ORDER_VALIDATION_FAILED", tool: "ibkr_order_preview", args: order({ stop_price: "260" }) },
      {
        code: "ORDER_PREVIEW_NOT_FOUND",
        tool: "ibkr_approvals_create",
        args: { account_id: PAPER, preview_id: "pv_00000000000000" },
      },
      {
        code: "PAPER_APPROVAL_REQUIRED",
        tool: "ibkr_paper_order_submit",
        args: submit({ approvalId: "ap_00000000000000" }, "mcp-none-01"),
      },
      { code: "APPROVAL_CONSUMED", tool: "ibkr_paper_order_submit", args: submit(used, "mcp-used-02") },
      {
        code: "APPROVAL_PREVIEW_MISMATCH",
        tool: "ibkr_paper_order_submit",
        args: submit(bracket, "mcp-kind-01"),
      },
      { code: "IDEMPOTENCY_CONFLICT", tool: "ibkr_paper_order_submit", args: submit(spare, "mcp-used-01") },
      {
        code: "APPROVAL_REVOKED",
        tool: "ibkr_paper_order_submit",
        args: submit(revoked, "mcp-revoked-01"),
        // The operator revokes it from another process on the same home.
        before: async () => {
          const gateway = await sameHome();
          try {
            gateway.procedures.approvals.revoke(gateway.context(), revoked.approvalId, "not this one");
          } finally {
            await gateway.close();
          }
        },
      },
      {
        code: "PAPER_TRADING_DISABLED",
        tool: "ibkr_paper_order_submit",
        args: { ...submit(other, "mcp-other-01"), account_id: OTHER_PAPER },
      },
      {
        code: "ORDER_NOT_FOUND",
        tool: "ibkr_paper_order_modify",
        args: {
          account_id: PAPER,
          broker_order_id: "99999",
          idempotency_key: "mcp-modify-01",
          limit_price: "264",
        },
      },
      {
        code: "BROKER_QUESTION_UNAPPROVED",
        tool: "ibkr_paper_order_submit",
        args: submit(questioned, "mcp-question-01"),
        before: () => simulatorControl("questions", { ids: ["o2137"] }),
      },
      {
        code: "ORDER_OUTCOME_UNCERTAIN",
        tool: "ibkr_paper_order_submit",
        args: submit(lost, "mcp-lost-01"),
        before: () => simulatorControl("lose-response", { operation_id: "placeOrders" }),
      },
      {
        code: "LIVE_NOT_ARMED",
        tool: "ibkr_live_order_submit",
        args: { ...submit(spare, "mcp-live-01"), preview_id: spare.previewId },
      },
      {
        code: "LIVE_GATE_MISSING",
        tool: "ibkr_live_order_cancel",
        args: { account_id: PAPER, broker_order_id: "12345", idempotency_key: "mcp-live-02" },
      },
      {
        code: "AUTH_MISSING_SCOPE",
        tool: "ibkr_live_order_modify",
        args: {
          account_id: PAPER,
          broker_order_id: "12345",
          approval_id: spare.approvalId,
          preview_id: spare.previewId,
          idempotency_key: "mcp-live-03",
          limit_price: "264",
        },
      },
      {
        code: "KILL_SWITCH_ENGAGED",
        tool: "ibkr_paper_order_submit",
        args: submit(stopped, "mcp-stopped-01"),
        before: async () => {
          await ok("ibkr_kill_switch_engage", { reason: "e2e stop" });
        },
      },
    ];
    const seen: string[] = [];
    for (const row of rows) {
      await row.before?.();
      const result = await callTool(row.tool, row.args);
      const error = (result.structured.error ?? {}) as Record<string, unknown>;
      expect([result.isError, error.code], `${row.tool} ${JSON.stringify(error)}`).toEqual([true, row.code]);
      expect(TOOLS[row.tool as ToolName].errors, row.tool).toContain(row.code);
      expect(error.user_action, row.code).toMatch(/\S/);
      expect(error.audit_event_id, row.code).toMatch(/^[0-9a-f-]{36}$/);
      seen.push(String(error.code));
    }
    expect(seen).toEqual(rows.map((row) => row.code));
    // Order POSTs reached the broker only for the used approval, the refused question and the lost answer.
    expect(await brokerCount("placeOrders")).toBe(placed + 3);
    // The server's diagnostics name no account and no PIN.
    expect(stderr).not.toContain(PAPER);
    expect(stderr).not.toContain(PIN);
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
    } finally {
      await gateway.close();
    }
  });
});
