// Every CPAPI operation of the contracts, answered by the simulator: the wire answer validates against
// the response schema the contract declares for its status, carries the simulator header, and the typed
// client accepts it. A new operation in the contracts fails "covers every operation" until it is simulated
// and listed here.
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterEach, describe, expect, it } from "vitest";
import { CPAPI_OPERATIONS, type CpapiOperationId } from "../../generated/cpapi/operations.gen.ts";
import { type TestSimulator, testSimulator } from "../support/simulator.ts";

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addKeyword("x-untrusted");

const ACCOUNT = "DU1234567";
const AAPL = 265598;

interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** Runs first (e.g. place an order to cancel). Returns values to put into the path. */
  readonly setup?: (t: TestSimulator) => Promise<Record<string, string>>;
  readonly status?: number;
  /** The first answer of a session is a cold one ({"upnl":{}}, []): ask twice and check both. */
  readonly twice?: boolean;
}

async function placeOrder(t: TestSimulator, price = 270): Promise<Record<string, string>> {
  const answer = await t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, {
    orders: [{ conid: AAPL, orderType: "LMT", side: "BUY", tif: "GTC", quantity: 1, price }],
  });
  const body = answer.body as { order_id: string }[];
  return { orderId: String(body[0]?.order_id) };
}

async function askQuestion(t: TestSimulator): Promise<Record<string, string>> {
  t.sim.control.queueQuestions(["o10331"]);
  const answer = await t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, {
    orders: [{ conid: AAPL, orderType: "LMT", side: "BUY", tif: "DAY", quantity: 1, price: 270 }],
  });
  return { replyId: (answer.body as { id: string }[])[0]?.id ?? "" };
}

async function prompt(t: TestSimulator): Promise<Record<string, string>> {
  t.sim.control.queueQuestions(["p12"]);
  const answer = await t.raw("POST", `/iserver/account/${ACCOUNT}/orders`, {
    orders: [{ conid: AAPL, orderType: "LMT", side: "BUY", tif: "DAY", quantity: 1, price: 270 }],
  });
  const body = answer.body as { orderId: number; reqId: string };
  return { orderId: String(body.orderId), reqId: body.reqId };
}

const CALLS: Record<CpapiOperationId, Call> = {
  getAuthStatus: { method: "GET", path: "/iserver/auth/status" },
  postAuthStatus: { method: "POST", path: "/iserver/auth/status" },
  getTickle: { method: "GET", path: "/tickle" },
  postTickle: { method: "POST", path: "/tickle" },
  initBrokerageSession: {
    method: "POST",
    path: "/iserver/auth/ssodh/init",
    body: { publish: true, compete: false },
  },
  logout: { method: "POST", path: "/logout" },
  validateSso: { method: "GET", path: "/sso/validate" },
  getBrokerageAccounts: { method: "GET", path: "/iserver/accounts" },
  switchAccount: { method: "POST", path: "/iserver/account", body: { acctId: ACCOUNT } },
  getPortfolioAccounts: { method: "GET", path: "/portfolio/accounts" },
  getAccountMeta: { method: "GET", path: `/portfolio/${ACCOUNT}/meta` },
  getAccountSummary: { method: "GET", path: `/portfolio/${ACCOUNT}/summary` },
  getAccountLedger: { method: "GET", path: `/portfolio/${ACCOUNT}/ledger` },
  getPositions: { method: "GET", path: `/portfolio/${ACCOUNT}/positions/0` },
  invalidatePositions: { method: "POST", path: `/portfolio/${ACCOUNT}/positions/invalidate` },
  getPartitionedPnl: { method: "GET", path: "/iserver/account/pnl/partitioned", twice: true },
  getMarketSnapshot: {
    method: "GET",
    path: `/iserver/marketdata/snapshot?conids=${AAPL}&fields=31,84,86,7295`,
    twice: true,
  },
  getHistory: { method: "GET", path: `/iserver/marketdata/history?conid=${AAPL}&period=5d&bar=1h` },
  unsubscribeMarketData: {
    method: "POST",
    path: "/iserver/marketdata/unsubscribe",
    body: { conid: AAPL },
    setup: async (t) => {
      await t.raw("GET", `/iserver/marketdata/snapshot?conids=${AAPL}`);
      return {};
    },
  },
  unsubscribeAllMarketData: { method: "GET", path: "/iserver/marketdata/unsubscribeall" },
  getExchangeRate: { method: "GET", path: "/iserver/exchangerate?source=USD&target=EUR" },
  searchContracts: { method: "GET", path: "/iserver/secdef/search?symbol=AAPL" },
  getOptionStrikes: { method: "GET", path: `/iserver/secdef/strikes?conid=${AAPL}&sectype=OPT&month=JAN27` },
  getSecdefInfo: {
    method: "GET",
    path: `/iserver/secdef/info?conid=${AAPL}&sectype=OPT&month=JAN27&strike=280&right=C`,
  },
  getContractInfo: { method: "GET", path: `/iserver/contract/${AAPL}/info` },
  getStocksBySymbol: { method: "GET", path: "/trsrv/stocks?symbols=AAPL,IBM" },
  getTradingSchedule: { method: "GET", path: "/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL" },
  getLiveOrders: { method: "GET", path: "/iserver/account/orders", twice: true },
  getOrderStatus: {
    method: "GET",
    path: "/iserver/account/order/status/{orderId}",
    setup: (t) => placeOrder(t),
  },
  getTrades: { method: "GET", path: "/iserver/account/trades?days=2", twice: true },
  placeOrders: {
    method: "POST",
    path: `/iserver/account/${ACCOUNT}/orders`,
    body: { orders: [{ conid: AAPL, orderType: "LMT", side: "BUY", tif: "DAY", quantity: 5, price: 270 }] },
  },
  whatIfOrder: {
    method: "POST",
    path: `/iserver/account/${ACCOUNT}/orders/whatif`,
    body: { orders: [{ conid: AAPL, orderType: "LMT", side: "BUY", tif: "DAY", quantity: 5, price: 270 }] },
  },
  replyToQuestion: {
    method: "POST",
    path: "/iserver/reply/{replyId}",
    body: { confirmed: true },
    setup: askQuestion,
  },
  modifyOrder: {
    method: "POST",
    path: `/iserver/account/${ACCOUNT}/order/{orderId}`,
    body: { conid: AAPL, orderType: "LMT", side: "BUY", tif: "GTC", quantity: 2, price: 271 },
    setup: (t) => placeOrder(t),
  },
  cancelOrder: {
    method: "DELETE",
    path: `/iserver/account/${ACCOUNT}/order/{orderId}`,
    setup: (t) => placeOrder(t),
  },
  suppressQuestions: { method: "POST", path: "/iserver/questions/suppress", body: { messageIds: ["o163"] } },
  resetSuppressedQuestions: { method: "POST", path: "/iserver/questions/suppress/reset" },
  answerNotification: {
    method: "POST",
    path: "/iserver/notification",
    body: "{notification}",
    setup: prompt,
  },
  getScannerParams: { method: "GET", path: "/iserver/scanner/params" },
  runScanner: {
    method: "POST",
    path: "/iserver/scanner/run",
    body: {
      instrument: "STK",
      type: "TOP_PERC_GAIN",
      location: "STK.US.MAJOR",
      filter: [{ code: "priceAbove", value: 5 }],
    },
  },
  getNewsHeadlines: { method: "GET", path: `/fundamentals/landing/${AAPL}?widgets=news&lang=en` },
  getNewsArticle: { method: "GET", path: "/fundamentals/news/SIM$0002655980" },
  getFundamentalsSummary: { method: "GET", path: `/iserver/fundamentals/${AAPL}/summary` },
};

