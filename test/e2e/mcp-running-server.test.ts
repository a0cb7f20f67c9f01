// An MCP server that is already running, over stdio and over HTTP (local mode, as `npm start` runs it),
// sees safety changes made elsewhere at once, and follows the orders it placed on its own: the kill switch
// engaged by another process (the CLI) stops its very next submit while cancels still go through, and its
// background reconciler records the fill of an order it placed. The broker is the simulator over HTTPS (its
// own process), configured like a real gateway; each transport has a state home of its own.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.ts";
import { type ServingCli, startServingCli } from "../support/mcp-http-cli.ts";
import { cli, ROOT } from "../support/run.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

const BIN = join(ROOT, "src/cli/bin.ts");
const SECRET_ENV = "IBKR_AGENT_E2E_AUDIT_SECRET";
const SECRET = "e2e-audit-secret-0123456789abcdef0123456789";
const ACCOUNT = "DU1234567";
const SCOPES = [
  "ibkr:health:read",
  "ibkr:accounts:read",
  "ibkr:marketdata:read",
  "ibkr:orders:read",
  "ibkr:orders:preview",
  "ibkr:approvals:create",
  "ibkr:orders:paper:submit",
  "ibkr:orders:paper:cancel",
  "ibkr:safety:engage",
];

type Transport = "stdio" | "http";

let sim: SpawnedSimulator;
let dispatcher: Agent;
let home: string;
let env: Record<string, string>;
let client: Client;
let served: ServingCli | undefined;

