// `ibkr-agent mcp serve --transport http` as a real process: local mode (a random token shown once in a
// ready client configuration, the local scopes, loopback only), remote mode against a real oidc-provider
// over HTTPS (OAuth client credentials with a resource indicator, through the spawned CLI), the refusals
// that keep either from reaching a network by accident, `--describe --json`, `npm start`, and a SIGTERM
// that lets a call in flight finish.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { answer, cliRun } from "../support/cli-process.ts";
import { freePort, INITIALIZE, rawRequest, resourceFor, tempDir } from "../support/mcp-http.ts";
import { startServingCli } from "../support/mcp-http-cli.ts";
import { startAuthServer, type TestAuthServer } from "../support/oauth-server.ts";
import { READ_TOOLS } from "../support/read-tools.ts";

const AUDIT_ENV = "IBKR_AGENT_E2E_AUDIT_SECRET";
const TOKEN_ENV = "IBKR_AGENT_E2E_TOKEN_ID_SECRET";
const dirs: string[] = [];

/** A fresh state root, no config file, and the secrets a config file may name. */
function freshEnv(): NodeJS.ProcessEnv {
  const home = tempDir("ibkr-http-cli-");
  dirs.push(home);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    IBKR_AGENT_HOME: home,
    [AUDIT_ENV]: "e2e-http-audit-secret-0123456789abcdef0123",
    [TOKEN_ENV]: "e2e-http-token-id-secret-0123456789abcdef01",
  };
  delete env.IBKR_AGENT_CONFIG;
  return env;
}

function writeConfig(env: NodeJS.ProcessEnv, config: Record<string, unknown>): string {
  const file = join(env.IBKR_AGENT_HOME ?? "", "config.yaml");
  writeFileSync(file, stringify({ audit: { secret_env: AUDIT_ENV }, ...config }));
  return file;
}

/** The store's bytes (database and write-ahead log) of the simulator profile. */
function storeBytes(env: NodeJS.ProcessEnv): string {
  const base = join(env.IBKR_AGENT_HOME ?? "", "profiles/simulator/state.sqlite");
  return [base, `${base}-wal`]
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path).toString("latin1"))
    .join("\n");
}

async function bearerClient(endpoint: string, token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(endpoint), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "http-cli-e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const FORBIDDEN = (message: string, userAction: string) => ({
  error: {
    code: "CONFIG_REMOTE_MCP_FORBIDDEN",
    message,
    retryable: false,
    user_action: userAction,
    audit_event_id: null,
  },
});

const LOCAL_ONLY = (host: string) =>
  FORBIDDEN(
    `Local mode (no authorization server) serves only on a loopback address, not on ${host}.`,
    "Bind to 127.0.0.1 or [::1] (--bind 127.0.0.1:8080). To serve other machines, configure remote MCP with an authorization server (docs/remote-mcp.md) and pass --enable-remote-mcp.",
  );

