// The live limit policy (live_trading.policies, selected by risk_policy_id): symbol and asset-class
// allowlists, per-leg quantity and notional, a price collar and quote age against a fresh snapshot, and the
// trading day's counters (orders in the frequency window, orders and notional of the day). Every rule is
// checked and every failure reported (parent LIVE_LIMIT_REFUSED). No I/O: counters come from the store's
// ledger, the quote from the broker, both handed in by the workflow.
import type { RefusalReasonCode } from "../../../generated/errors.gen.ts";
import { add, compare, decimal, subtract } from "../../core/decimal.ts";
import { legNotional, type Money, type OrderLeg, primaryLeg } from "../../core/orders.ts";
import { type QuoteView, referencePrice } from "../policy/index.ts";

export interface LivePolicySettings {
  readonly id: string;
  readonly enabled: boolean;
  readonly currency: string;
  readonly max_order_quantity: string;
  readonly max_order_notional: string;
  readonly max_orders_per_window?: number;
  readonly window_seconds?: number;
  readonly max_orders_per_session?: number;
  readonly max_session_notional?: string;
  readonly price_collar_bps: number;
  readonly max_quote_age_seconds: number;
  readonly allowed_symbols: readonly string[];
  readonly allowed_asset_classes: readonly string[];
}

export interface LiveCounters {
  /** Live orders of the account in the last window_seconds. */
  readonly inWindow: number;
  /** Live orders of the account on the current trading day. */
  readonly inSession: number;
  /** Their notional in the policy currency. */
  readonly sessionNotional: string;
}

export interface LiveLimitInput {
  readonly policy: LivePolicySettings;
  readonly symbol: string;
  readonly assetClass: string;
  readonly contractCurrency: string;
  readonly multiplier: string;
  readonly legs: readonly OrderLeg[];
  /** A fresh snapshot for the collar; null when none could be had. */
  readonly quote: QuoteView | null;
  readonly counters: LiveCounters;
  /**
   * What this write adds to the day's notional: the primary leg's value for a submit, the increase over the
   * working order for a modify. Undefined: the primary leg's value.
   */
  readonly addedNotional?: string;
  /** Orders this write adds to the counters (three for a bracket, one otherwise). */
  readonly addedOrders: number;
}

export interface LiveLimitVerdict {
  readonly reasons: readonly RefusalReasonCode[];
  /** What the write counts toward the day's notional, in the policy currency. */
  readonly notional: Money;
  /** Plain-language notes for the gate report (no broker text). */
  readonly notes: readonly string[];
}

/** Orders that can execute at once are collared; bracket exits rest away from the market by design. */
function collared(leg: OrderLeg): boolean {
  return (leg.role === "single" || leg.role === "entry") && leg.orderType !== "trailing_stop";
}

function priceGuard(input: LiveLimitInput, reasons: Set<RefusalReasonCode>, notes: string[]): void {
  const { policy, quote } = input;
  if (quote === null || quote.provenance.status === "unavailable") {
    reasons.add("LIVE_MARKET_SNAPSHOT_MISSING");
    return;
  }
  const age = quote.provenance.age_seconds;
  if (quote.provenance.status === "stale" || (age !== undefined && age > policy.max_quote_age_seconds)) {
    reasons.add("LIVE_STALE_QUOTE");
    notes.push(`quote age ${age ?? "unknown"} s is above the policy's ${policy.max_quote_age_seconds} s`);
    return;
  }
  const reference = referencePrice(quote);
  if (reference === undefined || quote.currency !== input.contractCurrency) {
    reasons.add("LIVE_MARKET_SNAPSHOT_MISSING");
    return;
  }
  for (const leg of input.legs.filter(collared)) {
    const price = leg.limitPrice ?? leg.stopPrice;
    if (price === undefined) continue;
    const bps = decimal(subtract(price, reference)).abs().dividedBy(reference).times(10_000);
    if (bps.greaterThan(policy.price_collar_bps)) {
      reasons.add("LIVE_PRICE_COLLAR_REFUSED");
      notes.push(
        `${leg.role} price ${price} is ${bps.toFixed(0)} bps from the reference ${reference} (collar ${policy.price_collar_bps} bps)`,
      );
    }
  }
}

export function evaluateLiveLimits(input: LiveLimitInput): LiveLimitVerdict {
  const { policy } = input;
  const reasons = new Set<RefusalReasonCode>();
  const notes: string[] = [];
  if (!policy.enabled) reasons.add("LIVE_LIMIT_POLICY_DISABLED");
  const symbols = new Set(policy.allowed_symbols.map((s) => s.toUpperCase()));
  if (!symbols.has(input.symbol.toUpperCase())) reasons.add("LIVE_SYMBOL_REFUSED");
  if (!policy.allowed_asset_classes.includes(input.assetClass)) reasons.add("LIVE_ASSET_CLASS_REFUSED");
  const reference = referencePrice(input.quote);
  for (const leg of input.legs) {
    if (compare(leg.quantity, policy.max_order_quantity) > 0) reasons.add("LIVE_QUANTITY_LIMIT_REFUSED");
    const value = legNotional(leg, reference, input.multiplier);
    // A leg whose value cannot be known, or is in another currency than the limit, cannot pass the limit.
    if (value === undefined || input.contractCurrency !== policy.currency) {
      reasons.add("LIVE_NOTIONAL_LIMIT_REFUSED");
      if (input.contractCurrency !== policy.currency) {
        notes.push(
          `the contract trades in ${input.contractCurrency}, the policy limits are in ${policy.currency}`,
        );
      }
    } else if (compare(value, policy.max_order_notional) > 0) {
      reasons.add("LIVE_NOTIONAL_LIMIT_REFUSED");
    }
  }
  priceGuard(input, reasons, notes);
  const counters = input.counters;
  if (
    policy.max_orders_per_window !== undefined &&
    counters.inWindow + input.addedOrders > policy.max_orders_per_window
  ) {
    reasons.add("LIVE_FREQUENCY_LIMIT_REFUSED");
  }
  if (
    policy.max_orders_per_session !== undefined &&
    counters.inSession + input.addedOrders > policy.max_orders_per_session
  ) {
    reasons.add("LIVE_SESSION_ORDER_LIMIT_REFUSED");
  }
  const primaryValue = legNotional(primaryLeg(input.legs), reference, input.multiplier) ?? "0";
  const added = input.addedNotional ?? primaryValue;
  if (
    policy.max_session_notional !== undefined &&
    compare(add(counters.sessionNotional, added), policy.max_session_notional) > 0
  ) {
    reasons.add("LIVE_SESSION_NOTIONAL_LIMIT_REFUSED");
  }
  return { reasons: [...reasons], notional: { amount: added, currency: policy.currency }, notes };
}
