// Preview -> approve -> paper submit through the gateway (three dispatches: validation, scopes, preview policy,
// approval, paper gates, idempotency step, pending row, completion, audit chain) against a baseline that does
// only the unavoidable work: the same broker calls with the same CPAPI client functions on the same in-process
// simulator, and as many FULL-sync SQLite writes (one raw INSERT each, WAL) as the gateway commits per flow,
// each carrying as many bytes as the gateway's commit in the same place (so the baseline syncs the same data
// volume and the difference is the gate logic, not I/O), with no gate logic. The writes come between the
// broker calls where the gateway's commits do: a sync right after a pause costs more than one right after
// another sync, so the baseline's I/O keeps the gateway's order. Both run with pacing lifted (bench
// profile). The calls, the writes and their places are measured from the gateway before timing, so the
// baseline follows when the gateway changes.
// Issue target: at most 1.5x the baseline's median.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "node:sqlite";
import { getMarketSnapshot, searchContracts, whatIfOrder } from "../generated/cpapi/client.gen.ts";
import { createCpapiClient } from "../src/cpapi/index.ts";
import { orderTicket, QUOTE_FIELD_IDS } from "../src/cpapi/mappers/index.ts";
import { composeGateway, type Gateway } from "../src/gateway/index.ts";
import { createSimulator, type Simulator } from "../src/simulator/index.ts";
import { interleave, median, report } from "./harness.ts";
import { installCommitCounter } from "./support/commit-counter.ts";

const RUNS = 300;
const WARMUP = 30;
const CALIBRATION_FLOWS = 100;
const ACCOUNT = "DU1234567";
const CONID = 265598;
const SECRET_ENV = "IBKR_AGENT_BENCH_AUDIT_SECRET";
/** Tuesday 2026-12-01 10:00 in New York: the market is open. */
const START = Date.UTC(2026, 11, 1, 15, 0);
/** A marketable buy: it fills a moment later, so working orders do not pile up in the simulator. */
const PRICE = 250;
const LIMIT = "252";
/** The steady-state broker calls of one flow (contract infos and the account list are cached by then). */
const BROKER_CALLS = ["searchContracts", "getMarketSnapshot", "whatIfOrder", "placeOrders"];

const CONFIG = `audit:
  secret_env: ${SECRET_ENV}
broker:
  backend: simulator
  pacing_profile: bench
auth:
  enabled_scopes: [ibkr:accounts:read, ibkr:orders:preview, ibkr:approvals:create, ibkr:orders:paper:submit]
safety:
  paper_trading_enabled: true
order_preview:
  enabled: true
paper_trading:
  enabled: true
  allowed_accounts: [${ACCOUNT}]
`;

async function gatewayOn(sim: Simulator, home: string): Promise<Gateway> {
  mkdirSync(home, { recursive: true });
  const file = join(home, "config.yaml");
  writeFileSync(file, CONFIG);
  return composeGateway({
    frontDoor: "sdk",
    env: { IBKR_AGENT_HOME: home, [SECRET_ENV]: "bench-secret-0123456789abcdef0123456789" },
    file,
    simulator: sim,
    clock: sim.clock,
    pacingProfile: "bench",
  });
}

/** One flow per call; keys carry `tag`, since one secret and one key would mean one cOID at the broker. */
function flowOf(gateway: Gateway, tag: string) {
  let n = 0;
  const ok = async (tool: string, args: Record<string, unknown>) => {
    const outcome = await gateway.dispatch(tool, args);
    if (!outcome.ok) throw new Error(`${tool}: ${outcome.error.code} ${outcome.error.message}`);
    return outcome.result as Record<string, unknown>;
  };
  return async () => {
    n += 1;
    const preview = await ok("ibkr_order_preview", {
      account_id: ACCOUNT,
      symbol: "AAPL",
      side: "buy",
      quantity: "1",
      order_type: "limit",
      limit_price: LIMIT,
      time_in_force: "day",
    });
    const approval = await ok("ibkr_approvals_create", {
      account_id: ACCOUNT,
      preview_id: preview.preview_id,
    });
    await ok("ibkr_paper_order_submit", {
      account_id: ACCOUNT,
      approval_id: approval.approval_id,
      idempotency_key: `bench-${tag}-${n}`,
    });
  };
}

/**
 * The baseline: the broker calls through a bare CPAPI client with raw FULL-sync inserts between them, each
 * after as many calls as the gateway's commit it stands for; the two parts are timed apart for the breakdown.
 */
