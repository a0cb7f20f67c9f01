// Market depth arrives only over the CPAPI websocket (topic sbd+{acct}+{conid}+{exchange}) as a BookTrader
// ladder: rows with a price and either a bid or an ask size, around a `focus` row. The row shape is not in
// IBKR's OpenAPI document (UNVERIFIED against a live gateway), so this reader is lenient: it takes any rows
// carrying a price plus a bid and/or ask size and ignores everything else.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { compare } from "../../core/decimal.ts";
import { compact, exchange, isRecord, pickLoose, positiveDecimal, wireDecimal } from "./common.ts";
import type { DataProvenance } from "./marketdata.ts";

export type MarketDepthResult = Omit<ToolOutput<"ibkr_market_depth">, "source">;
type Level = MarketDepthResult["bids"][number];

export interface DepthContext {
  readonly accountId: string;
  readonly contractId: string;
  readonly exchange?: string;
  /** Levels per side, 1-20. */
  readonly levels: number;
  /** Provenance of the book (the websocket gives no availability code for depth). */
  readonly provenance: DataProvenance;
}

/**
 * ibkr_market_depth from the ladder rows of one sbd message (its `data` array). Bids highest price first,
 * asks lowest first, at most `levels` per side; a level with a zero size is not a level.
 */
export function mapDepthBook(rows: readonly unknown[], ctx: DepthContext): MarketDepthResult {
  const bids: Level[] = [];
  const asks: Level[] = [];
  for (const row of rows) {
    if (!isRecord(row)) continue;
    const price = wireDecimal(pickLoose(row, "price"));
    if (price === undefined) continue;
    const venue = exchange(pickLoose(row, "exchange", "venue", "mm"));
    const bid = positiveDecimal(pickLoose(row, "bid", "bidSize"));
    const ask = positiveDecimal(pickLoose(row, "ask", "askSize"));
    if (bid !== undefined) bids.push(compact({ price, size: bid, venue }));
    if (ask !== undefined) asks.push(compact({ price, size: ask, venue }));
  }
  bids.sort((a, b) => compare(b.price, a.price));
  asks.sort((a, b) => compare(a.price, b.price));
  const levels = Math.max(1, Math.min(20, ctx.levels));
  return compact({
    account_id: ctx.accountId,
    contract_id: ctx.contractId,
    exchange: ctx.exchange === undefined ? undefined : exchange(ctx.exchange),
    bids: bids.slice(0, levels),
    asks: asks.slice(0, levels),
    provenance: ctx.provenance,
  });
}
