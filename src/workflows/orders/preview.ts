// ibkr_order_preview and ibkr_bracket_order_preview: the first step of every order. Validate the legs,
// check the account the broker lists and its mode, resolve the one contract, read a fresh quote, run the
// preview risk policy (every check, every reason), ask the broker what the order would cost (what-if), and
// store the preview with its expiry. Nothing here sends an order: what-if is the only broker write-shaped
// call, and it places nothing.
import { whatIfOrder } from "../../../generated/cpapi/client.gen.ts";
import type { ToolInput, ToolOutput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { canonical } from "../../core/decimal.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import { prefixedId } from "../../core/ids.ts";
import { type AccountMode, legView, type OrderLeg, primaryLeg } from "../../core/orders.ts";
import { mapWhatIf, orderTicket } from "../../cpapi/mappers/index.ts";
import { evaluatePreviewPolicy, type PolicyVerdict, type QuoteView } from "../../gates/index.ts";
import { readCall } from "../reads/deps.ts";
import { orderAccount } from "./account.ts";
import type { OrderDeps } from "./deps.ts";
import { callOrigin, recordEvent } from "./events.ts";
import { bracketLegs, singleLeg } from "./intent.ts";
import { type OrderContract, orderContract, orderQuote, quoteOutput } from "./market.ts";
import type { PreviewKind, StoredPreview } from "./stored-preview.ts";

type WhatIf = ToolOutput<"ibkr_order_preview">["what_if"];

function requireEnabled(deps: OrderDeps): void {
  if (!deps.config.order_preview.enabled) {
    throw new GatewayError("ORDER_PREVIEW_DISABLED", { details: { field: "order_preview.enabled" } });
  }
}

function settings(deps: OrderDeps) {
  const p = deps.config.order_preview;
  return {
    accountModes: p.account_modes as AccountMode[],
    assetClasses: p.allowed_asset_classes,
    allowFractional: p.allow_fractional,
    currency: p.currency,
    ...(p.max_order_quantity !== undefined ? { maxQuantity: canonical(p.max_order_quantity) } : {}),
    ...(p.max_order_notional !== undefined ? { maxNotional: canonical(p.max_order_notional) } : {}),
  };
}

/** The numeric or message-id prefixes of what-if warnings ("21/You are..."), for a person to acknowledge. */
function warningIds(whatIf: WhatIf): string[] {
  const text = whatIf.broker_warning;
  if (text === undefined) return [];
  return [...text.matchAll(/(?:^|\n)\s*([A-Za-z]?[0-9]{1,6})\//g)].map((m) => m[1] as string).slice(0, 20);
}

interface PreviewRequest {
  readonly kind: PreviewKind;
  readonly accountId: string;
  readonly symbol: string;
  readonly contractId?: string;
  readonly currency?: string;
  readonly legs: OrderLeg[];
}

interface PreparedPreview {
  readonly previewId: string;
  readonly stored: StoredPreview;
  readonly accountId: string;
  readonly source: ToolOutput<"ibkr_order_preview">["source"];
}

export function previewOperations(deps: OrderDeps) {
  async function prepare(request: PreviewRequest, context: OperationContext): Promise<PreparedPreview> {
    const call = readCall(deps, context);
    const account = await orderAccount(deps, call.transport, request.accountId);
    const contract: OrderContract = await orderContract(call.transport, deps.books, request);
    const quote: QuoteView | null = await orderQuote(deps.snapshot, context, contract);
    const multiplier = "1";
    const verdict: PolicyVerdict = evaluatePreviewPolicy(settings(deps), {
      accountMode: account.mode === "unknown" ? "live" : account.mode,
      assetClass: contract.asset_class,
      contractCurrency: contract.currency,
      multiplier,
      legs: request.legs,
      quote,
    });
    const refusals = [...verdict.refusals];
    if (account.mode === "unknown" && !refusals.includes("ORDER_ACCOUNT_MODE_REFUSED")) {
      refusals.unshift("ORDER_ACCOUNT_MODE_REFUSED");
    }
    const leg = primaryLeg(request.legs);
    if (refusals.length > 0 || quote === null) {
      recordEvent(deps.store, callOrigin(context), {
        type: "order_preview_refused",
        decision: "refuse",
        result: "refused",
        errorCode: "ORDER_POLICY_REFUSED",
        accountId: account.accountId,
        metadata: {
          refusal_reasons: refusals,
          policy_id: verdict.policyId,
          account_mode: account.mode,
          conid: Number(contract.contract_id),
          symbol: contract.symbol,
          side: leg.side,
          order_type: leg.orderType,
          quantity: leg.quantity,
          limit_price: leg.limitPrice,
          stop_price: leg.stopPrice,
        },
      });
      throw new GatewayError("ORDER_POLICY_REFUSED", {
        message: `The preview policy refused the order: ${refusals.join(", ")}.`,
        details: { refusal_reasons: refusals, policy_id: verdict.policyId },
      });
    }
    const ticket = orderTicket(leg, { accountId: account.accountId, conid: Number(contract.contract_id) });
    const answer = await whatIfOrder(call.transport, {
      path: { accountId: account.accountId },
      body: { orders: [ticket] },
    });
    const whatIf = mapWhatIf(answer.body, {
      baseCurrency: account.baseCurrency ?? contract.currency,
      contractCurrency: contract.currency,
    });
    const now = deps.clock.now();
    const expiresAt = now + deps.config.order_preview.ttl_seconds * 1000;
    const stored: StoredPreview = {
      preview_kind: request.kind,
      account_mode: account.mode as AccountMode,
      contract,
      multiplier,
      legs: request.legs.map((l) => ({ role: l.role, ...legView(l) })),
      what_if: whatIf,
      risk: {
        policy_id: verdict.policyId,
        decision: verdict.warnings.length > 0 ? "accepted_with_warnings" : "accepted",
        ...(verdict.notional !== undefined ? { notional: verdict.notional } : {}),
        warnings: [...verdict.warnings],
      },
      quote: quoteOutput(quote),
      created_at: toRfc3339(now),
      expires_at: toRfc3339(expiresAt),
    };
    // The broker's warning text may quote the account id; the store keeps nothing raw.
    const safe = deps.store.redact(stored).value as StoredPreview;
    const previewHash = deps.store.hashCanonical(safe);
    const previewId = prefixedId("pv", deps.clock);
    deps.store.transaction(() => {
      deps.store.previews.insert({
        previewId,
        accountIdHash: account.accountIdHash,
        mode: account.mode as AccountMode,
        payload: { ...safe, preview_hash: previewHash },
        createdAt: now,
        expiresAt,
      });
      recordEvent(deps.store, callOrigin(context), {
        type: "order_preview_created",
        accountId: account.accountId,
        metadata: {
          preview_id: previewId,
          preview_kind: request.kind,
          preview_hash: previewHash,
          account_mode: account.mode,
          conid: Number(contract.contract_id),
          symbol: contract.symbol,
          asset_class: contract.asset_class,
          currency: contract.currency,
          side: leg.side,
          order_type: leg.orderType,
          quantity: leg.quantity,
          limit_price: leg.limitPrice,
          stop_price: leg.stopPrice,
          time_in_force: leg.timeInForce,
          estimated_notional: verdict.notional?.amount,
          estimated_commission: whatIf.commission.amount,
          quote_provenance: quote.provenance.status,
          quote_age_seconds: quote.provenance.age_seconds,
          policy_id: verdict.policyId,
          broker_warning_ids: warningIds(whatIf),
          expires_at: toRfc3339(expiresAt),
        },
      });
    });
    return { previewId, stored: safe, accountId: account.accountId, source: call.source };
  }

  function common(prepared: PreparedPreview) {
    const { stored } = prepared;
    return {
      preview_id: prepared.previewId,
      account_id: prepared.accountId,
      created_at: stored.created_at,
      expires_at: stored.expires_at,
      order_sent: false as const,
      contract: stored.contract,
      what_if: stored.what_if,
      risk: stored.risk,
      quote: stored.quote,
      source: prepared.source,
    };
  }

  return {
    async "orders.preview"(args: Record<string, unknown>, context: OperationContext) {
      requireEnabled(deps);
      const input = args as ToolInput<"ibkr_order_preview">;
      const leg = singleLeg(input);
      const prepared = await prepare(
        {
          kind: "order",
          accountId: input.account_id,
          symbol: input.symbol,
          ...(input.contract_id !== undefined ? { contractId: input.contract_id } : {}),
          currency: input.currency ?? "USD",
          legs: [leg],
        },
        context,
      );
      const { role: _role, ...order } = prepared.stored.legs[0] as StoredPreview["legs"][number];
      return { ...common(prepared), order } satisfies Record<string, unknown>;
    },

    async "orders.bracketPreview"(args: Record<string, unknown>, context: OperationContext) {
      requireEnabled(deps);
      const input = args as ToolInput<"ibkr_bracket_order_preview">;
      const legs = bracketLegs(input);
      const prepared = await prepare(
        {
          kind: "bracket",
          accountId: input.account_id,
          symbol: input.symbol,
          ...(input.contract_id !== undefined ? { contractId: input.contract_id } : {}),
          currency: input.currency ?? "USD",
          legs,
        },
        context,
      );
      return { ...common(prepared), legs: prepared.stored.legs };
    },
  };
}
