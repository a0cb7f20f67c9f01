// Run as a separate process by multiprocess.test.ts: one CPAPI client sharing the coordination file with
// the other worker; fires its reads together when the test says go, prints one JSON line of results.
import { searchContracts } from "../../../generated/cpapi/client.gen.ts";
import { createCpapiClient } from "../../../src/cpapi/index.ts";

const [baseUrl, caFile, coordinationPath, label, countText] = process.argv.slice(2);
if (!baseUrl || !caFile || !coordinationPath || !label || !countText) {
  throw new Error("usage: pacer-worker.ts <baseUrl> <caFile> <coordination.sqlite> <label> <count>");
}
const client = createCpapiClient({ baseUrl, caFile, coordinationPath });
process.stdout.write("ready\n");
await new Promise<void>((go) => process.stdin.once("data", () => go()));
const results = await Promise.allSettled(
  Array.from({ length: Number(countText) }, (_, i) =>
    searchContracts(client.transport, { query: { symbol: `${label}${i}` } }),
  ),
);
process.stdout.write(
  `${JSON.stringify(results.map((r) => (r.status === "fulfilled" ? "ok" : (r.reason as { code: string }).code)))}\n`,
);
await client.close();
