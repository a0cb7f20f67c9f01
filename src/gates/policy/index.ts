// The preview risk policy (order_preview in config): deterministic checks of an order against the account
// mode, asset class, quantity, fractional rule, notional limit and the quote it was priced with. Every check
// runs and every failure is reported at once as refusal reasons (parent ORDER_POLICY_REFUSED); checks that
// pass with a caveat add warnings instead. No I/O: the workflow hands in what the broker said.
import type { RefusalReasonCode } from "../../../generated/errors.gen.ts";
import { compare, decimal, subtract } from "../../core/decimal.ts";
import {
  type AccountMode,
  isPositive,
  isWholeNumber,
  legNotional,
  type Money,
  type OrderLeg,
  primaryLeg,
} from "../../core/orders.ts";

/** The policy id reported in previews: the config section the limits come from. */
export const PREVIEW_POLICY_ID = "order_preview";

export interface PreviewPolicySettings {
  readonly accountModes: readonly AccountMode[];
  readonly assetClasses: readonly string[];
  readonly allowFractional: boolean;
  readonly maxQuantity?: string;
  readonly maxNotional?: string;
  /** Currency of maxNotional. */
  readonly currency: string;
}

export interface QuoteView {
  readonly bid?: string;
  readonly ask?: string;
  readonly last?: string;
  readonly currency: string;
  readonly provenance: {
    readonly status: string;
    readonly age_seconds?: number;
    readonly warnings: string[];
  };
}

export interface PreviewPolicyInput {
  readonly accountMode: AccountMode;
  readonly assetClass: string;
  readonly contractCurrency: string;
  /** Contract multiplier (100 for most equity options), as a decimal string. */
  readonly multiplier: string;
  readonly legs: readonly OrderLeg[];
  /** The quote the order is priced with; null when none fresh enough could be had. */
  readonly quote: QuoteView | null;
}

export interface PolicyWarning {
  readonly code: string;
  readonly message: string;
}

export interface PolicyVerdict {
  readonly policyId: string;
  readonly refusals: readonly RefusalReasonCode[];
  readonly warnings: readonly PolicyWarning[];
  /** Value of the order (its primary leg), when a price is known. */
  readonly notional: Money | undefined;
}

/** A limit this far from the market (in percent) is flagged: likely a typo, or an order that fills at once. */
const FAR_FROM_MARKET_PERCENT = "10";

/** The market reference: the midpoint when both sides are quoted, else the last trade. */
export function referencePrice(quote: QuoteView | null): string | undefined {
  if (quote === null) return undefined;
  const { bid, ask, last } = quote;
  if (bid !== undefined && ask !== undefined && isPositive(bid) && isPositive(ask)) {
    return decimal(bid).plus(ask).dividedBy(2).toString();
  }
  return last !== undefined && isPositive(last) ? last : undefined;
}

function priceWarnings(legs: readonly OrderLeg[], quote: QuoteView | null): PolicyWarning[] {
  const warnings: PolicyWarning[] = [];
  const reference = referencePrice(quote);
  const leg = primaryLeg(legs);
  if (reference === undefined || leg.limitPrice === undefined) return warnings;
  const limit = leg.limitPrice;
  const marketable =
    leg.orderType === "limit" &&
    ((leg.side === "buy" && quote?.ask !== undefined && compare(limit, quote.ask) >= 0) ||
      (leg.side === "sell" && quote?.bid !== undefined && compare(limit, quote.bid) <= 0));
  if (marketable) {
    warnings.push({
      code: "LIMIT_MARKETABLE",
      message: `The ${leg.side} limit ${limit} is at or through the market, so the order would likely fill as soon as it is submitted.`,
    });
  }
  const distance = decimal(subtract(limit, reference)).abs().dividedBy(reference).times(100);
  if (distance.greaterThan(FAR_FROM_MARKET_PERCENT)) {
    warnings.push({
      code: "PRICE_FAR_FROM_MARKET",
      message: `The limit ${limit} is ${distance.toFixed(1)}% away from the market reference ${reference}; check it is not a typo.`,
    });
  }
  return warnings;
}

function quoteWarnings(quote: QuoteView | null): PolicyWarning[] {
  if (quote === null) return [];
  const status = quote.provenance.status;
  if (status === "delayed") {
    return [
      { code: "QUOTE_DELAYED", message: "The quote is delayed (15-20 minutes); prices may have moved." },
    ];
  }
  if (status === "frozen") {
    return [
      {
        code: "MARKET_CLOSED",
        message:
          "The market is closed; the quote is the last one of the session and the order would work from the next open.",
      },
    ];
  }
  return [];
}

export function evaluatePreviewPolicy(
  settings: PreviewPolicySettings,
  input: PreviewPolicyInput,
): PolicyVerdict {
  const refusals = new Set<RefusalReasonCode>();
  if (!settings.accountModes.includes(input.accountMode)) refusals.add("ORDER_ACCOUNT_MODE_REFUSED");
  if (!settings.assetClasses.includes(input.assetClass)) refusals.add("ORDER_ASSET_CLASS_REFUSED");
  for (const leg of input.legs) {
    if (!isPositive(leg.quantity)) refusals.add("ORDER_QUANTITY_INVALID");
    else if (!settings.allowFractional && !isWholeNumber(leg.quantity))
      refusals.add("ORDER_FRACTIONAL_REFUSED");
    if (settings.maxQuantity !== undefined && compare(leg.quantity, settings.maxQuantity) > 0) {
      refusals.add("ORDER_QUANTITY_LIMIT_REFUSED");
    }
  }
  const usable = input.quote !== null && input.quote.provenance.status !== "stale";
  if (!usable) refusals.add("ORDER_MARKET_DATA_STALE");
  const reference = referencePrice(input.quote);
  const leg = primaryLeg(input.legs);
  const amount = legNotional(leg, reference, input.multiplier);
  if (amount === undefined) refusals.add("ORDER_MARKET_DATA_STALE");
  if (settings.maxNotional !== undefined && amount !== undefined) {
    if (settings.currency !== input.contractCurrency) refusals.add("ORDER_NOTIONAL_CURRENCY_MISMATCH");
    else if (compare(amount, settings.maxNotional) > 0) refusals.add("ORDER_NOTIONAL_LIMIT_REFUSED");
  }
  return {
    policyId: PREVIEW_POLICY_ID,
    refusals: [...refusals],
    warnings: usable ? [...quoteWarnings(input.quote), ...priceWarnings(input.legs, input.quote)] : [],
    notional: amount === undefined ? undefined : { amount, currency: input.contractCurrency },
  };
}
