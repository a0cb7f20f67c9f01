// The live gate report as a table, one row per gate, passed or failed with the gateway's detail. Submits show
// it on success; a refused live write carries the same report in its error details.
import { renderTable } from "../table.ts";

export interface GateRow {
  readonly gate: string;
  readonly passed: boolean;
  readonly detail?: string;
}

const GATE_LABELS: Readonly<Record<string, string>> = {
  live_enabled: "live trading enabled",
  account_allowlisted: "account on the live allowlist",
  live_scope_granted: "live scope granted",
  checklist_acknowledged: "paper-to-live checklist acknowledged",
  audit_available: "audit log available",
  armed: "armed by the operator",
  kill_switch_released: "kill switch released",
  preview_unexpired: "preview not expired",
  approval_valid: "approval valid",
  idempotency_key_present: "idempotency key given",
  limit_policy_passed: "live limit policy passed",
};

export function isGateRow(value: unknown): value is GateRow {
  if (value === null || typeof value !== "object") return false;
  const row = value as Record<string, unknown>;
  return typeof row.gate === "string" && typeof row.passed === "boolean";
}

export function renderGates(gates: readonly GateRow[]): string {
  const failed = gates.filter((gate) => !gate.passed).length;
  const title =
    failed === 0
      ? `Live gates (${gates.length}, all passed):`
      : `Live gates (${gates.length}, ${failed} failed):`;
  return `${title}\n${renderTable(gates, [
    { header: "GATE", value: (g) => GATE_LABELS[g.gate] ?? g.gate.replaceAll("_", " ") },
    { header: "RESULT", value: (g) => (g.passed ? "passed" : "FAILED") },
    { header: "DETAIL", value: (g) => g.detail ?? "" },
  ])}`;
}
