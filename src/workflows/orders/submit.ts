// Paper and live submits, single orders and brackets: the last step of preview -> approval -> submit.
//   account (the broker lists it; its mode) -> idempotency step: [gates (paper: account, kill switch,
//   approval, preview; live: every live gate together, with a fresh quote for the collar) -> pending row ->
//   writer (one request; a bracket's exits are children of its entry) -> settled with the approval consumed]
// A replay returns the first result with replayed true and sends nothing.
import { TOOLS, type ToolName } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import type { AccountMode } from "../../core/orders.ts";
import { tradingDayOf } from "../../core/trading-day.ts";
import { orderTicket } from "../../cpapi/mappers/index.ts";
import {
  gateReport,
  liveRefusal,
  paperSubmitGates,
  runIdempotent,
  writeIdentity,
} from "../../gates/index.ts";
import type { IdempotencyRecord } from "../../store/index.ts";
import { type ReadCall, readCall } from "../reads/deps.ts";
import { type OrderAccount, orderAccount } from "./account.ts";
import { acknowledgedQuestions, retireAfterQuestion } from "./approvals.ts";
import { type SubmitContext, settleSubmit } from "./complete.ts";
import { type OrderDeps, writerFor } from "./deps.ts";
import { brokerMessageOf, callOrigin, type EventOrigin, recordEvent } from "./events.ts";
import { evaluateLive } from "./live-gates.ts";
import { orderQuote } from "./market.ts";
import type { Recovery } from "./recovery.ts";
import { type LoadedPreview, loadPreview } from "./stored-preview.ts";
import { type OrderWriter, orderGroup } from "./writer.ts";

type SubmitKind = "order" | "bracket";

interface SubmitInput {
  readonly account_id: string;
  readonly approval_id: string;
  readonly idempotency_key: string;
  readonly preview_id?: string;
}

/** The reply rounds of a write, audited as they happen. */
export function questionAuditor(
  deps: OrderDeps,
  origin: EventOrigin,
  account: OrderAccount,
  keyHash: string,
  approvalId?: string,
) {
  return (round: import("../../cpapi/index.ts").AnsweredQuestion) => {
    const confirmed = round.answer !== "declined";
    recordEvent(deps.store, origin, {
      type: "order_question_answered",
      decision: confirmed ? "allow" : "refuse",
      result: confirmed ? "completed" : "refused",
      ...(confirmed ? {} : { errorCode: "BROKER_QUESTION_UNAPPROVED" as const }),
      accountId: account.accountId,
      metadata: {
        round: round.round,
        reply_id: round.replyId,
        message_ids: [...round.questionIds],
        policies: [...round.policies],
        answer: round.kind === "prompt" ? round.answer : confirmed ? "confirmed_true" : "confirmed_false",
        approval_id: approvalId,
        question_text: round.text,
        question_text_hash: deps.store.hashValue(round.text),
        idempotency_key_hash: keyHash,
      },
    });
  };
}

/** A stored result as a call returns it. */
export function replayed(
  deps: OrderDeps,
  origin: EventOrigin,
  record: IdempotencyRecord,
  call: ReadCall,
  accountId: string,
  operation: string,
): Record<string, unknown> {
  recordEvent(deps.store, origin, {
    type: "idempotency_replayed",
    accountIdHash: record.accountIdHash,
    metadata: {
      idempotency_key_hash: record.keyHash,
      request_hash: record.requestHash,
      operation,
      original_request_id: record.originRequestId ?? undefined,
      stored_status: record.status,
    },
  });
  const stored = (record.result ?? {}) as Record<string, unknown>;
  return { ...stored, account_id: accountId, replayed: true, source: call.source };
}

export function uncertainEvent(
  deps: OrderDeps,
  origin: EventOrigin,
  account: OrderAccount,
  input: {
    mode: AccountMode;
    operation: string;
    keyHash: string;
    clientOrderIds: string[];
    brokerOrderId?: string;
    cause: string;
  },
): void {
  recordEvent(deps.store, origin, {
    type: "order_outcome_uncertain",
    result: "uncertain",
    errorCode: "ORDER_OUTCOME_UNCERTAIN",
    accountId: account.accountId,
    metadata: {
      account_mode: input.mode,
      operation: input.operation,
      idempotency_key_hash: input.keyHash,
      client_order_ids: input.clientOrderIds,
      broker_order_id: input.brokerOrderId,
      cause: input.cause,
      idempotency_status: "pending_writer",
    },
  });
}

