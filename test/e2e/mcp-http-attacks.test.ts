// The attack corpus of remote MCP (issue 7) against the real server, a real authorization server and its
// real keys. Each attack rides on a tools/call inside a live session, so if it got through, a tool would
// run; each asserts the exact status, headers and body, that nothing ran (no tool_call event, no broker
// request), what the audit log recorded, and that the token appears nowhere: not in the answer, the logs or
// the store.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  freePort,
  type McpHttpHarness,
  openSession,
  type RawAnswer,
  type RawOptions,
  rawRequest,
  resourceFor,
  startMcpHttp,
  tempDir,
  toolCall,
} from "../support/mcp-http.ts";
import { startAuthServer, type TestAuthServer, unsignedToken } from "../support/oauth-server.ts";

const ALLOWED = ["ibkr:accounts:read", "ibkr:health:read"];

let auth: TestAuthServer;
let harness: McpHttpHarness;
let port: number;
let session: string;
let metadataUrl: string;

// Each attack gets its own minute: identical denials from one address within a minute are coalesced.
beforeEach(() => {
  harness.clock.advance(61_000);
});

beforeAll(async () => {
  port = await freePort();
  metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  auth = await startAuthServer({
    resource: resourceFor(port),
    scopes: [...ALLOWED, "ibkr:orders:paper:submit"],
    dir: tempDir(),
  });
  harness = await startMcpHttp({
    auth,
    port,
    // Every attack moves the clock past the minute of coalesced denials; the session must outlive them.
    remote: { allowed_scopes: ALLOWED, session_idle_seconds: 86400 },
  });
  session = await openSession(harness.url, await auth.clientCredentialsToken(ALLOWED.join(" ")));
});
afterAll(async () => {
  await harness?.close();
  await auth?.close();
});

const now = () => Math.floor(harness.clock.now() / 1000);

function wireError(code: string, message: string, userAction: string, retryable = false) {
  return { error: { code, message, retryable, user_action: userAction, audit_event_id: null } };
}

const INVALID = wireError(
  "AUTH_TOKEN_INVALID",
  "The bearer token is malformed, badly signed or signed by an unknown key.",
  "Obtain a new access token from the configured authorization server.",
);
const MALFORMED = "The bearer token is malformed, badly signed or signed by an unknown key.";
const invalidChallenge = (description: string) =>
  `Bearer resource_metadata="${metadataUrl}", error="invalid_token", error_description="${description}"`;

interface Outcome {
  readonly answer: RawAnswer;
  readonly denials: { code: string | undefined; metadata: Record<string, unknown> }[];
}

/** Sends one attack as a tools/call in the live session and checks that nothing ran and nothing leaked. */
async function attack(options: RawOptions, secret?: string): Promise<Outcome> {
  const calls = harness.events("tool_call").length;
  const broker = harness.brokerRequests();
  const denied = harness.events("auth_denied").length;
  const answer = await rawRequest(harness.url, { session, body: toolCall("ibkr_accounts_list"), ...options });
  expect(harness.events("tool_call").length).toBe(calls);
  expect(harness.brokerRequests()).toBe(broker);
  if (secret !== undefined) {
    for (const place of [
      answer.text,
      JSON.stringify(answer.headers),
      harness.logs.join("\n"),
      harness.storeBytes(),
    ]) {
      expect(place).not.toContain(secret);
    }
  }
  const denials = harness
    .events("auth_denied")
    .slice(denied)
    .map((event) => ({ code: event.error_code, metadata: { ...event.metadata } }));
  return { answer, denials };
}

const headersOf = (answer: RawAnswer) => ({
  "content-type": answer.headers["content-type"],
  "www-authenticate": answer.headers["www-authenticate"],
  "retry-after": answer.headers["retry-after"],
});

const denial = (code: string, check: string, extra: Record<string, unknown> = {}) => ({
  code,
  metadata: {
    check,
    http_status: code === "AUTH_JWKS_UNAVAILABLE" ? 503 : 401,
    client_address_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    suppressed_count: 0,
    ...extra,
  },
});

