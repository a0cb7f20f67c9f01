// Paper and live modifies of a working order. The order as it stands is read from the broker, the changes are
// applied to it (within the order's type; the side and contract never change), and the result must pass what
// a new order would: on paper the preview policy against a fresh quote, live the whole live gate report on an
// approved replacement preview that equals the changed order (seed-inventory §8.6). The kill switch stops
// modifies, since a modify can add exposure.
import { getOrderStatus } from "../../../generated/cpapi/client.gen.ts";
import type { ToolInput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { canonical, compare, subtract } from "../../core/decimal.ts";
import { GatewayError, isGatewayError } from "../../core/gateway-error.ts";
import { type AccountMode, legNotional, legView, type OrderLeg } from "../../core/orders.ts";
import { tradingDayOf } from "../../core/trading-day.ts";
import type { AnsweredQuestion } from "../../cpapi/index.ts";
import { mapOrderStatusBody, normaliseOrderStatus, orderTicket } from "../../cpapi/mappers/index.ts";
import {
  evaluatePreviewPolicy,
  gateReport,
  liveRefusal,
  paperModifyGates,
  referencePrice,
  runIdempotent,
  writeIdentity,
} from "../../gates/index.ts";
import type { Store } from "../../store/index.ts";
import { type ReadCall, readCall } from "../reads/deps.ts";
import { type OrderAccount, orderAccount } from "./account.ts";
import { acknowledgedQuestions, retireAfterQuestion } from "./approvals.ts";
import { type OrderDeps, writerFor } from "./deps.ts";
import { brokerMessageOf, callOrigin, type EventOrigin, recordEvent } from "./events.ts";
import { invalidOrder, type ModifyChanges, modifiedLeg, modifyChanges } from "./intent.ts";
import { evaluateLive } from "./live-gates.ts";
import { orderQuote } from "./market.ts";
import type { Recovery } from "./recovery.ts";
import { type LoadedPreview, loadPreview } from "./stored-preview.ts";
import { questionAuditor, replayed, uncertainCause, uncertainEvent } from "./submit.ts";

/** What a pending modify carries so completion and recovery can settle it. */
export interface ModifyContext {
  readonly kind: "modify";
  readonly mode: AccountMode;
  readonly writer: string;
  readonly broker_order_id: string;
  readonly client_order_id: string | null;
  readonly contract_id: string;
  readonly symbol: string;
  readonly changes: Record<string, string>;
  /** The order as it stands after the change. */
  readonly leg: Record<string, string>;
  readonly added_notional: string;
  readonly notional_currency: string;
  readonly trading_day: string;
  readonly preview_id?: string;
  readonly approval_id?: string;
  readonly policy_id?: string;
  readonly gates?: readonly unknown[];
}

const MODIFIABLE = new Set(["limit", "stop", "stop_limit", "trailing_stop"]);
const WORKING = new Set(["pending_submit", "open", "partially_filled", "inactive"]);

interface WorkingOrder {
  readonly leg: OrderLeg;
  readonly contractId: string;
  readonly symbol: string;
  /** As the broker reports it: an order placed elsewhere (an option from TWS) is checked as what it is. */
  readonly assetClass: string;
  readonly currency: string | undefined;
  readonly filled: string;
  readonly clientOrderId: string | null;
}

async function workingOrder(
  call: ReadCall,
  account: OrderAccount,
  orderId: string,
  changes: ModifyChanges,
): Promise<WorkingOrder> {
  let item: ReturnType<typeof mapOrderStatusBody>;
  try {
    const answer = await getOrderStatus(call.transport, { path: { orderId: Number(orderId) } });
    item = mapOrderStatusBody(answer.body);
  } catch (error) {
    if (isGatewayError(error) && error.code === "ORDER_NOT_FOUND") {
      throw new GatewayError("ORDER_NOT_FOUND", {
        message: "No working order with this id is in the current brokerage session.",
        details: { field: "broker_order_id" },
      });
    }
    throw error;
  }
  if (item.account_id.toUpperCase() !== account.accountId) {
    throw new GatewayError("ORDER_NOT_FOUND", { details: { field: "broker_order_id" } });
  }
  if (!WORKING.has(item.status)) {
    throw invalidOrder(
      "broker_order_id",
      `The order is ${item.status.replace("_", " ")} and can no longer be modified.`,
    );
  }
  const type = item.order_type ?? "other";
  if (!MODIFIABLE.has(type)) {
    throw invalidOrder(
      "broker_order_id",
      `The order is a ${type.replace("_", " ")} order; the gateway modifies limit, stop, stop limit and trailing stop orders.`,
    );
  }
  if (
    type === "trailing_stop" &&
    changes.trailing_amount === undefined &&
    changes.trailing_percent === undefined
  ) {
    throw invalidOrder(
      "trailing_amount",
      "The broker does not report a trailing stop's distance; pass trailing_amount or trailing_percent with the change.",
    );
  }
  const quantity = item.quantity ?? item.filled_quantity;
  return {
    leg: {
      role: "single",
      side: item.side,
      quantity,
      orderType: type as OrderLeg["orderType"],
      ...(item.limit_price !== undefined ? { limitPrice: item.limit_price } : {}),
      ...(item.stop_price !== undefined && type !== "trailing_stop" ? { stopPrice: item.stop_price } : {}),
      timeInForce: item.time_in_force === "gtc" ? "gtc" : "day",
    },
    contractId: item.contract_id,
    symbol: item.symbol ?? item.contract_id,
    assetClass: item.asset_class ?? "other",
    currency: item.currency,
    filled: item.filled_quantity,
    clientOrderId: item.client_order_id ?? null,
  };
}

/** The cOID the gateway sent with an order it placed and still follows; order status does not carry it. */
function placedClientOrderId(store: Store, accountIdHash: string, orderId: string): string | null {
  const row = store.backlog
    .list()
    .find((o) => o.accountIdHash === accountIdHash && o.brokerOrderId === orderId);
  return row?.clientOrderId ?? null;
}

function sameOrder(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const x = a[key];
    const y = b[key];
    if (x === undefined || y === undefined) return false;
    if (/^-?[0-9.]+$/.test(x) && /^-?[0-9.]+$/.test(y) ? compare(x, y) !== 0 : x !== y) return false;
  }
  return true;
}

