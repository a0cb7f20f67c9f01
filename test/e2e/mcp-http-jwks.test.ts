// The authorization server's key set as the resource server meets it in production: unreachable, hanging,
// answering garbage, redirecting, oversized, and rotated. An outage is answered 503 with Retry-After
// without holding up requests that need no key; recovery and rotation need no restart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  INITIALIZE,
  type McpHttpHarness,
  rawRequest,
  resourceFor,
  startMcpHttp,
  tempDir,
} from "../support/mcp-http.ts";
import { startAuthServer, type TestAuthServer } from "../support/oauth-server.ts";

const SCOPES = ["ibkr:accounts:read"];

interface Setup {
  readonly auth: TestAuthServer;
  readonly harness: McpHttpHarness;
}

async function setup(): Promise<Setup> {
  const port = await freePort();
  const auth = await startAuthServer({ resource: resourceFor(port), scopes: SCOPES, dir: tempDir() });
  const harness = await startMcpHttp({
    auth,
    port,
    // No cooldown, so every case reaches the key set; a one-second fetch timeout for the hanging one.
    remote: { allowed_scopes: SCOPES, jwks_cooldown_seconds: 0, jwks_timeout_seconds: 1 },
  });
  return { auth, harness };
}

const UNAVAILABLE = {
  error: {
    code: "AUTH_JWKS_UNAVAILABLE",
    message: "The authorization server's signing keys cannot be fetched right now.",
    retryable: true,
    user_action: "Retry shortly; the operator should check that the JWKS URL is reachable over HTTPS.",
    audit_event_id: null,
  },
};

describe("a key set that cannot be used", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => {
    await s?.harness.close();
    await s?.auth.close();
  });

  it("hanging: the token's request gets 503 after the fetch timeout, requests needing no key are not held up", async () => {
    const { auth, harness } = s;
    auth.jwksMode = "hang";
    const token = await auth.clientCredentialsToken(SCOPES.join(" "));
    const finished: string[] = [];
    const waiting = [1, 2].map((n) =>
      rawRequest(harness.url, { token, body: INITIALIZE }).then((answer) => {
        finished.push(`token ${n}`);
        return answer;
      }),
    );
    const others = await Promise.all([
      rawRequest(harness.url, { path: "/healthz" }),
      rawRequest(harness.url, { path: "/.well-known/oauth-protected-resource/mcp" }),
      rawRequest(harness.url, { body: INITIALIZE }),
    ]);
    finished.push("others");
    expect(others.map((answer) => answer.status)).toEqual([200, 200, 401]);
    const answers = await Promise.all(waiting);
    expect(finished).toEqual(["others", "token 1", "token 2"]);
    for (const answer of answers) {
      expect([answer.status, answer.headers["retry-after"], answer.json]).toEqual([503, "1", UNAVAILABLE]);
    }
    // Both waited on one fetch: concurrent callers share it, no lock and no second request.
    expect(auth.jwksRequests).toBe(1);
    expect(
      harness
        .events("auth_denied")
        .map((event) => [event.error_code, event.metadata.check, event.metadata.http_status]),
    ).toEqual([
      ["AUTH_TOKEN_MISSING", "token_missing", 401],
      ["AUTH_JWKS_UNAVAILABLE", "jwks", 503],
    ]);
  });

  it.each([
    ["down", "the connection is reset"],
    ["error", "it answers 503"],
    ["garbage", "it serves something that is not a key set"],
    ["redirect", "it redirects (redirects are not followed)"],
    ["huge", "it is larger than jwks_max_bytes"],
  ] as const)("%s: 503 AUTH_JWKS_UNAVAILABLE when %s, after exactly one fetch", async (mode, _why) => {
    const { auth, harness } = s;
    auth.jwksMode = mode;
    const token = await auth.clientCredentialsToken(SCOPES.join(" "));
    const fetched = auth.jwksRequests;
    const answer = await rawRequest(harness.url, { token, body: INITIALIZE });
    expect([answer.status, answer.headers["retry-after"], answer.json]).toEqual([503, "1", UNAVAILABLE]);
    expect(auth.jwksRequests).toBe(fetched + 1);
    expect(harness.events("auth_succeeded")).toEqual([]);
  });

  it("recovers without a restart once the key set is back", async () => {
    const { auth, harness } = s;
    auth.jwksMode = "normal";
    const token = await auth.clientCredentialsToken(SCOPES.join(" "));
    const answer = await rawRequest(harness.url, { token, body: INITIALIZE });
    expect(answer.status).toBe(200);
    expect(harness.events("auth_succeeded")).toHaveLength(1);
  });
});

describe("key rotation", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(async () => {
    await s?.harness.close();
    await s?.auth.close();
  });

  it("accepts tokens of a new key id without a restart, fetching the key set once for it", async () => {
    const { auth, harness } = s;
    const before = await auth.clientCredentialsToken(SCOPES.join(" "));
    expect((await rawRequest(harness.url, { token: before, body: INITIALIZE })).status).toBe(200);
    expect(auth.jwksRequests).toBe(1);
    const fresh = await auth.rotateKeys();
    const after = await auth.clientCredentialsToken(SCOPES.join(" "));
    const answer = await rawRequest(harness.url, { token: after, body: INITIALIZE });
    expect(answer.status).toBe(200);
    expect(auth.jwksRequests).toBe(2);
    // The old key is still published, and its tokens still pass from the refreshed set.
    expect((await rawRequest(harness.url, { token: before, body: INITIALIZE })).status).toBe(200);
    expect(auth.jwksRequests).toBe(2);
    expect(harness.events("auth_succeeded").map((event) => event.metadata.kid)).toEqual([
      expect.any(String),
      fresh.kid,
      expect.any(String),
    ]);
  });
});
