// Settling writes whose outcome is unknown: a process died between its pending row and completion, or the
// broker's answer was lost. Nothing is ever resubmitted: the order is looked up at the broker by the cOID the
// write sent (a modify or cancel: by its order id) and the record is settled either way -
//   found      -> completed exactly as a normal completion would (approval consumed, ledger, backlog), then
//                 the same key replays the result;
//   not found  -> failed_after_writer (not_found_at_broker): nothing was placed, and the same key may run
//                 again (the broker itself refuses a second order with that cOID if the first shows up late).
// A lookup that cannot give a complete answer settles nothing: the record stays pending, reported.
import { getOrderStatus } from "../../../generated/cpapi/client.gen.ts";
import { TOOLS, type ToolName } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { isGatewayError, toGatewayError } from "../../core/gateway-error.ts";
import type { ClientTransport } from "../../cpapi/index.ts";
import { mapOrderStatusBody } from "../../cpapi/mappers/index.ts";
import { ownerGone } from "../../gates/index.ts";
import type { IdempotencyRecord } from "../../store/index.ts";
import { countingTransport } from "../broker.ts";
import type { CancelContext } from "./cancel.ts";
import { settleCancel } from "./cancel.ts";
import { type SubmitContext, settleSubmit } from "./complete.ts";
import { gatewayBrokerWriter, type OrderDeps } from "./deps.ts";
import { type EventOrigin, recordEvent } from "./events.ts";
import { type ModifyContext, modifyApplied, settleModify } from "./modify.ts";
import { type FoundOrder, localCandidateWriter, type OrderWriter, orderGroup } from "./writer.ts";

export type RecoveryOutcome = "found_at_broker" | "not_found_at_broker" | "unresolved";

export interface RecoveryReport {
  readonly idempotency_key_hash: string;
  readonly operation: string;
  readonly mode: string | null;
  readonly outcome: RecoveryOutcome;
  readonly broker_order_ids: readonly string[];
  /** Why a record stayed pending (a lookup failure's code), for the operator. */
  readonly reason?: string;
}

export interface RecoveryVia {
  readonly transport: ClientTransport;
  /** The account's raw id, when the caller knows it (the store has only its hash). */
  readonly accountId?: string;
}

export interface Recovery {
  /** Settles one pending record (it must be nobody's any more); returns the record afterwards. */
  settle(record: IdempotencyRecord, via: RecoveryVia, origin?: EventOrigin): Promise<IdempotencyRecord>;
  /** Settles every pending record nobody is writing; one report per record looked at. */
  recoverAll(origin: EventOrigin, context?: OperationContext): Promise<RecoveryReport[]>;
  /** Pending records nobody is writing (cheap: no broker call). */
  abandoned(): IdempotencyRecord[];
}

type RecordContext = SubmitContext | ModifyContext | CancelContext;

/** The tool whose write a record is (its operation is the tool's), named on the events that settle it. */
function toolOf(operation: string): ToolName | undefined {
  return (Object.keys(TOOLS) as ToolName[]).find((name) => TOOLS[name].operation === operation);
}

