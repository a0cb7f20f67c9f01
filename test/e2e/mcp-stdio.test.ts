// The stdio MCP front door as a client sees it: the MCP SDK's Client over StdioClientTransport spawns
// `node src/cli/bin.ts mcp serve --transport stdio` with a fresh $IBKR_AGENT_HOME, so this goes through the
// real CLI entry, the real process boundary and the real protocol.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ErrorCode, McpError, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeGateway } from "../../src/gateway/index.ts";
import { READ_TOOLS } from "../support/read-tools.ts";
import { ROOT } from "../support/run.ts";

const BIN = join(ROOT, "src/cli/bin.ts");
const SECRET_ENV = "IBKR_AGENT_E2E_AUDIT_SECRET";
const SECRET = "e2e-audit-secret-0123456789abcdef0123456789";

const homes: string[] = [];
function tempHome(): string {
  const home = mkdtempSync(join(tmpdir(), "ibkr-mcp-"));
  homes.push(home);
  return home;
}
afterAll(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

interface Connected {
  client: Client;
  stderr: () => string;
}

async function connect(env: Record<string, string>): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "mcp", "serve", "--transport", "stdio"],
    cwd: ROOT,
    env,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: "e2e-test-client", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

interface ErrorContent {
  error: Record<string, unknown>;
}

