// Every broker error shape maps to its catalogue code; the broker's text stays in details.broker_message and
// never in the message a person or agent reads.
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  cancelOrder,
  getAccountLedger,
  getAccountSummary,
  getContractInfo,
  getExchangeRate,
  getFundamentalsSummary,
  getLiveOrders,
  getOrderStatus,
  getPositions,
  getTrades,
  placeOrders,
  searchContracts,
  whatIfOrder,
} from "../../../generated/cpapi/client.gen.ts";
import { createCpapiClient, replySimulated } from "../../../src/cpapi/index.ts";
import {
  BASE_URL,
  caught,
  defaultAnswer,
  type FakeGateway,
  type FakeRequest,
  type FakeResponse,
  fakeGateway,
  fixture,
  virtualTime,
} from "./helpers.ts";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

function clientWith(overrides: Record<string, (r: FakeRequest) => FakeResponse>, extra = {}) {
  gateway = fakeGateway((r) => overrides[r.op]?.(r) ?? defaultAnswer(r.op));
  return createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...virtualTime(), ...extra });
}

const ORDER = { conid: 265598, orderType: "LMT", side: "BUY", tif: "DAY", quantity: 1, price: 100 } as const;

describe("broker error bodies", () => {
  it.each([
    {
      name: "401 on a portfolio read",
      op: "getPositions",
      answer: { status: 401, body: { error: "no bridge", statusCode: 401 } },
      call: (c: ReturnType<typeof clientWith>) =>
        getPositions(c.transport, { path: { accountId: "DU1234567", pageId: 0 } }),
      code: "BROKER_SESSION_REQUIRED",
    },
    {
      name: "400 Bad Request: no bridge",
      op: "getContractInfo",
      answer: { status: 400, body: { error: "Bad Request: no bridge", statusCode: 400 } },
      call: (c: ReturnType<typeof clientWith>) => getContractInfo(c.transport, { path: { conid: 265598 } }),
      code: "BROKER_SESSION_REQUIRED",
    },
    {
      name: "200 {error: no bridge}",
      op: "searchContracts",
      answer: { status: 200, body: { error: "no bridge" } },
      call: (c: ReturnType<typeof clientWith>) => searchContracts(c.transport, { query: { symbol: "AAPL" } }),
      code: "BROKER_SESSION_REQUIRED",
    },
    {
      name: "503 backend timeout",
      op: "getAccountSummary",
      answer: {
        status: 503,
        body: { error: "Details currently unavailable. Please try again later.", statusCode: 503 },
      },
      call: (c: ReturnType<typeof clientWith>) =>
        getAccountSummary(c.transport, { path: { accountId: "DU1" } }),
      code: "BROKER_BACKEND_UNAVAILABLE",
    },
    {
      name: "503 on order status",
      op: "getOrderStatus",
      answer: { status: 503, body: { error: "Service Unavailable", statusCode: 503 } },
      call: (c: ReturnType<typeof clientWith>) => getOrderStatus(c.transport, { path: { orderId: 1 } }),
      code: "ORDER_NOT_FOUND",
    },
    {
      name: "200 unknown order on cancel",
      op: "cancelOrder",
      answer: fixture("cancelOrder.unknown"),
      call: (c: ReturnType<typeof clientWith>) =>
        cancelOrder(c.transport, { path: { accountId: "DU1", orderId: 1370099999 } }),
      code: "ORDER_NOT_FOUND",
    },
    {
      name: "200 cancel refused",
      op: "cancelOrder",
      answer: { status: 200, body: { error: "Order cannot be cancelled" } },
      call: (c: ReturnType<typeof clientWith>) =>
        cancelOrder(c.transport, { path: { accountId: "DU1", orderId: 1 } }),
      code: "BROKER_ORDER_REJECTED",
    },
    {
      name: "200 what-if error object",
      op: "whatIfOrder",
      answer: fixture("whatIfOrder.error"),
      call: (c: ReturnType<typeof clientWith>) =>
        whatIfOrder(c.transport, { path: { accountId: "DU1" }, body: { orders: [ORDER] } }),
      code: "BROKER_ORDER_REJECTED",
    },
    {
      name: "500 plain-text Internal Server Error",
      op: "getTrades",
      answer: { status: 500, text: "Internal Server Error" },
      call: (c: ReturnType<typeof clientWith>) => getTrades(c.transport),
      code: "BROKER_BACKEND_UNAVAILABLE",
    },
    {
      name: "400 Bad Request: accountId needed",
      op: "getAccountSummary",
      answer: { status: 400, body: { error: "Bad Request: accountId needed", statusCode: 400 } },
      call: (c: ReturnType<typeof clientWith>) =>
        getAccountSummary(c.transport, { path: { accountId: "DU1" } }),
      code: "INPUT_INVALID_ARGUMENT",
    },
    {
      name: "404 on an undocumented endpoint",
      op: "getFundamentalsSummary",
      answer: { status: 404, text: "Not Found" },
      call: (c: ReturnType<typeof clientWith>) => getFundamentalsSummary(c.transport, { path: { conid: 1 } }),
      code: "BROKER_CAPABILITY_UNAVAILABLE",
    },
    {
      name: "200 error object on a read",
      op: "getContractInfo",
      answer: { status: 200, body: { error: "contract not available" } },
      call: (c: ReturnType<typeof clientWith>) => getContractInfo(c.transport, { path: { conid: 1 } }),
      code: "BROKER_RESPONSE_INVALID",
    },
    {
      name: "500 invalid order content",
      op: "placeOrders",
      answer: { status: 500, body: { error: "invalid order" } },
      call: (c: ReturnType<typeof clientWith>) =>
        placeOrders(c.transport, { path: { accountId: "DU1" }, body: { orders: [ORDER] } }),
      code: "BROKER_ORDER_REJECTED",
    },
    {
      name: "503 on an order POST",
      op: "placeOrders",
      answer: { status: 503, body: { error: "timeout", statusCode: 503 } },
      call: (c: ReturnType<typeof clientWith>) =>
        placeOrders(c.transport, { path: { accountId: "DU1" }, body: { orders: [ORDER] } }),
      code: "ORDER_OUTCOME_UNCERTAIN",
    },
  ])("$name -> $code", async ({ op, answer, call, code }) => {
    const client = clientWith({ [op]: () => answer });
    const error = await caught(call(client));
    expect(error.code).toBe(code);
    const body = answer.body as { error?: string } | undefined;
    const details = error.details as Record<string, unknown>;
    if (code !== "ORDER_OUTCOME_UNCERTAIN") expect(details.operation_id).toBe(op);
    if (body?.error !== undefined) {
      expect(String(error.message)).not.toContain(body.error);
      if (code !== "ORDER_OUTCOME_UNCERTAIN") expect(details.broker_message).toBe(body.error);
    }
    await client.close();
  });

  it("503 is retryable, a 400 is not", async () => {
    const client = clientWith({
      getAccountSummary: () => ({ status: 503, body: { error: "x" } }),
      getAccountLedger: () => ({ status: 400, body: { error: "Bad Request: y" } }),
    });
    expect(
      (await caught(getAccountSummary(client.transport, { path: { accountId: "DU1" } }))).retryable,
    ).toBe(true);
    const bad = await caught(getAccountLedger(client.transport, { path: { accountId: "DU1" } }));
    expect(bad.code).toBe("INPUT_INVALID_ARGUMENT");
    expect(bad.retryable).toBe(false);
    await client.close();
  });
});

