// Approvals: the second step of every order. An approval binds one stored, unexpired preview (a single order
// or a whole bracket) and its account for one write, with a lifetime inside config's bounds and never past
// the preview's expiry. A preview is approved once: while an approval of it is active, or after one was used,
// another is refused, so one preview can never become two orders. Agents approve through
// ibkr_approvals_create unless approvals.require_human; then only the operator can, at a terminal with the
// PIN (operatorApprove). The operator can also list and revoke approvals.
import { QUESTION_POLICIES, questionPolicy } from "../../../generated/questions.gen.ts";
import type { ToolInput, ToolOutput } from "../../../generated/tools/registry.gen.ts";
import type { CallContext, OperationContext } from "../../core/call-context.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import { prefixedId } from "../../core/ids.ts";
import type { ApprovalRecord, Store } from "../../store/index.ts";
import { type OperatorProof, requireOperator } from "../operator.ts";
import type { OrderDeps } from "./deps.ts";
import { type EventOrigin, recordEvent } from "./events.ts";
import { type LoadedPreview, loadPreview } from "./stored-preview.ts";

type ApprovalOutput = ToolOutput<"ibkr_approvals_create">;

export interface ApprovalRequest {
  readonly accountId: string;
  readonly previewId: string;
  readonly ttlSeconds?: number;
  readonly acknowledgedQuestionIds?: readonly string[];
}

export type ApprovalState = "active" | "expired" | "consumed" | "revoked";

export interface ApprovalListing {
  readonly approval_id: string;
  readonly preview_id: string;
  readonly preview_kind: string;
  readonly state: ApprovalState;
  readonly approved_by: string;
  readonly created_at: string;
  readonly expires_at: string;
  /** What the preview would place, in words of the gateway (symbol, side, quantity, type, prices). */
  readonly summary: string;
}

function stateOf(approval: ApprovalRecord, now: number): ApprovalState {
  if (approval.status !== "active") return approval.status;
  return approval.expiresAt <= now ? "expired" : "active";
}

function payloadOf(approval: ApprovalRecord): Record<string, unknown> {
  return (approval.payload ?? {}) as Record<string, unknown>;
}

/** The question ids a person acknowledged for this approval (only require_approval ones are accepted). */
export function acknowledgedQuestions(approval: ApprovalRecord): string[] {
  const ids = payloadOf(approval).acknowledged_question_ids;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
}

function checkAcknowledged(ids: readonly string[]): void {
  for (const id of ids) {
    const policy = Object.hasOwn(QUESTION_POLICIES, id) ? questionPolicy(id) : "unknown";
    if (policy !== "require_approval") {
      throw new GatewayError("INPUT_INVALID_ARGUMENT", {
        message: `Question ${id} cannot be acknowledged: its policy is ${policy}, not require_approval.`,
        userAction:
          "Acknowledge only the question ids that a BROKER_QUESTION_UNAPPROVED error named as require_approval.",
        details: { field: "acknowledged_question_ids", question_id: id },
      });
    }
  }
}

/**
 * A broker question the approval did not acknowledge stopped its write. The approval can never get past that
 * question, and while it is active no other approval of the preview can be made, so it is retired here
 * (revoked by the system, audited): a person who reads the question approves the preview afresh, naming it.
 * Runs inside the write's failure transaction.
 */
export function retireAfterQuestion(
  store: Store,
  origin: EventOrigin,
  input: { approvalId: string; accountIdHash: string; questionIds: unknown; at: number },
): void {
  const approval = store.approvals.get(input.approvalId);
  if (approval === null || !store.approvals.revoke(input.approvalId, input.at, "system")) return;
  const ids = Array.isArray(input.questionIds)
    ? input.questionIds.filter((id) => typeof id === "string")
    : [];
  recordEvent(store, origin, {
    type: "approval_revoked",
    accountIdHash: input.accountIdHash,
    metadata: {
      approval_id: input.approvalId,
      preview_id: approval.previewId,
      revoked_by: "system",
      reason: `The broker asked ${ids.join(", ") || "a question"}, which this approval did not acknowledge; approve the preview again after reading it.`,
    },
  });
}