describe("local mode (no remote MCP configured)", () => {
  it("prints the token once, in a client configuration, and serves a real MCP client that sends it", async () => {
    const env = freshEnv();
    const server = await startServingCli(["--bind", "127.0.0.1:0"], env);
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const token = server.token ?? "";
      expect(token).toMatch(/^[0-9a-f]{64}$/);
      expect(server.stderr()).toContain(
        "MCP over Streamable HTTP, local mode: only this machine can connect.",
      );
      expect(server.stderr()).toContain(
        `{\n  "mcpServers": {\n    "ibkr-agent": {\n      "type": "http",\n      "url": "${server.endpoint}",\n      "headers": {\n        "Authorization": "Bearer ${token}"\n      }\n    }\n  }\n}`,
      );
      expect(server.stdout()).toBe("");

      const client = await bearerClient(server.endpoint, token);
      const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
      expect(tools).toEqual(READ_TOOLS);
      const result = (await client.callTool({ name: "ibkr_accounts_list", arguments: {} })) as {
        isError?: boolean;
        structuredContent?: { accounts: { account_id: string }[]; source: unknown };
      };
      expect(result.isError).toBeUndefined();
      expect(result.structuredContent?.accounts.map((a) => a.account_id)).toEqual(["DU1234567"]);
      expect(result.structuredContent?.source).toEqual({ backend: "simulator", simulated: true });
      await client.close();

      const wrong = await rawRequest(server.endpoint, { token: "f".repeat(64), body: INITIALIZE });
      expect([wrong.status, (wrong.json as { error: { code: string } }).error.code]).toEqual([
        401,
        "AUTH_TOKEN_INVALID",
      ]);
      const missing = await rawRequest(server.endpoint, { body: INITIALIZE });
      expect([missing.status, missing.headers["www-authenticate"]]).toEqual([401, "Bearer"]);
      expect((missing.json as { error: { code: string } }).error.code).toBe("AUTH_TOKEN_MISSING");
    } finally {
      const ended = await server.stop("SIGINT");
      expect(ended).toEqual({ code: 0, signal: null });
    }
    expect(server.stderr().endsWith("Stopped.\n")).toBe(true);
    // Once, for the whole life of the process: not in the log lines, not at shutdown, not in the store.
    expect(occurrences(server.stderr(), server.token ?? "")).toBe(1);
    expect(storeBytes(env)).not.toContain(server.token ?? "");
    expect(storeBytes(env)).toContain("ibkr_accounts_list");
  }, 90_000);

  it("refuses any address but loopback, and --enable-remote-mcp without a remote configuration", async () => {
    const env = freshEnv();
    const open = await cliRun(
      ["mcp", "serve", "--transport", "http", "--bind", "0.0.0.0:8080", "--json"],
      env,
    );
    expect([open.code, answer(open)]).toEqual([7, LOCAL_ONLY("0.0.0.0")]);
    const named = await cliRun(["mcp", "serve", "--transport", "http", "--bind", "[::]:8080", "--json"], env);
    expect([named.code, answer(named)]).toEqual([7, LOCAL_ONLY("::")]);
    const flagged = await cliRun(
      ["mcp", "serve", "--transport", "http", "--enable-remote-mcp", "--bind", "127.0.0.1:0", "--json"],
      env,
    );
    expect([flagged.code, answer(flagged)]).toEqual([
      7,
      FORBIDDEN(
        "--enable-remote-mcp was given, but the configuration does not turn remote MCP on.",
        "Set remote_mcp.enabled and safety.remote_mcp_enabled and complete the remote_mcp block (docs/remote-mcp.md), or leave out --enable-remote-mcp to serve local mode on 127.0.0.1.",
      ),
    ]);
    const text = await cliRun(["mcp", "serve", "--transport", "http", "--bind", "0.0.0.0:8080"], env);
    expect(text.code).toBe(7);
    expect(text.stderr).toContain("Error CONFIG_REMOTE_MCP_FORBIDDEN: Local mode (no authorization server)");
    expect(text.stderr).toContain("What to do: Bind to 127.0.0.1 or [::1]");
    expect(existsSync(join(env.IBKR_AGENT_HOME ?? "", "profiles"))).toBe(false);
  }, 90_000);

  it("refuses a malformed --bind, HTTP flags on stdio, and an address already in use", async () => {
    const env = freshEnv();
    const malformed = await cliRun(["mcp", "serve", "--transport", "http", "--bind", "8080", "--json"], env);
    expect([malformed.code, (answer(malformed).error as { code: string; details: unknown }).details]).toEqual(
      [2, { field: "bind" }],
    );
    const stdio = await cliRun(["mcp", "serve", "--bind", "127.0.0.1:8080", "--json"], env);
    expect([stdio.code, (answer(stdio).error as { message: string }).message]).toEqual([
      2,
      "--bind belongs to --transport http; stdio has no address.",
    ]);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const busy = await cliRun(
        ["mcp", "serve", "--transport", "http", "--bind", `127.0.0.1:${port}`, "--json"],
        env,
      );
      expect([busy.code, answer(busy)]).toEqual([
        7,
        {
          error: {
            code: "CONFIG_INVALID",
            message: `127.0.0.1:${port} is already in use.`,
            retryable: false,
            user_action:
              "Pick another address with --bind HOST:PORT (or remote_mcp.bind in the configuration), or stop what listens there.",
            audit_event_id: null,
            details: { field: "remote_mcp.bind" },
          },
        },
      ]);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  }, 90_000);

  it("--describe --json: the endpoint, mode, auth, scopes and tools", async () => {
    const env = freshEnv();
    const run = await cliRun(["mcp", "serve", "--transport", "http", "--describe", "--json"], env);
    expect(run.code, run.stderr).toBe(0);
    const { tools, ...rest } = answer(run) as { tools: { name: string; scope: string; tier: string }[] };
    expect(rest).toEqual({
      transport: "http",
      mode: "local",
      endpoint: "http://127.0.0.1:8080/mcp",
      bind: "127.0.0.1:8080",
      tls: false,
      health: { healthz: "http://127.0.0.1:8080/healthz", readyz: "http://127.0.0.1:8080/readyz" },
      backend: { backend: "simulator", simulated: true },
      config: "defaults",
      profile: "simulator",
      auth: { kind: "local_token" },
      scopes: [
        "ibkr:accounts:read",
        "ibkr:audit:export",
        "ibkr:audit:read",
        "ibkr:calendar:read",
        "ibkr:currency:read",
        "ibkr:fundamentals:read",
        "ibkr:health:read",
        "ibkr:marketdata:depth:read",
        "ibkr:marketdata:read",
        "ibkr:news:read",
        "ibkr:options:read",
        "ibkr:orders:read",
        "ibkr:portfolio:read",
        "ibkr:positions:read",
        "ibkr:risk:read",
        "ibkr:scanner:read",
        "ibkr:transfers:read",
      ],
    });
    expect(tools.map((tool) => tool.name)).toEqual(READ_TOOLS);
    expect(tools.slice(0, 2)).toEqual([
      { name: "ibkr_account_metadata", scope: "ibkr:accounts:read", tier: "read" },
      { name: "ibkr_account_summary", scope: "ibkr:portfolio:read", tier: "read" },
    ]);
    const human = await cliRun(
      ["mcp", "serve", "--transport", "http", "--describe", "--bind", "[::1]:9000"],
      env,
    );
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      "MCP over Streamable HTTP, local mode (this machine only)\nEndpoint:      http://[::1]:9000/mcp\n",
    );
    expect(human.stdout).toContain("ibkr_pnl_realtime          read  ibkr:portfolio:read");
  }, 90_000);

  it("on SIGTERM lets a call in flight finish, then exits 0 (--json start and stop lines)", async () => {
    const env = freshEnv();
    // Debug logs in JSON show the broker requests, so the test knows when the call is under way.
    const config = writeConfig(env, { logging: { level: "debug", format: "json" } });
    const server = await startServingCli(["--bind", "127.0.0.1:0", "--config", config, "--json"], env);
    const token = server.token ?? "";
    expect(server.listening).toEqual({
      status: "listening",
      transport: "http",
      mode: "local",
      endpoint: server.endpoint,
      client_config: {
        mcpServers: {
          "ibkr-agent": { type: "http", url: server.endpoint, headers: { Authorization: `Bearer ${token}` } },
        },
      },
    });
    const client = await bearerClient(server.endpoint, token);
    // The first running-P&L answer of a session is cold; the re-ask waits for the endpoint's 5-second
    // pacing window, which keeps the call in flight while the signal arrives.
    const call = client.callTool({ name: "ibkr_pnl_realtime", arguments: { account_id: "DU1234567" } });
    const started = Date.now();
    while (!server.stderr().includes('"operation_id":"getPartitionedPnl"')) {
      if (Date.now() - started > 30_000) throw new Error(`no P&L request: ${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ended = server.stop("SIGTERM");
    const result = (await call) as { isError?: boolean; structuredContent?: Record<string, unknown> };
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent).toMatchObject({ account_id: "DU1234567", base_currency: "USD" });
    expect(await ended).toEqual({ code: 0, signal: null });
    await client.close().catch(() => undefined);
    const lines = server.stdout().trim().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as { status: string }).status)).toEqual([
      "listening",
      "stopped",
    ]);
    expect(server.stderr()).not.toContain(token);
  }, 90_000);

  it("`npm start` serves local mode on 127.0.0.1 with the built-in simulator", async () => {
    const env = freshEnv();
    const server = await startServingCli(["--bind", "127.0.0.1:0"], env, { viaNpm: true });
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      expect(server.stderr()).toContain("Backend:  simulator (SIMULATED DATA: nothing reaches IBKR)");
      const client = await bearerClient(server.endpoint, server.token ?? "");
      const health = (await client.callTool({ name: "ibkr_health", arguments: {} })) as {
        structuredContent?: { status: string; source: unknown };
      };
      expect(health.structuredContent?.status).toBe("ok");
      expect(health.structuredContent?.source).toEqual({ backend: "simulator", simulated: true });
      await client.close();
    } finally {
      await server.stop("SIGTERM");
    }
    expect(server.stderr()).toContain("Stopped.");
  }, 90_000);
});

describe("remote mode against a real authorization server", () => {
  const ALLOWED = ["ibkr:accounts:read", "ibkr:health:read"];
  let auth: TestAuthServer;
  let env: NodeJS.ProcessEnv;
  let config: string;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    env = freshEnv();
    auth = await startAuthServer({
      resource: resourceFor(port),
      scopes: [...ALLOWED, "ibkr:orders:paper:submit"],
      dir: env.IBKR_AGENT_HOME ?? "",
    });
    config = writeConfig(env, {
      safety: { remote_mcp_enabled: true },
      remote_mcp: {
        enabled: true,
        bind: `127.0.0.1:${port}`,
        resource: resourceFor(port),
        issuer: auth.issuer,
        jwks_url: auth.jwksUrl,
        jwks_ca_file: auth.caFile,
        token_id_hmac_secret_env: TOKEN_ENV,
        allowed_scopes: ALLOWED,
      },
    });
  });
  afterAll(async () => {
    await auth?.close();
  });

  it("--describe --json names the issuer, the resource, the metadata and the allowed scopes", async () => {
    const run = await cliRun(
      ["mcp", "serve", "--transport", "http", "--config", config, "--describe", "--json"],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(answer(run)).toEqual({
      transport: "http",
      mode: "remote",
      endpoint: `http://127.0.0.1:${port}/mcp`,
      bind: `127.0.0.1:${port}`,
      tls: false,
      health: { healthz: `http://127.0.0.1:${port}/healthz`, readyz: `http://127.0.0.1:${port}/readyz` },
      backend: { backend: "simulator", simulated: true },
      config,
      profile: "simulator",
      auth: {
        kind: "oauth",
        issuer: auth.issuer,
        jwks_url: auth.jwksUrl,
        resource: `http://127.0.0.1:${port}/mcp`,
        audiences: [`http://127.0.0.1:${port}/mcp`],
        metadata_url: `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`,
        allowed_algorithms: ["RS256", "ES256"],
        allowed_scopes: ["ibkr:accounts:read", "ibkr:health:read"],
      },
      scopes: ["ibkr:accounts:read", "ibkr:health:read"],
      tools: [
        { name: "ibkr_account_metadata", scope: "ibkr:accounts:read", tier: "read" },
        { name: "ibkr_accounts_list", scope: "ibkr:accounts:read", tier: "read" },
        { name: "ibkr_backend_status", scope: "ibkr:health:read", tier: "read" },
        { name: "ibkr_health", scope: "ibkr:health:read", tier: "read" },
        { name: "ibkr_kill_switch_status", scope: "ibkr:health:read", tier: "read" },
        { name: "ibkr_session_renew", scope: "ibkr:health:read", tier: "read" },
        { name: "ibkr_session_requirements", scope: "ibkr:health:read", tier: "read" },
      ],
    });
  }, 60_000);

  it("refuses a non-loopback address without --enable-remote-mcp, and describes it with the flag", async () => {
    const bind = ["--bind", `0.0.0.0:${port}`];
    const refused = await cliRun(
      ["mcp", "serve", "--transport", "http", "--config", config, ...bind, "--json"],
      env,
    );
    expect([refused.code, answer(refused)]).toEqual([
      7,
      FORBIDDEN(
        "Remote MCP on 0.0.0.0, an address other machines can reach, needs --enable-remote-mcp.",
        "Add --enable-remote-mcp to confirm that this server may be reached from the network, or bind to 127.0.0.1.",
      ),
    ]);
    const flagged = await cliRun(
      [
        "mcp",
        "serve",
        "--transport",
        "http",
        "--config",
        config,
        ...bind,
        "--enable-remote-mcp",
        "--describe",
        "--json",
      ],
      env,
    );
    expect(flagged.code, flagged.stderr).toBe(0);
    expect(answer(flagged)).toMatchObject({
      mode: "remote",
      bind: `0.0.0.0:${port}`,
      endpoint: `http://0.0.0.0:${port}/mcp`,
    });
  }, 60_000);

  it("serves the OAuth flow end to end: 401 -> metadata -> token -> tools, through the spawned CLI", async () => {
    const server = await startServingCli(["--config", config, "--json"], env);
    try {
      expect(server.listening).toEqual({
        status: "listening",
        transport: "http",
        mode: "remote",
        endpoint: `http://127.0.0.1:${port}/mcp`,
        resource: `http://127.0.0.1:${port}/mcp`,
        issuer: auth.issuer,
      });
      const bare = await rawRequest(server.endpoint, { body: INITIALIZE });
      expect([bare.status, bare.headers["www-authenticate"]]).toEqual([
        401,
        `Bearer resource_metadata="http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp"`,
      ]);
      const provider = new ClientCredentialsProvider({
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        scope: "ibkr:accounts:read ibkr:orders:paper:submit",
        expectedIssuer: auth.issuer,
      });
      const transport = new StreamableHTTPClientTransport(new URL(server.endpoint), {
        authProvider: provider,
        fetch: auth.fetch,
      });
      const client = new Client({ name: "http-cli-oauth", version: "1.0.0" });
      await client.connect(transport);
      // The token's scopes ∩ remote_mcp.allowed_scopes: the paper scope it holds is not allowed here.
      const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
      expect(tools).toEqual(["ibkr_account_metadata", "ibkr_accounts_list"]);
      const listed = (await client.callTool({ name: "ibkr_accounts_list", arguments: {} })) as {
        isError?: boolean;
        structuredContent?: { accounts: { account_id: string }[] };
      };
      expect(listed.isError).toBeUndefined();
      expect(listed.structuredContent?.accounts.map((a) => a.account_id)).toEqual(["DU1234567"]);
      await client.close();
    } finally {
      expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    }
    expect(server.stderr()).not.toContain(auth.clientSecret);
    expect(storeBytes(env)).not.toContain(auth.clientId);
  }, 90_000);
});
