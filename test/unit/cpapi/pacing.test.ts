// Pacing with a virtual clock against a gateway that enforces the real limits: bursts are queued (never a
// 429), the allowed rate is used, identical reads coalesce, and a 429 opens a back-off instead of a storm.
import { afterEach, describe, expect, it } from "vitest";
import {
  getContractInfo,
  getHistory,
  getLiveOrders,
  getMarketSnapshot,
  getPositions,
  getScannerParams,
  getTrades,
  placeOrders,
  searchContracts,
} from "../../../generated/cpapi/client.gen.ts";
import { type CpapiClient, createCpapiClient } from "../../../src/cpapi/index.ts";
import {
  BASE_URL,
  caught,
  defaultAnswer,
  type FakeGateway,
  type FakeRequest,
  type FakeResponse,
  fakeGateway,
  fixture,
  type VirtualTime,
  virtualTime,
} from "./helpers.ts";
import { countingGateway } from "./limits.ts";

let gateway: FakeGateway;
let client: CpapiClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await gateway?.close();
});

/** Virtual sleep that lets in-flight replies land before time moves on, like a fast local network. */
const settledTime = (): VirtualTime => virtualTime({ settleTicks: 30 });

function snapshotRows(request: FakeRequest, now: number): FakeResponse {
  const conids = (request.query.get("conids") ?? "").split(",");
  return {
    body: conids.map((conid) => ({
      conid: Number(conid),
      conidEx: conid,
      "31": "100.50",
      "84": "100.40",
      "86": "100.60",
      "6509": "RpB",
      _updated: now,
      server_id: "q0",
      "6119": "q0",
    })),
  };
}

describe("a burst of 1,000 mixed reads", () => {
  it("gets zero 429s from a gateway enforcing the real limits and uses at least 90% of the allowed rate", async () => {
    const time = settledTime();
    const limits = countingGateway(time.clock);
    gateway = fakeGateway((request) =>
      limits.handle(request, () =>
        request.op === "getMarketSnapshot"
          ? snapshotRows(request, time.clock.now())
          : defaultAnswer(request.op),
      ),
    );
    client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
    const t = client.transport;
    // A realistic mix: each kind of read spread evenly over the burst (the limited ones too).
    const kinds: [number, (i: number) => Promise<unknown>][] = [
      [680, (i) => searchContracts(t, { query: { symbol: `S${i}` } })],
      [150, (i) => getMarketSnapshot(t, { query: { conids: String(1000 + i), fields: "31,84,86" } })],
      [100, (i) => getContractInfo(t, { path: { conid: 2000 + i } })],
      [15, (i) => getLiveOrders(t, { query: { filters: `f${i}` } })],
      [7, (i) => getTrades(t, { query: { days: i + 1 } })],
      [20, (i) => getHistory(t, { query: { conid: 3000 + i, period: "1d", bar: "1h" } })],
      [28, (i) => getPositions(t, { path: { accountId: "DU1234567", pageId: i } })],
    ];
    const schedule = kinds
      .flatMap(([count, start]) =>
        Array.from({ length: count }, (_, i) => ({ at: (i + 0.5) / count, i, start })),
      )
      .sort((a, b) => a.at - b.at);
    const calls = schedule.map(({ i, start }) => start(i));
    expect(calls).toHaveLength(1000);
    const results = await Promise.allSettled(calls);

    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(limits.rejected()).toBe(0);
    // 1,000 reads plus the two account pre-flights, each sent once.
    expect(limits.times).toHaveLength(1002);
    const first = limits.times[0] as number;
    const last = limits.times[limits.times.length - 1] as number;
    const allowed = ((last - first) / 1_000 + 1) * 10;
    expect(limits.times.length / allowed).toBeGreaterThanOrEqual(0.9);
  });

  it("runs history at its concurrency limit (5), not beyond", async () => {
    const time = settledTime();
    const limits = countingGateway(time.clock, { historyTicks: 40 });
    gateway = fakeGateway((request) => limits.handle(request, () => defaultAnswer(request.op)));
    client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
    const t = client.transport;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        getHistory(t, { query: { conid: 3000 + i, period: "1d", bar: "1h" } }),
      ),
    );
    expect(limits.rejected()).toBe(0);
    expect(gateway.count("getHistory")).toBe(20);
    expect(limits.maxHistoryConcurrency()).toBe(5);
  });

  it("spaces the per-endpoint limits (1 per 5 s for the order list)", async () => {
    const time = settledTime();
    const limits = countingGateway(time.clock);
    gateway = fakeGateway((request) => limits.handle(request, () => defaultAnswer(request.op)));
    client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
    const t = client.transport;
    await Promise.all([0, 1, 2, 3].map((i) => getLiveOrders(t, { query: { filters: `f${i}` } })));
    const at = gateway.calls
      .map((c, i) => ({ op: c.op, at: limits.times[i] as number }))
      .filter((c) => c.op === "getLiveOrders")
      .map((c) => c.at);
    expect(at).toHaveLength(4);
    for (let i = 1; i < at.length; i += 1)
      expect((at[i] as number) - (at[i - 1] as number)).toBeGreaterThan(5_000);
    expect(limits.rejected()).toBe(0);
  });

  it("lifts every limit in the bench profile", async () => {
    const time = virtualTime();
    gateway = fakeGateway();
    client = createCpapiClient({
      baseUrl: BASE_URL,
      dispatcher: gateway.agent,
      pacingProfile: "bench",
      ...time,
    });
    const t = client.transport;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => getLiveOrders(t, { query: { filters: `f${i}` } })),
    );
    expect(gateway.count("getLiveOrders")).toBe(50);
    expect(time.slept).toEqual([]);
  });
});

