// ibkr_historical_bars over /iserver/marketdata/history. The duration is checked against the broker's
// limits before asking (a longer period would only come back as a broker error), and the broker's answers
// that mean "no such contract" or "no bars" become the catalogue's codes instead of a backend failure.
import { getHistory } from "../../../../generated/cpapi/client.gen.ts";
import { TOOLS, type ToolInput } from "../../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../../core/call-context.ts";
import { GatewayError, isGatewayError } from "../../../core/gateway-error.ts";
import { mapHistoricalBars } from "../../../cpapi/mappers/index.ts";
import { type ReadDeps, readCall } from "../deps.ts";

const INPUT = TOOLS.ibkr_historical_bars.inputSchema.properties;

/** Longest period per unit the broker serves (CPAPI's period ranges). */
const DURATION_LIMITS: Readonly<Record<string, number>> = { min: 30, h: 8, d: 1000, w: 792, m: 182, y: 15 };
const LIMITS_TEXT = "30min, 8h, 1000d, 792w, 182m (months) or 15y";

const SOURCES = { trades: "Last", midpoint: "Midpoint", bid_ask: "Bid_Ask" } as const;

export function checkDuration(duration: string): void {
  const match = /^([0-9]{1,4})(min|h|d|w|m|y)$/.exec(duration);
  const count = Number(match?.[1]);
  const limit = DURATION_LIMITS[match?.[2] ?? ""];
  if (limit !== undefined && count >= 1 && count <= limit) return;
  throw new GatewayError("INPUT_INVALID_TIME_RANGE", {
    message: `duration ${duration} is outside what the broker serves (1 to ${LIMITS_TEXT}).`,
    userAction: `Use a duration of at most ${LIMITS_TEXT}; for a longer span use a larger unit and bar size.`,
    details: { field: "duration" },
  });
}

// The broker's own words for these cases (matched only, never shown: broker text is untrusted).
const NO_BARS = /chart data unavailable|no data|no items/i;
const BAD_CONID = /invalid conid|conid is not valid/i;

/** Maps the broker's history refusals to what they mean; everything else passes unchanged. */
function historyError(error: unknown): unknown {
  if (!isGatewayError(error)) return error;
  if (error.code !== "BROKER_BACKEND_UNAVAILABLE" && error.code !== "INPUT_INVALID_ARGUMENT") return error;
  const said = typeof error.details?.broker_message === "string" ? error.details.broker_message : "";
  if (BAD_CONID.test(said)) {
    return new GatewayError("INPUT_INVALID_CONTRACT", {
      message: "The broker does not know that contract id.",
      details: { field: "contract_id", operation_id: "getHistory" },
      cause: error,
    });
  }
  if (NO_BARS.test(said)) {
    return new GatewayError("HISTORICAL_BARS_UNAVAILABLE", {
      details: { operation_id: "getHistory" },
      cause: error,
    });
  }
  return error;
}

export function historyReads(deps: ReadDeps) {
  return {
    async "reads.historicalBars"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_historical_bars">;
      checkDuration(input.duration);
      const outsideRth = input.outside_rth ?? INPUT.outside_rth.default;
      const dataType = input.data_type ?? INPUT.data_type.default;
      const call = readCall(deps, context);
      let body: unknown;
      try {
        const answer = await getHistory(call.transport, {
          query: {
            conid: Number(input.contract_id),
            period: input.duration,
            bar: input.bar_size,
            outsideRth,
            source: SOURCES[dataType],
          },
        });
        body = answer.body;
      } catch (error) {
        throw historyError(error);
      }
      const result = mapHistoricalBars(body, {
        contractId: input.contract_id,
        duration: input.duration,
        barSize: input.bar_size,
        outsideRth,
        dataType,
        nowMs: deps.broker.client.marketNow(),
      });
      if (result.provenance.status === "unavailable") {
        throw new GatewayError("MARKET_DATA_UNAVAILABLE", { details: { contract_id: input.contract_id } });
      }
      if (result.bars.length === 0) {
        throw new GatewayError("HISTORICAL_BARS_UNAVAILABLE", { details: { operation_id: "getHistory" } });
      }
      return { ...result, source: call.source };
    },
  };
}
