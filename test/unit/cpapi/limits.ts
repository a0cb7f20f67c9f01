// A counting gateway that enforces the broker's documented limits (cpapi-facts §7) on a clock: 10 req/s
// overall, the per-endpoint windows and 5 concurrent history requests. Over a limit it answers 429, like the
// real gateway, and counts it.
import type { Clock } from "../../../src/core/clock.ts";
import type { FakeRequest, FakeResponse } from "./helpers.ts";

/** Literal limits from the IBKR pacing table, not imported from the contracts they check. */
export const REAL_LIMITS: Record<string, { limit: number; windowMs: number }> = {
  getMarketSnapshot: { limit: 10, windowMs: 1_000 },
  getLiveOrders: { limit: 1, windowMs: 5_000 },
  getTrades: { limit: 1, windowMs: 5_000 },
  getPartitionedPnl: { limit: 1, windowMs: 5_000 },
  getPortfolioAccounts: { limit: 1, windowMs: 5_000 },
  getScannerParams: { limit: 1, windowMs: 900_000 },
  runScanner: { limit: 1, windowMs: 1_000 },
  getTickle: { limit: 1, windowMs: 1_000 },
  postTickle: { limit: 1, windowMs: 1_000 },
  validateSso: { limit: 1, windowMs: 60_000 },
};
const GLOBAL = { limit: 10, windowMs: 1_000 };
const HISTORY_CONCURRENT = 5;

export interface CountingGateway {
  /** Wraps a handler: limits first, then the handler's answer. */
  handle(request: FakeRequest, answer: () => FakeResponse | Promise<FakeResponse>): Promise<FakeResponse>;
  readonly times: number[];
  rejected(): number;
  maxHistoryConcurrency(): number;
}

export function countingGateway(clock: Clock, options: { historyTicks?: number } = {}): CountingGateway {
  const windows = new Map<string, number[]>();
  const times: number[] = [];
  let rejected = 0;
  let history = 0;
  let maxHistory = 0;

  function admit(key: string, limit: number, windowMs: number, now: number): boolean {
    const recent = (windows.get(key) ?? []).filter((t) => t > now - windowMs);
    windows.set(key, recent);
    return recent.length < limit;
  }

  return {
    times,
    rejected: () => rejected,
    maxHistoryConcurrency: () => maxHistory,
    async handle(request, answer) {
      const now = clock.now();
      const own = REAL_LIMITS[request.op];
      const ok =
        admit("global", GLOBAL.limit, GLOBAL.windowMs, now) &&
        (own === undefined || admit(request.op, own.limit, own.windowMs, now)) &&
        (request.op !== "getHistory" || history < HISTORY_CONCURRENT);
      if (!ok) {
        rejected += 1;
        return { status: 429, body: { error: "Too many requests" } };
      }
      windows.get("global")?.push(now);
      if (own !== undefined) windows.get(request.op)?.push(now);
      times.push(now);
      if (request.op !== "getHistory") return answer();
      history += 1;
      maxHistory = Math.max(maxHistory, history);
      try {
        for (let i = 0; i < (options.historyTicks ?? 20); i += 1) await new Promise((r) => setImmediate(r));
        return await answer();
      } finally {
        history -= 1;
      }
    },
  };
}
