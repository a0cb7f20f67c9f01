// What the order workflows are given: the read side's dependencies, the shared market books and snapshot
// handler (orders are checked against the same quotes the read tools show), and the writers an embedding
// application may supply in place of the CPAPI writer.
import type { OperationContext, OperationHandler } from "../../core/call-context.ts";
import type { AccountMode } from "../../core/orders.ts";
import type { ReadCall, ReadDeps } from "../reads/deps.ts";
import type { MarketBooks } from "../reads/market.ts";
import {
  brokerWriter,
  localCandidateWriter,
  type OrderWriter,
  refusingWriter,
  type WriterKind,
} from "./writer.ts";

export interface OrderWriters {
  /** Replaces the CPAPI writer of paper orders (writer "broker"). */
  readonly paper?: OrderWriter;
  /** Replaces the CPAPI writer of live orders (writer "broker"). */
  readonly live?: OrderWriter;
}

export interface OrderDeps extends ReadDeps {
  readonly books: MarketBooks;
  /** The ibkr_market_snapshot operation (quote through the market-data policy). */
  readonly snapshot: OperationHandler;
  readonly writers: OrderWriters;
}

/** Which writer carries this call's write: config, the CLI's --live-broker, then an injected replacement. */
export function writerFor(deps: OrderDeps, mode: AccountMode, call: ReadCall): OrderWriter {
  const kind: WriterKind =
    mode === "paper"
      ? deps.config.paper_trading.writer
      : ((call.context as OperationContext).liveWriter ?? deps.config.live_trading.writer);
  if (kind === "local_candidate") return localCandidateWriter();
  if (kind === "refusing") return refusingWriter(mode);
  return deps.writers[mode] ?? brokerWriter(deps.broker.client, call.transport);
}
