// Calendar and FX tools. The Client Portal Gateway has no exchange calendar of its own: sessions and
// holidays are read off the trading schedule (/trsrv/secdef/schedule) of a stock listed on the exchange,
// either the caller's symbol or a well-known reference stock. Exchange rates come from /iserver/exchangerate.
import { getExchangeRate } from "../../../../generated/cpapi/client.gen.ts";
import type { ToolInput } from "../../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../../core/call-context.ts";
import { GatewayError, isGatewayError } from "../../../core/gateway-error.ts";
import type { ClientTransport } from "../../../cpapi/index.ts";
import { mapCurrencyRate, mapMarketHolidays, mapMarketSession } from "../../../cpapi/mappers/index.ts";
import { type ReadDeps, readCall } from "../deps.ts";
import type { ScheduleBook } from "./schedule-book.ts";

/** A large, long-listed stock per major exchange, whose schedule stands for the exchange's. */
export const REFERENCE_SYMBOLS: Readonly<Record<string, string>> = {
  NASDAQ: "AAPL",
  NYSE: "IBM",
  ARCA: "SPY",
  LSE: "VOD",
  IBIS: "SAP",
  SBF: "MC",
  AEB: "ASML",
  EBS: "NESN",
  SEHK: "700",
  TSEJ: "7203",
  ASX: "BHP",
  TSE: "RY",
};

interface ScheduleRequest {
  readonly exchange: string;
  readonly symbol?: string;
}

async function exchangeSchedule(
  schedules: ScheduleBook,
  transport: ClientTransport,
  input: ScheduleRequest,
): Promise<{ schedule: unknown; symbol: string }> {
  const symbol = (input.symbol ?? REFERENCE_SYMBOLS[input.exchange])?.trim().toUpperCase();
  if (symbol === undefined) {
    throw new GatewayError("INPUT_INVALID_CONTRACT", {
      message: `The gateway has no reference stock for ${input.exchange}.`,
      userAction: `Pass symbol: a stock listed on ${input.exchange}. Exchanges with a reference stock: ${Object.keys(REFERENCE_SYMBOLS).join(", ")}.`,
      details: { field: "symbol", reason: "no_reference_symbol" },
    });
  }
  return { schedule: await schedules.get(transport, "STK", symbol), symbol };
}

/** Runs a schedule mapper, naming the symbol and exchange when the symbol has no venue there. */
function onExchange<T>(symbol: string, exchange: string, map: () => T): T {
  try {
    return map();
  } catch (error) {
    if (!isGatewayError(error) || error.details?.reason !== "not_listed_on_exchange") throw error;
    throw new GatewayError("INPUT_INVALID_CONTRACT", {
      message: `The broker has no trading schedule of ${symbol} on ${exchange}.`,
      userAction: `Pass a symbol listed on ${exchange}; ibkr_contracts_search shows each contract's exchange.`,
      details: error.details,
    });
  }
}

export function calendarReads(deps: ReadDeps, schedules: ScheduleBook) {
  return {
    async "reads.marketSession"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_market_session">;
      const call = readCall(deps, context);
      const { schedule, symbol } = await exchangeSchedule(schedules, call.transport, input);
      const ctx = { exchange: input.exchange, symbol, nowMs: deps.broker.client.marketNow() };
      return {
        ...onExchange(symbol, input.exchange, () => mapMarketSession(schedule, ctx)),
        source: call.source,
      };
    },

    async "reads.marketHolidays"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_market_holidays">;
      const call = readCall(deps, context);
      const { schedule, symbol } = await exchangeSchedule(schedules, call.transport, input);
      const ctx = { exchange: input.exchange, symbol, nowMs: deps.broker.client.marketNow() };
      return {
        ...onExchange(symbol, input.exchange, () => mapMarketHolidays(schedule, ctx)),
        source: call.source,
      };
    },

    async "reads.currencyRate"(args: Record<string, unknown>, context: OperationContext) {
      const { base, quote } = args as ToolInput<"ibkr_currency_rate">;
      const call = readCall(deps, context);
      // Equal currencies are 1 by definition; the broker is not asked.
      let body: unknown;
      if (base !== quote) {
        try {
          body = (await getExchangeRate(call.transport, { query: { source: base, target: quote } })).body;
        } catch (error) {
          if (!isGatewayError(error) || error.code !== "INPUT_INVALID_ARGUMENT") throw error;
          throw new GatewayError("INPUT_INVALID_ARGUMENT", {
            message: `The broker has no exchange rate from ${base} to ${quote}.`,
            userAction:
              "Check that both are ISO 4217 codes of currencies the broker converts, such as USD or EUR.",
            details: { field: "quote", operation_id: "getExchangeRate" },
            cause: error,
          });
        }
      }
      return {
        ...mapCurrencyRate(body, { base, quote, nowMs: deps.broker.client.marketNow() }),
        source: call.source,
      };
    },
  };
}