export function settleModify(
  store: Store,
  origin: EventOrigin,
  input: {
    readonly accountIdHash: string;
    readonly keyHash: string;
    readonly ctx: ModifyContext;
    readonly status: string | null;
    readonly answered: readonly AnsweredQuestion[];
    readonly at: number;
  },
): Record<string, unknown> {
  const { ctx, at } = input;
  if (ctx.approval_id !== undefined) {
    store.approvals.consumeByWrite(ctx.approval_id, at);
    recordEvent(store, origin, {
      type: "approval_consumed",
      accountIdHash: input.accountIdHash,
      metadata: {
        approval_id: ctx.approval_id,
        preview_id: ctx.preview_id,
        operation: "modify",
        idempotency_key_hash: input.keyHash,
      },
    });
  }
  const eventId = recordEvent(store, origin, {
    type: "order_modified",
    accountIdHash: input.accountIdHash,
    metadata: {
      account_mode: ctx.mode,
      writer: ctx.writer,
      broker_order_id: ctx.broker_order_id,
      preview_id: ctx.preview_id,
      approval_id: ctx.approval_id,
      idempotency_key_hash: input.keyHash,
      changed_fields: Object.keys(ctx.changes),
      quantity: ctx.leg.quantity,
      limit_price: ctx.leg.limit_price,
      stop_price: ctx.leg.stop_price,
      time_in_force: ctx.leg.time_in_force,
      broker_status: input.status ?? undefined,
      reply_rounds: input.answered.length,
    },
  });
  if (ctx.writer === "broker") {
    store.ledger.record({
      accountIdHash: input.accountIdHash,
      mode: ctx.mode,
      operation: "modify",
      tradingDay: ctx.trading_day,
      submittedAt: at,
      orders: 1,
      notional: ctx.added_notional,
      currency: ctx.notional_currency,
      idempotencyKeyHash: input.keyHash,
    });
  }
  const { role: _role, ...order } = ctx.leg as Record<string, string>;
  return {
    broker_order_id: ctx.broker_order_id,
    ...(ctx.client_order_id !== null ? { client_order_id: ctx.client_order_id } : {}),
    status: normaliseOrderStatus(input.status ?? "Submitted"),
    answered_questions: input.answered.flatMap((round) =>
      round.questionIds.map((id) => ({
        question_id: id,
        text: round.text.slice(0, 4000),
        answer: round.answer,
      })),
    ),
    changes: ctx.changes,
    order: { contract_id: ctx.contract_id, symbol: ctx.symbol, ...order },
    mode: ctx.mode,
    writer: ctx.writer === "local_candidate" ? "local_candidate" : "broker",
    modified_at: toRfc3339(at),
    ...(ctx.preview_id !== undefined ? { preview_id: ctx.preview_id } : {}),
    ...(ctx.approval_id !== undefined ? { approval_id: ctx.approval_id } : {}),
    ...(ctx.policy_id !== undefined ? { policy_id: ctx.policy_id } : {}),
    ...(ctx.gates !== undefined ? { gates: ctx.gates } : {}),
    audit_event_id: eventId,
  };
}

