// The time range of ibkr_orders_history, checked against what the broker can answer. Earlier days exist only
// as executions, and /iserver/account/trades goes back at most 7 days, so a range reaching further back would
// silently miss orders: it is refused instead. The range also decides how many days of trades to ask for.
import { toRfc3339 } from "../../../core/clock.ts";
import { GatewayError } from "../../../core/gateway-error.ts";

const DAY_MS = 86_400_000;
/** How far back the broker keeps executions (getTrades days=7). */
export const HISTORY_MAX_DAYS = 7;
/** A `to` slightly ahead of our clock is the caller's clock running fast, not a request for the future. */
export const FUTURE_TOLERANCE_MS = 60_000;

export interface HistoryRange {
  readonly fromMs: number;
  readonly toMs: number;
  /** The `days` query of getTrades that covers fromMs, counting today as 1. */
  readonly tradeDays: number;
}

function rangeError(field: "from" | "to", reason: string, message: string, userAction: string) {
  return new GatewayError("INPUT_INVALID_TIME_RANGE", { message, userAction, details: { field, reason } });
}

/**
 * from/to as given (RFC 3339, already format-checked by the input schema) or their defaults: the last 7 days
 * up to now. A `to` within the tolerance of now is read as now.
 */
export function historyRange(input: { from?: string; to?: string }, now: number): HistoryRange {
  const earliest = now - HISTORY_MAX_DAYS * DAY_MS;
  const toMs = input.to === undefined ? now : Date.parse(input.to);
  const fromMs = input.from === undefined ? earliest : Date.parse(input.from);
  if (toMs > now + FUTURE_TOLERANCE_MS) {
    throw rangeError(
      "to",
      "to_in_future",
      "to lies in the future; the broker has no orders there yet.",
      "Leave to out (it defaults to now) or pass a time no later than now.",
    );
  }
  if (fromMs < earliest) {
    throw rangeError(
      "from",
      "from_too_early",
      `from is more than ${HISTORY_MAX_DAYS} days back; the broker keeps executions for ${HISTORY_MAX_DAYS} days at most.`,
      `Pass a from within the last ${HISTORY_MAX_DAYS} days (after ${toRfc3339(Math.ceil(earliest / 1000) * 1000)}), or leave it out.`,
    );
  }
  const clampedTo = Math.min(toMs, now);
  if (fromMs > clampedTo) {
    throw rangeError("from", "from_after_to", "from is after to.", "Pass a from earlier than to.");
  }
  // days=N covers from the broker's midnight N-1 days ago, which is never later than now - (N-1) days in any
  // time zone, so one day more than the whole days elapsed since `from` always reaches back far enough.
  const elapsedDays = Math.ceil((now - fromMs) / DAY_MS);
  return { fromMs, toMs: clampedTo, tradeDays: Math.min(HISTORY_MAX_DAYS, elapsedDays + 1) };
}
