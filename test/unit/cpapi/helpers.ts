// Test support for the CPAPI client: an in-process fake gateway over undici's MockAgent (the handler sees
// the operation id, query and body of each request), fixture bodies, and virtual time.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { MockAgent } from "undici";
import { CPAPI_OPERATIONS } from "../../../generated/cpapi/operations.gen.ts";
import { createManualClock, type ManualClock } from "../../../src/core/clock.ts";

export const ORIGIN = "https://localhost:5000";
export const BASE_URL = `${ORIGIN}/v1/api`;
const FIXTURES = resolve(import.meta.dirname, "../../../fixtures/cpapi");

export function fixture(name: string): { status: number; body: unknown } {
  const parsed = JSON.parse(readFileSync(resolve(FIXTURES, `${name}.json`), "utf8")) as {
    status: number;
    body: unknown;
  };
  return { status: parsed.status, body: parsed.body };
}

const ROUTES = Object.values(CPAPI_OPERATIONS).map((op) => ({
  id: op.operationId,
  method: op.method,
  pattern: new RegExp(`^${op.path.replace(/\{[^}]+\}/g, "([^/]+)")}$`),
}));

export function operationFor(method: string, path: string): string {
  const route = ROUTES.find((r) => r.method === method && r.pattern.test(path));
  return route?.id ?? `unknown ${method} ${path}`;
}

export interface FakeRequest {
  readonly op: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly rawQuery: string;
  readonly body: unknown;
  readonly headers: Record<string, string>;
}

export interface FakeResponse {
  status?: number;
  body?: unknown;
  /** Raw text instead of JSON. */
  text?: string;
  headers?: Record<string, string>;
}

export type Handler = (request: FakeRequest) => FakeResponse | Promise<FakeResponse>;

/** Answers every operation with a plausible authenticated fixture. */
export function defaultAnswer(op: string): FakeResponse {
  const byOp: Record<string, string> = {
    getAuthStatus: "getAuthStatus.authenticated",
    postAuthStatus: "postAuthStatus.authenticated",
    getTickle: "getTickle.authenticated",
    postTickle: "postTickle.authenticated",
    getBrokerageAccounts: "getBrokerageAccounts.paper",
    getPortfolioAccounts: "getPortfolioAccounts.paper",
    getMarketSnapshot: "getMarketSnapshot.live",
    getLiveOrders: "getLiveOrders.with-orders",
    getPartitionedPnl: "getPartitionedPnl.warm",
    getTrades: "getTrades.today",
    getHistory: "getHistory.aapl-daily",
    searchContracts: "searchContracts.aapl",
    getContractInfo: "getContractInfo.aapl",
    getPositions: "getPositions.paper",
    getAccountSummary: "getAccountSummary.paper",
    getAccountLedger: "getAccountLedger.paper",
    getStocksBySymbol: "getStocksBySymbol.aapl",
    getOrderStatus: "getOrderStatus.submitted",
    placeOrders: "placeOrders.success",
    modifyOrder: "modifyOrder.success",
    replyToQuestion: "replyToQuestion.success",
    answerNotification: "answerNotification.success",
    switchAccount: "switchAccount.success",
    initBrokerageSession: "initBrokerageSession.success",
    cancelOrder: "cancelOrder.submitted",
    whatIfOrder: "whatIfOrder.success",
    getExchangeRate: "getExchangeRate.usd-eur",
  };
  const name = byOp[op];
  if (name === undefined) return { status: 404, body: { error: `no fake for ${op}` } };
  const f = fixture(name);
  return typeof f.body === "string" ? { status: f.status, text: f.body } : f;
}

export interface FakeGateway {
  readonly agent: MockAgent;
  readonly calls: FakeRequest[];
  count(op: string): number;
  close(): Promise<void>;
}

export function fakeGateway(handler: Handler = (r) => defaultAnswer(r.op), origin = ORIGIN): FakeGateway {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const calls: FakeRequest[] = [];
  agent
    .get(origin)
    .intercept({ path: () => true, method: () => true })
    .reply(async (options) => {
      const url = new URL(options.path, origin);
      const path = url.pathname.replace(/^\/v1\/api/, "");
      const text = typeof options.body === "string" ? options.body : "";
      const request: FakeRequest = {
        op: operationFor(options.method, path),
        method: options.method,
        path,
        query: url.searchParams,
        rawQuery: url.search,
        body: text === "" ? undefined : JSON.parse(text),
        headers: Object.fromEntries(
          Object.entries((options.headers ?? {}) as Record<string, string>).map(([k, v]) => [
            k.toLowerCase(),
            v,
          ]),
        ),
      };
      calls.push(request);
      const answer = await handler(request);
      const isText = answer.text !== undefined;
      return {
        statusCode: answer.status ?? 200,
        data: isText ? (answer.text as string) : JSON.stringify(answer.body ?? null),
        responseOptions: {
          headers: { "content-type": isText ? "text/plain" : "application/json", ...answer.headers },
        },
      };
    })
    .persist();
  let closed = false;
  return {
    agent,
    calls,
    count: (op) => calls.filter((c) => c.op === op).length,
    close: async () => {
      if (closed) return;
      closed = true;
      await agent.close();
    },
  };
}

export interface VirtualTime {
  readonly clock: ManualClock;
  /**
   * Time passes only when the code under test waits. Like real time, overlapping waits overlap instead of
   * adding up: a wait ends at (its start + ms), and the clock never goes back.
   */
  readonly sleep: (ms: number) => Promise<void>;
  readonly slept: number[];
}

export function virtualTime(options: { settleTicks?: number } = {}): VirtualTime {
  const clock = createManualClock();
  const slept: number[] = [];
  return {
    clock,
    slept,
    sleep: async (ms) => {
      slept.push(ms);
      const target = clock.now() + ms;
      // Let replies already on their way land before time moves on (a fast local network).
      for (let i = 0; i < (options.settleTicks ?? 0); i += 1) await new Promise((r) => setImmediate(r));
      if (clock.now() < target) clock.set(target);
    },
  };
}

/** Awaits a promise expected to reject and returns the error. */
export async function caught(promise: Promise<unknown>): Promise<{ code: string; [key: string]: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string };
  }
  throw new Error("expected a rejection");
}
