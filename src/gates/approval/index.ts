// The approval gate: a submit (or a live modify) needs one active, unexpired approval of exactly the preview
// and account it acts on. The checks run in a fixed order so the caller hears the most useful reason: an
// approval that was used is APPROVAL_CONSUMED even when it has also expired since.
import type { ErrorCode } from "../../../generated/errors.gen.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import type { ApprovalRecord } from "../../store/index.ts";

export interface ApprovalExpectation {
  readonly accountIdHash: string;
  /** The preview the call acts on, when the call names one (live submit and modify do). */
  readonly previewId?: string;
  /** order or bracket: a bracket submit needs a bracket preview's approval, and the reverse. */
  readonly previewKind: "order" | "bracket";
  readonly now: number;
}

/** The approval's preview kind, as recorded when it was created. */
function kindOf(approval: ApprovalRecord): string | undefined {
  const payload = approval.payload as { preview_kind?: unknown } | null;
  return typeof payload?.preview_kind === "string" ? payload.preview_kind : undefined;
}

/**
 * Throws the approval's refusal, or returns when it may be used. `missing` is the caller's code for an
 * unknown approval id (PAPER_APPROVAL_REQUIRED on the paper path; the live path reports it as a gate).
 */
export function checkApproval(
  approval: ApprovalRecord | null,
  expected: ApprovalExpectation,
  missing: ErrorCode,
): void {
  if (approval === null) {
    throw new GatewayError(missing, {
      message: "No approval with this id exists.",
      details: { field: "approval_id" },
    });
  }
  if (approval.status === "consumed")
    throw new GatewayError("APPROVAL_CONSUMED", { details: { field: "approval_id" } });
  if (approval.status === "revoked")
    throw new GatewayError("APPROVAL_REVOKED", { details: { field: "approval_id" } });
  if (approval.expiresAt <= expected.now) {
    throw new GatewayError("APPROVAL_EXPIRED", {
      details: { field: "approval_id", expired_at: toRfc3339(approval.expiresAt) },
    });
  }
  if (approval.accountIdHash !== expected.accountIdHash) {
    throw new GatewayError("APPROVAL_PREVIEW_MISMATCH", {
      message: "The approval was created for another account.",
      details: { field: "account_id" },
    });
  }
  if (expected.previewId !== undefined && approval.previewId !== expected.previewId) {
    throw new GatewayError("APPROVAL_PREVIEW_MISMATCH", {
      message: "The approval was created for another preview.",
      details: { field: "preview_id" },
    });
  }
  if (kindOf(approval) !== expected.previewKind) {
    const wanted = expected.previewKind === "bracket" ? "a bracket preview" : "a single-order preview";
    throw new GatewayError("APPROVAL_PREVIEW_MISMATCH", {
      message: `This call needs the approval of ${wanted}.`,
      userAction:
        expected.previewKind === "bracket"
          ? "Approve a preview made with ibkr_bracket_order_preview and pass that approval id."
          : "Approve a preview made with ibkr_order_preview and pass that approval id.",
      details: { field: "approval_id", preview_kind: kindOf(approval) ?? null },
    });
  }
}
