// Settling a submit that reached the broker, in one transaction with the idempotency record: the approval is
// consumed, the order is recorded in the ledger (live limit counters) and the reconciliation backlog, and
// approval_consumed and order_submitted are appended. The same code settles a submit that crash recovery
// found at the broker by its cOID, so a recovered order is recorded exactly like one that completed.
import { toRfc3339 } from "../../core/clock.ts";
import type { AccountMode, LegRole } from "../../core/orders.ts";
import type { AnsweredQuestion } from "../../cpapi/index.ts";
import { normaliseOrderStatus } from "../../cpapi/mappers/index.ts";
import type { Store } from "../../store/index.ts";
import { type EventOrigin, recordEvent } from "./events.ts";
import type { WriterKind } from "./writer.ts";

/** What a pending submit record carries so that completion and recovery can settle it (no raw account id). */
export interface SubmitContext {
  readonly kind: "submit";
  readonly operation: "submit" | "bracket_submit";
  readonly mode: AccountMode;
  readonly writer: WriterKind;
  readonly preview_id: string;
  readonly approval_id: string;
  readonly client_order_id: string;
  readonly contract_id: string;
  readonly symbol: string;
  /** Legs as the contracts spell them, entry (or the single order) first. */
  readonly legs: readonly (Record<string, string> & { role: LegRole })[];
  readonly notional: string;
  readonly notional_currency: string;
  readonly trading_day: string;
  readonly policy_id?: string;
  readonly gates?: readonly unknown[];
}

export interface PlacedOrder {
  readonly orderId: string;
  readonly status: string | null;
}

function answeredView(answered: readonly AnsweredQuestion[]) {
  return answered.flatMap((round) =>
    round.questionIds.map((id) => ({
      question_id: id,
      text: round.text.slice(0, 4000),
      answer: round.answer,
    })),
  );
}

function orderView(ctx: SubmitContext, leg: SubmitContext["legs"][number]) {
  const { role: _role, ...rest } = leg;
  return { contract_id: ctx.contract_id, symbol: ctx.symbol, ...rest };
}

/**
 * The result a submit returns, without account_id and source (added per call). For a bracket the legs carry
 * the broker ids in request order: the entry, then its take-profit and stop-loss children.
 */
function resultOf(
  ctx: SubmitContext,
  placed: readonly PlacedOrder[],
  answered: readonly AnsweredQuestion[],
  at: number,
) {
  const status = (order: PlacedOrder | undefined) => normaliseOrderStatus(order?.status ?? "PreSubmitted");
  const base = {
    client_order_id: ctx.client_order_id,
    status: status(placed[0]),
    answered_questions: answeredView(answered),
    mode: ctx.mode,
    writer: ctx.writer === "local_candidate" ? ("local_candidate" as const) : ("broker" as const),
    preview_id: ctx.preview_id,
    approval_id: ctx.approval_id,
    submitted_at: toRfc3339(at),
    ...(ctx.policy_id !== undefined ? { policy_id: ctx.policy_id } : {}),
    ...(ctx.gates !== undefined ? { gates: ctx.gates } : {}),
  };
  if (ctx.operation === "bracket_submit") {
    return {
      ...base,
      legs: ctx.legs.map((leg, index) => {
        const { role, ...rest } = leg;
        return {
          role,
          broker_order_id: placed[index]?.orderId ?? "",
          status: status(placed[index]),
          ...rest,
        };
      }),
      contract_id: ctx.contract_id,
      symbol: ctx.symbol,
    };
  }
  return {
    ...base,
    broker_order_id: placed[0]?.orderId ?? "",
    order: orderView(ctx, ctx.legs[0] as SubmitContext["legs"][number]),
  };
}

export interface Settled {
  /** The call's result without account_id, source and replayed; stored for replays. */
  readonly stored: Record<string, unknown>;
  readonly brokerOrderId: string;
}

export function settleSubmit(
  store: Store,
  origin: EventOrigin,
  input: {
    readonly accountIdHash: string;
    readonly keyHash: string;
    readonly requestHash: string;
    readonly ctx: SubmitContext;
    readonly placed: readonly PlacedOrder[];
    readonly answered: readonly AnsweredQuestion[];
    readonly at: number;
    readonly originRequestId: string;
  },
): Settled {
  const { ctx, placed, at } = input;
  store.approvals.consumeByWrite(ctx.approval_id, at);
  recordEvent(store, origin, {
    type: "approval_consumed",
    accountIdHash: input.accountIdHash,
    metadata: {
      approval_id: ctx.approval_id,
      preview_id: ctx.preview_id,
      operation: "submit",
      idempotency_key_hash: input.keyHash,
    },
  });
  const entry = ctx.legs[0] as SubmitContext["legs"][number];
  const eventId = recordEvent(store, origin, {
    type: "order_submitted",
    accountIdHash: input.accountIdHash,
    metadata: {
      account_mode: ctx.mode,
      writer: ctx.writer,
      preview_id: ctx.preview_id,
      approval_id: ctx.approval_id,
      idempotency_key_hash: input.keyHash,
      request_hash: input.requestHash,
      client_order_ids: [ctx.client_order_id],
      broker_order_ids: placed.map((order) => order.orderId),
      order_group_id: ctx.operation === "bracket_submit" ? ctx.client_order_id : undefined,
      broker_status: placed[0]?.status ?? undefined,
      reply_rounds: input.answered.length,
      conid: Number(ctx.contract_id),
      symbol: ctx.symbol,
      side: entry.side,
      order_type: entry.order_type,
      quantity: entry.quantity,
      limit_price: entry.limit_price,
      stop_price: entry.stop_price,
      notional: ctx.notional,
    },
  });
  if (ctx.writer === "broker") {
    store.ledger.record({
      accountIdHash: input.accountIdHash,
      mode: ctx.mode,
      operation: ctx.operation,
      tradingDay: ctx.trading_day,
      submittedAt: at,
      orders: Math.max(1, placed.length),
      notional: ctx.notional,
      currency: ctx.notional_currency,
      idempotencyKeyHash: input.keyHash,
    });
    placed.forEach((order, index) => {
      store.backlog.upsert({
        accountIdHash: input.accountIdHash,
        brokerOrderId: order.orderId,
        mode: ctx.mode,
        lastStatus: order.status ?? "PreSubmitted",
        createdAt: at,
        lastPolledAt: null,
        clientOrderId: index === 0 ? ctx.client_order_id : null,
        originRequestId: input.originRequestId,
        role: ctx.legs[index]?.role ?? "single",
      });
    });
    if (ctx.operation === "bracket_submit") {
      store.orderGroups.insert({
        groupId: ctx.client_order_id,
        accountIdHash: input.accountIdHash,
        mode: ctx.mode,
        payload: {
          preview_id: ctx.preview_id,
          legs: placed.map((order, index) => ({
            role: ctx.legs[index]?.role,
            broker_order_id: order.orderId,
          })),
        },
        createdAt: at,
      });
    }
  }
  return {
    stored: { ...resultOf(ctx, placed, input.answered, at), audit_event_id: eventId },
    brokerOrderId: placed[0]?.orderId ?? "",
  };
}
