// Paired A/B of the order flow: two checkouts of the gateway in one process, taking turns flow by flow, so a
// change of a few percent shows through the machine's noise (two runs of `npm run bench` differ by more
// than that). Each side has its own simulator and store; a third turn runs the order-flow baseline (the
// same broker calls, FULL-sync inserts of the gateway's sizes in the gateway's places), so each side's ratio
// is printed too. Not part of `npm run bench`: it compares code, it has no target.
//
//   node bench/order-flow-ab.ts <other checkout>        # A = the other checkout, B = this one
//   IBKR_AB_RUNS=1000 IBKR_AB_STORE_DIR=/dev/shm node bench/order-flow-ab.ts ../main-before
//
// The other checkout needs its dependencies (a symlinked node_modules will do). IBKR_AB_STORE_DIR puts both
// gateways' stores there (tmpfs takes the disk out, to compare CPU work alone); the baseline stays in the
// system temporary directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "node:sqlite";
import { getMarketSnapshot, searchContracts, whatIfOrder } from "../generated/cpapi/client.gen.ts";
import { createCpapiClient } from "../src/cpapi/index.ts";
import { orderTicket, QUOTE_FIELD_IDS } from "../src/cpapi/mappers/index.ts";
import type { Gateway } from "../src/gateway/index.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { createSimulator } from "../src/simulator/index.ts";
import { median } from "./harness.ts";

const SECRET_ENV = "IBKR_AGENT_BENCH_AUDIT_SECRET";
const ACCOUNT = "DU1234567";
const CONID = 265598;
const START = Date.UTC(2026, 11, 1, 15, 0);
const WARMUP = 40;
/** The commits of one flow as the order-flow benchmark measures them: bytes, before and after placeOrders. */
const BEFORE_PLACE = [3054, 1177, 1449, 1180, 780];
const AFTER_PLACE = [3377, 1301];
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

interface Side {
  readonly name: string;
  readonly samples: number[];
  flow(): Promise<void>;
  close(): Promise<void>;
}

type GatewayModule = { composeGateway: (options: Record<string, unknown>) => Promise<Gateway> };
type SimulatorModule = { createSimulator: typeof createSimulator };

/** One checkout's gateway on its own simulator and store, loaded from that checkout's files. */
async function gatewaySide(checkout: string, name: string, storeDir: string): Promise<Side> {
  const { composeGateway } = (await import(join(checkout, "src/gateway/index.ts"))) as GatewayModule;
  const simulators = (await import(join(checkout, "src/simulator/index.ts"))) as SimulatorModule;
  const sim: Simulator = simulators.createSimulator({ pacing: "bench", startAt: START, seed: 1 });
  sim.control.setPrice("AAPL", 250);
  const home = join(storeDir, name);
  mkdirSync(home, { recursive: true });
  const file = join(home, "config.yaml");
  writeFileSync(file, CONFIG);
  const gateway = await composeGateway({
    frontDoor: "sdk",
    env: { IBKR_AGENT_HOME: home, [SECRET_ENV]: "bench-secret-0123456789abcdef0123456789" },
    file,
    simulator: sim,
    clock: sim.clock,
    pacingProfile: "bench",
  });
  const ok = async (tool: string, args: Record<string, unknown>) => {
    const outcome = await gateway.dispatch(tool, args);
    if (!outcome.ok) throw new Error(`${name}: ${tool}: ${outcome.error.code} ${outcome.error.message}`);
    return outcome.result as Record<string, unknown>;
  };
  let n = 0;
  return {
    name,
    samples: [],
    async flow() {
      n += 1;
      const preview = await ok("ibkr_order_preview", {
        account_id: ACCOUNT,
        symbol: "AAPL",
        side: "buy",
        quantity: "1",
        order_type: "limit",
        limit_price: "252",
        time_in_force: "day",
      });
      const approval = await ok("ibkr_approvals_create", {
        account_id: ACCOUNT,
        preview_id: preview.preview_id,
      });
      await ok("ibkr_paper_order_submit", {
        account_id: ACCOUNT,
        approval_id: approval.approval_id,
        idempotency_key: `order-ab-${name}-${n}`,
      });
    },
    async close() {
      await gateway.close();
      sim.close();
    },
  };
}

