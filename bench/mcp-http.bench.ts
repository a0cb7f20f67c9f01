// MCP over Streamable HTTP, remote mode: throughput of 16 concurrent authenticated tools/call of a read
// tool (ibkr_account_metadata) through our server (serveMcpHttp: origin check, limits, jose JWT validation
// against the issuer's JWKS over https, session binding, scope gate, the dispatcher with validation,
// account check, broker call, mapping, secret scan, one chained audit append at synchronous=FULL, text
// rendering) against a bare MCP SDK server on node:http with the same jose verification and an echo tool
// doing the same unavoidable work (the same CPAPI client function against the same in-process simulator,
// one FULL-sync INSERT of a same-size row). Both servers run in one child process on one simulator with
// pacing lifted (bench profile); this process is the authorization server (JWKS over HTTPS, tokens) and
// the load: 16 sessions, one caller each with its own token, each sending its calls one after another.
// Broker calls and commits per call are measured from both servers before timing, so a change in either
// shows. Issue target: at least 0.7x the bare server's throughput.
// IBKR_BENCH_CPU_PROF=<dir> runs the server process under --cpu-prof and writes its profile there.
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { interleave, median, report } from "./harness.ts";
import { startBenchAuthServer } from "./support/jwks-server.ts";
import type { Calibration, HostCommand, HostSettings } from "./support/mcp-http-host.ts";
import { callMcpTool, mcpPoster, openMcpSession } from "./support/mcp-post.ts";

const CONCURRENCY = 16;
const CALLS_PER_CALLER = 8;
const RUNS = 40;
const WARMUP = 4;
const CALIBRATION_CALLS = 32;
const ACCOUNT = "DU1234567";
const SCOPE = "ibkr:accounts:read";
/** What one ibkr_account_metadata call asks the broker once the account list is cached. */
const BROKER_CALLS = ["getAccountMeta"];

type HostReady = { ours: string; bare: string; resource: string };

/** The forked server process and a request/answer channel to it. */
async function startHost(settings: HostSettings) {
  const profileDir = process.env.IBKR_BENCH_CPU_PROF;
  const child: ChildProcess = fork(
    join(import.meta.dirname, "support/mcp-http-host.ts"),
    [JSON.stringify(settings)],
    {
      execArgv: profileDir !== undefined ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 0;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = new Promise<HostReady>((resolve, reject) => {
    child.on("message", (message: { ready?: HostReady; id?: number; value?: unknown }) => {
      if (message.ready !== undefined) resolve(message.ready);
      else if (message.id !== undefined) waiting.get(message.id)?.resolve(message.value);
    });
    child.once("exit", (code) => {
      const error = new Error(`the server process exited (${code}):\n${stderr}`);
      reject(error);
      for (const pending of waiting.values()) pending.reject(error);
    });
  });
  const ask = <T>(request: HostCommand): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      next += 1;
      waiting.set(next, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id: next });
    });
  return { urls: await ready, ask, exited };
}

interface Caller {
  readonly token: string;
  readonly session: string;
}

/** A load client for one server: a keep-alive pool of CONCURRENCY connections and raw JSON-RPC POSTs. */
function loadClient(mcpUrl: string) {
  const url = new URL(mcpUrl);
  const pool = new Pool(url.origin, { connections: CONCURRENCY, pipelining: 1 });
  let id = 0;
  const post = mcpPoster(pool, mcpUrl);
  return {
    /** initialize and notifications/initialized, as an MCP client does. */
    async open(token: string): Promise<Caller> {
      return { token, session: await openMcpSession(post, mcpUrl, token) };
    },
    async call(caller: Caller, name: string, args: Record<string, unknown>): Promise<void> {
      id += 1;
      await callMcpTool(post, mcpUrl, caller, id, name, args);
    },
    close: () => pool.close(),
  };
}

type LoadClient = ReturnType<typeof loadClient>;

/** One sample: every caller sends CALLS_PER_CALLER calls, one after another, all callers at once. */
function burst(client: LoadClient, callers: readonly Caller[], name: string, args: Record<string, unknown>) {
  return () =>
    Promise.all(
      callers.map(async (caller) => {
        for (let i = 0; i < CALLS_PER_CALLER; i += 1) await client.call(caller, name, args);
      }),
    );
}

