// The live gate report (seed-inventory §8.7-§8.9, corrected): every gate is evaluated and reported together,
// so the operator sees everything that is missing in one answer instead of fixing gates one at a time. The
// facts come from config, the store and the call; nothing here talks to the broker. One code is chosen for
// the refusal by a fixed precedence, and the whole report travels in the error's details.
import type { RefusalReasonCode } from "../../../generated/errors.gen.ts";
import { GatewayError } from "../../core/gateway-error.ts";

export const LIVE_GATES = [
  "live_enabled",
  "account_allowlisted",
  "live_scope_granted",
  "checklist_acknowledged",
  "audit_available",
  "armed",
  "kill_switch_released",
  "preview_unexpired",
  "approval_valid",
  "idempotency_key_present",
  "limit_policy_passed",
] as const;
export type LiveGateName = (typeof LIVE_GATES)[number];

export interface GateResult {
  readonly gate: LiveGateName;
  readonly passed: boolean;
  /** Plain-language note for the report; gateway text only, never broker text. */
  readonly detail?: string;
}

/** What one gate found: passed, or failed with its reason codes and, for the approval, its own error. */
export interface GateFinding {
  readonly passed: boolean;
  readonly detail?: string;
  readonly reasons?: readonly RefusalReasonCode[];
  /** The approval gate's specific refusal (consumed, expired, ...), reported when it is the only failure. */
  readonly error?: GatewayError;
}

export type LiveFindings = Partial<Record<LiveGateName, GateFinding>>;

/** Each gate's refusal reason when it fails without a more specific one. */
const GATE_REASON: Record<LiveGateName, RefusalReasonCode> = {
  live_enabled: "LIVE_FEATURE_DISABLED",
  account_allowlisted: "LIVE_ACCOUNT_NOT_ALLOWLISTED",
  live_scope_granted: "LIVE_SCOPE_MISSING",
  checklist_acknowledged: "LIVE_MIGRATION_CHECKLIST_MISSING",
  audit_available: "LIVE_AUDIT_UNAVAILABLE",
  armed: "LIVE_NOT_ARMED_GATE",
  kill_switch_released: "LIVE_KILL_SWITCH_ENGAGED",
  preview_unexpired: "LIVE_PREVIEW_EXPIRED",
  approval_valid: "LIVE_APPROVAL_MISSING",
  idempotency_key_present: "LIVE_IDEMPOTENCY_KEY_MISSING",
  limit_policy_passed: "LIVE_RISK_POLICY_REFUSED",
};

export function gateReport(findings: LiveFindings): GateResult[] {
  return LIVE_GATES.filter((gate) => findings[gate] !== undefined).map((gate) => {
    const finding = findings[gate] as GateFinding;
    return {
      gate,
      passed: finding.passed,
      ...(finding.detail !== undefined ? { detail: finding.detail.slice(0, 500) } : {}),
    };
  });
}

/**
 * The refusal for a report with failures, or null when every gate passed. Precedence: a disabled feature,
 * an engaged kill switch, a missing checklist and a disarmed gateway each have their own code (the operator
 * acts on them differently); a lone approval failure keeps its specific code, lone limit failures are
 * LIVE_LIMIT_REFUSED; any other mix is LIVE_GATE_MISSING.
 */
export function liveRefusal(findings: LiveFindings): GatewayError | null {
  const report = gateReport(findings);
  const failed = report.filter((r) => !r.passed).map((r) => r.gate);
  if (failed.length === 0) return null;
  const reasons = failed.flatMap((gate) => {
    const own = findings[gate]?.reasons ?? [];
    return own.length > 0 ? [GATE_REASON[gate], ...own] : [GATE_REASON[gate]];
  });
  const details = { gates: report, refusal_reasons: [...new Set(reasons)], failed_gates: failed };
  const only = failed.length === 1 ? failed[0] : undefined;
  if (failed.includes("live_enabled")) return new GatewayError("LIVE_TRADING_DISABLED", { details });
  if (failed.includes("kill_switch_released")) return new GatewayError("KILL_SWITCH_ENGAGED", { details });
  if (failed.includes("checklist_acknowledged"))
    return new GatewayError("LIVE_MIGRATION_REQUIRED", { details });
  if (failed.includes("armed")) return new GatewayError("LIVE_NOT_ARMED", { details });
  if (only === "approval_valid" && findings.approval_valid?.error !== undefined) {
    const specific = findings.approval_valid.error;
    return new GatewayError(specific.code, {
      message: specific.message,
      userAction: specific.userAction,
      details: { ...specific.details, ...details },
    });
  }
  if (only === "limit_policy_passed") {
    const limits = findings.limit_policy_passed?.reasons ?? [];
    return new GatewayError("LIVE_LIMIT_REFUSED", {
      message: `The live limit policy refused the order: ${limits.join(", ")}.`,
      details: { ...details, refusal_reasons: [...limits] },
    });
  }
  return new GatewayError("LIVE_GATE_MISSING", {
    message: `Live gates not satisfied: ${failed.join(", ")}.`,
    details,
  });
}
