// Pre-flights the contract asks for: /iserver/accounts before other /iserver calls, /portfolio/accounts before
// other /portfolio calls, the snapshot warm-up and the empty first order list.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  getAccountSummary,
  getContractInfo,
  getLiveOrders,
  getMarketSnapshot,
  getPositions,
  getStocksBySymbol,
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

const gateways: FakeGateway[] = [];
const clients: CpapiClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const g of gateways.splice(0)) await g.close();
});

function setup(handler: (r: FakeRequest) => FakeResponse | undefined = () => undefined, extra = {}) {
  const time: VirtualTime = virtualTime();
  const gateway = fakeGateway((r) => handler(r) ?? defaultAnswer(r.op));
  gateways.push(gateway);
  const client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time, ...extra });
  clients.push(client);
  return { time, gateway, client, t: client.transport };
}

const ops = (g: FakeGateway) => g.calls.map((c) => c.op);

describe("account pre-flights", () => {
  it("calls /iserver/accounts once before the first /iserver call, shared by concurrent calls", async () => {
    const { gateway, t } = setup();
    await Promise.all([
      searchContracts(t, { query: { symbol: "AAPL" } }),
      getContractInfo(t, { path: { conid: 265598 } }),
    ]);
    await searchContracts(t, { query: { symbol: "MSFT" } });
    expect(ops(gateway)[0]).toBe("getBrokerageAccounts");
    expect(gateway.count("getBrokerageAccounts")).toBe(1);
  });

  it("calls /portfolio/accounts before /portfolio calls and nothing before /trsrv", async () => {
    const { gateway, t } = setup();
    await getStocksBySymbol(t, { query: { symbols: "AAPL" } });
    expect(ops(gateway)).toEqual(["getStocksBySymbol"]);
    await getPositions(t, { path: { accountId: "DU1234567", pageId: 0 } });
    await getAccountSummary(t, { path: { accountId: "DU1234567" } });
    expect(ops(gateway)).toEqual([
      "getStocksBySymbol",
      "getPortfolioAccounts",
      "getPositions",
      "getAccountSummary",
    ]);
  });

  it("runs the pre-flight again after the session was lost", async () => {
    let down = false;
    const { gateway, t, time } = setup((r) => {
      if (down && r.op === "getContractInfo") return { status: 401, text: "" };
      return undefined;
    });
    await getContractInfo(t, { path: { conid: 1 } });
    down = true;
    expect((await caught(getContractInfo(t, { path: { conid: 2 } }))).code).toBe("BROKER_SESSION_REQUIRED");
    down = false;
    time.clock.advance(5_000);
    await getContractInfo(t, { path: { conid: 3 } });
    expect(gateway.count("getBrokerageAccounts")).toBe(2);
  });

  it("shares a done pre-flight with other processes through the coordination file", async () => {
    const coordinationPath = join(mkdtempSync(join(tmpdir(), "cpapi-pf-")), "c.sqlite");
    const first = setup(undefined, { coordinationPath });
    await searchContracts(first.t, { query: { symbol: "AAPL" } });
    const second = setup(undefined, { coordinationPath });
    await searchContracts(second.t, { query: { symbol: "AAPL" } });
    expect(second.gateway.count("getBrokerageAccounts")).toBe(0);
    expect(first.gateway.count("getBrokerageAccounts")).toBe(1);
  });
});

describe("snapshot pre-flight", () => {
  const empty = (r: FakeRequest): FakeResponse => ({
    body: (r.query.get("conids") ?? "").split(",").map((c) => ({ conid: Number(c), conidEx: c })),
  });
  const full = (r: FakeRequest): FakeResponse => ({
    body: (r.query.get("conids") ?? "")
      .split(",")
      .map((c) => ({ conid: Number(c), conidEx: c, "31": "1.00" })),
  });

  it("asks again after the empty first answer, waiting on the injected sleep", async () => {
    let n = 0;
    const { gateway, t, time } = setup((r) => {
      if (r.op !== "getMarketSnapshot") return undefined;
      n += 1;
      return n === 1 ? fixture("getMarketSnapshot.preflight") : full(r);
    });
    const reply = await getMarketSnapshot(t, { query: { conids: "265598", fields: "31" } });
    expect(reply.body[0]?.["31"]).toBe("1.00");
    expect(gateway.count("getMarketSnapshot")).toBe(2);
    expect(time.slept).toContain(500);
  });

  it("stops after 3 tries (about 1.5 s) and returns what it has", async () => {
    const { gateway, t, time } = setup((r) => (r.op === "getMarketSnapshot" ? empty(r) : undefined));
    const startedAt = time.clock.now();
    const reply = await getMarketSnapshot(t, { query: { conids: "265598", fields: "31" } });
    expect(reply.body).toEqual([{ conid: 265598, conidEx: "265598" }]);
    expect(gateway.count("getMarketSnapshot")).toBe(3);
    expect(time.clock.now() - startedAt).toBeLessThanOrEqual(1_500);
  });

  it("keeps asking while any requested conid is still empty", async () => {
    let n = 0;
    const { gateway, t } = setup((r) => {
      if (r.op !== "getMarketSnapshot") return undefined;
      n += 1;
      const rows = full(r).body as Record<string, unknown>[];
      return { body: n === 1 ? [rows[0], { conid: 8314, conidEx: "8314" }] : rows };
    });
    await getMarketSnapshot(t, { query: { conids: "265598,8314", fields: "31" } });
    expect(gateway.count("getMarketSnapshot")).toBe(2);
  });
});

describe("empty first order list", () => {
  it("asks again once the pacing allows (1 per 5 s)", async () => {
    let n = 0;
    const at: number[] = [];
    const { t, time } = setup((r) => {
      if (r.op !== "getLiveOrders") return undefined;
      n += 1;
      at.push(time.clock.now());
      return n === 1 ? fixture("getLiveOrders.first-call-empty") : undefined;
    });
    const reply = await getLiveOrders(t);
    expect(reply.body.snapshot).toBe(true);
    expect(reply.body.orders.length).toBeGreaterThan(0);
    expect(at).toHaveLength(2);
    expect((at[1] as number) - (at[0] as number)).toBeGreaterThan(5_000);
  });

  it("does not ask again for force=true (that answer is empty by design)", async () => {
    const { gateway, t } = setup((r) =>
      r.op === "getLiveOrders" ? fixture("getLiveOrders.first-call-empty") : undefined,
    );
    await getLiveOrders(t, { query: { force: true } });
    expect(gateway.count("getLiveOrders")).toBe(1);
  });
});