describe("pre-flight on 'Please query /accounts first'", () => {
  it("runs /iserver/accounts again and retries the call once", async () => {
    let failures = 1;
    const client = clientWith({
      getLiveOrders: () =>
        failures-- > 0 ? fixture("getLiveOrders.accounts-not-queried") : defaultAnswer("getLiveOrders"),
    });
    const reply = await getLiveOrders(client.transport);
    expect(reply.body.orders.length).toBeGreaterThan(0);
    expect(gateway.count("getBrokerageAccounts")).toBe(2);
    expect(gateway.count("getLiveOrders")).toBe(2);
    await client.close();
  });

  it("gives up after one retry", async () => {
    const client = clientWith({ getLiveOrders: () => fixture("getLiveOrders.accounts-not-queried") });
    const error = await caught(getLiveOrders(client.transport));
    expect(error.code).toBe("BROKER_BACKEND_UNAVAILABLE");
    expect(gateway.count("getLiveOrders")).toBe(2);
    await client.close();
  });
});

describe("response validation and size", () => {
  it("refuses an answer that does not match the contract, naming the operation but not the body", async () => {
    const client = clientWith({ getExchangeRate: () => ({ body: { rate: "DU7654321 secret" } }) });
    const error = await caught(
      getExchangeRate(client.transport, { query: { source: "USD", target: "EUR" } }),
    );
    expect(error.code).toBe("BROKER_RESPONSE_INVALID");
    expect(error.details).toMatchObject({ operation_id: "getExchangeRate", reason: "schema_mismatch" });
    expect(JSON.stringify(error.details)).not.toContain("DU7654321");
    expect(String(error.message)).not.toContain("DU7654321");
    await client.close();
  });

  it("refuses invalid JSON declared as JSON", async () => {
    const client = clientWith({
      getExchangeRate: () => ({ text: "{not json", headers: { "content-type": "application/json" } }),
    });
    const error = await caught(
      getExchangeRate(client.transport, { query: { source: "USD", target: "EUR" } }),
    );
    expect(error.code).toBe("BROKER_RESPONSE_INVALID");
    expect((error.details as { reason: string }).reason).toBe("invalid_json");
    await client.close();
  });

  it("refuses a body over the size cap", async () => {
    const client = clientWith(
      { searchContracts: () => ({ body: [{ conid: "1", companyName: "x".repeat(5_000) }] }) },
      { maxResponseBytes: 1_024 },
    );
    const error = await caught(searchContracts(client.transport, { query: { symbol: "AAPL" } }));
    expect(error.code).toBe("BROKER_RESPONSE_INVALID");
    expect((error.details as { reason: string }).reason).toBe("too_large");
    await client.close();
  });

  it("labels replies from a simulator and from a real gateway", async () => {
    const client = clientWith({
      getExchangeRate: (r) => ({
        ...defaultAnswer("getExchangeRate"),
        headers:
          r.query.get("target") === "EUR" ? { "x-ibkr-simulator": "1" } : ({} as Record<string, string>),
      }),
    });
    expect(client.simulated()).toBeUndefined();
    const sim = await getExchangeRate(client.transport, { query: { source: "USD", target: "EUR" } });
    expect(replySimulated(sim)).toBe(true);
    expect(client.simulated()).toBe(true);
    const real = await getExchangeRate(client.transport, { query: { source: "USD", target: "GBP" } });
    expect(replySimulated(real)).toBe(false);
    expect(client.simulated()).toBe(false);
    await client.close();
  });
});