/** timeout, connection_reset, reply_timeout or response_invalid, from the uncertain error. */
export function uncertainCause(error: GatewayError): string {
  const cause = String(error.details?.cause_code ?? error.details?.reason ?? "");
  if (cause === "BROKER_RESPONSE_INVALID" || cause === "schema_mismatch" || cause === "unrecognised_answer")
    return "response_invalid";
  if (String(error.details?.operation_id ?? "") === "replyToQuestion") return "reply_timeout";
  if (/reset|socket|closed/i.test(String(error.details?.failure ?? cause))) return "connection_reset";
  return "timeout";
}

export function submitOperations(deps: OrderDeps, recovery: Recovery) {
  const { store, clock, config } = deps;

  async function submit(
    kind: SubmitKind,
    mode: AccountMode,
    args: Record<string, unknown>,
    context: OperationContext,
  ) {
    const input = args as unknown as SubmitInput;
    const call = readCall(deps, context);
    const origin = callOrigin(context);
    const account = await orderAccount(deps, call.transport, input.account_id);
    const operation = `${mode}.${kind === "bracket" ? "bracketSubmit" : "submit"}`;
    const identity = writeIdentity(store, {
      principal: context.principal,
      idempotencyKey: input.idempotency_key,
      operation,
      request: {
        account_id: account.accountId,
        approval_id: input.approval_id,
        ...(input.preview_id !== undefined ? { preview_id: input.preview_id } : {}),
      },
    });
    const writer: OrderWriter = writerFor(deps, mode, call);
    let loaded: LoadedPreview | null = null;
    let submitContext: SubmitContext | null = null;
    // The require_approval questions the approval acknowledged, read with it by the gates (they never change).
    let approvedQuestions: string[] = [];

    async function gates(): Promise<void> {
      if (writer.kind === "refusing")
        await writer.place({ accountId: "", tickets: [], approvedQuestions: [], onRound: () => undefined });
      const now = clock.now();
      const approval = store.approvals.get(input.approval_id);
      approvedQuestions = approval === null ? [] : acknowledgedQuestions(approval);
      const expectation = {
        accountIdHash: account.accountIdHash,
        previewKind: kind,
        now,
        ...(input.preview_id !== undefined ? { previewId: input.preview_id } : {}),
      };
      let gateView: unknown[] | undefined;
      let policyId: string | undefined;
      // The paper path counts toward today's trading day; the live gates work out their own.
      let tradingDay: string;
      let notional: { amount: string; currency: string } | undefined;
      if (mode === "paper") {
        paperSubmitGates({
          paper: {
            enabled: config.paper_trading.enabled && config.safety.paper_trading_enabled,
            accountId: account.accountId,
            allowedAccounts: config.paper_trading.allowed_accounts,
            brokerSaysPaper: account.brokerSaysPaper,
          },
          killSwitch: store.killSwitch.get(),
          approval,
          expectation,
        });
        loaded = loadPreview(
          store,
          (approval as NonNullable<typeof approval>).previewId,
          account.accountIdHash,
          now,
        );
        const risk = loaded.preview.risk.notional;
        notional = risk ?? { amount: "0", currency: loaded.preview.contract.currency };
        tradingDay = tradingDayOf(now);
      } else {
        let previewError: GatewayError | undefined;
        try {
          loaded = loadPreview(store, input.preview_id as string, account.accountIdHash, now);
        } catch (error) {
          previewError = error as GatewayError;
        }
        const quote =
          loaded === null ? null : await orderQuote(deps.snapshot, context, loaded.preview.contract);
        const evaluation = evaluateLive(
          deps,
          {
            context,
            account,
            kind: "submit",
            approval,
            expectation,
            preview: loaded,
            ...(previewError !== undefined ? { previewError } : {}),
            quote,
          },
          origin,
        );
        const refusal = liveRefusal(evaluation.findings);
        if (refusal !== null) throw refusal;
        gateView = gateReport(evaluation.findings);
        policyId = evaluation.policyId ?? undefined;
        tradingDay = evaluation.tradingDay;
        notional = evaluation.limits?.notional;
      }
      const preview = loaded as LoadedPreview;
      submitContext = {
        kind: "submit",
        operation: kind === "bracket" ? "bracket_submit" : "submit",
        mode,
        writer: writer.kind,
        preview_id: preview.record.previewId,
        approval_id: input.approval_id,
        client_order_id: identity.clientOrderId,
        contract_id: preview.preview.contract.contract_id,
        symbol: preview.preview.contract.symbol,
        legs: preview.preview.legs,
        notional: notional?.amount ?? "0",
        notional_currency: notional?.currency ?? preview.preview.contract.currency,
        trading_day: tradingDay,
        ...(policyId !== undefined ? { policy_id: policyId } : {}),
        ...(gateView !== undefined ? { gates: gateView } : {}),
      };
    }

    const result = await runIdempotent(
      {
        store,
        now: () => clock.now(),
        operation,
        mode,
        accountIdHash: account.accountIdHash,
        keyHash: identity.keyHash,
        requestHash: identity.requestHash,
        approvalId: input.approval_id,
        clientOrderId: identity.clientOrderId,
        get context() {
          return { ...(submitContext as unknown as Record<string, unknown>) };
        },
        originRequestId: context.requestId,
      },
      {
        recover: (record) =>
          recovery.settle(record, { transport: call.transport, accountId: account.accountId }),
        replay: (record) => replayed(deps, origin, record, call, account.accountId, "submit"),
        gates,
        write: async () => {
          const ctx = submitContext as SubmitContext;
          const preview = loaded as LoadedPreview;
          const conid = Number(ctx.contract_id);
          const tickets = preview.legs.map((leg, index) =>
            orderTicket(leg, {
              accountId: account.accountId,
              conid,
              ...(index === 0
                ? { clientOrderId: ctx.client_order_id }
                : { parentClientOrderId: ctx.client_order_id }),
            }),
          );
          const placed = await writer.place({
            accountId: account.accountId,
            tickets,
            approvedQuestions,
            onRound: questionAuditor(deps, origin, account, identity.keyHash, ctx.approval_id),
          });
          if (placed.orders.length === tickets.length) return placed;
          // An answered p12 prompt names only the entry of a bracket: the broker holds the exits under it.
          const group = orderGroup(
            (await writer.find(account.accountId, [ctx.client_order_id])) ?? [],
            ctx.client_order_id,
          );
          if (group.length !== tickets.length) {
            throw new GatewayError("ORDER_OUTCOME_UNCERTAIN", {
              message: `The broker answered with ${placed.orders.length} order ids for ${tickets.length} orders.`,
              details: { reason: "unrecognised_answer" },
            });
          }
          return {
            orders: group.map((o) => ({ orderId: o.orderId, status: o.status })),
            answered: placed.answered,
          };
        },
        complete: (placed) => {
          const settled = settleSubmit(store, origin, {
            accountIdHash: account.accountIdHash,
            keyHash: identity.keyHash,
            requestHash: identity.requestHash,
            ctx: submitContext as SubmitContext,
            placed: placed.orders,
            answered: placed.answered,
            at: clock.now(),
            originRequestId: context.requestId,
          });
          return {
            result: {
              ...settled.stored,
              account_id: account.accountId,
              replayed: false,
              source: call.source,
            },
            stored: settled.stored,
            brokerOrderId: settled.brokerOrderId,
          };
        },
        failed: (error, resolution) => {
          if (resolution !== "rejected") return;
          const ctx = submitContext as SubmitContext;
          if (error.code === "BROKER_QUESTION_UNAPPROVED") {
            retireAfterQuestion(store, origin, {
              approvalId: ctx.approval_id,
              accountIdHash: account.accountIdHash,
              questionIds: error.details?.question_ids,
              at: clock.now(),
            });
          }
          const entry = ctx.legs[0];
          recordEvent(store, origin, {
            type: "order_submitted",
            result: "failed",
            errorCode: error.code,
            accountId: account.accountId,
            metadata: {
              account_mode: mode,
              writer: writer.kind,
              preview_id: ctx.preview_id,
              approval_id: ctx.approval_id,
              idempotency_key_hash: identity.keyHash,
              request_hash: identity.requestHash,
              client_order_ids: [ctx.client_order_id],
              broker_order_ids: [],
              conid: Number(ctx.contract_id),
              symbol: ctx.symbol,
              side: entry?.side,
              order_type: entry?.order_type,
              quantity: entry?.quantity,
              limit_price: entry?.limit_price,
              stop_price: entry?.stop_price,
              broker_message: brokerMessageOf(error),
            },
          });
        },
        uncertain: (error) =>
          uncertainEvent(deps, origin, account, {
            mode,
            operation: "submit",
            keyHash: identity.keyHash,
            clientOrderIds: [identity.clientOrderId],
            cause: uncertainCause(error),
          }),
      },
    );
    return result;
  }

  const tool = (name: ToolName) => TOOLS[name].operation;
  return {
    [tool("ibkr_paper_order_submit")]: (args: Record<string, unknown>, context: OperationContext) =>
      submit("order", "paper", args, context),
    [tool("ibkr_paper_bracket_order_submit")]: (args: Record<string, unknown>, context: OperationContext) =>
      submit("bracket", "paper", args, context),
    [tool("ibkr_live_order_submit")]: (args: Record<string, unknown>, context: OperationContext) =>
      submit("order", "live", args, context),
    [tool("ibkr_live_bracket_order_submit")]: (args: Record<string, unknown>, context: OperationContext) =>
      submit("bracket", "live", args, context),
  };
}
