// Paired A/B of the order flow: two checkouts of the gateway in one process, taking turns flow by flow, so a
// change of a few percent shows through the machine's noise (two runs of `npm run bench` differ by more
// than that). Each side has its own simulator and store; a third turn runs the order-flow baseline (the
// same broker calls, FULL-sync inserts of the sizes and in the places of this checkout's commits), so each
// side's ratio is printed too. Not part of `npm run bench`: it compares code, it has no target.
//
//   node bench/order-flow-ab.ts <other checkout>        # A = the other checkout, B = this one
//   IBKR_AB_RUNS=1000 IBKR_AB_STORE_DIR=/dev/shm node bench/order-flow-ab.ts ../main-before
//
// The other checkout needs its dependencies (a symlinked node_modules will do). IBKR_AB_STORE_DIR puts both
// gateways' stores there (tmpfs takes the disk out, to compare CPU work alone); the baseline stays in the
// system temporary directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { Simulator } from "../src/simulator/index.ts";
import { createSimulator } from "../src/simulator/index.ts";
import { median } from "./harness.ts";
import {
  type ComposeGateway,
  type FlowShape,
  measureOrderFlow,
  orderFlowBaseline,
  orderFlowGateway,
  orderFlowOf,
  PRICE,
  START,
} from "./support/order-flow.ts";

const WARMUP = 40;

interface Side {
  readonly name: string;
  readonly samples: number[];
  flow(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One checkout's gateway on its own simulator and store, loaded from that checkout's files, with the shape
 * of its flow (broker calls and commits), counted first on a gateway of its own: both sides get that head
 * start alike, and the baseline follows side B's commits.
 */
async function gatewaySide(
  checkout: string,
  name: string,
  storeDir: string,
): Promise<Side & { shape: FlowShape }> {
  const { composeGateway } = (await import(join(checkout, "src/gateway/index.ts"))) as {
    composeGateway: ComposeGateway;
  };
  const simulators = (await import(join(checkout, "src/simulator/index.ts"))) as {
    createSimulator: typeof createSimulator;
  };
  const sim: Simulator = simulators.createSimulator({ pacing: "bench", startAt: START, seed: 1 });
  sim.control.setPrice("AAPL", PRICE);
  const shape = await measureOrderFlow(
    composeGateway,
    sim,
    join(storeDir, `${name}-calibration`),
    async () => undefined,
  );
  const gateway = await orderFlowGateway(composeGateway, sim, join(storeDir, name));
  const flow = orderFlowOf(gateway, `ab-${name}`);
  return {
    name,
    shape,
    samples: [],
    flow,
    async close() {
      await gateway.close();
      sim.close();
    },
  };
}

/** The order-flow baseline on this checkout's client and simulator, writing as a flow of `shape` commits. */
function baselineSide(dir: string, shape: FlowShape): Side {
  const sim = createSimulator({ pacing: "bench", startAt: START, seed: 1 });
  sim.control.setPrice("AAPL", PRICE);
  const baseline = orderFlowBaseline(sim, dir);
  baseline.follow(shape);
  return {
    name: "baseline",
    samples: [],
    flow: () => baseline.run(),
    async close() {
      await baseline.close();
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
const baseline = baselineSide(dir, b.shape);
for (const side of [a, b]) {
  process.stdout.write(
    `${side.name}: ${side.shape.calls.length} broker calls, commits of ${side.shape.sizes.join(", ")} bytes after call no. ${side.shape.positions.join(", ")}\n`,
  );
}
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
