// The loopback "local" mode: no authorization server, a random bearer token, the locally configured
// scopes exactly as stdio grants them. Anything but the token is refused, as is any non-loopback address
// and any browser origin that is not loopback. Also: the handler mounted in an application's own server,
// and HTTPS served directly from a certificate and key.

import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Agent } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { randomLocalToken } from "../../src/auth/index.ts";
import { serveMcpHttp } from "../../src/mcp/http.ts";
import { createMcpHttpHandler } from "../../src/mcp/http-handler.ts";
import { selfSignedCertificate } from "../../src/simulator/certificate.ts";
import {
  INITIALIZE,
  type McpHttpHarness,
  rawRequest,
  startMcpHttp,
  tempDir,
  toolCall,
} from "../support/mcp-http.ts";

const token = randomLocalToken();
let harness: McpHttpHarness;

beforeAll(async () => {
  harness = await startMcpHttp({ localToken: token });
});
afterAll(async () => {
  await harness?.close();
});
beforeEach(() => {
  harness.clock.advance(61_000);
});

const INVALID_LOCAL = {
  error: {
    code: "AUTH_TOKEN_INVALID",
    message: "The bearer token is malformed, badly signed or signed by an unknown key.",
    retryable: false,
    user_action: "Obtain a new access token from the configured authorization server.",
    audit_event_id: null,
  },
};

describe("local mode", () => {
  it("serves an MCP SDK client that sends the token, with the local scopes exactly as stdio", async () => {
    const transport = new StreamableHTTPClientTransport(new URL(harness.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: "local-e2e", version: "1.0.0" });
    await client.connect(transport);
    const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(tools).toEqual(harness.gateway.tools().sort());
    expect(tools).toContain("ibkr_health");
    expect(tools).not.toContain("ibkr_order_preview");
    const result = await client.callTool({ name: "ibkr_health", arguments: {} });
    expect(result.isError).toBeUndefined();
    await client.close();
    const [call] = harness.events("tool_call").slice(-1);
    expect([call?.principal, call?.front_door, call?.result_status]).toEqual([
      harness.gateway.principal,
      "mcp_http",
      "completed",
    ]);
    expect(harness.logs.join("\n")).not.toContain(token);
    expect(harness.storeBytes()).not.toContain(token);
  });

  it("refuses any other token, and no token, with 401", async () => {
    const wrong = await rawRequest(harness.url, { token: randomLocalToken(), body: INITIALIZE });
    expect([wrong.status, wrong.headers["www-authenticate"], wrong.json]).toEqual([
      401,
      'Bearer error="invalid_token", error_description="The bearer token is malformed, badly signed or signed by an unknown key."',
      INVALID_LOCAL,
    ]);
    const prefix = await rawRequest(harness.url, { token: token.slice(0, 63), body: INITIALIZE });
    expect(prefix.status).toBe(401);
    const none = await rawRequest(harness.url, { body: INITIALIZE });
    expect([none.status, none.headers["www-authenticate"]]).toEqual([401, "Bearer"]);
    expect(
      harness
        .events("auth_denied")
        .slice(-2)
        .map((event) => [event.error_code, event.metadata.check]),
    ).toEqual([
      ["AUTH_TOKEN_INVALID", "local_token"],
      ["AUTH_TOKEN_MISSING", "token_missing"],
    ]);
  });

  it("accepts loopback browser origins and refuses others, and a Host that is not loopback (DNS rebinding)", async () => {
    const local = await rawRequest(harness.url, {
      token,
      body: INITIALIZE,
      headers: { origin: "http://localhost:5173" },
    });
    expect(local.status).toBe(200);
    const evil = await rawRequest(harness.url, {
      token,
      body: INITIALIZE,
      headers: { origin: "http://evil.example" },
    });
    expect([evil.status, evil.json]).toEqual([
      403,
      {
        error: {
          code: "AUTH_ORIGIN_REFUSED",
          message: "The request's Origin is not allowed.",
          retryable: false,
          user_action:
            "Call the server from an allowed origin; browsers on other sites cannot use this server.",
          audit_event_id: null,
        },
      },
    ]);
    const [denied] = harness.events("auth_denied").slice(-1);
    expect([denied?.metadata.check, denied?.metadata.origin]).toEqual(["origin", "http://evil.example"]);
    harness.clock.advance(61_000);
    const rebound = await rawRequest(harness.url, {
      token,
      body: INITIALIZE,
      headers: { host: "evil.example:8080" },
    });
    expect(rebound.status).toBe(403);
    expect(harness.events("auth_denied").slice(-1)[0]?.metadata.origin).toBe("host:evil.example:8080");
  });

  it("publishes no OAuth metadata", async () => {
    const answer = await rawRequest(harness.url, { path: "/.well-known/oauth-protected-resource" });
    expect(answer.status).toBe(404);
  });

  it("refuses to serve on an address that is not loopback", async () => {
    await expect(
      serveMcpHttp({ gateway: harness.gateway, version: "0.1.0", localToken: token, bind: "0.0.0.0:0" }),
    ).rejects.toMatchObject({
      code: "CONFIG_REMOTE_MCP_FORBIDDEN",
      message: "Local mode (no authorization server) serves only on a loopback address, not on 0.0.0.0.",
    });
  });

  it("refuses the OAuth mode when remote MCP is not configured", () => {
    expect(() => createMcpHttpHandler({ gateway: harness.gateway, version: "0.1.0" })).toThrow(
      expect.objectContaining({ code: "CONFIG_REMOTE_MCP_FORBIDDEN" }),
    );
  });
});

