// The gate stack of order writes, composed in one place and in a fixed order (design §6, §10). Scope and
// input validation run in the dispatcher before any of this. The workflows gather the facts (config, store,
// broker account flags) and call the composition for their kind of write; each gate module decides one
// thing and names its refusal.
//
//   paper submit / bracket : paper account -> kill switch -> approval
//   paper modify           : paper account -> kill switch              (then the preview policy again)
//   paper cancel           : paper account                             (the kill switch never blocks a cancel)
//   live submit / bracket  : every live gate evaluated together, one report (live/gates.ts)
//   live modify            : as live submit, on the approved replacement preview
//   live cancel            : live enabled, allowlist, scope, checklist, audit
// Around the writer, for every write: the idempotency step (idempotency/step.ts).
import type { ErrorCode } from "../../generated/errors.gen.ts";
import type { ApprovalRecord, KillSwitchState } from "../store/index.ts";
import { type ApprovalExpectation, checkApproval } from "./approval/index.ts";
import { assertKillSwitchReleased } from "./kill-switch/index.ts";
import { assertPaperAccount, type PaperFacts } from "./paper/index.ts";

export { type ApprovalExpectation, checkApproval } from "./approval/index.ts";
export { idempotencyKeyHash, type WriteIdentity, writeIdentity } from "./idempotency/keys.ts";
export { ownerGone } from "./idempotency/owner.ts";
export { runIdempotent, storedFailure, type WriteHooks, type WriteSpec } from "./idempotency/step.ts";
export { assertKillSwitchReleased, killSwitchRefusal } from "./kill-switch/index.ts";
export {
  type GateFinding,
  type GateResult,
  gateReport,
  LIVE_GATES,
  type LiveFindings,
  type LiveGateName,
  liveRefusal,
} from "./live/gates.ts";
export {
  evaluateLiveLimits,
  type LiveCounters,
  type LiveLimitInput,
  type LiveLimitVerdict,
  type LivePolicySettings,
} from "./live/limits.ts";
export { assertPaperAccount, type PaperFacts } from "./paper/index.ts";
export {
  evaluatePreviewPolicy,
  type PolicyVerdict,
  type PolicyWarning,
  PREVIEW_POLICY_ID,
  type PreviewPolicyInput,
  type PreviewPolicySettings,
  type QuoteView,
  referencePrice,
} from "./policy/index.ts";

export interface PaperSubmitFacts {
  readonly paper: PaperFacts;
  readonly killSwitch: KillSwitchState;
  readonly approval: ApprovalRecord | null;
  readonly expectation: ApprovalExpectation;
}

/** Paper submit and bracket submit, in order; throws the first refusal. */
export function paperSubmitGates(facts: PaperSubmitFacts): void {
  assertPaperAccount(facts.paper);
  assertKillSwitchReleased(facts.killSwitch);
  const missing: ErrorCode = "PAPER_APPROVAL_REQUIRED";
  checkApproval(facts.approval, facts.expectation, missing);
}

/** Paper modify: the account, then the kill switch (a modify can add exposure, so the switch stops it). */
export function paperModifyGates(facts: { paper: PaperFacts; killSwitch: KillSwitchState }): void {
  assertPaperAccount(facts.paper);
  assertKillSwitchReleased(facts.killSwitch);
}

/** Paper cancel: only the account. Reducing exposure is never blocked by the kill switch. */
export function paperCancelGates(facts: { paper: PaperFacts }): void {
  assertPaperAccount(facts.paper);
}
