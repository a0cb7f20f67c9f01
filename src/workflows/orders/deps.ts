// What the order workflows are given: the read side's dependencies, the shared market books and snapshot
// handler (orders are checked against the same quotes the read tools show), and the writers an embedding
// application may supply in place of the CPAPI writer.
import type { OperationContext, OperationHandler } from "../../core/call-context.ts";
import type { AccountMode } from "../../core/orders.ts";
import type { ClientTransport } from "../../cpapi/index.ts";
import type { ReadCall, ReadDeps } from "../reads/deps.ts";
import type { MarketBooks } from "../reads/market.ts";
import { readTrades } from "../reads/orders/trades.ts";
import {
  brokerWriter,
  type ExecutionsReader,
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
  const configured = mode === "paper" ? deps.config.paper_trading.writer : deps.config.live_trading.writer;
  // A front door may pick the live writer per call (the CLI's --live-broker), but never past an operator
  // who configured live writes to be refused.
  const chosen = mode === "live" ? (call.context as OperationContext).liveWriter : undefined;
  const kind: WriterKind = configured === "refusing" ? "refusing" : (chosen ?? configured);
  if (kind === "local_candidate") return localCandidateWriter();
  if (kind === "refusing") return refusingWriter(mode);
  return (
    deps.writers[mode] ?? gatewayBrokerWriter(deps, call.transport, () => call.context.noteBrokerRequest())
  );
}

/**
 * Executions as the read tools read them (account selected first, a cold answer asked again), over a
 * transport that counts its own requests; `note` counts the account switch, which bypasses it.
 */
export function executionsReader(
  deps: ReadDeps,
  transport: ClientTransport,
  note: () => void = () => undefined,
): ExecutionsReader {
  const call = { transport, context: { noteBrokerRequest: note } };
  return (accountId, days) => readTrades(deps, call, accountId, days);
}

/** The CPAPI writer as the gateway itself uses it. */
export function gatewayBrokerWriter(
  deps: ReadDeps,
  transport: ClientTransport,
  note?: () => void,
): OrderWriter {
  return brokerWriter(deps.broker.client, transport, executionsReader(deps, transport, note));
}