describe("embedding the handler", () => {
  it("runs in an application's own node:http server under a path prefix, with a body it parsed itself", async () => {
    const handler = createMcpHttpHandler({ gateway: harness.gateway, version: "0.1.0", localToken: token });
    const server = createServer(async (req, res) => {
      // What Express does for app.use("/ibkr", express.json(), handler).
      if (!req.url?.startsWith("/ibkr/")) {
        res.writeHead(404).end();
        return;
      }
      req.url = req.url.slice("/ibkr".length);
      if (req.method === "POST") {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        (req as typeof req & { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      }
      await handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ibkr/`;
    const opened = await rawRequest(base, { path: "/ibkr/mcp", token, body: INITIALIZE });
    expect(opened.status).toBe(200);
    const session = opened.headers["mcp-session-id"] ?? "";
    const called = await rawRequest(base, {
      path: "/ibkr/mcp",
      token,
      session,
      body: toolCall("ibkr_health"),
    });
    expect((called.json as { result: { isError?: boolean } }).result.isError).toBeUndefined();
    await handler.drain(1000);
    const draining = await rawRequest(base, { path: "/ibkr/healthz" });
    expect([draining.status, (draining.json as { error: { code: string } }).error.code]).toEqual([
      503,
      "SERVER_BUSY",
    ]);
    await handler.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe("HTTPS served directly", () => {
  it("serves TLS from remote_mcp.tls_cert_file and tls_key_file", async () => {
    const dir = tempDir();
    const certificate = await selfSignedCertificate();
    writeFileSync(join(dir, "cert.pem"), certificate.cert);
    writeFileSync(join(dir, "key.pem"), certificate.key);
    const tls = await startMcpHttp({
      localToken: token,
      remote: { tls_cert_file: join(dir, "cert.pem"), tls_key_file: join(dir, "key.pem") },
    });
    try {
      expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const trusting = new Agent({ connect: { ca: certificate.cert } });
      const answer = await rawRequest(tls.url, { token, body: INITIALIZE, dispatcher: trusting });
      expect(answer.status).toBe(200);
      await trusting.close();
      const untrusting = new Agent();
      await expect(rawRequest(tls.url, { path: "/healthz", dispatcher: untrusting })).rejects.toMatchObject({
        code: "DEPTH_ZERO_SELF_SIGNED_CERT",
      });
      await untrusting.close();
    } finally {
      await tls.close();
    }
  });
});
