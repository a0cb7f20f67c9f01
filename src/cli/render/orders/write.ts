// Human text of every order write (paper and live submit, bracket submit, modify, cancel): what happened in
// one line, the ids and status, the broker's answered questions (broker text), the live gate report, who
// carried the write out - saying plainly when nothing was sent - and the next command to run.
import type { ToolName } from "../../../../generated/tools/registry.gen.ts";
import {
  blocks,
  brokerText,
  facts,
  indent,
  isSimulated,
  type OrderFields,
  orderWords,
  SIMULATED_BANNER,
  section,
} from "../format.ts";
import { renderTable } from "../table.ts";
import { type GateRow, renderGates } from "./gates.ts";

export const WRITE_TOOLS = [
  "ibkr_paper_order_submit",
  "ibkr_paper_bracket_order_submit",
  "ibkr_paper_order_modify",
  "ibkr_paper_order_cancel",
  "ibkr_live_order_submit",
  "ibkr_live_bracket_order_submit",
  "ibkr_live_order_modify",
  "ibkr_live_order_cancel",
] as const satisfies readonly ToolName[];
export type WriteTool = (typeof WRITE_TOOLS)[number];

type Action = "submit" | "bracket" | "modify" | "cancel";

const ACTIONS: Record<WriteTool, Action> = {
  ibkr_paper_order_submit: "submit",
  ibkr_paper_bracket_order_submit: "bracket",
  ibkr_paper_order_modify: "modify",
  ibkr_paper_order_cancel: "cancel",
  ibkr_live_order_submit: "submit",
  ibkr_live_bracket_order_submit: "bracket",
  ibkr_live_order_modify: "modify",
  ibkr_live_order_cancel: "cancel",
};

interface Leg extends OrderFields {
  readonly role: string;
  readonly broker_order_id: string;
  readonly status: string;
}

/** The fields the eight write results share (each has a subset). */
export interface WriteResult {
  readonly mode: "paper" | "live";
  readonly writer: "broker" | "local_candidate";
  readonly account_id: string;
  readonly status: string;
  readonly replayed: boolean;
  readonly broker_order_id?: string;
  readonly client_order_id?: string;
  readonly symbol?: string;
  readonly order?: OrderFields & { readonly symbol: string };
  readonly legs?: readonly Leg[];
  readonly changes?: Readonly<Record<string, string>>;
  readonly answered_questions?: readonly { question_id: string; text: string; answer: string }[];
  readonly gates?: readonly GateRow[];
  readonly policy_id?: string;
  readonly broker_message?: string;
  readonly submitted_at?: string;
  readonly modified_at?: string;
  readonly requested_at?: string;
  readonly audit_event_id: string;
  readonly source?: { simulated?: boolean };
}

export function isWriteTool(tool: ToolName): tool is WriteTool {
  return Object.hasOwn(ACTIONS, tool);
}

function entryId(result: WriteResult): string | undefined {
  return result.broker_order_id ?? result.legs?.find((leg) => leg.role === "entry")?.broker_order_id;
}

function headline(action: Action, result: WriteResult): string {
  const mode = result.mode === "live" ? "Live" : "Paper";
  const rehearsed = result.writer === "local_candidate";
  const what = result.order !== undefined ? ` ${orderWords(result.order, result.order.symbol)}` : "";
  switch (action) {
    case "submit":
      return `${mode} order ${rehearsed ? "rehearsed" : "submitted"}:${what} on ${result.account_id}.`;
    case "bracket":
      return `${mode} bracket ${rehearsed ? "rehearsed" : "submitted"} as one linked group on ${result.account_id}${result.symbol !== undefined ? ` (${result.symbol})` : ""}.`;
    case "modify":
      return `${mode} order ${result.broker_order_id} ${rehearsed ? "modify rehearsed" : "modified"}:${what} on ${result.account_id}.`;
    case "cancel":
      return `${mode} order ${result.broker_order_id}: cancel ${rehearsed ? "rehearsed" : "requested (received, not yet final)"} on ${result.account_id}.`;
  }
}

function writerWords(result: WriteResult): string {
  return result.writer === "broker" ? "broker (sent to the broker)" : "local_candidate (nothing sent)";
}

