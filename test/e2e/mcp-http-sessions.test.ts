// Stateful MCP sessions over Streamable HTTP: bound to the principal of the token that opened them, ended by
// DELETE or by idleness, bounded in number; request ids kept for correlation; probes without auth; and a
// shutdown that lets a call in flight finish.
import { http } from "msw";
import { Agent, Client } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.ts";
import {
  AUDIT_SECRET,
  freePort,
  INITIALIZE,
  type McpHttpHarness,
  openSession,
  rawRequest,
  resourceFor,
  startMcpHttp,
  tempDir,
  toolCall,
} from "../support/mcp-http.ts";
import { startAuthServer, type TestAuthServer } from "../support/oauth-server.ts";

const SCOPES = ["ibkr:accounts:read", "ibkr:health:read"];

let auth: TestAuthServer;
let harness: McpHttpHarness;

beforeAll(async () => {
  const port = await freePort();
  auth = await startAuthServer({ resource: resourceFor(port), scopes: SCOPES, dir: tempDir() });
  harness = await startMcpHttp({
    auth,
    port,
    remote: {
      allowed_scopes: SCOPES,
      session_idle_seconds: 60,
      max_sessions: 3,
      max_sessions_per_subject: 2,
    },
  });
});
afterAll(async () => {
  await harness?.close();
  await auth?.close();
});
// A fresh minute for each test: earlier sessions go idle, denial coalescing starts over.
beforeEach(() => {
  harness.clock.advance(61_000);
});

const tokenFor = (sub: string) => auth.mint({ sub }, { now: Math.floor(harness.clock.now() / 1000) });
const okResult = (answer: { status: number; json: unknown }) =>
  answer.status === 200 && (answer.json as { result?: { isError?: boolean } }).result?.isError === undefined;

const MISMATCH = {
  error: {
    code: "AUTH_SESSION_MISMATCH",
    message: "The MCP session belongs to another subject or has ended.",
    retryable: false,
    user_action: "Start a new MCP session (initialize again) with your own token.",
    audit_event_id: null,
  },
};

