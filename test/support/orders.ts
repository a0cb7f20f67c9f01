// Test support for the order workflows: a paper-trading configuration (previews, paper orders and approvals
// on the simulator's paper account) and a live one (a real-money account of the live-account scenario with a
// small policy), plus the preview -> approve -> submit steps as one-liners.
import type { Gateway } from "../../src/gateway/index.ts";
import { CONFIG_HEADER, callOk } from "./gateway.ts";

export const PAPER_ACCOUNT = "DU1234567";

const ORDER_SCOPES = [
  "ibkr:health:read",
  "ibkr:accounts:read",
  "ibkr:portfolio:read",
  "ibkr:positions:read",
  "ibkr:marketdata:read",
  "ibkr:orders:read",
  "ibkr:risk:read",
  "ibkr:audit:read",
  "ibkr:orders:preview",
  "ibkr:approvals:create",
  "ibkr:orders:paper:submit",
  "ibkr:orders:paper:cancel",
  "ibkr:orders:paper:modify",
  "ibkr:safety:engage",
];

export function paperConfig(extra = ""): string {
  return `${CONFIG_HEADER}auth:
  enabled_scopes: [${ORDER_SCOPES.join(", ")}]
safety:
  paper_trading_enabled: true
order_preview:
  enabled: true
paper_trading:
  enabled: true
  allowed_accounts: [${PAPER_ACCOUNT}]
${extra}`;
}

export const LIMIT_BUY = {
  account_id: PAPER_ACCOUNT,
  symbol: "AAPL",
  side: "buy",
  quantity: "10",
  order_type: "limit",
  time_in_force: "day",
};

/** Preview, approve and submit one paper order; returns the three results. */
export async function paperOrder(gateway: Gateway, order: Record<string, unknown>, key: string) {
  const preview = await callOk(gateway, "ibkr_order_preview", { ...LIMIT_BUY, ...order });
  const approval = await callOk(gateway, "ibkr_approvals_create", {
    account_id: PAPER_ACCOUNT,
    preview_id: preview.preview_id,
  });
  const submit = await callOk(gateway, "ibkr_paper_order_submit", {
    account_id: PAPER_ACCOUNT,
    approval_id: approval.approval_id,
    idempotency_key: key,
  });
  return { preview, approval, submit };
}
