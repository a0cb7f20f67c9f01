// The audit tools: ibkr_audit_tail (the newest events, only after their chain verified) and ibkr_audit_export
// (redacted events in pages, only after the whole chain verified). Both read the gateway's own store and
// never the broker; the store does the verifying, these handlers only page and shape the result.
import type { ToolInput, ToolOutput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { chainInvalidError } from "../../store/index.ts";
import type { ReadDeps } from "../reads/deps.ts";
import { auditContextOf, batchSha256, eventView } from "./events.ts";

const DEFAULT_LIMIT = 100;

export function auditOperations(deps: ReadDeps) {
  return {
    async "audit.tail"(args: Record<string, unknown>): Promise<ToolOutput<"ibkr_audit_tail">> {
      const { limit } = args as ToolInput<"ibkr_audit_tail">;
      const tail = deps.store.tailVerified(limit ?? DEFAULT_LIMIT);
      return {
        events: tail.events.map(eventView),
        chain_verified: true,
        verified_through_sequence: tail.verified_through_sequence,
      };
    },

    async "audit.export"(
      args: Record<string, unknown>,
      context: OperationContext,
    ): Promise<ToolOutput<"ibkr_audit_export">> {
      const input = args as ToolInput<"ibkr_audit_export">;
      const limit = input.limit ?? DEFAULT_LIMIT;
      const report = deps.store.verify();
      if (!report.chain_valid) throw chainInvalidError(report);
      // One event more than asked tells whether there is more. Events appended by other processes after the
      // verification are held back for the next page, so every event returned was verified.
      const fetched = [
        ...deps.store.exportEvents({
          ...(input.since !== undefined ? { since: input.since } : {}),
          ...(input.until !== undefined ? { until: input.until } : {}),
          afterSequence: input.after_sequence ?? 0,
          limit: limit + 1,
        }),
      ];
      const verified = fetched.filter((event) => event.sequence <= report.to_sequence);
      const events = verified.slice(0, limit).map(eventView);
      const batch = batchSha256(events);
      const first = events[0];
      const last = events.at(-1);
      deps.store.append({
        ...auditContextOf(context),
        event_type: "audit_exported",
        decision: "allow",
        result_status: "completed",
        metadata: {
          ...(first !== undefined ? { from_sequence: first.sequence } : {}),
          ...(last !== undefined ? { to_sequence: last.sequence } : {}),
          events_count: events.length,
          export_sha256: batch,
          destination: "tool_result",
        },
      });
      return {
        events,
        more: fetched.length > events.length,
        batch_sha256: batch,
        exported_at: new Date(deps.clock.now()).toISOString(),
        chain_verified: true,
      };
    },
  };
}
