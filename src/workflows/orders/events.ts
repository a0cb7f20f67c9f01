// Workflow audit events of the order tools. Each copies the ids of the call that caused it (request, session,
// principal, front door, tool), carries the account only as the raw id the store turns into its keyed hash,
// and is appended before that call's tool_call event. Background work (the reconciler, start-up recovery)
// writes under a system context of its own.

import type { AuditEventType } from "../../../generated/audit-events.gen.ts";
import type { ErrorCode } from "../../../generated/errors.gen.ts";
import type { CallContext, OperationContext } from "../../core/call-context.ts";
import type { GatewayError } from "../../core/gateway-error.ts";
import type { AuditContext, AuditDecision, AuditResultStatus, Store } from "../../store/index.ts";
import { auditContextOf } from "../audit/events.ts";

export interface WorkflowEvent {
  readonly type: AuditEventType;
  readonly decision?: AuditDecision;
  readonly result?: AuditResultStatus;
  readonly errorCode?: ErrorCode;
  /** Raw account id (the store keeps only its hash), or the hash itself. */
  readonly accountId?: string;
  readonly accountIdHash?: string;
  readonly metadata: Record<string, unknown>;
}

/** Who an event belongs to: a tool call, or background work of the gateway itself. */
export type EventOrigin =
  | { readonly kind: "call"; readonly context: OperationContext | CallContext; readonly tool?: string }
  | { readonly kind: "system"; readonly context: AuditContext; readonly tool?: string };

export function callOrigin(context: OperationContext): EventOrigin {
  return { kind: "call", context, tool: context.tool };
}

/** Drops undefined metadata values: the contract declares keys, not nulls. */
function defined(metadata: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export function recordEvent(store: Store, origin: EventOrigin, event: WorkflowEvent): string {
  const base = origin.kind === "call" ? auditContextOf(origin.context) : origin.context;
  const record = store.append({
    ...base,
    event_type: event.type,
    decision: event.decision ?? "allow",
    result_status: event.result ?? "completed",
    ...(origin.tool !== undefined ? { tool: origin.tool } : {}),
    ...(event.errorCode !== undefined ? { error_code: event.errorCode } : {}),
    ...(event.accountId !== undefined ? { account_id: event.accountId } : {}),
    ...(event.accountIdHash !== undefined ? { account_id_hash: event.accountIdHash } : {}),
    metadata: defined(event.metadata),
  });
  return record.event_id;
}

/** The broker's own words about a refused write, when the error carries them (kept for the audit only). */
export function brokerMessageOf(error: GatewayError): string | undefined {
  const message = error.details?.broker_message;
  return typeof message === "string" ? message : undefined;
}