function baselineOf(sim: Simulator, dir: string) {
  const client = createCpapiClient({
    baseUrl: "https://localhost:5000/v1/api",
    dispatcher: sim.dispatcher(),
    clock: sim.clock,
    pacingProfile: "bench",
  });
  const db = new DatabaseSync(join(dir, "raw.sqlite"));
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE raw_writes (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO raw_writes (payload) VALUES (?)");

  const ticket = (cOID?: string) =>
    orderTicket(
      {
        role: "single",
        side: "buy",
        orderType: "limit",
        quantity: "1",
        limitPrice: LIMIT,
        timeInForce: "day",
      },
      { accountId: ACCOUNT, conid: CONID, ...(cOID !== undefined ? { clientOrderId: cOID } : {}) },
    );
  let n = 0;
  const baseline = {
    /** Bytes of each FULL-sync write, in the order the gateway commits them in one flow. */
    writes: [] as number[],
    payloads: [] as string[],
    /** How many broker calls of the flow come before each write. */
    positions: [] as number[],
    broker: [] as number[],
    fsync: [] as number[],
    async run() {
      n += 1;
      const calls: (() => Promise<unknown>)[] = [
        () => searchContracts(client.transport, { query: { symbol: "AAPL" } }),
        () =>
          getMarketSnapshot(client.transport, {
            query: { conids: String(CONID), fields: QUOTE_FIELD_IDS.join(",") },
          }),
        () => whatIfOrder(client.transport, { path: { accountId: ACCOUNT }, body: { orders: [ticket()] } }),
        () =>
          client.orders.submit({
            accountId: ACCOUNT,
            orders: [ticket(`bench-base-${n}`)],
            approvedQuestions: [],
            onRound: () => undefined,
          }),
      ];
      let brokerMs = 0;
      let fsyncMs = 0;
      let write = 0;
      const writesUpTo = (made: number) => {
        const start = performance.now();
        for (; write < baseline.payloads.length && (baseline.positions[write] ?? 0) <= made; write += 1) {
          insert.run(baseline.payloads[write] as string);
        }
        fsyncMs += performance.now() - start;
      };
      for (let made = 0; made < calls.length; made += 1) {
        writesUpTo(made);
        const start = performance.now();
        await (calls[made] as () => Promise<unknown>)();
        brokerMs += performance.now() - start;
      }
      writesUpTo(calls.length);
      baseline.broker.push(brokerMs);
      baseline.fsync.push(fsyncMs);
    },
    /** Forgets the timings so far. */
    restart() {
      baseline.broker.length = 0;
      baseline.fsync.length = 0;
    },
    async close() {
      db.close();
      await client.close();
    },
  };
  return baseline;
}

type Baseline = ReturnType<typeof baselineOf>;

/**
 * One flow's broker calls and durable commits, then the time of those commits, on a gateway of its own with
 * the commit counter installed (interleaved with the baseline like the measurement, so both see one machine).
 */
async function calibrate(sim: Simulator, home: string, baseline: Baseline) {
  // Each commit's place in the flow: how many broker calls the simulator has logged since the flow began.
  const counter = installCommitCounter(() => sim.control.requests().length);
  try {
    const gateway = await gatewayOn(sim, home);
    try {
      const flow = flowOf(gateway, "calibration");
      for (let i = 0; i < WARMUP; i += 1) await flow();
      sim.control.clearRequests();
      counter.reset();
      await flow();
      const calls = sim.control.requests().map((r) => r.operationId);
      const writes = counter.count();
      baseline.writes = counter.sizes();
      baseline.payloads = baseline.writes.map((bytes) => "x".repeat(Math.max(1, bytes)));
      baseline.positions = counter.positions();
      const commits: number[] = [];
      await interleave(
        {
          name: "instrumented gateway",
          run: async () => {
            counter.reset();
            await flow();
            commits.push(counter.ms());
          },
        },
        { name: "baseline", run: () => baseline.run() },
        { runs: CALIBRATION_FLOWS, warmup: 0 },
      );
      return {
        calls,
        writes,
        sizes: baseline.writes,
        positions: baseline.positions,
        commitMs: median(commits),
      };
    } finally {
      await gateway.close();
    }
  } finally {
    counter.uninstall();
  }
}

export async function run(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "ibkr-order-bench-"));
  const sim = createSimulator({ pacing: "bench", startAt: START, seed: 1 });
  sim.control.setPrice("AAPL", PRICE);
  // Made before the commit counter is installed, so its own writes are never counted as the gateway's.
  const baseline = baselineOf(sim, dir);
  let gateway: Gateway | null = null;
  try {
    // Pre-flights (/iserver/accounts, the first empty snapshot) happen once, outside the measurement.
    await baseline.run();
    const { calls, writes, sizes, positions, commitMs } = await calibrate(
      sim,
      join(dir, "calibration"),
      baseline,
    );
    if (calls.join(",") !== BROKER_CALLS.join(",")) {
      throw new Error(`the flow's broker calls changed: ${calls.join(",")}; update the baseline`);
    }
    baseline.restart();
    gateway = await gatewayOn(sim, join(dir, "gateway"));
    const measured = await interleave(
      { name: "gateway: preview -> approve -> paper submit", run: flowOf(gateway, "timed") },
      {
        name: `baseline: ${calls.length} broker calls + ${writes} FULL-sync inserts`,
        run: () => baseline.run(),
      },
      { runs: RUNS, warmup: WARMUP },
    );
    const brokerMs = median(baseline.broker);
    const fsyncMs = median(baseline.fsync);
    const candidateMs = median(measured.candidate.samples);
    return report({
      title: "Order flow: preview -> approve -> paper submit (issue: at most 1.5x the baseline)",
      ...measured,
      maxRatio: 1.5,
      unit: "ms",
      notes: [
        `broker calls per flow: ${calls.join(", ")}; FULL-sync commits per flow: ${writes}, bytes each: ${sizes.join(", ")}, after broker call no. ${positions.join(", ")}`,
        `breakdown of the gateway's median: broker ${brokerMs.toFixed(3)} ms (the baseline's calls), fsync ${commitMs.toFixed(3)} ms (its own ${writes} commits, median of ${CALIBRATION_FLOWS} instrumented flows; the baseline's raw inserts: ${fsyncMs.toFixed(3)} ms), gates/other ${(candidateMs - brokerMs - commitMs).toFixed(3)} ms`,
        `${RUNS} flows each after ${WARMUP} warm-up rounds; in-process simulator, pacing lifted.`,
      ],
    });
  } finally {
    await baseline.close();
    await gateway?.close();
    sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
