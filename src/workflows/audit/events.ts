// What the audit tools and `audit tail --follow` show of an event: exactly the fields the tools' contract
// declares (its output schema is the list), so nothing else stored in an event can leak through them.
import { createHash } from "node:crypto";
import { TOOLS, type ToolOutput } from "../../../generated/tools/registry.gen.ts";
import type { CallContext } from "../../core/call-context.ts";
import { type AuditContext, type AuditEventRecord, canonicalJson } from "../../store/index.ts";

export type AuditEventView = ToolOutput<"ibkr_audit_tail">["events"][number];

const VIEW_FIELDS = Object.keys(
  TOOLS.ibkr_audit_tail.outputSchema.properties.events.items.properties,
) as (keyof AuditEventView)[];

export function eventView(record: AuditEventRecord): AuditEventView {
  const source = record as unknown as Record<string, unknown>;
  const view: Record<string, unknown> = {};
  for (const field of VIEW_FIELDS) if (source[field] !== undefined) view[field] = source[field];
  return view as AuditEventView;
}

/** SHA-256 of events written as JSON Lines (one canonical object per line), as the export contract says. */
export function batchSha256(events: readonly AuditEventView[]): string {
  const digest = createHash("sha256");
  for (const event of events) digest.update(`${canonicalJson(event)}\n`);
  return digest.digest("hex");
}

/** Events written for a call carry the ids of that call, so they sit next to its tool_call event. */
export function auditContextOf(context: CallContext): AuditContext {
  return {
    request_id: context.requestId,
    session_id: context.sessionId ?? context.requestId,
    principal: context.principal,
    front_door: context.frontDoor,
  };
}