export function createRecovery(deps: OrderDeps): Recovery {
  const { store, clock } = deps;

  function systemOrigin(): EventOrigin {
    return {
      kind: "system",
      context: { ...store.systemContext(), principal: "system:recovery" },
    };
  }

  /** The raw id of an account hash, mapped back through the broker's account list. */
  async function accountOf(record: IdempotencyRecord, transport: ClientTransport): Promise<string | null> {
    const listing = await deps.accounts.listing(transport);
    const ids = new Set<string>();
    for (const row of Array.isArray(listing.portfolio)
      ? (listing.portfolio as Record<string, unknown>[])
      : []) {
      const id = row.accountId ?? row.id;
      if (typeof id === "string") ids.add(id.toUpperCase());
    }
    const brokerage = listing.brokerage as { accounts?: unknown } | null;
    for (const id of Array.isArray(brokerage?.accounts) ? brokerage.accounts : []) {
      if (typeof id === "string") ids.add(id.toUpperCase());
    }
    for (const id of ids) if (store.hashAccountId(id) === record.accountIdHash) return id;
    return null;
  }

  async function lookUp(ctx: RecordContext, record: IdempotencyRecord, via: RecoveryVia, accountId: string) {
    if (ctx.kind === "submit") {
      // Looked up where the write went (the record's writer), not where a retry would send it: a rehearsal
      // retry must not take a real order for absent.
      const found = await writerOf(record, via.transport).find(accountId, [ctx.client_order_id]);
      if (found === null) return { outcome: "unresolved" as const, orders: [] as FoundOrder[] };
      const group = orderGroup(found, ctx.client_order_id);
      if (group.length === 0) return { outcome: "not_found_at_broker" as const, orders: [] };
      return { outcome: "found_at_broker" as const, orders: group };
    }
    let status: { status?: string; quantity?: string; limit_price?: string; stop_price?: string } | null =
      null;
    try {
      const answer = await getOrderStatus(via.transport, { path: { orderId: Number(ctx.broker_order_id) } });
      status = mapOrderStatusBody(answer.body);
    } catch (error) {
      if (!isGatewayError(error) || error.code !== "ORDER_NOT_FOUND") throw error;
    }
    const order: FoundOrder = {
      orderId: ctx.broker_order_id,
      clientOrderId: null,
      parentOrderId: null,
      status: status?.status ?? null,
    };
    if (status === null) return { outcome: "not_found_at_broker" as const, orders: [] };
    if (ctx.kind === "modify") {
      return modifyApplied(ctx, status)
        ? { outcome: "found_at_broker" as const, orders: [order] }
        : { outcome: "not_found_at_broker" as const, orders: [] };
    }
    const cancelled = status.status === "cancelled" || status.status === "pending_cancel";
    return cancelled
      ? { outcome: "found_at_broker" as const, orders: [order] }
      : { outcome: "not_found_at_broker" as const, orders: [] };
  }

  async function settle(
    record: IdempotencyRecord,
    via: RecoveryVia,
    origin = systemOrigin(),
  ): Promise<IdempotencyRecord> {
    const report = await settleOne(record, via, origin);
    void report;
    return store.idempotency.get(record.keyHash) ?? record;
  }

  async function settleOne(
    record: IdempotencyRecord,
    via: RecoveryVia,
    given: EventOrigin,
  ): Promise<RecoveryReport> {
    const ctx = record.context as RecordContext | null;
    const base = { idempotency_key_hash: record.keyHash, operation: record.operation, mode: record.mode };
    // approval_consumed and order_submitted name their tool, also when recovery (no call) writes them.
    const tool = given.tool ?? toolOf(record.operation);
    const origin: EventOrigin = tool === undefined ? given : { ...given, tool };
    if (ctx === null || typeof ctx !== "object" || !("kind" in ctx)) {
      return { ...base, outcome: "unresolved", broker_order_ids: [], reason: "record_without_context" };
    }
    const accountId = via.accountId ?? (await accountOf(record, via.transport));
    if (accountId === null) {
      return { ...base, outcome: "unresolved", broker_order_ids: [], reason: "account_not_listed" };
    }
    const { outcome, orders } = await lookUp(ctx, record, via, accountId);
    if (outcome === "unresolved") return { ...base, outcome, broker_order_ids: [], reason: "orders_loading" };
    const at = clock.now();
    const ids = orders.map((o) => o.orderId);
    store.transaction(() => {
      const current = store.idempotency.get(record.keyHash);
      if (current === null || current.status !== "pending_writer") return;
      if (outcome === "found_at_broker") {
        const placed = orders.map((o) => ({ orderId: o.orderId, status: o.status }));
        const stored =
          ctx.kind === "submit"
            ? settleSubmit(store, origin, {
                accountIdHash: record.accountIdHash,
                keyHash: record.keyHash,
                requestHash: record.requestHash,
                ctx,
                placed,
                answered: [],
                at,
                originRequestId: record.originRequestId ?? "",
              }).stored
            : ctx.kind === "modify"
              ? settleModify(store, origin, {
                  accountIdHash: record.accountIdHash,
                  keyHash: record.keyHash,
                  ctx,
                  status: orders[0]?.status ?? null,
                  answered: [],
                  at,
                })
              : settleCancel(store, origin, {
                  accountIdHash: record.accountIdHash,
                  keyHash: record.keyHash,
                  ctx,
                  answer: { status: orders[0]?.status ?? null },
                  at,
                });
        store.idempotency.markSubmitted(record.keyHash, {
          result: stored,
          ...(ids[0] !== undefined ? { brokerOrderId: ids[0] } : {}),
          at,
          resolution: "found_at_broker",
        });
      } else {
        store.idempotency.markFailedAfterWriter(record.keyHash, {
          failure: {
            code: "ORDER_OUTCOME_UNCERTAIN",
            message: "Recovery did not find the order at the broker; nothing was placed.",
          },
          at,
          resolution: "not_found_at_broker",
        });
      }
      recordEvent(store, origin, {
        type: "order_outcome_resolved",
        result: outcome === "found_at_broker" ? "completed" : "failed",
        ...(outcome === "found_at_broker" ? {} : { errorCode: "ORDER_OUTCOME_UNCERTAIN" as const }),
        accountIdHash: record.accountIdHash,
        metadata: {
          operation: ctx.kind,
          idempotency_key_hash: record.keyHash,
          origin_request_id: record.originRequestId ?? undefined,
          resolution: outcome,
          broker_order_ids: ids,
          idempotency_status: outcome === "found_at_broker" ? "submitted" : "failed_after_writer",
        },
      });
    });
    return { ...base, outcome, broker_order_ids: ids };
  }

  function writerOf(record: IdempotencyRecord, transport: ClientTransport): OrderWriter {
    const ctx = record.context as { writer?: string } | null;
    if (ctx?.writer === "local_candidate") return localCandidateWriter();
    const injected = record.mode === null ? undefined : deps.writers[record.mode];
    return injected ?? gatewayBrokerWriter(deps, transport);
  }

  function abandoned(): IdempotencyRecord[] {
    const now = clock.now();
    return store.idempotency.listPending().filter((record) => ownerGone(record, now));
  }

  return {
    settle,
    abandoned,
    async recoverAll(origin, context) {
      const pending = abandoned();
      if (pending.length === 0) return [];
      const transport =
        context === undefined
          ? deps.broker.client.transport
          : countingTransport(deps.broker.client.transport, () => context.noteBrokerRequest());
      const reports: RecoveryReport[] = [];
      for (const record of pending) {
        try {
          reports.push(await settleOne(record, { transport }, origin));
        } catch (error) {
          reports.push({
            idempotency_key_hash: record.keyHash,
            operation: record.operation,
            mode: record.mode,
            outcome: "unresolved",
            broker_order_ids: [],
            reason: toGatewayError(error).code,
          });
        }
      }
      return reports;
    },
  };
}
