// Whether a contract's market is in its regular session right now, from the broker's trading schedule of the
// contract's symbol. Only the market-data policy asks, and only for old values. When the answer cannot be
// known (no symbol, an asset class without schedules, the schedule request failing) it says "open", so an
// old quote is refused rather than passed on as if the market were closed.
import { isGatewayError } from "../../../core/gateway-error.ts";
import type { ClientTransport } from "../../../cpapi/index.ts";
import { type AssetClass, type ContractFacts, isRegularSessionOpen } from "../../../cpapi/mappers/index.ts";
import type { ScheduleAssetClass, ScheduleBook } from "./schedule-book.ts";

/**
 * The schedule to read for an asset class. Options use their underlying's stock schedule: equity options
 * trade in the regular session of the stock (contract info gives an option the underlying's symbol).
 */
const SCHEDULE_CLASS: Partial<Record<AssetClass, ScheduleAssetClass>> = {
  stock: "STK",
  etf: "STK",
  option: "STK",
  future: "FUT",
  fund: "FND",
  bond: "BND",
};

export async function regularSessionOpenFor(
  schedules: ScheduleBook,
  transport: ClientTransport,
  facts: ContractFacts,
  nowMs: number,
): Promise<boolean> {
  const assetClass = SCHEDULE_CLASS[facts.assetClass];
  if (assetClass === undefined || facts.symbol === undefined) return true;
  try {
    return isRegularSessionOpen(await schedules.get(transport, assetClass, facts.symbol), nowMs);
  } catch (error) {
    if (isGatewayError(error)) return true;
    throw error;
  }
}