describe("tokens that must not pass", () => {
  it("no token: 401 with the absolute metadata URL and no error code", async () => {
    const { answer, denials } = await attack({});
    expect(answer.status).toBe(401);
    expect(headersOf(answer)).toEqual({
      "content-type": "application/json",
      "www-authenticate": `Bearer resource_metadata="${metadataUrl}"`,
      "retry-after": undefined,
    });
    expect(answer.json).toEqual(
      wireError(
        "AUTH_TOKEN_MISSING",
        "No bearer token was sent.",
        "Send an access token in the Authorization header; the protected-resource metadata names the authorization server.",
      ),
    );
    expect(denials).toEqual([denial("AUTH_TOKEN_MISSING", "token_missing")]);
  });

  it("malformed token: 401 invalid_token", async () => {
    const { answer, denials } = await attack({ token: "not-a-jwt" }, "not-a-jwt");
    expect(answer.status).toBe(401);
    expect(headersOf(answer)).toEqual({
      "content-type": "application/json",
      "www-authenticate": invalidChallenge(MALFORMED),
      "retry-after": undefined,
    });
    expect(answer.json).toEqual(INVALID);
    expect(denials).toEqual([denial("AUTH_TOKEN_INVALID", "token_format")]);
  });

  it("another scheme than Bearer: 401 invalid_request", async () => {
    const credentials = Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString("base64");
    const { answer, denials } = await attack(
      { headers: { authorization: `Basic ${credentials}` } },
      credentials,
    );
    expect(answer.status).toBe(401);
    const description = "The Authorization header must be Bearer followed by one token.";
    expect(answer.headers["www-authenticate"]).toBe(
      `Bearer resource_metadata="${metadataUrl}", error="invalid_request", error_description="${description}"`,
    );
    expect(answer.json).toEqual(
      wireError(
        "AUTH_TOKEN_INVALID",
        description,
        "Obtain a new access token from the configured authorization server.",
      ),
    );
    expect(denials).toEqual([denial("AUTH_TOKEN_INVALID", "token_format")]);
  });

  it("alg none: 401, refused before any key is looked up", async () => {
    const token = unsignedToken({
      iss: auth.issuer,
      aud: resourceFor(port),
      sub: auth.clientId,
      exp: now() + 600,
    });
    const fetched = auth.jwksRequests;
    const { answer, denials } = await attack({ token }, token);
    expect([answer.status, answer.headers["www-authenticate"], answer.json]).toEqual([
      401,
      invalidChallenge(MALFORMED),
      INVALID,
    ]);
    expect(denials).toEqual([denial("AUTH_TOKEN_INVALID", "token_format", { claimed_issuer: auth.issuer })]);
    expect(auth.jwksRequests).toBe(fetched);
  });

  it("HS256 signed with the RSA public key as the secret: 401", async () => {
    const token = await auth.mint({}, { alg: "HS256", now: now() });
    const { answer, denials } = await attack({ token }, token);
    expect([answer.status, answer.headers["www-authenticate"], answer.json]).toEqual([
      401,
      invalidChallenge(MALFORMED),
      INVALID,
    ]);
    expect(denials).toEqual([
      denial("AUTH_TOKEN_INVALID", "token_format", {
        claimed_issuer: auth.issuer,
        token_id_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      }),
    ]);
  });

  it("unknown kid: 401, and within the cooldown the JWKS is not fetched again", async () => {
    const fetched = auth.jwksRequests;
    for (let i = 0; i < 3; i += 1) {
      harness.clock.advance(61_000);
      const token = await auth.mint({}, { key: auth.attackerKey, kid: randomUUID(), now: now() });
      const { answer, denials } = await attack({ token }, token);
      expect([answer.status, answer.headers["www-authenticate"], answer.json]).toEqual([
        401,
        invalidChallenge(MALFORMED),
        INVALID,
      ]);
      expect(denials.map((d) => d.metadata.check)).toEqual(["signature"]);
    }
    expect(auth.jwksRequests).toBe(fetched);
  });

  it("forged kid (the real key's id, another key's signature): 401", async () => {
    const token = await auth.mint({}, { key: auth.attackerKey, kid: auth.currentKey.kid, now: now() });
    const { answer, denials } = await attack({ token }, token);
    expect([answer.status, answer.headers["www-authenticate"], answer.json]).toEqual([
      401,
      invalidChallenge(MALFORMED),
      INVALID,
    ]);
    expect(denials.map((d) => [d.code, d.metadata.check])).toEqual([["AUTH_TOKEN_INVALID", "signature"]]);
  });

  const EXPIRED = wireError(
    "AUTH_TOKEN_EXPIRED",
    "The bearer token has expired or is not valid yet.",
    "Obtain a new access token; check the client's clock if this repeats.",
  );
  const EXPIRED_CHALLENGE = "The bearer token has expired or is not valid yet.";

  it("expired beyond the clock skew: 401", async () => {
    const token = await auth.mint({ iat: now() - 3600, exp: now() - 61 }, { now: now() });
    const { answer, denials } = await attack({ token }, token);
    expect([answer.status, answer.headers["www-authenticate"], answer.json]).toEqual([
      401,
      invalidChallenge(EXPIRED_CHALLENGE),
      EXPIRED,
    ]);
    expect(denials.map((d) => [d.code, d.metadata.check])).toEqual([["AUTH_TOKEN_EXPIRED", "expiry"]]);
  });

  it("not yet valid beyond the clock skew: 401", async () => {
    const token = await auth.mint({ nbf: now() + 61 }, { now: now() });
    const { answer, denials } = await attack({ token }, token);
    expect([answer.status, answer.headers["www-authenticate"], answer.json]).toEqual([
      401,
      invalidChallenge(EXPIRED_CHALLENGE),
      EXPIRED,
    ]);
    expect(denials.map((d) => [d.code, d.metadata.check])).toEqual([["AUTH_TOKEN_EXPIRED", "expiry"]]);
  });

  it("wrong issuer, signed with the trusted key: 401, the claimed issuer audited as untrusted text", async () => {
    const token = await auth.mint({ iss: "https://evil.example" }, { now: now() });
    const { answer, denials } = await attack({ token }, token);
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe(
      invalidChallenge("The token was issued by an authorization server this gateway does not trust."),
    );
    expect(answer.json).toEqual(
      wireError(
        "AUTH_INVALID_ISSUER",
        "The token was issued by an authorization server this gateway does not trust.",
        "Obtain a token from the issuer named in the protected-resource metadata.",
      ),
    );
    expect(denials).toEqual([
      denial("AUTH_INVALID_ISSUER", "issuer", {
        claimed_issuer: "https://evil.example",
        token_id_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      }),
    ]);
  });

  it("wrong audience (a token for another resource): 401", async () => {
    const token = await auth.mint({ aud: "https://other.example/mcp" }, { now: now() });
    const { answer, denials } = await attack({ token }, token);
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe(
      invalidChallenge("The token was issued for another resource."),
    );
    expect(answer.json).toEqual(
      wireError(
        "AUTH_INVALID_AUDIENCE",
        "The token was issued for another resource.",
        "Request the token with this gateway's resource URL as the resource indicator (audience).",
      ),
    );
    expect(denials.map((d) => [d.code, d.metadata.check])).toEqual([["AUTH_INVALID_AUDIENCE", "audience"]]);
  });

  it("a valid token in the query string: 401 invalid_request, even with the header", async () => {
    const token = await auth.mint({}, { now: now() });
    const description = "Send the access token in the Authorization header, never in the URL.";
    const { answer, denials } = await attack({ token, path: `/mcp?access_token=${token}` }, token);
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe(
      `Bearer resource_metadata="${metadataUrl}", error="invalid_request", error_description="${description}"`,
    );
    expect(answer.json).toEqual(
      wireError(
        "AUTH_TOKEN_INVALID",
        description,
        "Obtain a new access token from the configured authorization server.",
      ),
    );
    expect(denials).toEqual([denial("AUTH_TOKEN_INVALID", "token_in_query")]);
  });
});

