// Human text of live trading's state: the limits in force and their use today, the arming state with each
// prerequisite of the configuration (met or not, and the key to set), and the results of arming and
// disarming, each with what to do next.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import type { LiveStatus } from "../../gateway/index.ts";
import { blocks, facts, money } from "./format.ts";
import { renderTable } from "./table.ts";

type Limits = ToolOutput<"ibkr_limits_status">;

const PREREQUISITE_LABELS: Readonly<Record<string, string>> = {
  live_enabled: "live trading enabled",
  checklist: "paper-to-live checklist",
  allowlist: "live account allowlist",
  policy: "live limit policy",
  retention: "audit retention",
};

function ofMax(used: number, remaining: number | undefined): string {
  return remaining === undefined ? `${used} (no limit)` : `${used} (${remaining} left)`;
}

export function renderLimits(limits: Limits): string {
  if (!limits.configured) {
    return blocks(
      facts([
        ["account", limits.account_id],
        ["live limits", limits.message ?? "not configured"],
      ]),
      "Live orders are refused until the operator configures live trading; see ibkr-agent live status.",
    );
  }
  return blocks(
    facts([
      ["account", limits.account_id],
      [
        "on live allowlist",
        limits.account_allowlisted === true ? "yes" : "NO - live orders for it are refused",
      ],
      ["policy", limits.policy_id],
      ["trading day", limits.trading_day],
      // Only a policy with a frequency limit has a window to count in.
      [
        `orders in the last ${limits.window_seconds ?? 0} s`,
        limits.window_seconds === undefined
          ? undefined
          : ofMax(limits.submitted_in_window ?? 0, limits.remaining_window_orders),
      ],
      ["orders today", ofMax(limits.submitted_in_session ?? 0, limits.remaining_session_orders)],
      [
        "notional today",
        `${money(limits.session_notional)}${limits.remaining_session_notional !== undefined ? ` (${money(limits.remaining_session_notional)} left)` : " (no limit)"}`,
      ],
      ["as of", limits.timestamp],
    ]),
    limits.message,
  );
}

function armingWords(status: LiveStatus): string {
  if (status.armed && status.armed_for_current_config) return `ARMED since ${status.armed_at ?? "?"}`;
  if (status.armed)
    return "armed under an earlier live configuration: the next live write disarms it; arm again";
  const cause = status.disarmed_cause !== undefined ? ` (${status.disarmed_cause.replaceAll("_", " ")})` : "";
  return `disarmed${cause}${status.changed_at !== undefined ? ` since ${status.changed_at}` : ""}`;
}

function nextStep(status: LiveStatus): string {
  const unmet = status.prerequisites.filter((p) => !p.met);
  if (unmet.length > 0) {
    return `Before live trading can be armed, set in the configuration: ${unmet.map((p) => p.key).join("; ")}. Then check again with ibkr-agent live status.`;
  }
  if (status.kill_switch === "engaged") {
    return 'The kill switch is engaged: the operator releases it first (ibkr-agent kill-switch release --reason "..."), then arms.';
  }
  if (status.armed && status.armed_for_current_config) {
    return 'Live orders pass the arming gate. To stop them: ibkr-agent live disarm --reason "..." (or engage the kill switch).';
  }
  return 'Every prerequisite is met. The operator arms live trading in a terminal (asks for the PIN): ibkr-agent live arm --reason "..."';
}

export function renderLiveStatus(status: LiveStatus): string {
  return blocks(
    facts([
      ["live trading", armingWords(status)],
      ["kill switch", status.kill_switch],
    ]),
    `Prerequisites (${status.prerequisites.filter((p) => p.met).length} of ${status.prerequisites.length} met):\n${renderTable(
      status.prerequisites,
      [
        { header: "PREREQUISITE", value: (p) => PREREQUISITE_LABELS[p.name] ?? p.name },
        { header: "MET", value: (p) => (p.met ? "yes" : "NO") },
        { header: "DETAIL", value: (p) => p.detail },
      ],
    )}`,
    nextStep(status),
  );
}

export function renderArmed(result: {
  risk_policy_id: string;
  armed_at: string;
  audit_event_id: string;
}): string {
  return blocks(
    `Live trading ARMED at ${result.armed_at} under policy ${result.risk_policy_id}. Live orders still pass every other live gate.`,
    facts([["audit event", result.audit_event_id]]),
    'It stays armed until disarmed (ibkr-agent live disarm --reason "..."), the kill switch is engaged, or the live configuration changes.',
  );
}

export function renderDisarmed(result: { changed: boolean; audit_event_id?: string }): string {
  if (!result.changed) return "Live trading was not armed; nothing changed.";
  return blocks(
    "Live trading disarmed: live submits and modifies are refused until the operator arms it again.",
    facts([["audit event", result.audit_event_id]]),
  );
}
