// The server process of the HTTP MCP benchmark (forked by bench/mcp-http.bench.ts, which is the load
// generator): our server (serveMcpHttp in remote mode, the composed gateway, the CLI's text rendering) and
// the bare baseline (bare-mcp-http-server.ts) side by side on one in-process simulator, so both make their
// broker call against the same simulator and neither shares a core with the client. Only one of them is
// under load at a time. Over the IPC channel the benchmark asks for calibration facts before timing: the
// broker requests and durable SQLite commits a call caused, and the size of our audit row (the baseline's
// insert is set to it). The commit counter is installed before anything opens a database, so it sees
// every statement, and is removed before timing.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { stringify } from "yaml";
import { renderResult } from "../../src/cli/render/result.ts";
import { PACKAGE_VERSION } from "../../src/core/version.ts";
import { composeGateway } from "../../src/gateway/index.ts";
import { serveMcpHttp } from "../../src/mcp/http.ts";
import { createSimulator } from "../../src/simulator/index.ts";
import { startBareMcpHttpServer } from "./bare-mcp-http-server.ts";
import { installCommitCounter } from "./commit-counter.ts";

export interface HostSettings {
  readonly dir: string;
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly caFile: string;
  readonly accountId: string;
  readonly scope: string;
}

/** mark: forget the requests and commits so far; read: the calibration since the mark; time: remove the
 * commit counter and size the baseline's row; close: stop both servers. */
export type HostCommand =
  | { readonly cmd: "mark" }
  | { readonly cmd: "read" }
  | { readonly cmd: "time"; readonly rowBytes: number }
  | { readonly cmd: "close" };

type HostRequest = HostCommand & { readonly id: number };

export interface Calibration {
  /** CPAPI operations since the last mark, without the session keep-alive. */
  readonly brokerCalls: readonly string[];
  readonly commits: number;
  /** Milliseconds spent in those commits. */
  readonly commitMs: number;
  /** Size of our newest audit event as exported (JSON). */
  readonly auditRowBytes: number;
}

const AUDIT_SECRET_ENV = "IBKR_AGENT_BENCH_AUDIT_SECRET";
const TOKEN_SECRET_ENV = "IBKR_AGENT_BENCH_TOKEN_ID_SECRET";
const KEEP_ALIVE = new Set(["getTickle", "postTickle", "getAuthStatus", "postAuthStatus"]);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const settings = JSON.parse(process.argv[2] ?? "{}") as HostSettings;
const counter = installCommitCounter();
const sim = createSimulator({ pacing: "bench" });
const home = join(settings.dir, "home");
mkdirSync(home, { recursive: true });
const [oursPort, barePort] = [await freePort(), await freePort()];
const resource = `http://127.0.0.1:${oursPort}/mcp`;
const file = join(home, "config.yaml");
writeFileSync(
  file,
  stringify({
    audit: { secret_env: AUDIT_SECRET_ENV },
    broker: { backend: "simulator", pacing_profile: "bench" },
    safety: { remote_mcp_enabled: true },
    remote_mcp: {
      enabled: true,
      bind: `127.0.0.1:${oursPort}`,
      resource,
      issuer: settings.issuer,
      jwks_url: settings.jwksUrl,
      jwks_ca_file: settings.caFile,
      token_id_hmac_secret_env: TOKEN_SECRET_ENV,
      allowed_scopes: [settings.scope],
      // A throughput benchmark sends thousands of calls a minute per caller; the default limits (120 a
      // minute per caller) are an abuse defence, not what is measured.
      rate_limit: { max_requests: 100_000, pre_auth_max_requests: 100_000 },
    },
  }),
);
const gateway = await composeGateway({
  frontDoor: "mcp_http",
  env: {
    IBKR_AGENT_HOME: home,
    [AUDIT_SECRET_ENV]: "bench-audit-secret-0123456789abcdef0123456789",
    [TOKEN_SECRET_ENV]: "bench-token-id-secret-0123456789abcdef012345",
  },
  file,
  simulator: sim,
  clock: sim.clock,
  pacingProfile: "bench",
});
const ours = await serveMcpHttp({ gateway, version: PACKAGE_VERSION, renderText: renderResult });
const bare = await startBareMcpHttpServer({
  sim,
  issuer: settings.issuer,
  jwksUrl: settings.jwksUrl,
  ca: readFileSync(settings.caFile, "utf8"),
  port: barePort,
  dbPath: join(settings.dir, "bare.sqlite"),
  accountId: settings.accountId,
});

function calibration(): Calibration {
  let last: unknown;
  for (const event of gateway.store.exportEvents()) last = event;
  return {
    brokerCalls: sim.control
      .requests()
      .map((entry) => entry.operationId)
      .filter((operation) => !KEEP_ALIVE.has(operation)),
    commits: counter.count(),
    commitMs: counter.ms(),
    auditRowBytes: JSON.stringify(last ?? {}).length,
  };
}

process.on("message", async (message: HostRequest) => {
  const reply = (value: unknown) => process.send?.({ id: message.id, value });
  switch (message.cmd) {
    case "mark":
      counter.reset();
      sim.control.clearRequests();
      return reply(null);
    case "read":
      return reply(calibration());
    case "time":
      counter.uninstall();
      bare.rowBytes = message.rowBytes;
      return reply(null);
    case "close":
      await ours.close();
      await bare.close();
      sim.close();
      reply(null);
      process.disconnect();
      // Everything is closed, so the process ends by itself; should a handle linger, it ends anyway.
      setTimeout(() => process.exit(0), 2_000).unref();
      return;
  }
});
process.send?.({ ready: { ours: ours.url, bare: bare.url, resource } });