/** One line a person reads before approving: BUY 10 AAPL limit 190.5 DAY; exits: take profit limit 200, ... */
export function previewSummary(loaded: LoadedPreview): string {
  const { preview } = loaded;
  // The price words name the order type (stop 260 limit 265 is a stop limit), so it is not repeated.
  const words = (leg: Record<string, string>) =>
    [
      leg.side?.toUpperCase(),
      leg.quantity,
      preview.contract.symbol,
      leg.stop_price !== undefined ? `stop ${leg.stop_price}` : undefined,
      leg.limit_price !== undefined ? `limit ${leg.limit_price}` : undefined,
      leg.trailing_amount !== undefined ? `trailing stop ${leg.trailing_amount}` : undefined,
      leg.trailing_percent !== undefined ? `trailing stop ${leg.trailing_percent}%` : undefined,
      leg.time_in_force?.toUpperCase(),
    ]
      .filter((part) => part !== undefined)
      .join(" ");
  const [first, ...rest] = preview.legs;
  const head = first === undefined ? preview.contract.symbol : words(first);
  if (rest.length === 0) return head;
  return `${head}; exits: ${rest.map((leg) => `${leg.role.replace("_", " ")} ${leg.order_type === "stop" ? `stop ${leg.stop_price}` : `limit ${leg.limit_price}`}`).join(", ")}`;
}

