// Order results as their tools return them (typed by the contracts), for the renderer tests.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";

const SIMULATED = { backend: "simulator", simulated: true } as const;

const MARGINS = {
  initial_margin: {
    current: { amount: "28712", currency: "USD" },
    change: { amount: "572", currency: "USD" },
    after: { amount: "29284", currency: "USD" },
  },
  maintenance_margin: {
    current: { amount: "23926", currency: "USD" },
    change: { amount: "476", currency: "USD" },
    after: { amount: "24402", currency: "USD" },
  },
  equity_with_loan: {
    current: { amount: "975705", currency: "USD" },
    change: { amount: "-1", currency: "USD" },
    after: { amount: "975704", currency: "USD" },
  },
};

const CONTRACT: ToolOutput<"ibkr_order_preview">["contract"] = {
  contract_id: "265598",
  symbol: "AAPL",
  asset_class: "stock",
  exchange: "NASDAQ",
  currency: "USD",
  description: "APPLE INC",
};

const QUOTE: ToolOutput<"ibkr_order_preview">["quote"] = {
  bid: "190.45",
  ask: "190.55",
  last: "190.50",
  currency: "USD",
  provenance: { status: "live", age_seconds: 2, warnings: [] },
};

export const ORDER_PREVIEW: ToolOutput<"ibkr_order_preview"> = {
  preview_id: "pv_01JD8X7Q2M3N4P5R6S",
  account_id: "DU1234567",
  created_at: "2026-12-01T15:00:00Z",
  expires_at: "2026-12-01T15:05:00Z",
  order_sent: false,
  order: { side: "buy", quantity: "10", order_type: "limit", limit_price: "190.50", time_in_force: "day" },
  contract: CONTRACT,
  what_if: {
    order_value: { amount: "1905", currency: "USD" },
    commission: { amount: "1", currency: "USD" },
    total: { amount: "1906", currency: "USD" },
    ...MARGINS,
  },
  risk: {
    policy_id: "order_preview",
    decision: "accepted_with_warnings",
    notional: { amount: "1905", currency: "USD" },
    warnings: [{ code: "PRICE_FAR_FROM_MARKET", message: "The limit is 3.1% away from the market." }],
  },
  quote: QUOTE,
  source: SIMULATED,
};

export const BRACKET_PREVIEW: ToolOutput<"ibkr_bracket_order_preview"> = {
  preview_id: "pv_01JD8X7Q2M3N4P5R7T",
  account_id: "DU1234567",
  created_at: "2026-12-01T15:00:00Z",
  expires_at: "2026-12-01T15:05:00Z",
  order_sent: false,
  contract: CONTRACT,
  legs: [
    {
      role: "entry",
      side: "buy",
      quantity: "5",
      order_type: "limit",
      limit_price: "190",
      time_in_force: "gtc",
    },
    {
      role: "take_profit",
      side: "sell",
      quantity: "5",
      order_type: "limit",
      limit_price: "200",
      time_in_force: "gtc",
    },
    {
      role: "stop_loss",
      side: "sell",
      quantity: "5",
      order_type: "stop",
      stop_price: "185",
      time_in_force: "gtc",
    },
  ],
  what_if: {
    commission: { amount: "1.5", currency: "USD" },
    ...MARGINS,
    broker_warning: "Your order size is\nlarge relative to volume.",
  },
  risk: { policy_id: "order_preview", decision: "accepted", warnings: [] },
  quote: {
    ...QUOTE,
    provenance: { status: "delayed", age_seconds: 900, warnings: ["15-minute delayed data"] },
  },
  source: { backend: "client_portal_gateway", simulated: false },
};

export const PAPER_SUBMIT: ToolOutput<"ibkr_paper_order_submit"> = {
  broker_order_id: "1370093239",
  client_order_id: "iag-8d10bf325682a2c959068c6b",
  status: "open",
  replayed: false,
  answered_questions: [
    { question_id: "o354", text: "You are submitting an order without market data.", answer: "confirmed" },
  ],
  mode: "paper",
  writer: "broker",
  account_id: "DU1234567",
  preview_id: "pv_01JD8X7Q2M3N4P5R6S",
  approval_id: "ap_01JD8X7Q2M3N4P5R6S",
  order: {
    contract_id: "265598",
    symbol: "AAPL",
    side: "buy",
    quantity: "10",
    order_type: "limit",
    limit_price: "190.50",
    time_in_force: "day",
  },
  submitted_at: "2026-12-01T15:01:00Z",
  audit_event_id: "01a2321e-ab74-7870-9c2c-4aa27a0cce57",
  source: SIMULATED,
};

const LIVE_GATES: ToolOutput<"ibkr_live_order_submit">["gates"] = [
  { gate: "live_enabled", passed: true },
  { gate: "armed", passed: true },
  { gate: "limit_policy_passed", passed: true, detail: "policy small" },
];

export const LIVE_REHEARSAL: ToolOutput<"ibkr_live_order_submit"> = {
  ...PAPER_SUBMIT,
  broker_order_id: "lc-8d10bf325682-0",
  answered_questions: [],
  mode: "live",
  writer: "local_candidate",
  account_id: "U1234567",
  gates: LIVE_GATES,
  policy_id: "small",
  source: { backend: "client_portal_gateway", simulated: false },
};
