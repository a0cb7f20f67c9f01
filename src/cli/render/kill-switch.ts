// Human text of the kill switch: its state and what it means for orders, who changed it and why (recorded
// text, shown as data), and what can be done next - by whom.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { blocks, facts, recordedText } from "./format.ts";
import { renderTable } from "./table.ts";

type Status = ToolOutput<"ibkr_kill_switch_status">;
type Engaged = ToolOutput<"ibkr_kill_switch_engage">;

export interface CancelSweep {
  readonly cancelled: readonly { account_id: string; broker_order_id: string; status: string }[];
  readonly failed: readonly { account_id: string; broker_order_id: string; code: string }[];
}

const RELEASE_HINT =
  'Only the operator can release it, in a terminal (asks for the PIN): ibkr-agent kill-switch release --reason "..."';

function stateWords(state: string): string {
  return state === "engaged"
    ? "ENGAGED - every order submit and modify is refused (paper and live); cancels and previews still work"
    : "released - orders run through their normal gates";
}

function changeFacts(status: { changed_at?: string; changed_by?: string; reason?: string }) {
  return [
    ["changed at", status.changed_at],
    ["changed by", status.changed_by],
    ["reason", status.reason !== undefined ? recordedText(status.reason) : undefined],
  ] as const;
}

export function renderKillSwitchStatus(status: Status): string {
  return blocks(
    facts([
      ["kill switch", stateWords(status.state)],
      ["live trading", status.live_armed ? "armed" : "disarmed"],
      ...changeFacts(status),
    ]),
    status.state === "engaged"
      ? RELEASE_HINT
      : 'To stop every submit and modify at once: ibkr-agent kill-switch engage --reason "..."',
  );
}

function sweepBlock(sweep: CancelSweep): string {
  const rows = [
    ...sweep.cancelled.map((c) => ({ ...c, result: `cancel requested (${c.status})` })),
    ...sweep.failed.map((f) => ({ ...f, result: `FAILED: ${f.code}` })),
  ];
  if (rows.length === 0) return "No working orders were found, so none were cancelled.";
  return `Working orders (${rows.length}; ${sweep.cancelled.length} cancel requested, ${sweep.failed.length} failed):\n${renderTable(
    rows,
    [
      { header: "ACCOUNT", value: (r) => r.account_id },
      { header: "BROKER ORDER ID", value: (r) => r.broker_order_id },
      { header: "RESULT", value: (r) => r.result },
    ],
  )}`;
}

export function renderKillSwitchEngaged(result: Engaged & Partial<CancelSweep>): string {
  const head = result.already_engaged
    ? "The kill switch was already engaged; it stays engaged as before."
    : "Kill switch ENGAGED: every order submit and modify is now refused; cancels still work. Live trading is disarmed.";
  const sweep =
    result.cancelled !== undefined && result.failed !== undefined
      ? sweepBlock({ cancelled: result.cancelled, failed: result.failed })
      : undefined;
  const failedCancels = (result.failed?.length ?? 0) > 0;
  return blocks(
    head,
    facts([...changeFacts(result), ["audit event", result.audit_event_id]]),
    sweep,
    failedCancels
      ? "Some cancels failed: check them with ibkr-agent orders list --account ACCOUNT and cancel them by hand."
      : undefined,
    sweep !== undefined
      ? "Cancels are received, not final: confirm with ibkr-agent orders list --account ACCOUNT."
      : undefined,
    RELEASE_HINT,
  );
}

export function renderKillSwitchReleased(result: Status & { audit_event_id: string }): string {
  return blocks(
    "Kill switch released: order submits and modifies run through their normal gates again.",
    facts([
      [
        "live trading",
        result.live_armed ? "armed" : "disarmed (arm it again with ibkr-agent live arm if you trade live)",
      ],
      ["audit event", result.audit_event_id],
    ]),
  );
}