describe("MCP over stdio with no config (safe defaults)", () => {
  let connected: Connected;
  let home: string;
  let tools: Tool[];

  beforeAll(async () => {
    home = tempHome();
    connected = await connect({ IBKR_AGENT_HOME: home });
    tools = (await connected.client.listTools()).tools;
  });
  afterAll(async () => {
    await connected?.client.close();
  });

  it("initializes as the ibkr-agent-gateway server with tools and instructions", () => {
    const { client } = connected;
    expect(client.getServerVersion()).toEqual({ name: "ibkr-agent-gateway", version: "0.1.0" });
    expect(client.getServerCapabilities()?.tools).toEqual({ listChanged: false });
    expect(client.getInstructions()).toContain("source.simulated");
  });

  it("lists the read tools only, each with title, description, schemas and annotations", () => {
    expect(tools.map((tool) => tool.name).sort()).toEqual(READ_TOOLS);
    for (const tool of tools) {
      expect(tool.title, tool.name).toMatch(/\S/);
      expect(tool.description?.length, tool.name).toBeGreaterThan(40);
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      // The tool's result, or the error object of a failed call (the client validates both).
      expect((tool.outputSchema as { anyOf?: unknown[] }).anyOf, tool.name).toHaveLength(2);
      expect(Object.keys(tool.annotations ?? {}).sort(), tool.name).toEqual([
        "destructiveHint",
        "idempotentHint",
        "openWorldHint",
        "readOnlyHint",
        "title",
      ]);
      expect(tool.annotations?.title, tool.name).toBe(tool.title);
    }
    const health = tools.find((tool) => tool.name === "ibkr_health");
    expect(health?.title).toBe("Gateway health");
    expect(health?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
  });

  it("answers a read tool with structuredContent and a text rendering", async () => {
    const result = await connected.client.callTool({ name: "ibkr_accounts_list", arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      accounts: [{ account_id: "DU1234567", account_mode: "paper", base_currency: "USD" }],
      source: { backend: "simulator", simulated: true },
    });
    const [text] = result.content as { type: string; text: string }[];
    expect(text?.type).toBe("text");
    expect(text?.text).toContain("SIMULATED DATA from the built-in simulator");
    expect(text?.text).toContain("ACCOUNT ID");
    expect(text?.text).toContain("DU1234567");
  });

  it("returns a failed call as an isError result with structuredContent.error", async () => {
    const result = await connected.client.callTool({
      name: "ibkr_account_metadata",
      arguments: { account_id: "U0000000" },
    });
    expect(result.isError).toBe(true);
    const { error } = result.structuredContent as unknown as ErrorContent;
    expect(Object.keys(error).sort()).toEqual(
      [
        "audit_event_id",
        "code",
        "message",
        "retryable",
        "user_action",
        ...("details" in error ? ["details"] : []),
      ].sort(),
    );
    expect(error.code).toBe("INPUT_UNAUTHORIZED_ACCOUNT");
    expect(error.retryable).toBe(false);
    expect(typeof error.message).toBe("string");
    expect(error.user_action).toMatch(/\S/);
    expect(error.audit_event_id).toMatch(/^[0-9a-f-]{36}$/);
    const [text] = result.content as { type: string; text: string }[];
    expect(text?.text).toContain("INPUT_UNAUTHORIZED_ACCOUNT");
  });

  it("answers an unknown tool with a JSON-RPC error, not a tool result", async () => {
    const call = connected.client.callTool({ name: "ibkr_does_not_exist", arguments: {} });
    await expect(call).rejects.toBeInstanceOf(McpError);
    await expect(call).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
  });

  it("refuses a forbidden generic name with an audited READONLY_WRITE_FORBIDDEN result", async () => {
    const result = await connected.client.callTool({ name: "ibkr_order_submit", arguments: {} });
    expect(result.isError).toBe(true);
    const { error } = result.structuredContent as unknown as ErrorContent;
    expect(error.code).toBe("READONLY_WRITE_FORBIDDEN");
    expect(error.audit_event_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("names the offending field of bad arguments with INPUT_INVALID_ARGUMENT", async () => {
    const wrongType = await connected.client.callTool({
      name: "ibkr_account_metadata",
      arguments: { account_id: 5 },
    });
    expect(wrongType.isError).toBe(true);
    const { error } = wrongType.structuredContent as unknown as ErrorContent;
    expect(error.code).toBe("INPUT_INVALID_ARGUMENT");
    expect(error.message).toBe("account_id: must be string");
    expect(error.details).toMatchObject({ problems: [{ field: "account_id" }] });

    const extra = await connected.client.callTool({
      name: "ibkr_accounts_list",
      arguments: { verbose: true },
    });
    const extraError = (extra.structuredContent as unknown as ErrorContent).error;
    expect(extraError.code).toBe("INPUT_INVALID_ARGUMENT");
    expect(extraError.details).toMatchObject({ problems: [{ field: "verbose" }] });
  });

  it("records every tool call of the session in the audit log of its home, forbidden names included", async () => {
    await connected.client.close();
    const gateway = await composeGateway({ frontDoor: "sdk", home, env: { IBKR_AGENT_HOME: home } });
    try {
      const calls = [...gateway.store.exportEvents()].filter((event) => event.event_type === "tool_call");
      const forbidden = calls.find((event) => event.tool === "ibkr_order_submit");
      expect(forbidden).toMatchObject({
        decision: "refuse",
        error_code: "READONLY_WRITE_FORBIDDEN",
        front_door: "mcp_stdio",
      });
      // Who called: the client's initialize name and version, and each request's own JSON-RPC id.
      expect(calls.map((event) => event.metadata.mcp_client)).toEqual(Array(5).fill("e2e-test-client 1.0.0"));
      const ids = calls.map((event) => Number(event.metadata.jsonrpc_id));
      expect(ids.every(Number.isInteger)).toBe(true);
      expect(new Set(ids).size).toBe(5);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      // The unknown tool is a protocol error and is not a tool call.
      expect(calls.map((event) => event.tool)).not.toContain("ibkr_does_not_exist");
      expect(calls.map((event) => [event.tool, event.error_code ?? null])).toEqual([
        ["ibkr_accounts_list", null],
        ["ibkr_account_metadata", "INPUT_UNAUTHORIZED_ACCOUNT"],
        ["ibkr_order_submit", "READONLY_WRITE_FORBIDDEN"],
        ["ibkr_account_metadata", "INPUT_INVALID_ARGUMENT"],
        ["ibkr_accounts_list", "INPUT_INVALID_ARGUMENT"],
      ]);
      expect(gateway.store.verify().chain_valid).toBe(true);
    } finally {
      await gateway.close();
    }
  });
});

describe("MCP over stdio with a config granting only ibkr:health:read", () => {
  let connected: Connected;

  beforeAll(async () => {
    const home = tempHome();
    const file = join(home, "config.yaml");
    writeFileSync(file, `audit:\n  secret_env: ${SECRET_ENV}\nauth:\n  enabled_scopes: [ibkr:health:read]\n`);
    connected = await connect({ IBKR_AGENT_HOME: home, IBKR_AGENT_CONFIG: file, [SECRET_ENV]: SECRET });
  });
  afterAll(async () => {
    await connected?.client.close();
  });

  it("lists only the health-scope tools", async () => {
    const { tools } = await connected.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      "ibkr_backend_status",
      "ibkr_health",
      "ibkr_kill_switch_status",
      "ibkr_session_renew",
      "ibkr_session_requirements",
    ]);
  });

  it("refuses a tool outside the scopes with AUTH_MISSING_SCOPE", async () => {
    const result = await connected.client.callTool({ name: "ibkr_accounts_list", arguments: {} });
    expect(result.isError).toBe(true);
    expect((result.structuredContent as unknown as ErrorContent).error.code).toBe("AUTH_MISSING_SCOPE");
  });

  it("still answers the tools it lists", async () => {
    const result = await connected.client.callTool({ name: "ibkr_health", arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: "ok", enabled_tiers: ["read"] });
  });
});
