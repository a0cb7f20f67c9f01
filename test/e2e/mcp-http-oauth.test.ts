// Remote MCP end to end with real parts: oidc-provider over HTTPS issuing RS256 JWT access tokens by the
// client credentials grant with a resource indicator, and the MCP SDK's client with its
// ClientCredentialsProvider. The client starts without a token and finds everything itself: 401 with the
// metadata URL -> protected-resource metadata -> authorization-server metadata -> token -> MCP.

import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  type McpHttpHarness,
  rawRequest,
  resourceFor,
  startMcpHttp,
  tempDir,
} from "../support/mcp-http.ts";
import { startAuthServer, type TestAuthServer } from "../support/oauth-server.ts";

const ALLOWED = ["ibkr:accounts:read", "ibkr:health:read", "ibkr:portfolio:read"];

let auth: TestAuthServer;
let harness: McpHttpHarness;
let port: number;

beforeAll(async () => {
  port = await freePort();
  auth = await startAuthServer({
    resource: resourceFor(port),
    scopes: [...ALLOWED, "ibkr:orders:paper:submit"],
    dir: tempDir(),
  });
  harness = await startMcpHttp({ auth, port, remote: { allowed_scopes: ALLOWED } });
});
afterAll(async () => {
  await harness?.close();
  await auth?.close();
});

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly status: number;
}

/** The authorization server's fetch, recording what the client asked and got. */
function recordingFetch(seen: Seen[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const response = await auth.fetch(input, init);
    seen.push({ method: init?.method ?? "GET", url: String(input), status: response.status });
    return response;
  }) as typeof fetch;
}