describe("rarely allowed endpoints", () => {
  it("answer BROKER_RATE_LIMITED with the wait instead of hanging 15 minutes in the queue", async () => {
    const time = virtualTime();
    gateway = fakeGateway((r) =>
      r.op === "getScannerParams"
        ? { body: { scan_type_list: [], instrument_list: [], filter_list: [], location_tree: [] } }
        : defaultAnswer(r.op),
    );
    client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
    await getScannerParams(client.transport);
    const error = await caught(getScannerParams(client.transport));
    expect(error.code).toBe("BROKER_RATE_LIMITED");
    expect(error.details).toMatchObject({ reason: "endpoint_pacing", retry_after_seconds: 901 });
    expect(gateway.count("getScannerParams")).toBe(1);
    time.clock.advance(901_000);
    await getScannerParams(client.transport);
    expect(gateway.count("getScannerParams")).toBe(2);
  });
});

describe("coalescing", () => {
  it("serves 100 concurrent identical snapshot reads with one upstream request", async () => {
    const time = virtualTime();
    gateway = fakeGateway((r) => (r.op === "getMarketSnapshot" ? snapshotRows(r, 0) : defaultAnswer(r.op)));
    client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
    const t = client.transport;
    const replies = await Promise.all(
      Array.from({ length: 100 }, () =>
        getMarketSnapshot(t, { query: { conids: "265598", fields: "31,84,86" } }),
      ),
    );
    expect(gateway.count("getMarketSnapshot")).toBe(1);
    expect(gateway.count("getBrokerageAccounts")).toBe(1);
    expect(new Set(replies.map((r) => r.body[0]?.["31"]))).toEqual(new Set(["100.50"]));
  });

  it("shares the snapshot pre-flight too: a cold conid costs two upstream requests for 100 callers", async () => {
    const time = virtualTime();
    let served = 0;
    gateway = fakeGateway((r) => {
      if (r.op !== "getMarketSnapshot") return defaultAnswer(r.op);
      served += 1;
      return served === 1 ? fixture("getMarketSnapshot.preflight") : snapshotRows(r, 0);
    });
    client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
    const t = client.transport;
    await Promise.all(
      Array.from({ length: 100 }, () => getMarketSnapshot(t, { query: { conids: "265598", fields: "31" } })),
    );
    expect(gateway.count("getMarketSnapshot")).toBe(2);
  });

  it("does not coalesce different queries, fresh reads or writes", async () => {
    const time = virtualTime();
    gateway = fakeGateway((r) => (r.op === "getMarketSnapshot" ? snapshotRows(r, 0) : defaultAnswer(r.op)));
    client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
    const t = client.transport;
    await Promise.all([
      getMarketSnapshot(t, { query: { conids: "1", fields: "31" } }),
      getMarketSnapshot(t, { query: { conids: "2", fields: "31" } }),
      getMarketSnapshot(t, { query: { conids: "1", fields: "31" } }, { fresh: true }),
    ]);
    expect(gateway.count("getMarketSnapshot")).toBe(3);
    const order = { conid: 1, orderType: "LMT", side: "BUY", tif: "DAY", quantity: 1, price: 1 } as const;
    await Promise.all([
      placeOrders(t, { path: { accountId: "DU1" }, body: { orders: [order] } }),
      placeOrders(t, { path: { accountId: "DU1" }, body: { orders: [order] } }),
    ]);
    expect(gateway.count("placeOrders")).toBe(2);
  });
});