function legsBlock(result: WriteResult): string {
  const legs = result.legs ?? [];
  if (legs.length === 0) return "";
  return section(
    `Legs (${legs.length}; the exits work once the entry fills, and one exit's fill cancels the other):`,
    renderTable(legs, [
      { header: "LEG", value: (leg) => leg.role.replaceAll("_", " ") },
      { header: "BROKER ORDER ID", value: (leg) => leg.broker_order_id },
      { header: "STATUS", value: (leg) => leg.status },
      { header: "ORDER", value: (leg) => orderWords(leg, result.symbol ?? "") },
    ]),
  );
}

function questionsBlock(result: WriteResult): string {
  const answered = result.answered_questions ?? [];
  return section(
    `Broker questions answered by the question policy (${answered.length}):`,
    answered.map((q) => `- ${q.question_id}, answered ${q.answer}: ${brokerText(q.text)}`).join("\n"),
  );
}

/** What a rehearsal means and how to send for real. */
function nothingSent(action: Action, result: WriteResult): string | undefined {
  if (result.writer !== "local_candidate") return undefined;
  if (result.mode === "paper") {
    return "NOTHING WAS SENT to the broker: paper_trading.writer is local_candidate in the configuration, so this was a rehearsal (every gate ran and it is recorded; the order ids are the gateway's own). To send paper orders, set paper_trading.writer: broker.";
  }
  const again =
    action === "cancel"
      ? "run the same command again with --live-broker client-portal and a new idempotency key"
      : action === "modify"
        ? "approve a fresh replacement preview, then run the command again with --live-broker client-portal and a new idempotency key"
        : "preview and approve the order again (this approval is used up), then run the submit with --live-broker client-portal and a new idempotency key";
  return `NOTHING WAS SENT to the broker: this was a rehearsal (--live-broker local-candidate, the default): every live gate ran and the write is recorded, but the order ids are the gateway's own. To send it, ${again}.`;
}

function nextStep(action: Action, result: WriteResult): string | undefined {
  if (result.writer === "local_candidate") return undefined;
  const id = entryId(result);
  if (id === undefined) return undefined;
  const status = `ibkr-agent orders status --account ${result.account_id} --broker-order-id ${id}`;
  const cancel =
    result.mode === "paper"
      ? `ibkr-agent orders cancel --enable-paper --account ${result.account_id} --broker-order-id ${id} --idempotency-key cancel-${id}`
      : `ibkr-agent orders live-cancel --account ${result.account_id} --broker-order-id ${id} --idempotency-key cancel-${id} --live-broker client-portal`;
  if (action === "cancel") return `Next: confirm the cancel is final:\n${indent(status)}`;
  const lines = [`follow it: ${status}`, `cancel it: ${cancel}`];
  if (action === "bracket") lines[1] = `${lines[1]}  (cancelling the entry cancels both exits)`;
  return `Next:\n${indent(lines.join("\n"))}`;
}

export function renderWrite(tool: WriteTool, result: WriteResult): string {
  const action = ACTIONS[tool];
  const changes = result.changes !== undefined ? Object.entries(result.changes) : [];
  return blocks(
    isSimulated(result) ? SIMULATED_BANNER : undefined,
    headline(action, result),
    nothingSent(action, result),
    facts([
      ["broker order id", action === "bracket" ? undefined : result.broker_order_id],
      ["client order id", result.client_order_id],
      ["status", result.status],
      [
        "changed",
        changes.length > 0 ? changes.map(([k, v]) => `${k.replaceAll("_", " ")} ${v}`).join(", ") : undefined,
      ],
      ["broker message", result.broker_message !== undefined ? brokerText(result.broker_message) : undefined],
      ["live policy", result.policy_id],
      ["at", result.submitted_at ?? result.modified_at ?? result.requested_at],
      ["writer", writerWords(result)],
      ["audit event", result.audit_event_id],
    ]),
    legsBlock(result),
    questionsBlock(result),
    result.gates !== undefined && result.gates.length > 0 ? renderGates(result.gates) : undefined,
    result.replayed
      ? "Replayed: this idempotency key was used before with the same request; this is the first result, and nothing was sent again."
      : undefined,
    nextStep(action, result),
  );
}
