// The human text of a tool result: the order and safety tools have their own renderers (money, legs, gates,
// what was sent and the next command); every other tool renders generically from its result.
import type { ToolName, ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { renderKillSwitchEngaged, renderKillSwitchStatus } from "./kill-switch.ts";
import { renderLimits } from "./live.ts";
import { renderApproval } from "./orders/approvals.ts";
import { renderPreview } from "./orders/preview.ts";
import { isWriteTool, renderWrite, type WriteResult } from "./orders/write.ts";
import { renderResult } from "./result.ts";

export function renderToolResult(tool: ToolName, result: unknown): string {
  switch (tool) {
    case "ibkr_order_preview":
      return renderPreview(result as ToolOutput<"ibkr_order_preview">);
    case "ibkr_bracket_order_preview":
      return renderPreview(result as ToolOutput<"ibkr_bracket_order_preview">);
    case "ibkr_approvals_create":
      return renderApproval(result as ToolOutput<"ibkr_approvals_create">);
    case "ibkr_kill_switch_status":
      return renderKillSwitchStatus(result as ToolOutput<"ibkr_kill_switch_status">);
    case "ibkr_kill_switch_engage":
      return renderKillSwitchEngaged(result as ToolOutput<"ibkr_kill_switch_engage">);
    case "ibkr_limits_status":
      return renderLimits(result as ToolOutput<"ibkr_limits_status">);
    default:
      return isWriteTool(tool) ? renderWrite(tool, result as WriteResult) : renderResult(tool, result);
  }
}
