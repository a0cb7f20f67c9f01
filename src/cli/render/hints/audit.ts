// Preferred table columns of the audit tools' result lists (their natural reading order). `audit tail
// --follow` prints its lines in the same order (src/cli/commands/audit.ts).
import type { RenderHints } from "./types.ts";

const EVENT_COLUMNS = [
  "sequence",
  "timestamp",
  "event_type",
  "tool",
  "decision",
  "result_status",
  "error_code",
];

export const AUDIT_HINTS: RenderHints = {
  ibkr_audit_tail: { events: EVENT_COLUMNS },
  ibkr_audit_export: { events: EVENT_COLUMNS },
};
