// Contract and market-data read tools: contract search and resolution, option chains and greeks, quotes,
// historical bars, exchange sessions and holidays, and FX rates. The area's per-process books of contract
// details and trading schedules are built once here and shared by its tools.
import type { OperationHandler } from "../../core/call-context.ts";
import type { ReadDeps } from "./deps.ts";
import { calendarReads } from "./market/calendar.ts";
import { createContractInfoBook } from "./market/contract-info.ts";
import { contractReads } from "./market/contracts.ts";
import { historyReads } from "./market/history.ts";
import { quoteReads } from "./market/quotes.ts";
import { createScheduleBook } from "./market/schedule-book.ts";

export function marketReads(deps: ReadDeps): Record<string, OperationHandler> {
  const infos = createContractInfoBook(deps.clock);
  const schedules = createScheduleBook(deps.clock);
  return {
    ...contractReads(deps, infos),
    ...quoteReads(deps, { infos, schedules }),
    ...historyReads(deps),
    ...calendarReads(deps, schedules),
  };
}