let current: TestSimulator | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function warmed(): Promise<TestSimulator> {
  const t = testSimulator({ seed: 3 });
  current = t;
  // The pre-flights and first-call quirks, so each call below gets its steady-state answer.
  await t.raw("GET", "/iserver/accounts");
  await t.raw("GET", "/portfolio/accounts");
  // Some activity, so order and trade lists have rows to check.
  const placed = await placeOrder(t, 280);
  t.clock.advance(1_000);
  t.sim.control.fill(Number(placed.orderId));
  await placeOrder(t, 250);
  t.clock.advance(6_000);
  return t;
}

describe("the simulator answers every CPAPI operation in the contract's shape", () => {
  it("covers every operation in the contracts", () => {
    expect(Object.keys(CALLS).sort()).toEqual(Object.keys(CPAPI_OPERATIONS).sort());
  });

  it.each(Object.keys(CALLS) as CpapiOperationId[])("%s", async (operationId) => {
    const t = await warmed();
    const call = CALLS[operationId];
    const values = call.setup ? await call.setup(t) : {};
    t.clock.advance(6_000);
    const path = call.path.replace(/\{(\w+)\}/g, (_m, name: string) => values[name] ?? `{${name}}`);
    const body =
      call.body === "{notification}"
        ? { orderId: Number(values.orderId), reqId: values.reqId, text: "Use on this order" }
        : call.body;
    const answers = [await t.raw(call.method, path, body)];
    if (call.twice) {
      t.clock.advance(6_000);
      answers.push(await t.raw(call.method, path, body));
      // The second answer is the warm one and must carry data.
      expect(JSON.stringify(answers[1]?.body).length).toBeGreaterThan(
        JSON.stringify(answers[0]?.body).length,
      );
    }
    for (const answer of answers) {
      expect(answer.headers.get("x-ibkr-simulator")).toBe("1");
      expect(answer.status, JSON.stringify(answer.body)).toBe(call.status ?? 200);
      const schema = (CPAPI_OPERATIONS[operationId].responses as Record<string, unknown>)[
        String(answer.status)
      ];
      expect(schema, `no ${answer.status} response in the contract`).toBeDefined();
      const validate = ajv.compile(schema as object);
      const shown = JSON.stringify(answer.body).slice(0, 800);
      expect(validate(answer.body), `${JSON.stringify(validate.errors)}\n${shown}`).toBe(true);
    }
  });
});
