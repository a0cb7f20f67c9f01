// Human text of approvals: a new approval with the submit commands that use it, the operator's review of a
// stored preview before the PIN prompt, the approvals list, and a revocation.
import type { ToolOutput } from "../../../../generated/tools/registry.gen.ts";
import type { ApprovalListing, Gateway } from "../../../gateway/index.ts";
import { blocks, facts, indent, type OrderFields } from "../format.ts";
import { renderTable } from "../table.ts";
import { type PreviewView, renderPreviewBody } from "./preview.ts";

type Approval = ToolOutput<"ibkr_approvals_create">;
type Review = ReturnType<Gateway["procedures"]["approvals"]["previewForApproval"]>;

/** A key derived from the approval: running the printed command twice replays instead of ordering twice. */
export function submitKey(approvalId: string): string {
  return `submit-${approvalId}`;
}

export function submitCommands(
  approval: Pick<Approval, "approval_id" | "preview_id" | "account_id" | "preview_kind">,
): string {
  const ids = `--account ${approval.account_id} --approval-id ${approval.approval_id} --idempotency-key ${submitKey(approval.approval_id)}`;
  const bracket = approval.preview_kind === "bracket";
  return [
    `paper account: ibkr-agent orders ${bracket ? "bracket-submit" : "submit"} --enable-paper ${ids}`,
    `live account:  ibkr-agent orders ${bracket ? "live-bracket-submit" : "live-submit"} ${ids} --preview-id ${approval.preview_id}`,
    "               (a rehearsal that sends nothing unless you add --live-broker client-portal)",
  ].join("\n");
}

export function renderApproval(approval: Approval): string {
  const kind = approval.preview_kind === "bracket" ? "bracket, all three legs" : "single order";
  return blocks(
    `Approval ${approval.approval_id} of preview ${approval.preview_id} (${kind}) for ${approval.account_id}: approved by ${approval.approved_by}.`,
    facts([
      ["valid until", `${approval.expires_at} (used up by its first submit)`],
      [
        "accepted broker questions",
        approval.acknowledged_question_ids.length > 0
          ? approval.acknowledged_question_ids.join(", ")
          : undefined,
      ],
    ]),
    `Next: submit it with this idempotency key (running the same command again replays, never orders twice):\n${indent(submitCommands(approval))}`,
  );
}

/** The stored preview as the operator reviews it before typing the PIN. */
export function renderApprovalReview(review: Review, accountId: string, previewId: string): string {
  const stored = review.loaded.preview;
  const view: PreviewView = {
    preview_id: previewId,
    account_id: accountId.toUpperCase(),
    contract: stored.contract,
    legs: stored.legs.map((leg) => ({ ...(leg as unknown as OrderFields), role: leg.role })),
    what_if: stored.what_if,
    risk: stored.risk,
    quote: stored.quote,
    created_at: stored.created_at,
    expires_at: stored.expires_at,
  };
  return blocks(
    `You are approving preview ${previewId} for ${view.account_id} (${stored.account_mode} account):`,
    renderPreviewBody(view),
    "Approve only if this is the order you want. Typing the operator PIN approves it; Ctrl+C cancels.",
  );
}

export function renderApprovalList(approvals: readonly ApprovalListing[]): string {
  if (approvals.length === 0) {
    return "No approvals stored. Approve a preview with: ibkr-agent approvals create --account ACCOUNT --preview-id PREVIEW_ID";
  }
  const active = approvals.filter((a) => a.state === "active");
  return blocks(
    `Approvals (${approvals.length}, ${active.length} active):\n${renderTable(approvals, [
      { header: "APPROVAL ID", value: (a) => a.approval_id },
      { header: "STATE", value: (a) => a.state },
      { header: "KIND", value: (a) => a.preview_kind },
      { header: "BY", value: (a) => a.approved_by },
      { header: "EXPIRES AT", value: (a) => a.expires_at },
      { header: "ORDER", value: (a) => a.summary },
    ])}`,
    active.length > 0
      ? `To withdraw an active approval: ibkr-agent approvals revoke ${active[0]?.approval_id} --reason TEXT`
      : undefined,
  );
}

export function renderRevoked(result: { approval_id: string; state: string }): string {
  return [
    `Approval ${result.approval_id} is ${result.state}: no submit can use it any more.`,
    "To order anyway, preview the order again and approve the new preview.",
  ].join("\n");
}
