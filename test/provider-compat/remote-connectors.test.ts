// Provider compatibility of remote MCP: what OpenAI's and Anthropic's connectors and a generic MCP client see
// from our Streamable HTTP server, committed as snapshots (test/provider-compat/snapshots/). Real parts: the
// server on a loopback socket, oidc-provider over HTTPS issuing RS256 access tokens by client credentials,
// the MCP SDK's client with its OAuth flow as the generic connector, and plain HTTP requests shaped like the
// two providers' connectors (their documented client names and protocol revisions). Snapshots carry no
// ports, ids, hashes, times or secrets; the assertions next to them check what a snapshot cannot (the
// three connectors see the same tools, the listing is what `tools export --format mcp` writes, nothing
// secret is in any answer). Update them on purpose: npx vitest run test/provider-compat -u
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCOPE_NAMES, type ScopeName } from "../../generated/scopes.gen.ts";
import { exportTools } from "../../src/tools-export/index.ts";
import {
  AUDIT_SECRET,
  freePort,
  type McpHttpHarness,
  rawRequest,
  resourceFor,
  startMcpHttp,
  tempDir,
} from "../support/mcp-http.ts";
import { startAuthServer, type TestAuthServer } from "../support/oauth-server.ts";
import {
  ANTHROPIC,
  type ConnectorProfile,
  connectorSession,
  normalise,
  OPENAI,
  type Placeholders,
  pretty,
  type SeenAnswer,
  seen,
} from "./connectors.ts";

const READ_ONLY: ScopeName[] = [
  "ibkr:health:read",
  "ibkr:accounts:read",
  "ibkr:portfolio:read",
  "ibkr:positions:read",
  "ibkr:marketdata:read",
  "ibkr:orders:read",
];
const READ_PREVIEW: ScopeName[] = [...READ_ONLY, "ibkr:orders:preview"];
const PAPER: ScopeName[] = [
  ...READ_PREVIEW,
  "ibkr:risk:read",
  "ibkr:approvals:create",
  "ibkr:orders:paper:submit",
  "ibkr:orders:paper:cancel",
  "ibkr:orders:paper:modify",
  "ibkr:safety:engage",
];
const SCOPE_SETS: readonly (readonly [string, readonly ScopeName[]])[] = [
  ["read-only", READ_ONLY],
  ["read-preview", READ_PREVIEW],
  ["paper", PAPER],
  ["full", [...SCOPE_NAMES]],
];

let auth: TestAuthServer;
let harness: McpHttpHarness;
let places: Placeholders;
/** Every answer any test received, searched at the end for anything secret. */
const answers: unknown[] = [];
const tokens: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  auth = await startAuthServer({ resource: resourceFor(port), scopes: [...SCOPE_NAMES], dir: tempDir() });
  harness = await startMcpHttp({
    auth,
    port,
    // One client makes every request of this file within a minute: the post-auth limit is raised for it.
    remote: {
      allowed_scopes: [...SCOPE_NAMES],
      rate_limit: { max_requests: 1000, window_seconds: 60, pre_auth_max_requests: 30 },
    },
  });
  places = { mcpOrigin: new URL(harness.url).origin, issuer: auth.issuer };
});
afterAll(async () => {
  await harness?.close();
  await auth?.close();
});

async function token(scopes: readonly string[]): Promise<string> {
  const value = await auth.clientCredentialsToken(scopes.join(" "));
  tokens.push(value);
  return value;
}

function keep<T>(value: T): T {
  answers.push(value);
  return value;
}

/** The normalised snapshot text of a value; it must also be free of the run's secrets. */
function snapshot(value: unknown): string {
  keep(value);
  return pretty(normalise(value, places));
}

interface RecordedRequest {
  readonly request: string;
  readonly rpc: string | undefined;
  readonly protocolHeader: string | null;
  readonly status: number;
}

