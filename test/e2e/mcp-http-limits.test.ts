// Abuse limits of the HTTP front door on real sockets: the pre-auth limit per client address (which a
// spoofed X-Forwarded-For does not escape, and which a trusted proxy's X-Forwarded-For does key), the
// post-auth limit per caller, the connection cap answered 503 instead of a reset, and the request timeout
// answered 408. Limits run on the front door's manual clock, so Retry-After is exact.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  INITIALIZE,
  type McpHttpHarness,
  openSession,
  rawRequest,
  startMcpHttp,
  tempDir,
  toolCall,
} from "../support/mcp-http.ts";
import { startAuthServer, type TestAuthServer } from "../support/oauth-server.ts";

const SCOPES = ["ibkr:accounts:read"];

let auth: TestAuthServer;
let direct: McpHttpHarness;
let proxied: McpHttpHarness;
let crowded: McpHttpHarness;

async function harness(remote: Record<string, unknown>): Promise<McpHttpHarness> {
  const port = await freePort();
  return startMcpHttp({ auth, port, remote: { allowed_scopes: SCOPES, ...remote } });
}

beforeAll(async () => {
  auth = await startAuthServer({ resource: "https://unused.example/mcp", scopes: SCOPES, dir: tempDir() });
  const limits = { rate_limit: { pre_auth_max_requests: 3, max_requests: 3, window_seconds: 60 } };
  direct = await harness({ ...limits, request_timeout_seconds: 1 });
  proxied = await harness({ ...limits, trusted_proxies: ["127.0.0.1", "10.0.0.0/8"] });
  crowded = await harness({ max_connections: 2 });
});
afterAll(async () => {
  for (const h of [direct, proxied, crowded]) await h?.close();
  await auth?.close();
});

const tokenFor = (h: McpHttpHarness, sub: string) =>
  auth.mint({ sub, aud: new URL("/mcp", h.url).href }, { now: Math.floor(h.clock.now() / 1000) });

const LIMITED = {
  error: {
    code: "AUTH_RATE_LIMITED",
    message: "Too many requests from this client.",
    retryable: true,
    user_action: "Wait for the number of seconds in the Retry-After header, then retry.",
    audit_event_id: null,
  },
};

describe("pre-auth limit per client address", () => {
  it("is not escaped by a spoofed X-Forwarded-For from a peer that is no trusted proxy", async () => {
    const spoof = (n: number) => ({ body: INITIALIZE, headers: { "x-forwarded-for": `203.0.113.${n}` } });
    for (let n = 1; n <= 3; n += 1) expect((await rawRequest(direct.url, spoof(n))).status).toBe(401);
    const limited = await rawRequest(direct.url, spoof(99));
    expect([limited.status, limited.headers["retry-after"], limited.json]).toEqual([429, "60", LIMITED]);
    // Checked before the token, so a valid token from the same address waits too.
    const valid = await rawRequest(direct.url, {
      token: await tokenFor(direct, "agent-a"),
      body: INITIALIZE,
    });
    expect([valid.status, valid.headers["retry-after"]]).toEqual([429, "60"]);
    direct.clock.advance(45_000);
    expect((await rawRequest(direct.url, spoof(5))).headers["retry-after"]).toBe("15");
    const denials = direct.events("auth_denied").map((event) => [event.error_code, event.metadata.check]);
    expect(denials).toEqual([
      ["AUTH_TOKEN_MISSING", "token_missing"],
      ["AUTH_RATE_LIMITED", "rate_limit_pre_auth"],
    ]);
    direct.clock.advance(15_000);
    expect(
      (await rawRequest(direct.url, { token: await tokenFor(direct, "agent-a"), body: INITIALIZE })).status,
    ).toBe(200);
  });

  it("keys on the client a trusted proxy names: the rightmost address that is not a trusted proxy", async () => {
    const via = (chain: string) => ({ body: INITIALIZE, headers: { "x-forwarded-for": chain } });
    for (let n = 1; n <= 3; n += 1)
      expect((await rawRequest(proxied.url, via("198.51.100.7"))).status).toBe(401);
    expect((await rawRequest(proxied.url, via("198.51.100.7"))).status).toBe(429);
    // Another client behind the same proxy has its own budget.
    expect((await rawRequest(proxied.url, via("198.51.100.8"))).status).toBe(401);
    // What the client wrote itself (left of what the proxies appended) is ignored, through a proxy chain too.
    expect((await rawRequest(proxied.url, via("192.0.2.1, 198.51.100.7"))).status).toBe(429);
    expect((await rawRequest(proxied.url, via("192.0.2.2, 198.51.100.7, 10.1.2.3"))).status).toBe(429);
    const [first, second, third] = proxied
      .events("auth_denied")
      .map((event) => event.metadata.client_address_hash as string);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    expect(proxied.storeBytes()).not.toContain("198.51.100.7");
  });
});

