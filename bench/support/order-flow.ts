// The order flow both order-flow benchmarks run: the gateway's configuration and its three calls (preview ->
// approve -> paper submit), the measurement of one flow's broker calls and durable commits, and the baseline
// that makes the same broker calls with FULL-sync inserts in the gateway's places. bench/order-flow.bench.ts
// measures the gateway against it; bench/order-flow-ab.ts compares two checkouts with it as the yardstick.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "node:sqlite";
import { getMarketSnapshot, searchContracts, whatIfOrder } from "../../generated/cpapi/client.gen.ts";
import { createCpapiClient } from "../../src/cpapi/index.ts";
import { orderTicket, QUOTE_FIELD_IDS } from "../../src/cpapi/mappers/index.ts";
import type { Gateway, GatewayOptions } from "../../src/gateway/index.ts";
import type { Simulator } from "../../src/simulator/index.ts";
import { type CommitCounter, installCommitCounter } from "./commit-counter.ts";

export const ACCOUNT = "DU1234567";
export const CONID = 265598;
const SECRET_ENV = "IBKR_AGENT_BENCH_AUDIT_SECRET";
/** Tuesday 2026-12-01 10:00 in New York: the market is open. */
export const START = Date.UTC(2026, 11, 1, 15, 0);
/** A marketable buy: it fills a moment later, so working orders do not pile up in the simulator. */
export const PRICE = 250;
const LIMIT = "252";
/** The steady-state broker calls of one flow (contract infos and the account list are cached by then). */
export const BROKER_CALLS = ["searchContracts", "getMarketSnapshot", "whatIfOrder", "placeOrders"];

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

/** composeGateway, from this checkout or (for the A/B run) another one. */
export type ComposeGateway = (options: GatewayOptions) => Promise<Gateway>;

/** A gateway for the flow on `sim`, its home and store in `home`. */
export async function orderFlowGateway(
  compose: ComposeGateway,
  sim: Simulator,
  home: string,
): Promise<Gateway> {
  mkdirSync(home, { recursive: true });
  const file = join(home, "config.yaml");
  writeFileSync(file, CONFIG);
  return compose({
    frontDoor: "sdk",
    env: { IBKR_AGENT_HOME: home, [SECRET_ENV]: "bench-secret-0123456789abcdef0123456789" },
    file,
    simulator: sim,
    clock: sim.clock,
    pacingProfile: "bench",
  });
}

/** One flow per call; keys carry `tag`, since one secret and one key would mean one cOID at the broker. */
export function orderFlowOf(gateway: Gateway, tag: string): () => Promise<void> {
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

/** Untimed flows of the measuring gateway before the one whose calls and commits are counted. */
const MEASURE_WARMUP = 30;

/** What one steady-state flow of the gateway does at the broker and on disk. */
export interface FlowShape {
  /** The broker operations it calls, in order. */
  readonly calls: string[];
  /** Bytes bound to each durable commit, in order. */
  readonly sizes: number[];
  /** How many broker calls come before each commit. */
  readonly positions: number[];
}

/**
 * One flow's broker calls and durable commits, counted on a gateway of its own (the commit counter must be
 * installed before a store prepares its statements). `more` runs next on that gateway with the counter still
 * installed (the benchmark times the commits against the baseline there).
 */
export async function measureOrderFlow<T>(
  compose: ComposeGateway,
  sim: Simulator,
  home: string,
  more: (flow: () => Promise<void>, counter: CommitCounter, shape: FlowShape) => Promise<T>,
): Promise<FlowShape & { more: T }> {
  // Each commit's place in the flow: how many broker calls the simulator has logged since the flow began.
  const counter = installCommitCounter(() => sim.control.requests().length);
  try {
    const gateway = await orderFlowGateway(compose, sim, home);
    try {
      const flow = orderFlowOf(gateway, "calibration");
      for (let i = 0; i < MEASURE_WARMUP; i += 1) await flow();
      sim.control.clearRequests();
      counter.reset();
      await flow();
      const shape: FlowShape = {
        calls: sim.control.requests().map((r) => r.operationId),
        sizes: counter.sizes(),
        positions: counter.positions(),
      };
      return { ...shape, more: await more(flow, counter, shape) };
    } finally {
      await gateway.close();
    }
  } finally {
    counter.uninstall();
  }
}

/**
 * The baseline: the broker calls through a bare CPAPI client with raw FULL-sync inserts between them, each
 * after as many calls as the gateway's commit it stands for; the two parts are timed apart for the breakdown.
 */
export function orderFlowBaseline(sim: Simulator, dir: string) {
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
  // One FULL-sync write per gateway commit, of its size, after as many broker calls (set by follow()).
  let payloads: string[] = [];
  let positions: number[] = [];
  const baseline = {
    /** Writes as the gateway commits in one flow: the same sizes, in the same places between the calls. */
    follow(shape: Pick<FlowShape, "sizes" | "positions">) {
      payloads = shape.sizes.map((bytes) => "x".repeat(Math.max(1, bytes)));
      positions = [...shape.positions];
    },
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
        for (; write < payloads.length && (positions[write] ?? 0) <= made; write += 1) {
          insert.run(payloads[write] as string);
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

export type OrderFlowBaseline = ReturnType<typeof orderFlowBaseline>;
