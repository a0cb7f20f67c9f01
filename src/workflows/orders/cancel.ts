// Paper and live cancels. A cancel needs no approval and is never stopped by the kill switch: pulling a
// working order reduces exposure, and that must stay possible while everything else is stopped. It still
// checks the account (paper: the broker says paper; live: the live gates a cancel needs) and carries an
// idempotency key. "Request was submitted" means the broker received the cancel, not that it is done: the
// reconciler or ibkr_order_status sees the order become cancelled.
import type { ToolInput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { toRfc3339 } from "../../core/clock.ts";
import type { AccountMode } from "../../core/orders.ts";
import { normaliseOrderStatus } from "../../cpapi/mappers/index.ts";
import {
  gateReport,
  liveRefusal,
  paperCancelGates,
  runIdempotent,
  writeIdentity,
} from "../../gates/index.ts";
import type { Store } from "../../store/index.ts";
import { readCall } from "../reads/deps.ts";
import { orderAccount } from "./account.ts";
import { type OrderDeps, writerFor } from "./deps.ts";
import { brokerMessageOf, callOrigin, type EventOrigin, recordEvent } from "./events.ts";
import { evaluateLive } from "./live-gates.ts";
import type { Recovery } from "./recovery.ts";
import { replayed, uncertainCause, uncertainEvent } from "./submit.ts";
import type { CancelAnswer } from "./writer.ts";

export interface CancelContext {
  readonly kind: "cancel";
  readonly mode: AccountMode;
  readonly writer: string;
  readonly broker_order_id: string;
  readonly gates?: readonly unknown[];
}

export function settleCancel(
  store: Store,
  origin: EventOrigin,
  input: { accountIdHash: string; keyHash: string; ctx: CancelContext; answer: CancelAnswer; at: number },
): Record<string, unknown> {
  const { ctx, answer, at } = input;
  const eventId = recordEvent(store, origin, {
    type: "order_cancel_requested",
    accountIdHash: input.accountIdHash,
    metadata: {
      account_mode: ctx.mode,
      writer: ctx.writer,
      broker_order_id: ctx.broker_order_id,
      idempotency_key_hash: input.keyHash,
      broker_status: answer.status ?? answer.message?.slice(0, 100),
      kill_switch_engaged: store.killSwitch.get().engaged,
    },
  });
  return {
    broker_order_id: ctx.broker_order_id,
    // The broker received the cancel; it becomes final an instant later.
    status: answer.status === null ? "pending_cancel" : normaliseOrderStatus(answer.status),
    ...(answer.message !== undefined ? { broker_message: answer.message.slice(0, 4000) } : {}),
    mode: ctx.mode,
    writer: ctx.writer === "local_candidate" ? "local_candidate" : "broker",
    requested_at: toRfc3339(at),
    ...(ctx.gates !== undefined ? { gates: ctx.gates } : {}),
    audit_event_id: eventId,
  };
}

export function cancelOperations(deps: OrderDeps, recovery: Recovery) {
  const { store, clock, config } = deps;

  async function cancel(mode: AccountMode, args: Record<string, unknown>, context: OperationContext) {
    const input = args as ToolInput<"ibkr_paper_order_cancel">;
    const call = readCall(deps, context);
    const origin = callOrigin(context);
    const account = await orderAccount(deps, call.transport, input.account_id);
    const operation = `${mode}.cancel`;
    const identity = writeIdentity(store, {
      principal: context.principal,
      idempotencyKey: input.idempotency_key,
      operation,
      request: { account_id: account.accountId, broker_order_id: input.broker_order_id },
    });
    const writer = writerFor(deps, mode, call);
    let ctx: CancelContext | null = null;
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
        get context() {
          return { ...(ctx as unknown as Record<string, unknown>) };
        },
        originRequestId: context.requestId,
      },
      {
        recover: (record) =>
          recovery.settle(record, { transport: call.transport, accountId: account.accountId }),
        replay: (record) => ({
          ...replayed(deps, origin, record, call, account.accountId, "cancel"),
          ...extra,
        }),
        async gates() {
          if (writer.kind === "refusing") await writer.cancel({ accountId: "", orderId: "0" });
          let gates: unknown[] | undefined;
          if (mode === "paper") {
            paperCancelGates({
              paper: {
                enabled: config.paper_trading.enabled && config.safety.paper_trading_enabled,
                accountId: account.accountId,
                allowedAccounts: config.paper_trading.allowed_accounts,
                brokerSaysPaper: account.brokerSaysPaper,
              },
            });
          } else {
            const evaluation = evaluateLive(deps, { context, account, kind: "cancel" }, origin);
            const refusal = liveRefusal(evaluation.findings);
            if (refusal !== null) throw refusal;
            gates = gateReport(evaluation.findings);
          }
          ctx = {
            kind: "cancel",
            mode,
            writer: writer.kind,
            broker_order_id: input.broker_order_id,
            ...(gates !== undefined ? { gates } : {}),
          };
        },
        write: () => writer.cancel({ accountId: account.accountId, orderId: input.broker_order_id }),
        complete: (answer) => {
          const at = clock.now();
          const stored = settleCancel(store, origin, {
            accountIdHash: account.accountIdHash,
            keyHash: identity.keyHash,
            ctx: ctx as CancelContext,
            answer,
            at,
          });
          return {
            result: { ...stored, ...extra, replayed: false, source: call.source },
            stored,
            brokerOrderId: input.broker_order_id,
          };
        },
        failed: (error, resolution) => {
          if (resolution !== "rejected") return;
          recordEvent(store, origin, {
            type: "order_cancel_requested",
            result: "failed",
            errorCode: error.code,
            accountId: account.accountId,
            metadata: {
              account_mode: mode,
              writer: writer.kind,
              broker_order_id: input.broker_order_id,
              idempotency_key_hash: identity.keyHash,
              kill_switch_engaged: store.killSwitch.get().engaged,
              broker_message: brokerMessageOf(error),
            },
          });
        },
        uncertain: (error) =>
          uncertainEvent(deps, origin, account, {
            mode,
            operation: "cancel",
            keyHash: identity.keyHash,
            clientOrderIds: [],
            brokerOrderId: input.broker_order_id,
            cause: uncertainCause(error),
          }),
      },
    );
  }

  return {
    "paper.cancel": (args: Record<string, unknown>, context: OperationContext) =>
      cancel("paper", args, context),
    "live.cancel": (args: Record<string, unknown>, context: OperationContext) =>
      cancel("live", args, context),
  };
}