export function modifyOperations(deps: OrderDeps, recovery: Recovery) {
  const { store, clock, config } = deps;

  async function modify(mode: AccountMode, args: Record<string, unknown>, context: OperationContext) {
    const input = args as ToolInput<"ibkr_live_order_modify"> & ToolInput<"ibkr_paper_order_modify">;
    const changes = modifyChanges(input);
    const call = readCall(deps, context);
    const origin = callOrigin(context);
    const account = await orderAccount(deps, call.transport, input.account_id);
    const operation = `${mode}.modify`;
    const identity = writeIdentity(store, {
      principal: context.principal,
      idempotencyKey: input.idempotency_key,
      operation,
      request: {
        account_id: account.accountId,
        broker_order_id: input.broker_order_id,
        changes,
        ...(mode === "live" ? { approval_id: input.approval_id, preview_id: input.preview_id } : {}),
      },
    });
    const writer = writerFor(deps, mode, call);
    let ctx: ModifyContext | null = null;

    async function gates(): Promise<void> {
      if (writer.kind === "refusing") await writer.cancel({ accountId: "", orderId: "0" });
      const now = clock.now();
      if (mode === "paper") {
        paperModifyGates({
          paper: {
            enabled: config.paper_trading.enabled && config.safety.paper_trading_enabled,
            accountId: account.accountId,
            allowedAccounts: config.paper_trading.allowed_accounts,
            brokerSaysPaper: account.brokerSaysPaper,
          },
          killSwitch: store.killSwitch.get(),
        });
      }
      const current = await workingOrder(call, account, input.broker_order_id, changes);
      const leg = modifiedLeg(current.leg, changes);
      if (compare(leg.quantity, current.filled) < 0) {
        throw invalidOrder(
          "quantity",
          `The order has already filled ${current.filled}; the new quantity cannot be below that.`,
        );
      }
      const currency = current.currency ?? "USD";
      const quote = await orderQuote(deps.snapshot, context, { contract_id: current.contractId, currency });
      const reference = referencePrice(quote);
      const before = legNotional(current.leg, reference) ?? "0";
      const after = legNotional(leg, reference) ?? "0";
      const increase = compare(after, before) > 0 ? canonical(subtract(after, before)) : "0";
      let policyId: string | undefined;
      let gateView: unknown[] | undefined;
      let tradingDay = tradingDayOf(now);
      let approvalId: string | undefined;
      let previewId: string | undefined;
      if (mode === "paper") {
        const verdict = evaluatePreviewPolicy(
          {
            accountModes: ["paper"],
            assetClasses: config.order_preview.allowed_asset_classes,
            allowFractional: config.order_preview.allow_fractional,
            currency: config.order_preview.currency,
            ...(config.order_preview.max_order_quantity !== undefined
              ? { maxQuantity: canonical(config.order_preview.max_order_quantity) }
              : {}),
            ...(config.order_preview.max_order_notional !== undefined
              ? { maxNotional: canonical(config.order_preview.max_order_notional) }
              : {}),
          },
          {
            accountMode: "paper",
            assetClass: current.assetClass,
            contractCurrency: currency,
            multiplier: "1",
            legs: [leg],
            quote,
          },
        );
        if (verdict.refusals.length > 0) {
          throw new GatewayError("ORDER_POLICY_REFUSED", {
            message: `The changed order breaks the preview policy: ${verdict.refusals.join(", ")}.`,
            details: { refusal_reasons: [...verdict.refusals], policy_id: verdict.policyId },
          });
        }
      } else {
        const approval = store.approvals.get(input.approval_id);
        let preview: LoadedPreview | null = null;
        let previewError: GatewayError | undefined;
        try {
          preview = loadPreview(store, input.preview_id, account.accountIdHash, now);
          const wanted = legView(leg);
          const { role: _role, ...proposed } = preview.preview.legs[0] ?? { role: "single" };
          if (
            preview.preview.legs.length !== 1 ||
            preview.preview.contract.contract_id !== current.contractId ||
            !sameOrder(proposed, wanted)
          ) {
            throw new GatewayError("APPROVAL_PREVIEW_MISMATCH", {
              message:
                "The replacement preview does not equal the order as it would stand after this change.",
              userAction:
                "Preview the order exactly as it should stand after the change (same contract, side and type, the new quantity and prices), approve that preview, and pass both ids.",
              details: { field: "preview_id" },
            });
          }
        } catch (error) {
          if (isGatewayError(error) && error.code === "APPROVAL_PREVIEW_MISMATCH") throw error;
          previewError = error as GatewayError;
          preview = null;
        }
        const evaluation = evaluateLive(
          deps,
          {
            context,
            account,
            kind: "modify",
            approval,
            expectation: {
              accountIdHash: account.accountIdHash,
              previewId: input.preview_id,
              previewKind: "order",
              now,
            },
            preview,
            ...(previewError !== undefined ? { previewError } : {}),
            addedNotional: increase,
            quote,
          },
          origin,
        );
        const refusal = liveRefusal(evaluation.findings);
        if (refusal !== null) throw refusal;
        policyId = evaluation.policyId ?? undefined;
        gateView = gateReport(evaluation.findings);
        tradingDay = evaluation.tradingDay;
        approvalId = input.approval_id;
        previewId = input.preview_id;
      }
      ctx = {
        kind: "modify",
        mode,
        writer: writer.kind,
        broker_order_id: input.broker_order_id,
        client_order_id:
          current.clientOrderId ?? placedClientOrderId(store, account.accountIdHash, input.broker_order_id),
        contract_id: current.contractId,
        symbol: current.symbol,
        changes: changes as Record<string, string>,
        leg: legView(leg),
        added_notional: increase,
        notional_currency: currency,
        trading_day: tradingDay,
        ...(previewId !== undefined ? { preview_id: previewId } : {}),
        ...(approvalId !== undefined ? { approval_id: approvalId } : {}),
        ...(policyId !== undefined ? { policy_id: policyId } : {}),
        ...(gateView !== undefined ? { gates: gateView } : {}),
      };
    }

    const extra = { account_id: account.accountId, idempotency_key: input.idempotency_key };
    return runIdempotent(
      {
        store,
        now: () => clock.now(),
        operation,
        mode,
        accountIdHash: account.accountIdHash,
        keyHash: identity.keyHash,
        requestHash: identity.requestHash,
        ...(mode === "live" ? { approvalId: input.approval_id } : {}),
        get context() {
          return { ...(ctx as unknown as Record<string, unknown>) };
        },
        originRequestId: context.requestId,
      },
      {
        recover: (record) =>
          recovery.settle(record, { transport: call.transport, accountId: account.accountId }),
        replay: (record) => ({
          ...replayed(deps, origin, record, call, account.accountId, "modify"),
          ...extra,
        }),
        gates,
        write: async () => {
          const c = ctx as ModifyContext;
          const leg = { ...(c.leg as Record<string, string>) };
          const approval = c.approval_id === undefined ? null : store.approvals.get(c.approval_id);
          const ticket = orderTicket(
            {
              role: "single",
              side: leg.side as OrderLeg["side"],
              quantity: leg.quantity as string,
              orderType: leg.order_type as OrderLeg["orderType"],
              ...(leg.limit_price !== undefined ? { limitPrice: leg.limit_price } : {}),
              ...(leg.stop_price !== undefined ? { stopPrice: leg.stop_price } : {}),
              ...(leg.trailing_amount !== undefined ? { trailingAmount: leg.trailing_amount } : {}),
              ...(leg.trailing_percent !== undefined ? { trailingPercent: leg.trailing_percent } : {}),
              timeInForce: leg.time_in_force as OrderLeg["timeInForce"],
            },
            { accountId: account.accountId, conid: Number(c.contract_id) },
          );
          return writer.modify({
            accountId: account.accountId,
            orderId: c.broker_order_id,
            ticket,
            approvedQuestions: approval === null ? [] : acknowledgedQuestions(approval),
            onRound: questionAuditor(deps, origin, account, identity.keyHash, c.approval_id),
          });
        },
        complete: (placed) => {
          const stored = settleModify(store, origin, {
            accountIdHash: account.accountIdHash,
            keyHash: identity.keyHash,
            ctx: ctx as ModifyContext,
            status: placed.orders[0]?.status ?? null,
            answered: placed.answered,
            at: clock.now(),
          });
          return {
            result: { ...stored, ...extra, replayed: false, source: call.source },
            stored,
            brokerOrderId: input.broker_order_id,
          };
        },
        failed: (error, resolution) => {
          if (resolution !== "rejected" || ctx === null) return;
          if (error.code === "BROKER_QUESTION_UNAPPROVED" && ctx.approval_id !== undefined) {
            retireAfterQuestion(store, origin, {
              approvalId: ctx.approval_id,
              accountIdHash: account.accountIdHash,
              questionIds: error.details?.question_ids,
              at: clock.now(),
            });
          }
          recordEvent(store, origin, {
            type: "order_modified",
            result: "failed",
            errorCode: error.code,
            accountId: account.accountId,
            metadata: {
              account_mode: mode,
              writer: writer.kind,
              broker_order_id: input.broker_order_id,
              preview_id: ctx.preview_id,
              approval_id: ctx.approval_id,
              idempotency_key_hash: identity.keyHash,
              changed_fields: Object.keys(ctx.changes),
              broker_message: brokerMessageOf(error),
            },
          });
        },
        uncertain: (error) =>
          uncertainEvent(deps, origin, account, {
            mode,
            operation: "modify",
            keyHash: identity.keyHash,
            clientOrderIds: [],
            brokerOrderId: input.broker_order_id,
            cause: uncertainCause(error),
          }),
      },
    );
  }

  return {
    "paper.modify": (args: Record<string, unknown>, context: OperationContext) =>
      modify("paper", args, context),
    "live.modify": (args: Record<string, unknown>, context: OperationContext) =>
      modify("live", args, context),
  };
}

/** Whether the broker's order now stands as the modify asked (recovery of an uncertain modify). */
export function modifyApplied(
  ctx: ModifyContext,
  order: { quantity?: string; limit_price?: string; stop_price?: string },
): boolean {
  const leg = ctx.leg;
  const same = (a: string | undefined, b: string | undefined) =>
    a === undefined || (b !== undefined && compare(a, b) === 0);
  return (
    same(leg.quantity, order.quantity) &&
    same(leg.limit_price, order.limit_price) &&
    same(leg.stop_price, order.stop_price)
  );
}

export const MODIFY_OPERATIONS = ["paper.modify", "live.modify"] as const;