/** The generic connector: the MCP SDK client, discovering the authorization server from our 401. */
async function genericClient(scopes: readonly string[], log: RecordedRequest[] = []) {
  const recording = (async (input: string | URL | Request, init?: RequestInit) => {
    const response = await auth.fetch(input, init);
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    let rpc: string | undefined;
    try {
      rpc = (JSON.parse(String(init?.body ?? "")) as { method?: string }).method;
    } catch {
      rpc = undefined;
    }
    // The server-to-client stream (GET /mcp) opens in the background, at no fixed point of the sequence.
    if ((init?.method ?? "GET") === "GET" && url.pathname === "/mcp") return response;
    log.push({
      request: `${init?.method ?? "GET"} ${url.origin}${url.pathname}`,
      rpc,
      protocolHeader: headers.get("mcp-protocol-version"),
      status: response.status,
    });
    return response;
  }) as typeof fetch;
  const transport = new StreamableHTTPClientTransport(new URL(harness.url), {
    authProvider: new ClientCredentialsProvider({
      clientId: auth.clientId,
      clientSecret: auth.clientSecret,
      scope: scopes.join(" "),
      expectedIssuer: auth.issuer,
    }),
    fetch: recording,
  });
  const client = new Client({ name: "generic-mcp-client", version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    transport,
    async close() {
      await transport.terminateSession();
      await client.close();
    },
  };
}

describe("before a connector has a token", () => {
  it("serves the protected-resource metadata at both well-known paths", async () => {
    const paths = ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"];
    const [suffixed, bare] = await Promise.all(
      paths.map(async (path) => seen(await rawRequest(harness.url, { path }))),
    );
    expect(bare).toEqual(suffixed);
    expect((suffixed?.body as { resource?: string } | undefined)?.resource).toBe(harness.url);
    await expect(snapshot({ paths, answer: suffixed })).toMatchFileSnapshot(
      "snapshots/protected-resource-metadata.json",
    );
  });

  it("answers 401 with an absolute resource_metadata URL: no token, a malformed one, an expired one", async () => {
    const initialize = {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: OPENAI.protocolVersion, capabilities: {}, clientInfo: OPENAI.clientInfo },
    };
    const expired = await auth.mint({}, { now: Math.floor(harness.clock.now() / 1000) - 7200 });
    tokens.push(expired);
    const cases: [string, string | undefined][] = [
      ["no token", undefined],
      ["malformed token", "not-a-jwt"],
      ["expired token", expired],
    ];
    const out: { case: string; answer: SeenAnswer }[] = [];
    for (const [name, bearer] of cases) {
      const answer = seen(
        await rawRequest(harness.url, { body: initialize, ...(bearer ? { token: bearer } : {}) }),
      );
      expect(answer.status).toBe(401);
      expect(answer.headers["www-authenticate"]).toMatch(
        new RegExp(`^Bearer resource_metadata="${harness.url.replace(/\/mcp$/, "")}/\\.well-known/`),
      );
      out.push({ case: name, answer });
    }
    expect(harness.events("auth_succeeded")).toHaveLength(0);
    await expect(snapshot(out)).toMatchFileSnapshot("snapshots/auth-401.json");
  });
});

describe("a token without the scope a call needs", () => {
  it("answers 403 insufficient_scope naming the scope, for the OpenAI and the Anthropic connector alike", async () => {
    const bearer = await token(READ_ONLY);
    const out: { connector: string; answer: SeenAnswer }[] = [];
    for (const profile of [OPENAI, ANTHROPIC]) {
      const session = await connectorSession(harness.url, profile, bearer);
      const calls = harness.events("tool_call").length;
      const answer = await session.request({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: {
          name: "ibkr_order_preview",
          arguments: {
            account_id: "DU1234567",
            symbol: "AAPL",
            side: "buy",
            quantity: "1",
            order_type: "market",
          },
        },
      });
      expect(answer.status).toBe(403);
      expect(answer.headers["www-authenticate"]).toContain('error="insufficient_scope"');
      expect(answer.headers["www-authenticate"]).toContain('scope="ibkr:orders:preview"');
      // Refused before anything ran; the refusal itself is audited.
      const refused = harness.events("tool_call").slice(calls);
      expect(refused.map((event) => [event.tool, event.error_code])).toEqual([
        ["ibkr_order_preview", "AUTH_MISSING_SCOPE"],
      ]);
      expect((await session.close()).status).toBe(200);
      out.push({ connector: profile.id, answer });
    }
    // Ids aside, both connectors get the same answer.
    expect(normalise(out[1]?.answer, places)).toEqual(normalise(out[0]?.answer, places));
    await expect(snapshot(out[0]?.answer)).toMatchFileSnapshot("snapshots/auth-403.json");
  });
});

