// Embedding: an application imports the package root (the SDK), makes a gateway with createGateway() and
// mounts createMcpHttpHandler in a plain node:http server of its own. A real MCP SDK client
// (StreamableHTTPClientTransport) lists and calls tools through it, and the call lands in the same audit
// log as the SDK's own calls, recorded as an MCP-over-HTTP call.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composedGateway } from "../../src/sdk/create-gateway.ts";
import {
  createGateway,
  createMcpHttpHandler,
  type IbkrGateway,
  type McpHttpHandler,
  randomLocalToken,
} from "../../src/sdk/index.ts";

const home = mkdtempSync(join(tmpdir(), "ibkr-http-embed-"));
const env: NodeJS.ProcessEnv = { ...process.env, IBKR_AGENT_HOME: home };
delete env.IBKR_AGENT_CONFIG;
const token = randomLocalToken();

let gateway: IbkrGateway;
let handler: McpHttpHandler;
let server: Server;
let url: URL;

beforeAll(async () => {
  gateway = await createGateway({ env });
  handler = createMcpHttpHandler({ gateway, localToken: token });
  // The application's own server: everything under /agents/ goes to the MCP handler, the rest is its own.
  server = createServer((req, res) => {
    if (req.url?.startsWith("/agents/")) {
      req.url = req.url.slice("/agents".length);
      void handler(req, res);
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" }).end("the application's own page");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/agents/mcp`);
});

afterAll(async () => {
  await handler?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await gateway?.close();
  rmSync(home, { recursive: true, force: true });
});

async function connect(): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "embed-e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

describe("createMcpHttpHandler from the package root, in an application's node:http server", () => {
  it("serves a real MCP client the gateway's tools, and records its calls as MCP over HTTP", async () => {
    expect(handler.mode).toBe("local");
    const client = await connect();
    const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(tools).toEqual([...gateway.tools()].sort());
    expect(tools).toHaveLength(34);
    expect(tools).not.toContain("ibkr_order_preview");
    const result = (await client.callTool({ name: "ibkr_accounts_list", arguments: {} })) as {
      isError?: boolean;
      structuredContent?: { accounts: { account_id: string; account_mode: string }[] };
    };
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent?.accounts.map((a) => [a.account_id, a.account_mode])).toEqual([
      ["DU1234567", "paper"],
    ]);
    expect(handler.sessionCount).toBe(1);
    await client.close();

    // The SDK's view of the log (verified chain) and the stored event behind it.
    const tail = await gateway.call("ibkr_audit_tail", { limit: 3 });
    expect(tail.chain_verified).toBe(true);
    const listed = tail.events.find((event) => event.tool === "ibkr_accounts_list");
    const stored = [...composedGateway(gateway).store.exportEvents()].find(
      (event) => event.event_id === listed?.event_id,
    );
    expect([stored?.event_type, stored?.front_door, stored?.result_status]).toEqual([
      "tool_call",
      "mcp_http",
      "completed",
    ]);
  });

  it("answers 401 without the token, and leaves the application's other routes alone", async () => {
    const missing = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect([missing.status, missing.headers.get("www-authenticate")]).toEqual([401, "Bearer"]);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("AUTH_TOKEN_MISSING");
    const page = await fetch(new URL("/", url));
    expect(await page.text()).toBe("the application's own page");
    const health = await fetch(new URL("/agents/healthz", url));
    expect([health.status, await health.json()]).toEqual([200, { status: "ok" }]);
  });

  it("refuses the OAuth mode when the configuration does not turn remote MCP on", () => {
    expect(() => createMcpHttpHandler({ gateway })).toThrow(
      expect.objectContaining({ code: "CONFIG_REMOTE_MCP_FORBIDDEN" }),
    );
  });

  it("takes only a gateway made by createGateway()", () => {
    expect(() => createMcpHttpHandler({ gateway: { ...gateway } as IbkrGateway, localToken: token })).toThrow(
      "expected a gateway made by createGateway()",
    );
  });
});
