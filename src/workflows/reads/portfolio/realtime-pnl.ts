// The broker's running P&L (GET /iserver/account/pnl/partitioned). The first answer of a brokerage session is
// the cold {"upnl":{}}: the request only starts the computation. So the gateway asks once more, and that
// re-ask simply queues in the client's pacer, which holds it until the endpoint's window (1 request per 5 s)
// opens: the wait is bounded by pacing, never by a sleep of our own. A second cold answer is reported as
// MARKET_DATA_INCOMPLETE; an empty or earlier answer is never passed off as the account's figures.
import { getPartitionedPnl } from "../../../../generated/cpapi/client.gen.ts";
import type { Clock } from "../../../core/clock.ts";
import { GatewayError } from "../../../core/gateway-error.ts";
import type { ClientTransport } from "../../../cpapi/index.ts";
import { isNotReady, mapPnlRealtime } from "../../../cpapi/mappers/index.ts";
import type { PnlRealtimeResult } from "../../../cpapi/mappers/portfolio.ts";

/** The first ask plus the one re-ask the tool's contract promises. */
const PNL_ASKS = 2;

export interface RealtimePnlRequest {
  readonly accountId: string;
  readonly baseCurrency: string;
}

export async function readRealtimePnl(
  transport: ClientTransport,
  clock: Clock,
  request: RealtimePnlRequest,
): Promise<PnlRealtimeResult> {
  for (let ask = 1; ; ask += 1) {
    // Not `fresh`: a re-ask that meets another caller's queued request for the same answer shares it
    // instead of spending another 5-second window.
    const answer = await getPartitionedPnl(transport);
    const figures = mapPnlRealtime(answer.body, { ...request, nowMs: clock.now() });
    if (!isNotReady(figures)) return figures;
    if (ask >= PNL_ASKS) {
      throw new GatewayError("MARKET_DATA_INCOMPLETE", {
        message:
          "The broker is still computing this account's running P&L (its first answers after a login are empty).",
        userAction:
          "Retry in about 5 seconds (the broker allows one P&L request every 5 s); ibkr_pnl_daily reads the ledger meanwhile.",
        details: { reason: figures.reason, broker_requests: ask },
      });
    }
  }
}