describe("initialize, per connector", () => {
  it.each([OPENAI, ANTHROPIC])(
    "$id: negotiates the revision it asks for",
    async (profile: ConnectorProfile) => {
      const session = await connectorSession(harness.url, profile, await token(READ_ONLY));
      const result = (session.initialize.body as { result: { protocolVersion: string } }).result;
      expect(result.protocolVersion).toBe(profile.protocolVersion);
      expect(session.initialized.status).toBe(202);
      const closed = await session.close();
      expect(closed.status).toBe(200);
      await expect(
        snapshot({
          source: profile.source,
          sent: {
            protocolVersion: profile.protocolVersion,
            clientInfo: profile.clientInfo,
            sendsProtocolHeader: profile.sendsProtocolHeader,
          },
          initialize: session.initialize,
          initialized: session.initialized,
          delete: closed,
        }),
      ).toMatchFileSnapshot(`snapshots/initialize.${profile.id}.json`);
    },
  );

  it("generic: the MCP SDK client finds the authorization server itself and negotiates the latest revision", async () => {
    const log: RecordedRequest[] = [];
    const generic = await genericClient(READ_ONLY, log);
    const seenByClient = {
      protocolVersion: generic.transport.protocolVersion,
      serverInfo: generic.client.getServerVersion(),
      capabilities: generic.client.getServerCapabilities(),
      instructions: generic.client.getInstructions(),
    };
    await generic.client.listTools();
    await generic.close();
    expect(seenByClient.protocolVersion).toBe("2025-11-25");
    // After initialize every request carries the negotiated revision.
    const after = log.filter((entry) => entry.rpc !== "initialize" && entry.request.includes("/mcp"));
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((entry) => entry.protocolHeader === "2025-11-25")).toBe(true);
    await expect(snapshot({ requests: log, seen: seenByClient })).toMatchFileSnapshot(
      "snapshots/initialize.generic.json",
    );
  });
});

/** What a listing says about each tool, compactly; the full entries are pinned by tools-export's test. */
function summarise(tools: readonly Record<string, unknown>[]) {
  return tools.map((tool) => {
    const input = tool.inputSchema as { properties?: object; required?: string[] };
    const required = input.required ?? [];
    return {
      name: tool.name,
      title: tool.title,
      annotations: tool.annotations,
      required_arguments: required,
      optional_arguments: Object.keys(input.properties ?? {}).filter((name) => !required.includes(name)),
    };
  });
}

