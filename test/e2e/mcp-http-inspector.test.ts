// A second, independent MCP client over HTTP: @modelcontextprotocol/inspector in CLI mode, spawned as a
// process with a bearer header, the way docs/remote-mcp.md tells an operator to check a server. Against the
// spawned `ibkr-agent mcp serve --transport http` in local mode (its printed token), and against the OAuth
// resource server with an access token from the real oidc-provider. Offline: npx runs the installed
// devDependency, and the inspector's own state goes to a scratch HOME.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type McpHttpHarness, resourceFor, startMcpHttp, tempDir } from "../support/mcp-http.ts";
import { pinnedPath, type ServingCli, startServingCli } from "../support/mcp-http-cli.ts";
import { startAuthServer, type TestAuthServer } from "../support/oauth-server.ts";
import { run } from "../support/run.ts";

const scratch = tempDir("ibkr-http-inspector-");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function inspector(url: string, token: string, args: readonly string[]) {
  return run(
    "npx",
    [
      "mcp-inspector",
      "--cli",
      url,
      "--transport",
      "http",
      "--header",
      `Authorization: Bearer ${token}`,
      ...args,
    ],
    {
      env: {
        ...process.env,
        PATH: pinnedPath(),
        HOME: join(scratch, "inspector-home"),
        npm_config_update_notifier: "false",
        npm_config_offline: "true",
      },
      timeoutMs: 90_000,
    },
  );
}

interface ListedTools {
  tools: { name: string; inputSchema: { type: string }; outputSchema?: object }[];
}

describe("the MCP inspector CLI against `ibkr-agent mcp serve --transport http` (local mode)", () => {
  let server: ServingCli;
  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, IBKR_AGENT_HOME: join(scratch, "state") };
    delete env.IBKR_AGENT_CONFIG;
    server = await startServingCli(["--bind", "127.0.0.1:0", "--json"], env);
  }, 60_000);
  afterAll(async () => {
    await server?.stop("SIGTERM");
  });

  it("lists the tools with the printed token (--method tools/list)", async () => {
    const result = await inspector(server.endpoint, server.token ?? "", ["--method", "tools/list"]);
    expect(result.code, result.stderr).toBe(0);
    const { tools } = JSON.parse(result.stdout) as ListedTools;
    expect(tools).toHaveLength(34);
    expect(tools.map((tool) => tool.name)).toContain("ibkr_pnl_realtime");
    expect(tools.map((tool) => tool.name)).not.toContain("ibkr_order_preview");
    expect(tools.every((tool) => tool.inputSchema.type === "object" && tool.outputSchema !== undefined)).toBe(
      true,
    );
  }, 120_000);

  it("calls a read tool (--method tools/call --tool-name ibkr_accounts_list)", async () => {
    const result = await inspector(server.endpoint, server.token ?? "", [
      "--method",
      "tools/call",
      "--tool-name",
      "ibkr_accounts_list",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const call = JSON.parse(result.stdout) as {
      isError?: boolean;
      content: { type: string; text: string }[];
      structuredContent: { accounts: { account_id: string; account_mode: string }[]; source: unknown };
    };
    expect(call.isError).toBeFalsy();
    expect(call.structuredContent.accounts.map((a) => [a.account_id, a.account_mode])).toEqual([
      ["DU1234567", "paper"],
    ]);
    expect(call.structuredContent.source).toEqual({ backend: "simulator", simulated: true });
    expect(call.content[0]?.text).toContain("SIMULATED DATA from the built-in simulator");
  }, 120_000);

  it("gets nothing with another token", async () => {
    const result = await inspector(server.endpoint, "0".repeat(64), ["--method", "tools/list"]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain("ibkr_");
  }, 120_000);
});

describe("the MCP inspector CLI against the OAuth resource server, with an access token", () => {
  const ALLOWED = ["ibkr:accounts:read", "ibkr:health:read"];
  let auth: TestAuthServer;
  let harness: McpHttpHarness;
  beforeAll(async () => {
    const port = await freePort();
    auth = await startAuthServer({ resource: resourceFor(port), scopes: ALLOWED, dir: scratch });
    harness = await startMcpHttp({ auth, port, remote: { allowed_scopes: ALLOWED } });
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
    await auth?.close();
  });

  it("lists only the tools of the token's scopes and calls one", async () => {
    const token = await auth.clientCredentialsToken("ibkr:health:read");
    const listed = await inspector(harness.url, token, ["--method", "tools/list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as ListedTools).tools.map((tool) => tool.name).sort()).toEqual([
      "ibkr_backend_status",
      "ibkr_health",
      "ibkr_kill_switch_status",
      "ibkr_session_renew",
      "ibkr_session_requirements",
    ]);
    const called = await inspector(harness.url, token, [
      "--method",
      "tools/call",
      "--tool-name",
      "ibkr_health",
    ]);
    expect(called.code, called.stderr).toBe(0);
    expect(
      (JSON.parse(called.stdout) as { structuredContent: { status: string } }).structuredContent.status,
    ).toBe("ok");
    const [call] = harness.events("tool_call").slice(-1);
    expect([call?.tool, call?.front_door, call?.principal]).toEqual([
      "ibkr_health",
      "mcp_http",
      expect.stringMatching(/^oauth:[0-9a-f]{64}$/),
    ]);
    expect(harness.storeBytes()).not.toContain(token);
  }, 120_000);
});