describe("transport failures against a real server", () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function start(behaviour: "hang" | "reset"): Promise<string> {
    server = createHttpServer((req, res) => {
      const path = req.url ?? "";
      if (path.endsWith("/iserver/accounts")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(fixture("getBrokerageAccounts.paper").body));
        return;
      }
      if (behaviour === "reset") req.socket.destroy();
      // "hang": never answer
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/api`;
  }

  it("maps a read timeout to a retryable BROKER_BACKEND_UNAVAILABLE", async () => {
    const baseUrl = await start("hang");
    const dispatcher = new Agent();
    const client = createCpapiClient({ baseUrl, dispatcher, timeouts: { headersMs: 150, bodyMs: 150 } });
    const error = await caught(getTrades(client.transport));
    expect(error.code).toBe("BROKER_BACKEND_UNAVAILABLE");
    expect(error.retryable).toBe(true);
    expect((error.details as { failure: string }).failure).toBe("timeout");
    await client.close();
    await dispatcher.close();
  });

  it("maps an order POST timeout or reset to ORDER_OUTCOME_UNCERTAIN, never a retryable error", async () => {
    for (const behaviour of ["hang", "reset"] as const) {
      const baseUrl = await start(behaviour);
      const dispatcher = new Agent();
      const client = createCpapiClient({ baseUrl, dispatcher, timeouts: { headersMs: 150, bodyMs: 150 } });
      const error = await caught(
        placeOrders(client.transport, { path: { accountId: "DU1" }, body: { orders: [ORDER] } }),
      );
      expect(error.code).toBe("ORDER_OUTCOME_UNCERTAIN");
      expect(error.retryable).toBe(false);
      await client.close();
      await dispatcher.close();
      server?.closeAllConnections();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      server = undefined;
    }
  });

  it("maps a reset read to BROKER_BACKEND_UNAVAILABLE", async () => {
    const baseUrl = await start("reset");
    const dispatcher = new Agent();
    const client = createCpapiClient({ baseUrl, dispatcher });
    const error = await caught(getTrades(client.transport));
    expect(error.code).toBe("BROKER_BACKEND_UNAVAILABLE");
    await client.close();
    await dispatcher.close();
  });
});