describe("429 back-off", () => {
  function backoffClient(answer429: (request: FakeRequest) => boolean) {
    const time = virtualTime();
    gateway = fakeGateway((r) =>
      answer429(r) ? { status: 429, body: { error: "Too Many Requests" } } : defaultAnswer(r.op),
    );
    client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
    return { time, t: client.transport };
  }

  it("surfaces BROKER_RATE_LIMITED with a retry hint and sends nothing until the probe time", async () => {
    let limited = true;
    const { time, t } = backoffClient((r) => limited && r.op === "searchContracts");
    const first = await caught(searchContracts(t, { query: { symbol: "A" } }));
    expect(first.code).toBe("BROKER_RATE_LIMITED");
    expect((first.details as { retry_after_seconds: number }).retry_after_seconds).toBe(60);
    const sent = gateway.calls.length;

    time.clock.advance(30_000);
    const during = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => searchContracts(t, { query: { symbol: `B${i}` } })),
    );
    expect(
      during.every(
        (r) => r.status === "rejected" && (r.reason as { code: string }).code === "BROKER_RATE_LIMITED",
      ),
    ).toBe(true);
    expect(
      ((during[0] as PromiseRejectedResult).reason.details as { retry_after_seconds: number })
        .retry_after_seconds,
    ).toBe(30);
    expect(gateway.calls.length).toBe(sent);

    // After the probe time one request probes; it succeeds, so the back-off ends.
    time.clock.advance(30_000);
    limited = false;
    await searchContracts(t, { query: { symbol: "C" } });
    await searchContracts(t, { query: { symbol: "D" } });
    expect(gateway.calls.length).toBe(sent + 2);
  });

  it("waits out the whole penalty box when the early probe is limited too", async () => {
    const { time, t } = backoffClient((r) => r.op === "searchContracts");
    await caught(searchContracts(t, { query: { symbol: "A" } }));
    time.clock.advance(60_000);
    const probe = await caught(searchContracts(t, { query: { symbol: "B" } }));
    expect(probe.code).toBe("BROKER_RATE_LIMITED");
    // 10 minutes from the first 429, minus the minute already waited.
    expect((probe.details as { retry_after_seconds: number }).retry_after_seconds).toBe(540);
    const sent = gateway.calls.length;
    time.clock.advance(500_000);
    expect((await caught(searchContracts(t, { query: { symbol: "C" } }))).code).toBe("BROKER_RATE_LIMITED");
    expect(gateway.calls.length).toBe(sent);
  });

  it("never retries a 429 by itself", async () => {
    const { t } = backoffClient((r) => r.op === "getTrades");
    await caught(getTrades(t));
    expect(gateway.count("getTrades")).toBe(1);
  });
});
