// A read tool call (ibkr_accounts_list) through the sidecar relay against the same call made directly on the
// sidecar host, both made the way an agent makes it: an MCP client sending tools/call over Streamable HTTP
// with a real RS256 access token (remote OAuth mode, the same authorization server and the same JWT checks
// on both servers), in one process on loopback.
//   relayed: MCP client -> remote gateway's HTTP MCP server (broker.backend relay: token, scope, schema) ->
//            signed WebSocket message -> sidecar daemon -> the sidecar's dispatcher -> simulator, and back
//   direct:  MCP client -> the sidecar host's own HTTP MCP server over the same gateway -> simulator
// Both write their audit events (the relay path one tool_call on each side: that is part of what it costs).
// Issue target: the relay costs at most 2x the direct call. A second comparison, without any front door
// (in-process dispatch on both paths), is printed for information: there the relay's fixed costs (a second
// FULL-sync audit append, two Ed25519 signatures and two verifications) weigh more, with no target.
// IBKR_BENCH_CPU_PROF=<dir> writes a CPU profile of the timed part (both paths) there.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { renderResult } from "../src/cli/render/result.ts";
import { PACKAGE_VERSION } from "../src/core/version.ts";
import { type McpHttpServer, serveMcpHttp } from "../src/mcp/http.ts";
import { relayUserPrincipal } from "../src/sidecar/pairing.ts";
import { startRelayPair } from "../test/sidecar/relay-support.ts";
import { interleave, report } from "./harness.ts";
import { startBenchAuthServer } from "./support/jwks-server.ts";
import { callMcpTool, mcpPoster, openMcpSession } from "./support/mcp-post.ts";

const TOOL = "ibkr_accounts_list";
const SCOPE = "ibkr:accounts:read";
const SUBJECT = "bench-agent";
const TOKEN_SECRET_ENV = "IBKR_AGENT_BENCH_TOKEN_ID_SECRET";
const RUNS = 200;
const WARMUP = 20;

/** The remote_mcp block both servers share, but for their own resource (the token audience). */
function remoteMcp(auth: { issuer: string; jwksUrl: string; caFile: string }, resource: string) {
  return {
    enabled: true,
    // Configured binds must name a port; the servers are started on a free one (bind 127.0.0.1:0).
    bind: "127.0.0.1:8443",
    resource,
    issuer: auth.issuer,
    jwks_url: auth.jwksUrl,
    jwks_ca_file: auth.caFile,
    token_id_hmac_secret_env: TOKEN_SECRET_ENV,
    allowed_scopes: [SCOPE],
    // Latency of one caller's calls one after another; the default limits are an abuse defence.
    rate_limit: { max_requests: 100_000, pre_auth_max_requests: 100_000 },
  };
}

/** One MCP client over one keep-alive connection: initialize, then tools/call. */
async function mcpClient(mcpUrl: string, token: string) {
  const url = new URL(mcpUrl);
  const pool = new Pool(url.origin, { connections: 1, pipelining: 1 });
  let id = 0;
  const post = mcpPoster(pool, mcpUrl);
  const caller = { token, session: await openMcpSession(post, mcpUrl, token) };
  return {
    async call(): Promise<string> {
      id += 1;
      return callMcpTool(post, mcpUrl, caller, id, TOOL, {});
    },
    close: () => pool.close(),
  };
}

async function profiled<T>(fn: () => Promise<T>): Promise<T> {
  const dir = process.env.IBKR_BENCH_CPU_PROF;
  if (dir === undefined) return fn();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  try {
    return await fn();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `relay-${Date.now()}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

export async function run(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "ibkr-relay-bench-"));
  const auth = await startBenchAuthServer(dir);
  process.env[TOKEN_SECRET_ENV] = "bench-token-id-secret-0123456789abcdef012345";
  const remoteResource = "http://127.0.0.1/remote/mcp";
  const sidecarResource = "http://127.0.0.1/sidecar/mcp";
  const pair = await startRelayPair({
    serveHttp: true,
    limits: { heartbeat_interval_seconds: 10, heartbeat_timeout_seconds: 60 },
    remoteMcp: remoteMcp(auth, remoteResource),
    // The pairing belongs to the token's subject, as `sidecar pairing create --user bench-agent` would bind it.
    user: (remote) => relayUserPrincipal(remote.loaded, remote.store)(SUBJECT),
    sidecarConfig: {
      safety: { sidecar_enabled: true, paper_trading_enabled: true, remote_mcp_enabled: true },
      remote_mcp: remoteMcp(auth, sidecarResource),
    },
  });
  let sidecarServer: McpHttpServer | undefined;
  try {
    // The sidecar host's own MCP server, over the very gateway the daemon runs relayed calls on.
    sidecarServer = await serveMcpHttp({
      gateway: pair.sidecar,
      version: PACKAGE_VERSION,
      renderText: renderResult,
      bind: "127.0.0.1:0",
    });
    const token = (audience: string) => auth.mint({ audience, subject: SUBJECT, scope: SCOPE });
    const relayed = await mcpClient(`${pair.httpBase}/mcp`, await token(remoteResource));
    const direct = await mcpClient(sidecarServer.url, await token(sidecarResource));
    // Same answer both ways (the relayed result is the sidecar's, rendered by the remote).
    const accounts = (text: string) =>
      JSON.stringify(
        (JSON.parse(text) as { result: { structuredContent?: { accounts?: unknown } } }).result
          .structuredContent?.accounts,
      );
    const [a, b] = [await relayed.call(), await direct.call()];
    if (accounts(a) === undefined || accounts(a) !== accounts(b))
      throw new Error(`the relayed and the direct answers differ:\n${a.slice(0, 300)}\n${b.slice(0, 300)}`);

    const viaHttp = await profiled(() =>
      interleave(
        { name: "MCP HTTP -> remote -> relay -> sidecar", run: relayed.call },
        { name: "MCP HTTP on the sidecar host", run: direct.call },
        { runs: RUNS, warmup: WARMUP },
      ),
    );
    const inProcess = await interleave(
      {
        name: "remote dispatch -> relay -> sidecar",
        run: async () => {
          const outcome = await pair.call(TOOL, {}, [SCOPE]);
          if (!outcome.ok) throw outcome.error;
        },
      },
      {
        name: "dispatch on the sidecar host",
        run: async () => {
          const outcome = await pair.sidecar.dispatch(TOOL, {}, pair.sidecar.context());
          if (!outcome.ok) throw outcome.error;
        },
      },
      { runs: RUNS, warmup: WARMUP },
    );
    await relayed.close();
    await direct.close();
    const met = report({
      title: `Sidecar relay read call ${TOOL} (issue: at most 2x the same call made directly on the sidecar host)`,
      ...viaHttp,
      maxRatio: 2,
      unit: "ms",
      notes: [
        "both: an MCP client, Streamable HTTP, remote OAuth mode with the same RS256 token checks, one process, loopback",
        "relayed: remote HTTP MCP (backend relay) -> signed WebSocket -> sidecar dispatcher -> simulator; one tool_call audit append per side",
        "direct: the sidecar host's HTTP MCP server over the same gateway -> simulator; one tool_call audit append",
      ],
    });
    report({
      title: `Sidecar relay read call ${TOOL} without a front door (for information)`,
      ...inProcess,
      unit: "ms",
      notes: ["in-process dispatch on both paths: the relay's own fixed costs without the HTTP front door's"],
    });
    return met;
  } finally {
    await pair.close();
    await sidecarServer?.close();
    await auth.close();
    delete process.env[TOKEN_SECRET_ENV];
    rmSync(dir, { recursive: true, force: true });
  }
}