describe("valid tokens asking for more than they were granted", () => {
  async function insufficient(
    scope: string,
    tool: string,
    required: string,
    args: Record<string, unknown> = {},
  ) {
    const token = await auth.mint({ scope }, { now: now() });
    const denied = harness.events("auth_denied").length;
    const broker = harness.brokerRequests();
    const calls = harness.events("tool_call").length;
    const answer = await rawRequest(harness.url, { session, token, body: toolCall(tool, args) });
    const refused = harness.events("tool_call").slice(calls);
    expect(refused.map((e) => [e.tool, e.decision, e.result_status, e.error_code, e.scopes])).toEqual([
      [tool, "deny", "denied_scope", "AUTH_MISSING_SCOPE", ["ibkr:accounts:read"]],
    ]);
    expect(answer.status).toBe(403);
    expect(answer.headers["www-authenticate"]).toBe(
      `Bearer resource_metadata="${metadataUrl}", error="insufficient_scope", scope="${required}", error_description="${tool} needs the scope ${required}."`,
    );
    expect(answer.json).toEqual({
      error: {
        code: "AUTH_MISSING_SCOPE",
        message: `${tool} needs the scope ${required}.`,
        retryable: false,
        user_action:
          "Ask the operator to grant the scope named in the error (`auth.enabled_scopes`, or the token's scopes for remote MCP).",
        audit_event_id: refused[0]?.event_id,
        details: { required_scope: required },
      },
    });
    expect(harness.brokerRequests()).toBe(broker);
    expect(harness.events("auth_denied").length).toBe(denied);
    return token;
  }

  it("missing scope: 403 insufficient_scope naming the scope, audited as a denied call", async () => {
    await insufficient("ibkr:accounts:read", "ibkr_health", "ibkr:health:read");
  });

  it("a scope outside allowed_scopes grants nothing: not listed, and 403 when called", async () => {
    const token = await insufficient(
      "ibkr:accounts:read ibkr:orders:paper:submit",
      "ibkr_paper_order_submit",
      "ibkr:orders:paper:submit",
      { approval_id: "ap_x" },
    );
    const listed = await rawRequest(harness.url, {
      session,
      token,
      body: { jsonrpc: "2.0", id: 3, method: "tools/list", params: {} },
    });
    const names = (listed.json as { result: { tools: { name: string }[] } }).result.tools.map(
      (tool) => tool.name,
    );
    expect(names.sort()).toEqual(["ibkr_account_metadata", "ibkr_accounts_list"]);
  });
});

describe("requests too large to read", () => {
  it("a header block over max_header_bytes: 431 INPUT_TOO_LARGE", async () => {
    const { answer } = await attack({ token: "x".repeat(10), headers: { "x-padding": "p".repeat(20_000) } });
    expect(answer.status).toBe(431);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(answer.headers.connection).toBe("close");
    expect(answer.json).toEqual(
      wireError(
        "INPUT_TOO_LARGE",
        "The request is larger than the gateway accepts.",
        "Send a smaller request; the limits are in the server configuration.",
      ),
    );
  });

  it("a body over max_body_bytes from an authenticated client: 413 INPUT_TOO_LARGE, nothing parsed", async () => {
    const token = await auth.mint({}, { now: now() });
    const big = JSON.stringify(toolCall("ibkr_accounts_list", { padding: "p".repeat(1_100_000) }));
    const { answer, denials } = await attack({ token, body: big }, token);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe("close");
    expect(answer.json).toEqual(
      wireError(
        "INPUT_TOO_LARGE",
        "The request is larger than the gateway accepts.",
        "Send a smaller request; the limits are in the server configuration.",
      ),
    );
    expect(denials).toEqual([]);
  });
});
