// Human text of an order or bracket preview: the order as it would be placed, the contract, the broker's
// what-if money and margin change, the risk decision with its warnings, the quote it was checked against,
// the expiry, and the command that approves it. The operator's review before an approval shows the same
// body from the stored preview.
import type { ToolOutput } from "../../../../generated/tools/registry.gen.ts";
import {
  blocks,
  brokerText,
  facts,
  indent,
  isSimulated,
  type Money,
  money,
  type OrderFields,
  orderWords,
  SIMULATED_BANNER,
  section,
} from "../format.ts";
import { formatValue } from "../result.ts";
import { renderTable } from "../table.ts";

type SinglePreview = ToolOutput<"ibkr_order_preview">;
type BracketPreview = ToolOutput<"ibkr_bracket_order_preview">;

/** What both preview kinds (and a stored preview) have in common, legs first-class. */
export interface PreviewView {
  readonly preview_id: string;
  readonly account_id: string;
  readonly contract: SinglePreview["contract"];
  readonly legs: readonly (OrderFields & { readonly role: string })[];
  readonly what_if: SinglePreview["what_if"];
  readonly risk: SinglePreview["risk"];
  readonly quote: SinglePreview["quote"];
  readonly created_at: string;
  readonly expires_at: string;
}

interface Margin {
  readonly current?: Money;
  readonly change: Money;
  readonly after?: Money;
}

function contractLine(contract: PreviewView["contract"]): string {
  const name = contract.description !== undefined ? ` (${contract.description})` : "";
  return `${contract.symbol}, ${contract.asset_class} on ${contract.exchange} in ${contract.currency}, contract id ${contract.contract_id}${name}`;
}

function marginTable(whatIf: PreviewView["what_if"]): string {
  const rows: [string, Margin][] = [
    ["initial margin", whatIf.initial_margin],
    ["maintenance margin", whatIf.maintenance_margin],
    ["equity with loan", whatIf.equity_with_loan],
  ];
  return renderTable(rows, [
    { header: "", value: ([label]) => label },
    { header: "BEFORE", value: ([, m]) => money(m.current), align: "right" },
    { header: "CHANGE", value: ([, m]) => money(m.change), align: "right" },
    { header: "AFTER", value: ([, m]) => money(m.after), align: "right" },
  ]);
}

function whatIfBlock(whatIf: PreviewView["what_if"]): string {
  return section(
    "What-if (the broker's estimate; nothing was placed):",
    [
      facts([
        ["order value", whatIf.order_value],
        ["commission", whatIf.commission],
        ["total", whatIf.total],
      ]),
      "",
      marginTable(whatIf),
    ].join("\n"),
  );
}

function riskBlock(risk: PreviewView["risk"]): string {
  const notional = risk.notional !== undefined ? `; notional ${money(risk.notional)}` : "";
  const head = `Risk check: ${risk.decision.replaceAll("_", " ")} (policy ${risk.policy_id}${notional})`;
  return [head, ...risk.warnings.map((w) => `- ${w.code}: ${w.message}`)].join("\n");
}

function quoteLine(quote: PreviewView["quote"]): string {
  const prices = (["bid", "ask", "last"] as const)
    .filter((side) => quote[side] !== undefined)
    .map((side) => `${side} ${quote[side]}`)
    .join(", ");
  return `Quote checked: ${prices === "" ? "no prices" : `${prices} ${quote.currency}`}; ${formatValue(quote.provenance)}`;
}

function legsBlock(view: PreviewView): string {
  const [only] = view.legs;
  if (view.legs.length === 1 && only !== undefined) return "";
  return section(
    `Bracket legs (${view.legs.length}, submitted as one linked group; the exits work once the entry fills):`,
    renderTable(view.legs, [
      { header: "LEG", value: (leg) => leg.role.replaceAll("_", " ") },
      { header: "ORDER", value: (leg) => orderWords(leg, view.contract.symbol) },
    ]),
  );
}

/** Everything a person needs to judge the order, without the header and the next step. */
export function renderPreviewBody(view: PreviewView): string {
  const [first] = view.legs;
  return blocks(
    facts([
      // A bracket's legs get their own table.
      [
        "order",
        first === undefined || view.legs.length > 1 ? undefined : orderWords(first, view.contract.symbol),
      ],
      ["contract", contractLine(view.contract)],
      ["created", view.created_at],
      ["expires", `${view.expires_at} (approve and submit before then, or preview again)`],
    ]),
    legsBlock(view),
    whatIfBlock(view.what_if),
    riskBlock(view.risk),
    quoteLine(view.quote),
    view.what_if.broker_warning !== undefined
      ? `Broker warning: ${brokerText(view.what_if.broker_warning)}`
      : undefined,
  );
}

export function previewView(result: SinglePreview | BracketPreview): PreviewView {
  const legs =
    "legs" in result ? result.legs : [{ role: "order", ...(result as SinglePreview).order } as const];
  return {
    preview_id: result.preview_id,
    account_id: result.account_id,
    contract: result.contract,
    legs,
    what_if: result.what_if,
    risk: result.risk,
    quote: result.quote,
    created_at: result.created_at,
    expires_at: result.expires_at,
  };
}

export function renderPreview(result: SinglePreview | BracketPreview): string {
  const view = previewView(result);
  const kind = "legs" in result ? "Bracket preview" : "Preview";
  return blocks(
    isSimulated(result) ? SIMULATED_BANNER : undefined,
    `${kind} ${view.preview_id} for ${view.account_id} - nothing was sent to the broker.`,
    renderPreviewBody(view),
    `Next: approve it (a preview is approved once, and the approval expires):\n${indent(
      `ibkr-agent approvals create --account ${view.account_id} --preview-id ${view.preview_id}`,
    )}`,
  );
}
