// The order flow both order-flow benchmarks run: the gateway's configuration and its three calls (preview ->
// approve -> paper submit), and the baseline that makes the same broker calls with FULL-sync inserts in the
// gateway's places. bench/order-flow.bench.ts measures the gateway against it; bench/order-flow-ab.ts
// compares two checkouts with it as the common yardstick.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "node:sqlite";
import { getMarketSnapshot, searchContracts, whatIfOrder } from "../../generated/cpapi/client.gen.ts";
import { createCpapiClient } from "../../src/cpapi/index.ts";
import { orderTicket, QUOTE_FIELD_IDS } from "../../src/cpapi/mappers/index.ts";
import type { Gateway, GatewayOptions } from "../../src/gateway/index.ts";
import type { Simulator } from "../../src/simulator/index.ts";

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

export type OrderFlowBaseline = ReturnType<typeof orderFlowBaseline>;