describe("session binding", () => {
  it("refuses another subject presenting the session id, audits it, and keeps serving the owner", async () => {
    const owner = await tokenFor("agent-a");
    const session = await openSession(harness.url, owner);
    const intruder = await tokenFor("agent-b");
    const calls = harness.events("tool_call").length;
    const refused = await rawRequest(harness.url, {
      token: intruder,
      session,
      body: toolCall("ibkr_accounts_list"),
    });
    expect([refused.status, refused.json]).toEqual([404, MISMATCH]);
    expect(harness.events("tool_call").length).toBe(calls);
    const [denied] = harness.events("auth_denied").slice(-1);
    expect([denied?.error_code, denied?.metadata.check, denied?.metadata.http_status]).toEqual([
      "AUTH_SESSION_MISMATCH",
      "session",
      404,
    ]);
    expect(denied?.principal).toMatch(/^oauth:[0-9a-f]{64}$/);
    const owned = harness.events("auth_succeeded").slice(-1)[0];
    expect(denied?.principal).not.toBe(owned?.principal);
    // The intruder cannot end it either.
    expect((await rawRequest(harness.url, { method: "DELETE", token: intruder, session })).status).toBe(404);
    expect(
      okResult(
        await rawRequest(harness.url, { token: owner, session, body: toolCall("ibkr_accounts_list") }),
      ),
    ).toBe(true);
  });

  it("DELETE ends the session; its id is refused afterwards", async () => {
    const token = await tokenFor("agent-a");
    const session = await openSession(harness.url, token);
    const ended = await rawRequest(harness.url, { method: "DELETE", token, session });
    expect(ended.status).toBe(200);
    const after = await rawRequest(harness.url, { token, session, body: toolCall("ibkr_accounts_list") });
    expect([after.status, after.json]).toEqual([404, MISMATCH]);
  });

  it("ends a session idle for longer than session_idle_seconds", async () => {
    const session = await openSession(harness.url, await tokenFor("agent-a"));
    harness.clock.advance(59_000);
    expect(
      okResult(
        await rawRequest(harness.url, {
          token: await tokenFor("agent-a"),
          session,
          body: toolCall("ibkr_accounts_list"),
        }),
      ),
    ).toBe(true);
    harness.clock.advance(61_000);
    const expired = await rawRequest(harness.url, {
      token: await tokenFor("agent-a"),
      session,
      body: toolCall("ibkr_accounts_list"),
    });
    expect([expired.status, expired.json]).toEqual([404, MISMATCH]);
  });

  it("bounds sessions per subject and overall with 503 SERVER_BUSY", async () => {
    const a = await tokenFor("agent-a");
    await openSession(harness.url, a);
    await openSession(harness.url, a);
    const third = await rawRequest(harness.url, { token: a, body: INITIALIZE });
    const busy = {
      error: {
        code: "SERVER_BUSY",
        message: "The server is at its limit of MCP sessions.",
        retryable: true,
        user_action:
          "Retry after the number of seconds in the Retry-After header; end MCP sessions you no longer use (HTTP DELETE).",
        audit_event_id: null,
      },
    };
    expect([third.status, third.headers["retry-after"], third.json]).toEqual([503, "60", busy]);
    await openSession(harness.url, await tokenFor("agent-b"));
    const overall = await rawRequest(harness.url, { token: await tokenFor("agent-c"), body: INITIALIZE });
    expect([overall.status, overall.json]).toEqual([503, busy]);
    expect(harness.server.handler.sessionCount).toBe(3);
  });

  it("answers a request without a session id that is not an initialize with a JSON-RPC error", async () => {
    const answer = await rawRequest(harness.url, {
      token: await tokenFor("agent-a"),
      body: toolCall("ibkr_accounts_list"),
    });
    expect([answer.status, answer.json]).toEqual([
      400,
      {
        jsonrpc: "2.0",
        error: { code: -32000, message: "Bad Request: Mcp-Session-Id header is required" },
        id: null,
      },
    ]);
  });

  it("opens the server-to-client stream on GET", async () => {
    const token = await tokenFor("agent-a");
    const session = await openSession(harness.url, token);
    const client = new Client(new URL(harness.url).origin);
    const stream = await client.request({
      path: "/mcp",
      method: "GET",
      headers: { authorization: `Bearer ${token}`, "mcp-session-id": session, accept: "text/event-stream" },
    });
    expect([stream.statusCode, stream.headers["content-type"]]).toEqual([200, "text/event-stream"]);
    stream.body.on("error", () => undefined);
    await rawRequest(harness.url, { method: "DELETE", token, session });
    await client.destroy();
  });
});

