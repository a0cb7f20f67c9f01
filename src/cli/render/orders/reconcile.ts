// Human text of one reconciliation pass: the writes it settled, the orders whose status changed, those the
// broker could not tell about, and what to do next. Keyed hashes stay in --json.
import type { ReconcileReport } from "../../../gateway/index.ts";
import { blocks } from "../format.ts";
import { renderTable } from "../table.ts";

const OUTCOMES: Readonly<Record<string, string>> = {
  found_at_broker: "found at the broker: completed",
  not_found_at_broker: "not at the broker: nothing was placed",
  unresolved: "STILL UNCERTAIN",
};

function recoveryBlock(report: ReconcileReport): string | undefined {
  if (report.recovery.length === 0) return undefined;
  return `Pending writes settled (${report.recovery.length}):\n${renderTable(report.recovery, [
    { header: "OPERATION", value: (r) => r.operation },
    { header: "MODE", value: (r) => r.mode ?? "-" },
    { header: "OUTCOME", value: (r) => OUTCOMES[r.outcome] ?? r.outcome },
    { header: "BROKER ORDER IDS", value: (r) => r.broker_order_ids.join(", ") || "-" },
    { header: "REASON", value: (r) => r.reason ?? "" },
  ])}`;
}

function changesBlock(report: ReconcileReport): string {
  if (report.changes.length === 0) return "No order changed status.";
  return `Status changes (${report.changes.length}):\n${renderTable(report.changes, [
    { header: "BROKER ORDER ID", value: (c) => c.broker_order_id },
    { header: "MODE", value: (c) => c.mode },
    { header: "FROM", value: (c) => c.previous_status },
    { header: "TO", value: (c) => c.current_status },
    { header: "FINAL", value: (c) => (c.terminal ? "yes" : "no") },
  ])}`;
}

function unresolvedBlock(report: ReconcileReport): string | undefined {
  if (report.unresolved.length === 0) return undefined;
  return `Unresolved (${report.unresolved.length}; they stay followed):\n${renderTable(report.unresolved, [
    { header: "BROKER ORDER ID", value: (u) => u.broker_order_id },
    {
      header: "REASON",
      value: (u) =>
        u.reason === "not_in_session" ? "not in the broker's current session" : u.reason.replaceAll("_", " "),
    },
  ])}`;
}

function nextStep(report: ReconcileReport): string {
  if (report.recovery.some((r) => r.outcome === "unresolved")) {
    return "Next: some writes are still uncertain. Check the account's orders at the broker (ibkr-agent orders list --account ACCOUNT) before doing anything else, and never resubmit them blindly; run ibkr-agent orders reconcile again once the broker answers.";
  }
  if (report.unresolved.length > 0) {
    return "Next: look the unresolved orders up with ibkr-agent orders history --account ACCOUNT, and run ibkr-agent orders reconcile again later.";
  }
  if (report.backlog > 0) {
    return `Next: ${report.backlog} working order${report.backlog === 1 ? " is" : "s are"} still followed; run ibkr-agent orders reconcile again later (a running MCP server also reconciles on its own).`;
  }
  return "Nothing is left to follow.";
}

export function renderReconcile(report: ReconcileReport): string {
  if (!report.ran) {
    return `Another process is reconciling right now, so this run did nothing (${report.backlog} orders followed). Try again in a minute.`;
  }
  return blocks(
    `Reconciled: ${report.checked} order${report.checked === 1 ? "" : "s"} checked, ${report.changes.length} changed, ${report.unresolved.length} unresolved, ${report.recovery.length} pending write${report.recovery.length === 1 ? "" : "s"} settled; ${report.backlog} still followed.`,
    recoveryBlock(report),
    changesBlock(report),
    unresolvedBlock(report),
    nextStep(report),
  );
}