describe("post-auth limit per caller", () => {
  it("answers 429 to a caller over max_requests and leaves other callers alone", async () => {
    proxied.clock.advance(60_000);
    const token = await tokenFor(proxied, "agent-a");
    const session = await openSession(proxied.url, token);
    for (let i = 0; i < 2; i += 1) {
      expect(
        (await rawRequest(proxied.url, { token, session, body: toolCall("ibkr_accounts_list") })).status,
      ).toBe(200);
    }
    const calls = proxied.events("tool_call").length;
    const limited = await rawRequest(proxied.url, { token, session, body: toolCall("ibkr_accounts_list") });
    expect([limited.status, limited.headers["retry-after"], limited.json]).toEqual([429, "60", LIMITED]);
    expect(proxied.events("tool_call").length).toBe(calls);
    const [denied] = proxied.events("auth_denied").slice(-1);
    expect([denied?.metadata.check, denied?.principal]).toEqual([
      "rate_limit_client",
      proxied.events("auth_succeeded").slice(-1)[0]?.principal,
    ]);
    expect(
      (await rawRequest(proxied.url, { token: await tokenFor(proxied, "agent-b"), body: INITIALIZE })).status,
    ).toBe(200);
  });
});

/** Writes raw bytes and collects the answer until the server closes or a complete response has arrived. */
function exchange(socket: Socket, text?: string): Promise<string> {
  return new Promise((resolve) => {
    let received = "";
    const done = () => resolve(received);
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      const head = received.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(received)?.[1];
      if (head !== -1 && length !== undefined && received.length >= head + 4 + Number(length)) done();
    });
    socket.once("close", done);
    if (text !== undefined) socket.write(text);
  });
}

function open(h: McpHttpHarness): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(h.url).port), "127.0.0.1", () => resolve(socket));
  });
}

const HEALTH = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

describe("connections and timeouts", () => {
  it("answers a connection beyond max_connections with 503 SERVER_BUSY, and serves again once one closes", async () => {
    const held = [await open(crowded), await open(crowded)];
    for (const socket of held) expect(await exchange(socket, HEALTH)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const extra = await open(crowded);
    const refused = await exchange(extra, HEALTH);
    expect(refused).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(refused).toMatch(/\r\nconnection: close\r\n/i);
    expect(refused).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(JSON.parse(refused.slice(refused.indexOf("\r\n\r\n") + 4))).toEqual({
      error: {
        code: "SERVER_BUSY",
        message: "The server is at its connection limit.",
        retryable: true,
        user_action:
          "Retry after the number of seconds in the Retry-After header; end MCP sessions you no longer use (HTTP DELETE).",
        audit_event_id: null,
      },
    });
    const gone = new Promise((resolve) => held[0]?.once("close", resolve));
    held[0]?.destroy();
    await gone;
    // The server sees the close a moment after the client does.
    let answer = "";
    for (let attempt = 0; attempt < 50 && !answer.startsWith("HTTP/1.1 200"); attempt += 1) {
      const socket = await open(crowded);
      answer = await exchange(socket, HEALTH);
      socket.destroy();
    }
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    held[1]?.destroy();
  });

  it("answers headers that do not arrive in time with 408 INPUT_REQUEST_TIMEOUT", async () => {
    const socket = await open(direct);
    const answer = await exchange(socket, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual({
      error: {
        code: "INPUT_REQUEST_TIMEOUT",
        message: "The request did not arrive completely within the server's time limit.",
        retryable: true,
        user_action: "Send the whole request promptly; the limit is remote_mcp.request_timeout_seconds.",
        audit_event_id: null,
      },
    });
  });

  it("answers an authenticated body that stalls with 408 and runs nothing", async () => {
    direct.clock.advance(60_000);
    const token = await tokenFor(direct, "agent-a");
    const session = await openSession(direct.url, token);
    const calls = direct.events("tool_call").length;
    const socket = await open(direct);
    const head = [
      "POST /mcp HTTP/1.1",
      "Host: 127.0.0.1",
      `Authorization: Bearer ${token}`,
      `Mcp-Session-Id: ${session}`,
      "Accept: application/json, text/event-stream",
      "Content-Type: application/json",
      "Content-Length: 200",
      "",
      '{"jsonrpc":"2.0",',
    ].join("\r\n");
    const answer = await exchange(socket, head);
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(direct.events("tool_call").length).toBe(calls);
    expect(direct.logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
  });
});
