// CPAPI client overhead: a typed call through the client (coalescing, session gate, pre-flight bookkeeping,
// pacing queue and coordination transaction, error mapping, contract validation) against a bare undici.request
// of the same URL, both over real HTTPS to the in-process simulator with its limits lifted, each with its own
// keep-alive Agent trusting the simulator's certificate. The bare request reads and parses the body too, so
// the difference is what the client adds. Issue target: at most 1.3x the bare request.
import { Agent, request } from "undici";
import { getMarketSnapshot, getTickle } from "../generated/cpapi/client.gen.ts";
import { createCpapiClient } from "../src/cpapi/index.ts";
import { createSimulator } from "../src/simulator/index.ts";
import { interleave, report } from "./harness.ts";

const RUNS = 400;
const WARMUP = 50;
const SNAPSHOT_QUERY = { conids: "265598", fields: "31,84,86" } as const;

export async function run(): Promise<boolean> {
  const sim = createSimulator({ pacing: "bench" });
  const server = await sim.serve({ port: 0 });
  const client = createCpapiClient({
    baseUrl: server.baseUrl,
    caPem: server.certificatePem,
    pacingProfile: "bench",
  });
  const agent = new Agent({
    connect: { ca: server.certificatePem },
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 8,
  });
  const bare = (path: string) => async () => {
    const response = await request(`${server.baseUrl}${path}`, {
      dispatcher: agent,
      headers: { accept: "application/json" },
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${path} answered ${response.statusCode}`);
    return JSON.parse(text) as unknown;
  };

  let met = true;
  try {
    // The /iserver pre-flight and the snapshot pre-flight happen once, outside the measurement.
    const first = await getMarketSnapshot(client.transport, { query: SNAPSHOT_QUERY });
    if (!Array.isArray(first.body)) throw new Error("snapshot pre-flight failed");

    const tickle = await interleave(
      { name: "getTickle(client.transport)", run: () => getTickle(client.transport) },
      { name: "undici.request GET /tickle", run: bare("/tickle") },
      { runs: RUNS, warmup: WARMUP },
    );
    met =
      report({
        title: "CPAPI client: one typed call vs a bare undici request (GET /tickle; target <= 1.3x)",
        ...tickle,
        maxRatio: 1.3,
        unit: "ms",
        notes: [
          `${RUNS} sequential calls each after ${WARMUP} warm-up rounds; HTTPS to the simulator on loopback.`,
        ],
      }) && met;

    const snapshot = await interleave(
      {
        name: "getMarketSnapshot(client.transport)",
        run: () => getMarketSnapshot(client.transport, { query: SNAPSHOT_QUERY }),
      },
      {
        name: "undici.request GET /iserver/marketdata/snapshot",
        run: bare(
          `/iserver/marketdata/snapshot?conids=${SNAPSHOT_QUERY.conids}&fields=${SNAPSHOT_QUERY.fields}`,
        ),
      },
      { runs: RUNS, warmup: WARMUP },
    );
    met =
      report({
        title:
          "CPAPI client: snapshot of one conid after its pre-flight vs a bare undici request (target <= 1.3x)",
        ...snapshot,
        maxRatio: 1.3,
        unit: "ms",
      }) && met;
  } finally {
    await client.close();
    await agent.close();
    await server.close();
  }
  return met;
}