export function approvalOperations(deps: OrderDeps) {
  const { store, clock, config } = deps;

  function ttlOf(requested: number | undefined): number {
    const bounds = config.approvals;
    const ttl = requested ?? bounds.default_ttl_seconds;
    if (ttl < bounds.min_ttl_seconds || ttl > bounds.max_ttl_seconds) {
      throw new GatewayError("INPUT_INVALID_ARGUMENT", {
        message: `ttl_seconds must be from ${bounds.min_ttl_seconds} to ${bounds.max_ttl_seconds} on this gateway.`,
        userAction: `Pass a ttl_seconds within ${bounds.min_ttl_seconds}..${bounds.max_ttl_seconds}, or leave it out.`,
        details: { field: "ttl_seconds" },
      });
    }
    return ttl;
  }

  /** Creates the approval and its event in one transaction (the one-approval-per-preview check included). */
  function create(
    request: ApprovalRequest,
    origin: EventOrigin,
    who: { approvedBy: "agent" | "operator"; principal: string },
  ): ApprovalOutput {
    const accountId = request.accountId.toUpperCase();
    const accountIdHash = store.hashAccountId(accountId);
    const now = clock.now();
    const ttl = ttlOf(request.ttlSeconds);
    const acknowledged = [...new Set(request.acknowledgedQuestionIds ?? [])];
    checkAcknowledged(acknowledged);
    return store.transaction(() => {
      const loaded = loadPreview(store, request.previewId, accountIdHash, now);
      for (const earlier of store.approvals.forPreview(request.previewId)) {
        const state = stateOf(earlier, now);
        if (state === "consumed") {
          throw new GatewayError("APPROVAL_CONSUMED", {
            message: "This preview was already approved and submitted; a preview places one order.",
            userAction: "Preview the order again for another one.",
            details: { field: "preview_id", approval_id: earlier.approvalId },
          });
        }
        if (state === "active") {
          throw new GatewayError("INPUT_INVALID_ARGUMENT", {
            message: `This preview already has an active approval, ${earlier.approvalId}; a preview is approved once.`,
            userAction: `Submit with ${earlier.approvalId}, or ask the operator to revoke it (ibkr-agent approvals revoke ${earlier.approvalId}) first.`,
            details: { field: "preview_id", approval_id: earlier.approvalId },
          });
        }
      }
      const approvalId = prefixedId("ap", clock);
      // Never past the preview: an approval of an expired preview could not be submitted anyway.
      const expiresAt = Math.min(now + ttl * 1000, loaded.record.expiresAt);
      const previewKind = loaded.preview.preview_kind;
      store.approvals.insert({
        approvalId,
        previewId: request.previewId,
        accountIdHash,
        approvedBy: who.principal,
        payload: {
          preview_kind: previewKind,
          preview_hash: loaded.preview.preview_hash ?? null,
          approved_by: who.approvedBy,
          acknowledged_question_ids: acknowledged,
        },
        createdAt: now,
        expiresAt,
      });
      recordEvent(store, origin, {
        type: "approval_created",
        accountId,
        metadata: {
          approval_id: approvalId,
          preview_id: request.previewId,
          preview_hash: loaded.preview.preview_hash,
          approved_by: who.approvedBy,
          operator_verified: who.approvedBy === "operator",
          acknowledged_question_ids: acknowledged,
          ttl_seconds: ttl,
          expires_at: toRfc3339(expiresAt),
        },
      });
      return {
        approval_id: approvalId,
        preview_id: request.previewId,
        account_id: accountId,
        preview_kind: previewKind,
        status: "approved" as const,
        approved_by: who.approvedBy,
        acknowledged_question_ids: acknowledged,
        created_at: toRfc3339(now),
        expires_at: toRfc3339(expiresAt),
      };
    });
  }

  const operations = {
    async "approvals.create"(args: Record<string, unknown>, context: OperationContext) {
      if (config.approvals.require_human) {
        throw new GatewayError("APPROVAL_HUMAN_REQUIRED", {
          details: { setting: "approvals.require_human" },
        });
      }
      const input = args as ToolInput<"ibkr_approvals_create">;
      return create(
        {
          accountId: input.account_id,
          previewId: input.preview_id,
          ...(input.ttl_seconds !== undefined ? { ttlSeconds: input.ttl_seconds } : {}),
          ...(input.acknowledged_question_ids !== undefined
            ? { acknowledgedQuestionIds: input.acknowledged_question_ids }
            : {}),
        },
        { kind: "call", context, tool: context.tool },
        { approvedBy: "agent", principal: context.principal },
      );
    },
  };

  /** Operator procedures (CLI only); not tools. */
  const procedures = {
    /** The stored preview an operator is about to approve, with the summary to show. */
    previewForApproval(accountId: string, previewId: string): { loaded: LoadedPreview; summary: string } {
      const loaded = loadPreview(store, previewId, store.hashAccountId(accountId.toUpperCase()), clock.now());
      return { loaded, summary: previewSummary(loaded) };
    },

    operatorApprove(
      context: CallContext,
      proof: OperatorProof | undefined,
      request: ApprovalRequest,
    ): ApprovalOutput {
      requireOperator(deps, context, proof, "approve an order");
      return create(
        request,
        { kind: "call", context, tool: "ibkr_approvals_create" },
        { approvedBy: "operator", principal: context.principal },
      );
    },

    list(filter: { accountId?: string; limit?: number } = {}): ApprovalListing[] {
      const now = clock.now();
      const records = store.approvals.list({
        ...(filter.accountId !== undefined
          ? { accountIdHash: store.hashAccountId(filter.accountId.toUpperCase()) }
          : {}),
        ...(filter.limit !== undefined ? { limit: filter.limit } : {}),
      });
      return records.map((approval) => {
        const preview = store.previews.get(approval.previewId);
        const summary =
          preview === null
            ? "(preview no longer stored)"
            : previewSummary({ record: preview, preview: preview.payload as never, legs: [] });
        return {
          approval_id: approval.approvalId,
          preview_id: approval.previewId,
          preview_kind: String(payloadOf(approval).preview_kind ?? "order"),
          state: stateOf(approval, now),
          approved_by: String(payloadOf(approval).approved_by ?? "agent"),
          created_at: toRfc3339(approval.createdAt),
          expires_at: toRfc3339(approval.expiresAt),
          summary,
        };
      });
    },

    /** Revokes an active approval; reducing what may be sent never needs the PIN, but it is recorded. */
    revoke(
      context: CallContext,
      approvalId: string,
      reason: string,
    ): { approval_id: string; state: "revoked" } {
      const approval = store.approvals.get(approvalId);
      if (approval === null) {
        throw new GatewayError("INPUT_INVALID_ARGUMENT", {
          message: `No approval ${approvalId} exists.`,
          userAction: "List the approvals with `ibkr-agent approvals list` and pass one of their ids.",
          details: { field: "approval_id" },
        });
      }
      const state = stateOf(approval, clock.now());
      if (state !== "active") {
        throw new GatewayError(
          state === "consumed"
            ? "APPROVAL_CONSUMED"
            : state === "revoked"
              ? "APPROVAL_REVOKED"
              : "APPROVAL_EXPIRED",
          {
            message: `Approval ${approvalId} is ${state}; only an active approval can be revoked.`,
            details: { field: "approval_id" },
          },
        );
      }
      store.transaction(() => {
        store.approvals.revoke(approvalId, clock.now(), context.principal);
        recordEvent(
          store,
          { kind: "call", context },
          {
            type: "approval_revoked",
            accountIdHash: approval.accountIdHash,
            metadata: {
              approval_id: approvalId,
              preview_id: approval.previewId,
              revoked_by: "operator",
              reason: reason.slice(0, 500),
            },
          },
        );
      });
      return { approval_id: approvalId, state: "revoked" };
    },
  };

  return { operations, procedures };
}

export type ApprovalProcedures = ReturnType<typeof approvalOperations>["procedures"];
