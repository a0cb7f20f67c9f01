// Contract and market-data read tools: contract search and resolution, option chains and greeks, quotes,
// historical bars, exchange sessions and holidays, and FX rates. The area's per-process books of contract
// details and trading schedules are built once here and shared by its tools.
import type { OperationHandler } from "../../core/call-context.ts";
import type { ReadDeps } from "./deps.ts";
import { calendarReads } from "./market/calendar.ts";
import { type ContractInfoBook, createContractInfoBook } from "./market/contract-info.ts";
import { contractReads } from "./market/contracts.ts";
import { historyReads } from "./market/history.ts";
import { quoteReads } from "./market/quotes.ts";
import { createScheduleBook, type ScheduleBook } from "./market/schedule-book.ts";

export interface MarketBooks {
  readonly infos: ContractInfoBook;
  readonly schedules: ScheduleBook;
}

/** The per-process books of contract details and trading schedules, shared with the order workflows. */
export function createMarketBooks(deps: Pick<ReadDeps, "clock">): MarketBooks {
  return { infos: createContractInfoBook(deps.clock), schedules: createScheduleBook(deps.clock) };
}

export function marketReads(
  deps: ReadDeps,
  books: MarketBooks = createMarketBooks(deps),
): Record<string, OperationHandler> {
  const { infos, schedules } = books;
  return {
    ...contractReads(deps, infos),
    ...quoteReads(deps, { infos, schedules }),
    ...historyReads(deps),
    ...calendarReads(deps, schedules),
  };
}