/** The order-flow baseline on this checkout's client and simulator. */
function baselineSide(dir: string): Side {
  const sim = createSimulator({ pacing: "bench", startAt: START, seed: 1 });
  sim.control.setPrice("AAPL", 250);
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
  const before = BEFORE_PLACE.map((bytes) => "x".repeat(bytes));
  const after = AFTER_PLACE.map((bytes) => "x".repeat(bytes));
  const ticket = (cOID?: string) =>
    orderTicket(
      {
        role: "single",
        side: "buy",
        orderType: "limit",
        quantity: "1",
        limitPrice: "252",
        timeInForce: "day",
      },
      { accountId: ACCOUNT, conid: CONID, ...(cOID !== undefined ? { clientOrderId: cOID } : {}) },
    );
  let n = 0;
  return {
    name: "baseline",
    samples: [],
    async flow() {
      n += 1;
      await searchContracts(client.transport, { query: { symbol: "AAPL" } });
      await getMarketSnapshot(client.transport, {
        query: { conids: String(CONID), fields: QUOTE_FIELD_IDS.join(",") },
      });
      await whatIfOrder(client.transport, { path: { accountId: ACCOUNT }, body: { orders: [ticket()] } });
      for (const payload of before) insert.run(payload);
      await client.orders.submit({
        accountId: ACCOUNT,
        orders: [ticket(`ab-base-${n}`)],
        approvedQuestions: [],
        onRound: () => undefined,
      });
      for (const payload of after) insert.run(payload);
    },
    async close() {
      db.close();
      await client.close();
      sim.close();
    },
  };
}

const other = process.argv[2];
if (other === undefined) {
  process.stderr.write("usage: node bench/order-flow-ab.ts <other checkout>\n");
  process.exit(2);
}
const runs = Number(process.env.IBKR_AB_RUNS ?? 600);
const dir = mkdtempSync(join(tmpdir(), "ibkr-order-ab-"));
const storeDir = process.env.IBKR_AB_STORE_DIR
  ? mkdtempSync(join(process.env.IBKR_AB_STORE_DIR, "ibkr-order-ab-"))
  : dir;
const a = await gatewaySide(resolve(other), "A", storeDir);
const b = await gatewaySide(resolve(import.meta.dirname, ".."), "B", storeDir);
const baseline = baselineSide(dir);
const sides = [a, b, baseline];
try {
  for (let i = 0; i < WARMUP; i += 1) for (const side of sides) await side.flow();
  // Every order of the three in turn, so each side follows each other side (and itself) equally often: a
  // flow runs faster right after its own code ran, and slower right after the baseline's syncs.
  const orders = [
    [a, b, baseline],
    [a, baseline, b],
    [b, a, baseline],
    [b, baseline, a],
    [baseline, a, b],
    [baseline, b, a],
  ];
  for (let i = 0; i < runs; i += 1) {
    for (const side of orders[i % orders.length] as Side[]) {
      const start = performance.now();
      await side.flow();
      side.samples.push(performance.now() - start);
    }
  }
  const base = median(baseline.samples);
  const paired = a.samples.map((ms, i) => ms - (b.samples[i] as number));
  for (const side of [a, b]) {
    const ms = median(side.samples);
    process.stdout.write(
      `${side.name}: median ${ms.toFixed(3)} ms, ${(ms / base).toFixed(3)}x the baseline\n`,
    );
  }
  process.stdout.write(`baseline: median ${base.toFixed(3)} ms\n`);
  process.stdout.write(
    `A - B, paired by round: median ${median(paired).toFixed(3)} ms over ${runs} rounds (positive: B is faster)\n`,
  );
} finally {
  for (const side of sides) await side.close();
  rmSync(dir, { recursive: true, force: true });
  if (storeDir !== dir) rmSync(storeDir, { recursive: true, force: true });
}