describe("audit and correlation", () => {
  it("writes auth_succeeded at initialize and again only when a different token appears in the session", async () => {
    const first = await tokenFor("agent-a");
    const before = harness.events("auth_succeeded").length;
    const session = await openSession(harness.url, first);
    await rawRequest(harness.url, { token: first, session, body: toolCall("ibkr_accounts_list") });
    const second = await tokenFor("agent-a");
    await rawRequest(harness.url, { token: second, session, body: toolCall("ibkr_accounts_list") });
    await rawRequest(harness.url, { token: second, session, body: toolCall("ibkr_accounts_list") });
    const events = harness.events("auth_succeeded").slice(before);
    expect(events).toHaveLength(2);
    expect(events[0]?.session_id).toBe(events[1]?.session_id);
    expect(events[0]?.metadata.token_id_hash).not.toBe(events[1]?.metadata.token_id_hash);
  });

  it("keeps a valid UUID x-request-id as the request id of the call, and replaces anything else", async () => {
    const token = await tokenFor("agent-a");
    const session = await openSession(harness.url, token);
    const id = "0b9e3a52-8c1f-4e8e-9a57-3f2d1c0b9a88";
    const kept = await rawRequest(harness.url, {
      token,
      session,
      body: toolCall("ibkr_accounts_list"),
      headers: { "x-request-id": id.toUpperCase() },
    });
    expect(kept.headers["x-request-id"]).toBe(`req_${id}`);
    expect(harness.events("tool_call").slice(-1)[0]?.request_id).toBe(`req_${id}`);
    const replaced = await rawRequest(harness.url, {
      token,
      session,
      body: toolCall("ibkr_accounts_list"),
      headers: { "x-request-id": "'; DROP TABLE audit; --" },
    });
    const generated = harness.events("tool_call").slice(-1)[0]?.request_id;
    expect(generated).toMatch(/^req_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(replaced.headers["x-request-id"]).toBe(generated);
  });
});

describe("probes", () => {
  it("/healthz says the process is up, without auth and without details", async () => {
    const answer = await rawRequest(harness.url, { path: "/healthz" });
    expect([answer.status, answer.headers["cache-control"], answer.json]).toEqual([
      200,
      "no-store",
      { status: "ok" },
    ]);
  });

  it("/readyz reports the store and the broker session, and turns 503 when the session is gone", async () => {
    const ready = await rawRequest(harness.url, { path: "/readyz" });
    expect([ready.status, ready.json]).toEqual([
      200,
      { status: "ready", checks: { store: "ok", broker: "ok" } },
    ]);
    harness.sim.control.logout();
    // Any look at the session records its state; here the backend status tool's.
    const token = await tokenFor("agent-a");
    const session = await openSession(harness.url, token);
    await rawRequest(harness.url, { token, session, body: toolCall("ibkr_backend_status") });
    const notReady = await rawRequest(harness.url, { path: "/readyz" });
    expect([notReady.status, notReady.json]).toEqual([
      503,
      { status: "not_ready", checks: { store: "ok", broker: "failing" } },
    ]);
  });

  it("answers unknown paths and methods with INPUT_UNKNOWN_ENDPOINT", async () => {
    const unknown = await rawRequest(harness.url, { path: "/admin" });
    expect([unknown.status, (unknown.json as { error: { code: string } }).error.code]).toEqual([
      404,
      "INPUT_UNKNOWN_ENDPOINT",
    ]);
    const put = await rawRequest(harness.url, { method: "PUT", body: INITIALIZE });
    expect([put.status, put.headers.allow, (put.json as { error: { code: string } }).error.code]).toEqual([
      405,
      "GET, POST, DELETE",
      "INPUT_UNKNOWN_ENDPOINT",
    ]);
  });
});

describe("graceful shutdown", () => {
  it("stops accepting connections and lets the call in flight finish before it closes the gateway", async () => {
    const port = await freePort();
    const own = await startAuthServer({ resource: resourceFor(port), scopes: SCOPES, dir: tempDir() });
    const h = await startMcpHttp({ auth: own, port, remote: { allowed_scopes: SCOPES } });
    const token = await own.mint({}, { now: Math.floor(h.clock.now() / 1000) });
    const session = await openSession(h.url, token);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived = () => {};
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    h.sim.handlers.unshift(
      http.all("*/iserver/auth/status", async () => {
        arrived();
        await gate;
      }),
    );
    const call = rawRequest(h.url, { token, session, body: toolCall("ibkr_backend_status") });
    await reached;
    let closed = false;
    const closing = h.server.close().then(() => {
      closed = true;
    });
    const fresh = new Agent();
    await expect(rawRequest(h.url, { path: "/healthz", dispatcher: fresh })).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
    await fresh.close();
    expect(closed).toBe(false);
    release();
    const answer = await call;
    expect(okResult(answer)).toBe(true);
    await closing;
    const store = openStore({
      path: h.gateway.loaded.paths.storePath,
      secrets: { auditSecret: AUDIT_SECRET },
      readonly: true,
    });
    const last = [...store.exportEvents()].filter((event) => event.event_type === "tool_call").slice(-1)[0];
    store.close();
    expect([last?.tool, last?.result_status]).toEqual(["ibkr_backend_status", "completed"]);
    await h.close();
    await own.close();
  });
});