async function connect(scope: string, seen: Seen[] = []): Promise<Client> {
  const provider = new ClientCredentialsProvider({
    clientId: auth.clientId,
    clientSecret: auth.clientSecret,
    scope,
    expectedIssuer: auth.issuer,
  });
  const transport = new StreamableHTTPClientTransport(new URL(harness.url), {
    authProvider: provider,
    fetch: recordingFetch(seen),
  });
  const client = new Client({ name: "oauth-e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

describe("the MCP SDK client with client credentials against oidc-provider", () => {
  // First, so that its 401 is the first denial from this address (later ones within the minute are coalesced).
  it("audits one auth_succeeded per session with hashed identifiers and the principal on every tool call", async () => {
    const before = harness.events().length;
    const client = await connect("ibkr:accounts:read");
    await client.callTool({ name: "ibkr_accounts_list", arguments: {} });
    await client.callTool({ name: "ibkr_accounts_list", arguments: {} });
    await client.close();
    const events = harness.events().slice(before);
    expect(events.map((event) => event.event_type)).toEqual([
      "auth_denied",
      "auth_succeeded",
      "tool_call",
      "tool_call",
    ]);
    const [denied, succeeded, call] = events;
    expect(denied?.metadata).toEqual({
      check: "token_missing",
      http_status: 401,
      client_address_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      suppressed_count: 0,
    });
    expect(Object.keys(succeeded?.metadata ?? {}).sort()).toEqual([
      "audience",
      "client_id_hash",
      "expires_at",
      "issuer",
      "kid",
      "signing_alg",
      "token_id_hash",
    ]);
    expect(succeeded?.metadata).toMatchObject({
      audience: resourceFor(port),
      issuer: auth.issuer,
      signing_alg: "RS256",
      kid: auth.currentKey.kid,
    });
    expect(succeeded?.principal).toMatch(/^oauth:[0-9a-f]{64}$/);
    expect(succeeded?.scopes).toEqual(["ibkr:accounts:read"]);
    expect(call?.principal).toBe(succeeded?.principal);
    expect(call?.front_door).toBe("mcp_http");
    expect(call?.metadata).toMatchObject({
      mcp_client: "oauth-e2e 1.0.0",
      jsonrpc_id: expect.stringMatching(/^\d+$/),
    });
    expect(call?.session_id).toBe(succeeded?.session_id);
    expect(call?.session_id).toMatch(/^ses_/);
    // Neither the client id nor the subject appears anywhere in the store.
    expect(harness.storeBytes()).not.toContain(auth.clientId);
  });

  it("starts without a token and follows 401 -> resource metadata -> authorization server -> token", async () => {
    const seen: Seen[] = [];
    const client = await connect("ibkr:accounts:read ibkr:health:read", seen);
    await client.close();
    const path = (url: string) =>
      url.replace(harness.url.replace(/\/mcp$/, ""), "MCP").replace(auth.issuer, "AS");
    expect(seen.slice(0, 6).map((s) => `${s.method} ${path(s.url)} ${s.status}`)).toEqual([
      "POST MCP/mcp 401",
      "GET MCP/.well-known/oauth-protected-resource/mcp 200",
      "GET AS/.well-known/oauth-authorization-server 200",
      "POST AS/token 200",
      "POST MCP/mcp 200",
      "POST MCP/mcp 202",
    ]);
  });

  it("lists only the tools of the token's scopes intersected with allowed_scopes, and calls them", async () => {
    // The token carries ibkr:orders:paper:submit too; allowed_scopes does not, so it grants nothing.
    const client = await connect("ibkr:accounts:read ibkr:health:read ibkr:orders:paper:submit");
    const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(tools).toEqual([
      "ibkr_account_metadata",
      "ibkr_accounts_list",
      "ibkr_backend_status",
      "ibkr_health",
      "ibkr_kill_switch_status",
      "ibkr_session_renew",
      "ibkr_session_requirements",
    ]);
    const result = await client.callTool({ name: "ibkr_accounts_list", arguments: {} });
    expect(result.isError).toBeUndefined();
    const accounts = (result.structuredContent as { accounts: { account_mode: string }[] }).accounts;
    expect(accounts.map((account) => account.account_mode)).toEqual(["paper"]);
    await client.close();
  });

  it("answers a call outside the granted scopes with 403 insufficient_scope, which the client cannot upscope", async () => {
    const client = await connect("ibkr:accounts:read");
    const events = harness.events("tool_call").length;
    await expect(client.callTool({ name: "ibkr_account_summary", arguments: {} })).rejects.toThrow(
      "Server returned 403 after trying upscoping",
    );
    // Both attempts (the first and the one after the client's upscoping) were refused and audited, none ran.
    const refused = harness.events("tool_call").slice(events);
    expect(
      refused.map((event) => [event.tool, event.decision, event.result_status, event.error_code]),
    ).toEqual([
      ["ibkr_account_summary", "deny", "denied_scope", "AUTH_MISSING_SCOPE"],
      ["ibkr_account_summary", "deny", "denied_scope", "AUTH_MISSING_SCOPE"],
    ]);
    await client.close();
  });

  it("serves RFC 9728 metadata at the bare and the path-suffixed well-known URL", async () => {
    const expected = {
      resource: resourceFor(port),
      authorization_servers: [auth.issuer],
      scopes_supported: ["ibkr:accounts:read", "ibkr:health:read", "ibkr:portfolio:read"],
      bearer_methods_supported: ["header"],
      resource_name: "IBKR agent gateway (MCP)",
    };
    for (const path of [
      "/.well-known/oauth-protected-resource",
      "/.well-known/oauth-protected-resource/mcp",
    ]) {
      const answer = await rawRequest(harness.url, { path });
      expect(answer.status).toBe(200);
      expect(answer.headers["content-type"]).toBe("application/json");
      expect(answer.json).toEqual(expected);
    }
  });

  it("never writes a token to the logs or the store", async () => {
    const token = await auth.clientCredentialsToken("ibkr:accounts:read", resourceFor(port));
    const answer = await rawRequest(harness.url, {
      token,
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } },
      },
    });
    expect(answer.status).toBe(200);
    const [, payload, signature] = token.split(".");
    for (const part of [token, payload ?? "", signature ?? ""]) {
      expect(harness.logs.join("\n")).not.toContain(part);
      expect(harness.storeBytes()).not.toContain(part);
    }
  });
});
