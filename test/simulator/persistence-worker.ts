// Run as a separate process by persistence-processes.test.ts: one persisted simulator on a shared state file
// with a CPAPI client over its in-process dispatcher, exactly as every CLI command builds its broker.
//   place <cOID>          places a resting limit order (1% under the market) and prints its id
//   observe <cOID>        finds that order by its cOID in the live orders, reads its status, lets the market
//                         reach it (control API: price, then one minute) and reads status and position again
//   burst <prefix> <n>    prints "ready", waits for "go" on stdin, then places n orders as fast as it can
// The last line on stdout is one JSON object with the outcome.
import {
  getLiveOrders,
  getOrderStatus,
  getPortfolioAccounts,
  getPositions,
} from "../../generated/cpapi/client.gen.ts";
import { createCpapiClient } from "../../src/cpapi/index.ts";
import { createSimulator, STOCKS } from "../../src/simulator/index.ts";

const ACCOUNT = "DU1234567";
const AAPL = STOCKS.find((s) => s.symbol === "AAPL") as (typeof STOCKS)[number];
/** Tuesday 2026-12-01 10:00 New York: where a fresh state's clock starts. */
const MARKET_OPEN = Date.UTC(2026, 11, 1, 15, 0, 0);

const [statePath, role, ...rest] = process.argv.slice(2);
if (!statePath || !role)
  throw new Error("usage: persistence-worker.ts <state.sqlite> place|observe|burst ...");

const sim = createSimulator({ statePath, seed: 3, startAt: MARKET_OPEN, pacing: "bench" });
const client = createCpapiClient({
  baseUrl: "https://localhost:5055/v1/api",
  dispatcher: sim.dispatcher(),
  pacingProfile: "bench",
});

function limitUnderMarket(): number {
  return Math.round(sim.state.book(AAPL, sim.clock.now()).last * 0.99 * 100) / 100;
}

async function place(coid: string): Promise<string> {
  const result = await client.orders.submit({
    accountId: ACCOUNT,
    orders: [
      {
        conid: AAPL.conid,
        side: "BUY",
        orderType: "LMT",
        tif: "GTC",
        quantity: 3,
        price: limitUnderMarket(),
        cOID: coid,
      },
    ],
  });
  return result.orders[0]?.orderId ?? "none";
}

async function status(orderId: number): Promise<string> {
  const answer = await getOrderStatus(client.transport, { path: { orderId } });
  return String((answer.body as { order_status?: unknown }).order_status);
}

async function observe(coid: string): Promise<Record<string, unknown>> {
  const list = await getLiveOrders(client.transport);
  const row = (list.body as { orders: Record<string, unknown>[] }).orders.find((o) => o.order_ref === coid);
  if (row === undefined) return { listed: null };
  const orderId = Number(row.orderId);
  const before = await status(orderId);
  const limit = Number(row.price);
  sim.control.setPrice("AAPL", limit * 0.98);
  sim.control.advance(60_000);
  const after = await status(orderId);
  await getPortfolioAccounts(client.transport);
  const positions = await getPositions(client.transport, { path: { accountId: ACCOUNT, pageId: 0 } });
  const aapl = (positions.body as { conid: number; position: number }[]).find((p) => p.conid === AAPL.conid);
  return {
    listed: { order_id: orderId, order_ref: row.order_ref, status: row.status },
    status_before: before,
    status_after: after,
    position: aapl?.position ?? null,
  };
}

async function burst(prefix: string, count: number): Promise<Record<string, unknown>> {
  process.stdout.write("ready\n");
  await new Promise<void>((go) => process.stdin.once("data", () => go()));
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) ids.push(await place(`${prefix}-${String(i).padStart(3, "0")}`));
  return { ids };
}

let outcome: Record<string, unknown>;
try {
  if (role === "place") outcome = { order_id: await place(String(rest[0])) };
  else if (role === "observe") outcome = await observe(String(rest[0]));
  else if (role === "burst") outcome = await burst(String(rest[0]), Number(rest[1]));
  else throw new Error(`unknown role ${role}`);
} catch (error) {
  outcome = { error: (error as { code?: string }).code ?? (error as Error).message };
}
process.stdout.write(`${JSON.stringify(outcome)}\n`);
await client.close();
sim.close();
