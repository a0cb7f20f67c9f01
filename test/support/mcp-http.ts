// Test support for the Streamable HTTP MCP server: a composed gateway over the in-process simulator (fresh
// $IBKR_AGENT_HOME, a config written from an object, a logger that captures every line), served by
// serveMcpHttp on a real loopback socket. The HTTP clock (rate windows, session idleness, token time) is a
// manual clock starting at the real time, so tokens minted now are valid and tests can move time without
// sleeping. It counts the broker requests tool calls cause and reads back the audit log and the raw store
// file, so a test can assert that nothing ran and nothing leaked.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { http } from "msw";
import { type Dispatcher, request } from "undici";
import { stringify } from "yaml";
import { createManualClock, type ManualClock } from "../../src/core/clock.ts";
import { createLogger } from "../../src/core/logger.ts";
import { composeGateway, type Gateway } from "../../src/gateway/index.ts";
import { type McpHttpServer, serveMcpHttp } from "../../src/mcp/http.ts";
import { createSimulator, type Simulator } from "../../src/simulator/index.ts";
import type { AuditEventRecord } from "../../src/store/index.ts";
import type { TestAuthServer } from "./oauth-server.ts";
import { MARKET_OPEN } from "./simulator.ts";

export const AUDIT_SECRET_ENV = "IBKR_AGENT_TEST_AUDIT_SECRET";
export const TOKEN_SECRET_ENV = "IBKR_AGENT_TEST_TOKEN_ID_SECRET";
export const AUDIT_SECRET = "http-audit-secret-0123456789abcdef0123456789";
const TOKEN_SECRET = "http-token-id-secret-0123456789abcdef012345";

export interface McpHttpHarness {
  readonly server: McpHttpServer;
  readonly gateway: Gateway;
  readonly sim: Simulator;
  /** The HTTP front door's clock. */
  readonly clock: ManualClock;
  readonly url: string;
  readonly home: string;
  readonly logs: string[];
  /** Broker requests made since start, leaving out the session keep-alive. */
  brokerRequests(): number;
  events(type?: string): AuditEventRecord[];
  /** The store's bytes (database and write-ahead log), to search for anything that must not be there. */
  storeBytes(): string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Keys of remote_mcp (enabled, bind, resource and the auth server's URLs are filled in for remote mode). */
  readonly remote?: Record<string, unknown>;
  /** Remote mode against this authorization server. */
  readonly auth?: TestAuthServer;
  /** Local mode with this token. */
  readonly localToken?: string;
  /** Other top-level config sections. */
  readonly config?: Record<string, unknown>;
  /** Port to bind; default a free one (remote mode needs it in the resource URL before start). */
  readonly port?: number;
  readonly bind?: string;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function tempDir(prefix = "ibkr-http-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function resourceFor(port: number): string {
  return `http://127.0.0.1:${port}/mcp`;
}

export async function startMcpHttp(options: HarnessOptions): Promise<McpHttpHarness> {
  const home = tempDir();
  const port = options.port ?? (await freePort());
  const remote: Record<string, unknown> = { bind: options.bind ?? `127.0.0.1:${port}`, ...options.remote };
  const config: Record<string, unknown> = {
    audit: { secret_env: AUDIT_SECRET_ENV },
    ...options.config,
  };
  if (options.auth !== undefined) {
    Object.assign(remote, {
      enabled: true,
      resource: resourceFor(port),
      issuer: options.auth.issuer,
      jwks_url: options.auth.jwksUrl,
      jwks_ca_file: options.auth.caFile,
      token_id_hmac_secret_env: TOKEN_SECRET_ENV,
      ...options.remote,
    });
    config.safety = { ...(config.safety as object), remote_mcp_enabled: true };
  }
  config.remote_mcp = remote;
  const file = join(home, "config.yaml");
  writeFileSync(file, stringify(config));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    IBKR_AGENT_HOME: home,
    [AUDIT_SECRET_ENV]: AUDIT_SECRET,
    [TOKEN_SECRET_ENV]: TOKEN_SECRET,
  };
  delete env.IBKR_AGENT_CONFIG;
  const logs: string[] = [];
  const simClock = createManualClock(MARKET_OPEN);
  const sim = createSimulator({ clock: simClock, scenario: "healthy", seed: 1 });
  let brokerRequests = 0;
  sim.handlers.unshift(
    http.all("*", ({ request }) => {
      if (!/\/(tickle|iserver\/auth\/status)$/.test(new URL(request.url).pathname)) brokerRequests += 1;
    }),
  );
  const gateway = await composeGateway({
    frontDoor: "mcp_http",
    env,
    file,
    clock: simClock,
    simulator: sim,
    logger: createLogger({ level: "debug", format: "json", write: (line) => logs.push(line) }),
    sleep: async (ms) => {
      const target = simClock.now() + ms;
      for (let i = 0; i < 30; i += 1) await new Promise((resolve) => setImmediate(resolve));
      if (simClock.now() < target) simClock.set(target);
    },
  });
  const clock = createManualClock(Date.now());
  let server: McpHttpServer;
  try {
    server = await serveMcpHttp({
      gateway,
      version: "0.1.0",
      clock,
      ...(options.localToken !== undefined ? { localToken: options.localToken } : {}),
    });
  } catch (error) {
    await gateway.close();
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  const storePath = gateway.loaded.paths.storePath;
  return {
    server,
    gateway,
    sim,
    clock,
    url: server.url,
    home,
    logs,
    brokerRequests: () => brokerRequests,
    events: (type) =>
      [...gateway.store.exportEvents()].filter((event) => type === undefined || event.event_type === type),
    storeBytes: () =>
      [storePath, `${storePath}-wal`]
        .filter((path) => existsSync(path))
        .map((path) => readFileSync(path).toString("latin1"))
        .join("\n"),
    async close() {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

export interface RawOptions {
  readonly method?: string;
  readonly token?: string;
  readonly session?: string;
  readonly headers?: Record<string, string>;
  /** A JSON-RPC message (serialised) or a raw string body. */
  readonly body?: unknown;
  /** Path and query instead of /mcp. */
  readonly path?: string;
  /** An undici dispatcher (a CA for HTTPS). */
  readonly dispatcher?: Dispatcher;
}

/** One HTTP request to the server as a plain client sends it (no MCP SDK), answered with everything it got. */
export async function rawRequest(url: string, options: RawOptions = {}): Promise<RawAnswer> {
  const target = new URL(options.path ?? "/mcp", url);
  const headers: Record<string, string> = {
    accept: "application/json, text/event-stream",
    ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
    ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.session !== undefined ? { "mcp-session-id": options.session } : {}),
    ...options.headers,
  };
  // undici.request, not fetch: it sends any header as given (Host, Origin) and keeps what it receives.
  const response = await request(target, {
    method: (options.method ?? (options.body !== undefined ? "POST" : "GET")) as "GET",
    headers,
    ...(options.body !== undefined
      ? { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }
      : {}),
    ...(options.dispatcher !== undefined ? { dispatcher: options.dispatcher } : {}),
  });
  const text = await response.body.text();
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: out, text, json };
}

export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "raw-test", version: "1.0.0" },
  },
} as const;

export function toolCall(name: string, args: Record<string, unknown> = {}, id = 2) {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } };
}

/** Initializes a session with this token and returns its Mcp-Session-Id. */
export async function openSession(url: string, token: string): Promise<string> {
  const answer = await rawRequest(url, { token, body: INITIALIZE });
  const id = answer.headers["mcp-session-id"];
  if (answer.status !== 200 || id === undefined)
    throw new Error(`initialize failed: ${answer.status} ${answer.text}`);
  return id;
}