describe("tools/list per scope set", () => {
  it.each(SCOPE_SETS)(
    "%s: the same tools for every connector, as tools export writes them",
    async (set, scopes) => {
      const bearer = await token(scopes);
      const listings: Record<string, Record<string, unknown>> = {};
      for (const profile of [OPENAI, ANTHROPIC]) {
        const session = await connectorSession(harness.url, profile, bearer);
        const answer = await session.request({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
        expect(answer.status).toBe(200);
        listings[profile.id] = keep((answer.body as { result: Record<string, unknown> }).result);
        await session.close();
      }
      const generic = await genericClient(scopes);
      listings.generic = keep((await generic.client.listTools()) as unknown as Record<string, unknown>);
      await generic.close();

      const tools = listings.openai?.tools as Record<string, unknown>[];
      expect(listings.anthropic).toEqual(listings.openai);
      expect(listings.generic).toEqual(listings.openai);
      // One page: no connector has to follow a cursor.
      expect(listings.openai?.nextCursor).toBeUndefined();
      // Exactly what `ibkr-agent tools export --format mcp --scopes ...` writes for these scopes.
      const names = harness.gateway.dispatcher.toolsFor(new Set(scopes));
      expect(tools).toEqual(exportTools("mcp", names));
      await expect(
        snapshot({ scopes: [...scopes].sort(), tool_count: tools.length, tools: summarise(tools) }),
      ).toMatchFileSnapshot(`snapshots/tools-list.${set}.json`);
    },
  );

  it("lists one tool in full, as a connector receives it", async () => {
    const session = await connectorSession(harness.url, OPENAI, await token(READ_ONLY));
    const answer = await session.request({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    await session.close();
    const tools = (answer.body as { result: { tools: { name: string }[] } }).result.tools;
    const tool = tools.find((entry) => entry.name === "ibkr_account_metadata");
    expect(tool).toBeDefined();
    await expect(snapshot(tool)).toMatchFileSnapshot("snapshots/tool.ibkr_account_metadata.json");
  });
});

describe("tool results", () => {
  it("carry hashed account ids in the audit view and nothing secret; the caller is audited by a hash", async () => {
    const session = await connectorSession(harness.url, OPENAI, await token([...SCOPE_NAMES]));
    const call = async (id: number, name: string, args: Record<string, unknown>) => {
      const answer = await session.request({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name, arguments: args },
      });
      expect(answer.status).toBe(200);
      const result = (answer.body as { result: Record<string, unknown> }).result;
      const [content] = result.content as { type: string; text: string }[];
      expect(content?.type).toBe("text");
      if (result.isError) {
        // A failed call's text block is the code, the message and what to do, for clients that show only text.
        const { error } = result.structuredContent as { error: { code: string; user_action: string } };
        expect(content?.text).toMatch(new RegExp(`^${error.code}: .* What to do: `));
      } else {
        // A result's text block is the structured result as JSON, for clients that ignore structuredContent.
        expect(JSON.parse(content?.text ?? "null")).toEqual(result.structuredContent);
      }
      return {
        tool: name,
        arguments: args,
        isError: result.isError ?? false,
        ...(result.isError ? { text: content?.text } : {}),
        structuredContent: result.structuredContent,
      };
    };
    const before = harness.events("tool_call").length;
    const results = [
      await call(1, "ibkr_accounts_list", {}),
      await call(2, "ibkr_account_metadata", { account_id: "DU1234567" }),
      await call(3, "ibkr_account_metadata", { account_id: "not an id" }),
      await call(4, "ibkr_audit_tail", { limit: 3 }),
    ];
    await session.close();

    const metadata = results[1]?.structuredContent as { account_id: string; account_id_hash: string };
    expect(metadata.account_id_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(results[2]?.isError).toBe(true);
    expect((results[2]?.structuredContent as { error?: { code: string } } | undefined)?.error?.code).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    // The audit view never has the raw account id, only its keyed hash.
    const tail = JSON.stringify(results[3]?.structuredContent);
    expect(tail).not.toContain("DU1234567");
    expect(tail).toContain(metadata.account_id_hash);
    const calls = harness.events("tool_call").slice(before);
    // The audit log names the caller by a hash of its token's subject, never the subject itself.
    expect(calls.map((event) => [event.tool, event.front_door])).toEqual([
      ["ibkr_accounts_list", "mcp_http"],
      ["ibkr_account_metadata", "mcp_http"],
      ["ibkr_account_metadata", "mcp_http"],
      ["ibkr_audit_tail", "mcp_http"],
    ]);
    expect(new Set(calls.map((event) => event.principal))).toEqual(
      new Set([expect.stringMatching(/^oauth:[0-9a-f]{64}$/)]),
    );
    // Sequence numbers depend on what ran before in this file; the snapshot keeps only their order.
    const tailResult = results[3]?.structuredContent as {
      events: { sequence: number | string }[];
      verified_through_sequence: number | string;
    };
    const first = Number(tailResult.events[0]?.sequence);
    expect(tailResult.events.map((event) => Number(event.sequence) - first)).toEqual([0, 1, 2]);
    expect(tailResult.verified_through_sequence).toBe(first + 2);
    tailResult.events.forEach((event, index) => {
      event.sequence = `<first+${index}>`;
    });
    tailResult.verified_through_sequence = "<first+2>";
    await expect(snapshot(results)).toMatchFileSnapshot("snapshots/tool-results.json");
  });
});

describe("protocol differences between connectors", () => {
  it("pins what each variation gets: Accept, newer revisions, a stateless opening, cursors", async () => {
    const bearer = await token(READ_ONLY);
    const initialize = (protocolVersion: string) => ({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion, capabilities: {}, clientInfo: { name: "variation", version: "1.0.0" } },
    });
    // Accept: some connector builds send only JSON. Every POST is answered with JSON, so they are served.
    const jsonOnly = seen(
      await rawRequest(harness.url, {
        token: bearer,
        body: initialize("2025-06-18"),
        headers: { accept: "application/json" },
      }),
    );
    expect(jsonOnly.status).toBe(200);
    expect((jsonOnly.body as { result: { protocolVersion: string } }).result.protocolVersion).toBe(
      "2025-06-18",
    );
    await rawRequest(harness.url, {
      method: "DELETE",
      token: bearer,
      session: jsonOnly.headers["mcp-session-id"] as string,
    });
    // An Accept that allows neither JSON nor anything else is still refused by the transport.
    const htmlOnly = seen(
      await rawRequest(harness.url, {
        token: bearer,
        body: initialize("2025-06-18"),
        headers: { accept: "text/html" },
      }),
    );
    expect(htmlOnly.status).toBe(406);
    // A revision newer than the server knows: it answers with the newest one it has.
    const newer = seen(await rawRequest(harness.url, { token: bearer, body: initialize("2026-07-28") }));
    expect((newer.body as { result: { protocolVersion: string } }).result.protocolVersion).toBe("2025-11-25");
    const newerSession = newer.headers["mcp-session-id"] as string;
    await rawRequest(harness.url, { method: "DELETE", token: bearer, session: newerSession });
    // A stateless (2026-07-28) opening: server/discover without a session.
    const discover = seen(
      await rawRequest(harness.url, {
        token: bearer,
        headers: { "mcp-protocol-version": "2026-07-28" },
        body: { jsonrpc: "2.0", id: 1, method: "server/discover", params: {} },
      }),
    );
    expect(discover.status).toBe(400);
    // In a session: an unknown MCP-Protocol-Version header, and a cursor the server never handed out.
    const session = await connectorSession(harness.url, ANTHROPIC, bearer);
    const unknownRevision = await session.request(
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { "mcp-protocol-version": "2026-07-28" },
    );
    expect(unknownRevision.status).toBe(400);
    const withCursor = await session.request({
      jsonrpc: "2.0",
      id: 3,
      method: "tools/list",
      params: { cursor: "page-2" },
    });
    const page = (withCursor.body as { result: { tools: unknown[]; nextCursor?: string } }).result;
    expect(page.tools).toHaveLength(harness.gateway.dispatcher.toolsFor(new Set(READ_ONLY)).length);
    expect(page.nextCursor).toBeUndefined();
    await session.close();
    await expect(
      snapshot({
        accept_application_json_only: jsonOnly,
        accept_text_html_only: htmlOnly,
        initialize_2026_07_28: { status: newer.status, protocolVersion: "2025-11-25" },
        server_discover_without_session: discover,
        unknown_protocol_version_header: unknownRevision,
        tools_list_with_unknown_cursor: {
          status: withCursor.status,
          tool_count: page.tools.length,
          nextCursor: page.nextCursor ?? null,
        },
      }),
    ).toMatchFileSnapshot("snapshots/protocol-variations.json");
  });
});

describe("every answer above", () => {
  it("holds no token, client secret or store secret", () => {
    const text = JSON.stringify(answers);
    expect(answers.length).toBeGreaterThan(10);
    for (const secret of [...tokens, auth.clientSecret, AUDIT_SECRET]) {
      expect(text).not.toContain(secret);
      for (const part of secret.split(".").filter((piece) => piece.length > 16))
        expect(text).not.toContain(part);
    }
  });
});