export async function run(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "ibkr-mcp-http-bench-"));
  const auth = await startBenchAuthServer(dir);
  const host = await startHost({
    dir,
    issuer: auth.issuer,
    jwksUrl: auth.jwksUrl,
    caFile: auth.caFile,
    accountId: ACCOUNT,
    scope: SCOPE,
  });
  const ours = loadClient(host.urls.ours);
  const bare = loadClient(host.urls.bare);
  try {
    const callersOf = async (client: LoadClient, audience: string) => {
      const callers: Caller[] = [];
      for (let i = 0; i < CONCURRENCY; i += 1) {
        const token = await auth.mint({ audience, subject: `bench-agent-${i}`, scope: SCOPE });
        callers.push(await client.open(token));
      }
      return callers;
    };
    const oursCallers = await callersOf(ours, host.urls.resource);
    const bareCallers = await callersOf(bare, host.urls.bare);
    const oursBurst = burst(ours, oursCallers, "ibkr_account_metadata", { account_id: ACCOUNT });
    const bareBurst = burst(bare, bareCallers, "echo", {});

    // Calibration: what a call costs each server in broker calls and durable commits (and their time),
    // over CALIBRATION_CALLS calls one after another, after a warm-up.
    const calibrate = async (
      client: LoadClient,
      caller: Caller,
      name: string,
      args: Record<string, unknown>,
    ) => {
      for (let i = 0; i < 5; i += 1) await client.call(caller, name, args);
      await host.ask({ cmd: "mark" });
      for (let i = 0; i < CALIBRATION_CALLS; i += 1) await client.call(caller, name, args);
      const cost = await host.ask<Calibration>({ cmd: "read" });
      const expected = Array.from({ length: CALIBRATION_CALLS }, () => BROKER_CALLS).flat();
      if (cost.brokerCalls.join(",") !== expected.join(",")) {
        throw new Error(
          `${name}: the broker requests of a call changed: ${cost.brokerCalls.join(",")}; update the baseline`,
        );
      }
      return {
        commits: cost.commits / CALIBRATION_CALLS,
        commitMs: cost.commitMs / CALIBRATION_CALLS,
        auditRowBytes: cost.auditRowBytes,
      };
    };
    const oursCost = await calibrate(ours, oursCallers[0] as Caller, "ibkr_account_metadata", {
      account_id: ACCOUNT,
    });
    const bareCost = await calibrate(bare, bareCallers[0] as Caller, "echo", {});
    if (bareCost.commits !== 1)
      throw new Error(`the baseline made ${bareCost.commits} commits per call, not 1`);
    await host.ask({ cmd: "time", rowBytes: oursCost.auditRowBytes });

    const calls = CONCURRENCY * CALLS_PER_CALLER;
    const measured = await interleave(
      { name: "ibkr-agent mcp http: ibkr_account_metadata", run: oursBurst },
      { name: "bare MCP SDK server + jose: echo", run: bareBurst },
      { runs: RUNS, warmup: WARMUP },
    );
    const throughput = (samples: number[]) => samples.map((ms) => calls / (ms / 1000));
    const oursMs = median(measured.candidate.samples);
    const bareMs = median(measured.baseline.samples);
    return report({
      title: `MCP Streamable HTTP: ${CONCURRENCY} concurrent authenticated tools/call (issue: at least 0.7x a bare MCP SDK server with jose)`,
      candidate: { name: measured.candidate.name, samples: throughput(measured.candidate.samples) },
      baseline: { name: measured.baseline.name, samples: throughput(measured.baseline.samples) },
      minRatio: 0.7,
      unit: "ops/s",
      notes: [
        `per call, both servers: broker ${BROKER_CALLS.join(", ")}; FULL-sync commits ours ${oursCost.commits}, baseline ${bareCost.commits} (a ${oursCost.auditRowBytes}-byte row, the size of our audit event)`,
        `time in those commits per call (mean of ${CALIBRATION_CALLS} sequential calls before timing): ours ${oursCost.commitMs.toFixed(2)} ms, baseline ${bareCost.commitMs.toFixed(2)} ms; a commit blocks the event loop, so the disk's fsync time is in both throughputs alike and varies with the disk's load`,
        `mean latency at ${CONCURRENCY} in flight: ours ${((oursMs / calls) * CONCURRENCY).toFixed(2)} ms, baseline ${((bareMs / calls) * CONCURRENCY).toFixed(2)} ms`,
        `${RUNS} samples of ${calls} calls (${CONCURRENCY} sessions x ${CALLS_PER_CALLER}) each after ${WARMUP} warm-up samples; RS256 tokens verified on every request; JWKS fetched ${auth.jwksRequests} times in all; rate limits raised for the run.`,
      ],
    });
  } finally {
    await ours.close();
    await bare.close();
    await host.ask({ cmd: "close" }).catch(() => undefined);
    await host.exited;
    await auth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
