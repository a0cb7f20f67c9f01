// Preferred table columns of the audit tools' result lists (their natural reading order).
import type { RenderHints } from "./types.ts";

export const AUDIT_HINTS: RenderHints = {
  ibkr_audit_tail: {
    events: ["sequence", "timestamp", "event_type", "tool", "decision", "result_status", "error_code"],
  },
};
