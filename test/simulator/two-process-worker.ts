// Run as a separate process by two-processes.test.ts: one CPAPI client sharing the coordination file with
// the other worker. "order" places one order through a three-round reply chain; "reads" fires a burst of
// reads at the same time. Prints one JSON line with its outcome.
import { searchContracts } from "../../generated/cpapi/client.gen.ts";
import { createCpapiClient } from "../../src/cpapi/index.ts";

const [baseUrl, caFile, coordinationPath, role, priceText] = process.argv.slice(2);
if (!baseUrl || !caFile || !coordinationPath || !role) {
  throw new Error(
    "usage: two-process-worker.ts <baseUrl> <caFile> <coordination.sqlite> order|reads [price]",
  );
}
const client = createCpapiClient({ baseUrl, caFile, coordinationPath });
process.stdout.write("ready\n");
await new Promise<void>((go) => process.stdin.once("data", () => go()));
if (role === "reads") {
  const results = await Promise.allSettled(
    Array.from({ length: 30 }, (_, i) => searchContracts(client.transport, { query: { symbol: `R${i}` } })),
  );
  process.stdout.write(
    `${JSON.stringify(results.map((r) => (r.status === "fulfilled" ? "ok" : (r.reason as { code: string }).code)))}\n`,
  );
} else {
  // Let the other process's burst get going first, so an unguarded chain would be interleaved.
  await new Promise((resolve) => setTimeout(resolve, 400));
  try {
    const result = await client.orders.submit({
      accountId: "DU1234567",
      orders: [
        { conid: 265598, orderType: "LMT", side: "BUY", tif: "DAY", quantity: 1, price: Number(priceText) },
      ],
    });
    process.stdout.write(
      `${JSON.stringify({ ok: true, rounds: result.answered.length, orders: result.orders.length })}\n`,
    );
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, code: (error as { code?: string }).code })}\n`);
  }
}
await client.close();
