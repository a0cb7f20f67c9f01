// Trading schedules from /trsrv/secdef/schedule, kept per process for an hour per symbol. A schedule covers
// weeks ahead and the phase at any instant is computed from it, so the session and holiday tools and the
// market-data policy's "is the market open?" share one answer instead of asking the broker each time.
import { getTradingSchedule } from "../../../../generated/cpapi/client.gen.ts";
import type { Clock } from "../../../core/clock.ts";
import type { ClientTransport } from "../../../cpapi/index.ts";
import { createTtlCache } from "./ttl-cache.ts";

export type ScheduleAssetClass = "STK" | "OPT" | "FUT" | "FND" | "BND";

export interface ScheduleBook {
  get(transport: ClientTransport, assetClass: ScheduleAssetClass, symbol: string): Promise<unknown>;
}

export function createScheduleBook(clock: Clock): ScheduleBook {
  const cache = createTtlCache<unknown>(clock, 3_600_000, 200);
  return {
    async get(transport, assetClass, symbol) {
      // The broker matches symbols case-sensitively, and its symbols are upper case.
      const wanted = symbol.trim().toUpperCase();
      const key = `${assetClass}:${wanted}`;
      const cached = cache.get(key);
      if (cached !== undefined) return cached;
      const answer = await getTradingSchedule(transport, { query: { assetClass, symbol: wanted } });
      cache.set(key, answer.body);
      return answer.body;
    },
  };
}