async function control(action: string, body: unknown = {}): Promise<void> {
  const answer = await request(`https://localhost:${sim.port}/__simulator/${action}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
    dispatcher,
  });
  expect(answer.statusCode).toBe(200);
  await answer.body.text();
}

interface ToolAnswer {
  isError?: boolean;
  structuredContent?: Record<string, unknown> & { error?: { code: string } };
}

async function call(name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  return (await client.callTool({ name, arguments: args })) as ToolAnswer;
}

async function approvedPreview(price: string): Promise<string> {
  const preview = await call("ibkr_order_preview", {
    account_id: ACCOUNT,
    symbol: "AAPL",
    side: "buy",
    quantity: "5",
    order_type: "limit",
    limit_price: price,
  });
  expect(preview.isError ?? false, JSON.stringify(preview.structuredContent)).toBe(false);
  const approval = await call("ibkr_approvals_create", {
    account_id: ACCOUNT,
    preview_id: preview.structuredContent?.preview_id,
  });
  expect(approval.isError ?? false).toBe(false);
  return String(approval.structuredContent?.approval_id);
}

/**
 * A simulator of its own (the broker paces per client source, and two servers' worth of calls from one
 * machine would meet its limits), a fresh home configured for it, and an MCP client connected to a server
 * running on that home.
 */
async function startServer(transport: Transport): Promise<void> {
  sim = await spawnSimulator(["--time", "2026-12-01T15:00:00Z", "--seed", "5"]);
  dispatcher = new Agent({ connect: { ca: readFileSync(sim.certificateFile, "utf8") } });
  home = mkdtempSync(join(tmpdir(), `ibkr-mcp-running-${transport}-`));
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
      "auth:",
      `  enabled_scopes: [${SCOPES.join(", ")}]`,
      "safety: { paper_trading_enabled: true }",
      "order_preview: { enabled: true }",
      `paper_trading: { enabled: true, allowed_accounts: [${ACCOUNT}] }`,
      "reconciler_interval_seconds: 1",
      "",
    ].join("\n"),
  );
  env = { IBKR_AGENT_HOME: join(home, "state"), IBKR_AGENT_CONFIG: config, [SECRET_ENV]: SECRET };
  client = new Client({ name: "running-server-test", version: "1.0.0" });
  if (transport === "stdio") {
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, "mcp", "serve", "--transport", "stdio"],
        cwd: ROOT,
        env,
        stderr: "pipe",
      }),
    );
    return;
  }
  served = await startServingCli(["--bind", "127.0.0.1:0"], {
    ...process.env,
    ...env,
  });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(served.endpoint), {
      requestInit: { headers: { authorization: `Bearer ${served.token}` } },
    }),
  );
}

async function stopServer(): Promise<void> {
  await client?.close();
  await served?.stop("SIGTERM");
  served = undefined;
  await dispatcher?.close();
  await sim?.stop();
  rmSync(home, { recursive: true, force: true });
}

/** Event types of the store so far, read the way an operator would (read-only, chain verified first). */
function eventTypes(): string[] {
  using store = openStore({
    path: join(env.IBKR_AGENT_HOME as string, "profiles/client-portal/state.sqlite"),
    secrets: { auditSecret: SECRET },
    readonly: true,
  });
  expect(store.verify().chain_valid).toBe(true);
  return [...store.exportEvents()].map((event) => event.event_type);
}

describe.each<[Transport]>([["stdio"], ["http"]])("a running MCP server over %s", (transport) => {
  beforeAll(() => startServer(transport), 60_000);
  afterAll(() => stopServer());

  it("records the fill of an order it placed through its own background reconciler", async () => {
    // A limit just above the ask fills as soon as the order reaches the simulated exchange (far above it
    // would meet the broker's 3% price-constraint question instead).
    const quote = await call("ibkr_market_snapshot", { contract_id: "265598" });
    const approval = await approvedPreview((Number(quote.structuredContent?.ask) + 0.5).toFixed(2));
    const placed = await call("ibkr_paper_order_submit", {
      account_id: ACCOUNT,
      approval_id: approval,
      idempotency_key: `running-server-fill-1-${transport}`,
    });
    expect(placed.structuredContent?.status).toBe("open");
    await control("advance", { ms: 60_000 });
    // The server polls every second (reconciler_interval_seconds: 1); nothing here calls it.
    let seen: string[] = [];
    for (let i = 0; i < 100 && !seen.includes("order_lifecycle_changed"); i += 1) {
      await new Promise((resume) => setTimeout(resume, 100));
      seen = eventTypes();
    }
    expect(seen).toContain("order_lifecycle_changed");
    const order = await call("ibkr_order_status", {
      account_id: ACCOUNT,
      broker_order_id: placed.structuredContent?.broker_order_id,
    });
    expect(order.structuredContent).toMatchObject({ order: { status: "filled" } });
  }, 60_000);

  it("is stopped by a kill switch another process engages, on its very next submit, and still cancels", async () => {
    const quote = await call("ibkr_market_snapshot", { contract_id: "265598" });
    const below = (factor: number) => (Number(quote.structuredContent?.bid) * factor).toFixed(2);
    // Resting limits a little below the market: working orders, inside the broker's price constraint.
    const working = await approvedPreview(below(0.99));
    const placed = await call("ibkr_paper_order_submit", {
      account_id: ACCOUNT,
      approval_id: working,
      idempotency_key: `running-server-working-1-${transport}`,
    });
    expect(placed.structuredContent?.status).toBe("open");
    const next = await approvedPreview(below(0.985));

    const engage = await cli(["kill-switch", "engage", "--reason", "stop the agent", "--json"], env);
    expect([engage.code, engage.stderr]).toEqual([0, ""]);

    const refused = await call("ibkr_paper_order_submit", {
      account_id: ACCOUNT,
      approval_id: next,
      idempotency_key: `running-server-refused-1-${transport}`,
    });
    expect([refused.isError, refused.structuredContent?.error?.code]).toEqual([true, "KILL_SWITCH_ENGAGED"]);
    const status = await call("ibkr_kill_switch_status", {});
    expect(status.structuredContent).toMatchObject({ state: "engaged", reason: "stop the agent" });

    const cancel = await call("ibkr_paper_order_cancel", {
      account_id: ACCOUNT,
      broker_order_id: placed.structuredContent?.broker_order_id,
      idempotency_key: `running-server-cancel-1-${transport}`,
    });
    expect([cancel.isError ?? false, cancel.structuredContent?.status]).toEqual([false, "pending_cancel"]);
  }, 60_000);
});
