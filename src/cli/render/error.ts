// A failure as a person reads it at the terminal: the catalogue's lines (code, message, what to do, audit
// event), then what the error's details say in words - the live gate report, the refusal reasons with their
// actions, and the broker's own question or message, marked as broker text.
import { cliErrorText } from "../../core/error-mapping.ts";
import type { GatewayError } from "../../core/gateway-error.ts";
import { isGateRow, renderGates } from "./orders/gates.ts";
import { renderRefusalReasons } from "./refusals.ts";
import { brokerText } from "./untrusted.ts";

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function brokerQuestion(details: Record<string, unknown>): string | undefined {
  if (typeof details.question_text !== "string") return undefined;
  const ids = strings(details.question_ids);
  const label = ids.length > 0 ? `Broker question ${ids.join(", ")}` : "Broker question";
  const policies = strings(details.policies);
  // Only require_approval questions can be accepted, and only by a fresh approval that names them.
  const acceptable =
    ids.length > 0 && policies.length === ids.length && policies.every((p) => p === "require_approval");
  const next = acceptable
    ? `\nIf the order should go ahead: preview it again and approve the new preview with ${ids.map((id) => `--acknowledge ${id}`).join(" ")} (ibkr-agent approvals create).`
    : "";
  return `${label}: ${brokerText(details.question_text)}${next}`;
}

export function renderErrorText(error: GatewayError): string {
  const details = error.details ?? {};
  const gates = Array.isArray(details.gates) ? details.gates.filter(isGateRow) : [];
  const reasons = strings(details.refusal_reasons);
  // Loaded on every run (output.ts), so it stays free of the result renderers.
  return [
    cliErrorText(error),
    brokerQuestion(details),
    typeof details.broker_message === "string"
      ? `The broker said: ${brokerText(details.broker_message)}`
      : undefined,
    reasons.length > 0 ? renderRefusalReasons(reasons) : undefined,
    gates.length > 0 ? renderGates(gates) : undefined,
  ]
    .filter((block) => block !== undefined)
    .join("\n\n");
}
