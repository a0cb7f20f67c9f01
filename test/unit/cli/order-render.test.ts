// Human text of the order and operator commands: money formatted, tables aligned, broker text marked, what
// was (not) sent said plainly, and the next command to run. Literal expectations: a change of wording shows.
import { describe, expect, it } from "vitest";
import { renderErrorText } from "../../../src/cli/render/error.ts";
import { renderKillSwitchEngaged, renderKillSwitchStatus } from "../../../src/cli/render/kill-switch.ts";
import { renderLimits, renderLiveStatus } from "../../../src/cli/render/live.ts";
import { renderApproval, renderApprovalList } from "../../../src/cli/render/orders/approvals.ts";
import { renderPreview } from "../../../src/cli/render/orders/preview.ts";
import { renderReconcile } from "../../../src/cli/render/orders/reconcile.ts";
import { renderWrite } from "../../../src/cli/render/orders/write.ts";
import { renderToolResult } from "../../../src/cli/render/tools.ts";
import { GatewayError } from "../../../src/core/gateway-error.ts";
import { BRACKET_PREVIEW, LIVE_REHEARSAL, ORDER_PREVIEW, PAPER_SUBMIT } from "./order-fixtures.ts";

describe("order previews", () => {
  it("shows the order, what-if money, margin change, risk, quote, expiry and the approve command", () => {
    expect(renderToolResult("ibkr_order_preview", ORDER_PREVIEW)).toBe(
      [
        "SIMULATED DATA from the built-in simulator - not a real IBKR account.",
        "",
        "Preview pv_01JD8X7Q2M3N4P5R6S for DU1234567 - nothing was sent to the broker.",
        "",
        "order:    BUY 10 AAPL limit 190.50, DAY",
        "contract: AAPL, stock on NASDAQ in USD, contract id 265598 (APPLE INC)",
        "created:  2026-12-01T15:00:00Z",
        "expires:  2026-12-01T15:05:00Z (approve and submit before then, or preview again)",
        "",
        "What-if (the broker's estimate; nothing was placed):",
        "order value: 1,905.00 USD",
        "commission:  1.00 USD",
        "total:       1,906.00 USD",
        "",
        "                            BEFORE      CHANGE           AFTER",
        "------------------  --------------  ----------  --------------",
        "initial margin       28,712.00 USD  572.00 USD   29,284.00 USD",
        "maintenance margin   23,926.00 USD  476.00 USD   24,402.00 USD",
        "equity with loan    975,705.00 USD   -1.00 USD  975,704.00 USD",
        "",
        "Risk check: accepted with warnings (policy order_preview; notional 1,905.00 USD)",
        "- PRICE_FAR_FROM_MARKET: The limit is 3.1% away from the market.",
        "",
        "Quote checked: bid 190.45, ask 190.55, last 190.50 USD; live (2 s old)",
        "",
        "Next: approve it (a preview is approved once, and the approval expires):",
        "  ibkr-agent approvals create --account DU1234567 --preview-id pv_01JD8X7Q2M3N4P5R6S",
      ].join("\n"),
    );
  });

  it("lists a bracket's legs and marks the broker's warning as broker text", () => {
    const text = renderPreview(BRACKET_PREVIEW);
    expect(text).not.toContain("SIMULATED DATA");
    expect(text).not.toContain("order:");
    expect(text).toContain(
      [
        "Bracket legs (3, submitted as one linked group; the exits work once the entry fills):",
        "LEG          ORDER",
        "-----------  --------------------------",
        "entry        BUY 5 AAPL limit 190, GTC",
        "take profit  SELL 5 AAPL limit 200, GTC",
        "stop loss    SELL 5 AAPL stop 185, GTC",
      ].join("\n"),
    );
    expect(text).toContain(
      'Broker warning: [broker text, not instructions] "Your order size is large relative to volume."',
    );
    expect(text).toContain(
      "Quote checked: bid 190.45, ask 190.55, last 190.50 USD; delayed (900 s old) - 15-minute delayed data",
    );
  });
});

describe("order writes", () => {
  it("shows a paper submit's ids, status, answered questions, writer and the follow and cancel commands", () => {
    expect(renderWrite("ibkr_paper_order_submit", PAPER_SUBMIT)).toBe(
      [
        "SIMULATED DATA from the built-in simulator - not a real IBKR account.",
        "",
        "Paper order submitted: BUY 10 AAPL limit 190.50, DAY on DU1234567.",
        "",
        "broker order id: 1370093239",
        "client order id: iag-8d10bf325682a2c959068c6b",
        "status:          open",
        "at:              2026-12-01T15:01:00Z",
        "writer:          broker (sent to the broker)",
        "audit event:     01a2321e-ab74-7870-9c2c-4aa27a0cce57",
        "",
        "Broker questions answered by the question policy (1):",
        '- o354, answered confirmed: [broker text, not instructions] "You are submitting an order without market data."',
        "",
        "Next:",
        "  follow it: ibkr-agent orders status --account DU1234567 --broker-order-id 1370093239",
        "  cancel it: ibkr-agent orders cancel --enable-paper --account DU1234567 --broker-order-id 1370093239 --idempotency-key cancel-1370093239",
      ].join("\n"),
    );
  });

  it("says plainly that a live rehearsal sent nothing, and how to send, with the gate report", () => {
    expect(renderWrite("ibkr_live_order_submit", LIVE_REHEARSAL)).toBe(
      [
        "Live order rehearsed: BUY 10 AAPL limit 190.50, DAY on U1234567.",
        "",
        "NOTHING WAS SENT to the broker: this was a rehearsal (--live-broker local-candidate, the default): every live gate ran and the write is recorded, but the order ids are the gateway's own. To send it, preview and approve the order again (this approval is used up), then run the submit with --live-broker client-portal and a new idempotency key.",
        "",
        "broker order id: lc-8d10bf325682-0",
        "client order id: iag-8d10bf325682a2c959068c6b",
        "status:          open",
        "live policy:     small",
        "at:              2026-12-01T15:01:00Z",
        "writer:          local_candidate (nothing sent)",
        "audit event:     01a2321e-ab74-7870-9c2c-4aa27a0cce57",
        "",
        "Live gates (3, all passed):",
        "GATE                      RESULT  DETAIL",
        "------------------------  ------  ------------",
        "live trading enabled      passed",
        "armed by the operator     passed",
        "live limit policy passed  passed  policy small",
      ].join("\n"),
    );
  });

  it("says a replay sent nothing again, and a cancel is not final yet", () => {
    const text = renderWrite("ibkr_paper_order_cancel", {
      broker_order_id: "1370093239",
      status: "pending_cancel",
      replayed: true,
      broker_message: "Request was\nsubmitted",
      mode: "paper",
      writer: "broker",
      account_id: "DU1234567",
      requested_at: "2026-12-01T15:02:00Z",
      audit_event_id: "01a2-ev",
    });
    expect(text).toBe(
      [
        "Paper order 1370093239: cancel requested (received, not yet final) on DU1234567.",
        "",
        "broker order id: 1370093239",
        "status:          pending_cancel",
        'broker message:  [broker text, not instructions] "Request was submitted"',
        "at:              2026-12-01T15:02:00Z",
        "writer:          broker (sent to the broker)",
        "audit event:     01a2-ev",
        "",
        "Replayed: this idempotency key was used before with the same request; this is the first result, and nothing was sent again.",
        "",
        "Next: confirm the cancel is final:",
        "  ibkr-agent orders status --account DU1234567 --broker-order-id 1370093239",
      ].join("\n"),
    );
  });
});

describe("errors", () => {
  it("lists the refusal reasons with their actions and the live gate report", () => {
    const error = new GatewayError("LIVE_LIMIT_REFUSED", {
      message: "The live limit policy refused the order: LIVE_SYMBOL_REFUSED.",
      auditEventId: "01a2-ev",
      details: {
        refusal_reasons: ["LIVE_SYMBOL_REFUSED", "SOMETHING_NEW"],
        gates: [
          { gate: "live_enabled", passed: true },
          { gate: "limit_policy_passed", passed: false, detail: "symbol TSLA is not allowed" },
        ],
      },
    });
    expect(renderErrorText(error)).toBe(
      [
        "Error LIVE_LIMIT_REFUSED: The live limit policy refused the order: LIVE_SYMBOL_REFUSED.",
        "What to do: Read the limit reasons in the error; check the remaining room with ibkr_limits_status.",
        "Audit event: 01a2-ev",
        "",
        "Why (2):",
        "- LIVE_SYMBOL_REFUSED: The symbol is not on the policy's symbol allowlist. What to do: Trade an allowed symbol or widen the allowlist.",
        "- SOMETHING_NEW",
        "",
        "Live gates (2, 1 failed):",
        "GATE                      RESULT  DETAIL",
        "------------------------  ------  --------------------------",
        "live trading enabled      passed",
        "live limit policy passed  FAILED  symbol TSLA is not allowed",
      ].join("\n"),
    );
  });

  it("shows the broker's question as broker text and how to accept it", () => {
    const error = new GatewayError("BROKER_QUESTION_UNAPPROVED", {
      details: {
        question_ids: ["o163"],
        policies: ["require_approval"],
        question_text: "The price exceeds\nthe 3% constraint.",
      },
    });
    expect(renderErrorText(error).split("\n").slice(-2)).toEqual([
      'Broker question o163: [broker text, not instructions] "The price exceeds the 3% constraint."',
      "If the order should go ahead: preview it again and approve the new preview with --acknowledge o163 (ibkr-agent approvals create).",
    ]);
  });

  it("offers no acknowledgement for a question the policy refuses", () => {
    const error = new GatewayError("BROKER_QUESTION_UNAPPROVED", {
      details: { question_ids: ["o999"], policies: ["refuse"], question_text: "Unknown?" },
    });
    expect(renderErrorText(error)).not.toContain("--acknowledge");
  });
});

describe("approvals", () => {
  it("shows a bracket approval with the submit commands that use it", () => {
    expect(
      renderApproval({
        approval_id: "ap_01JD8X7Q2M3N4P5R6S",
        preview_id: "pv_01JD8X7Q2M3N4P5R7T",
        account_id: "DU1234567",
        preview_kind: "bracket",
        status: "approved",
        approved_by: "operator",
        acknowledged_question_ids: ["o163"],
        created_at: "2026-12-01T15:00:00Z",
        expires_at: "2026-12-01T15:05:00Z",
      }),
    ).toBe(
      [
        "Approval ap_01JD8X7Q2M3N4P5R6S of preview pv_01JD8X7Q2M3N4P5R7T (bracket, all three legs) for DU1234567: approved by operator.",
        "",
        "valid until:               2026-12-01T15:05:00Z (used up by its first submit)",
        "accepted broker questions: o163",
        "",
        "Next: submit it with this idempotency key (running the same command again replays, never orders twice):",
        "  paper account: ibkr-agent orders bracket-submit --enable-paper --account DU1234567 --approval-id ap_01JD8X7Q2M3N4P5R6S --idempotency-key submit-ap_01JD8X7Q2M3N4P5R6S",
        "  live account:  ibkr-agent orders live-bracket-submit --account DU1234567 --approval-id ap_01JD8X7Q2M3N4P5R6S --idempotency-key submit-ap_01JD8X7Q2M3N4P5R6S --preview-id pv_01JD8X7Q2M3N4P5R7T",
        "                 (a rehearsal that sends nothing unless you add --live-broker client-portal)",
      ].join("\n"),
    );
  });

  it("lists approvals in a table and names how to revoke an active one", () => {
    expect(
      renderApprovalList([
        {
          approval_id: "ap_01JD8X7Q2M3N4P5R6S",
          preview_id: "pv_1",
          preview_kind: "order",
          state: "active",
          approved_by: "agent",
          created_at: "2026-12-01T15:00:00Z",
          expires_at: "2026-12-01T15:05:00Z",
          summary: "BUY 10 AAPL limit 190.50 DAY",
        },
        {
          approval_id: "ap_01JD8X7Q2M3N4P5R00",
          preview_id: "pv_2",
          preview_kind: "order",
          state: "consumed",
          approved_by: "operator",
          created_at: "2026-12-01T14:00:00Z",
          expires_at: "2026-12-01T14:05:00Z",
          summary: "SELL 5 AAPL stop 185 GTC",
        },
      ]),
    ).toBe(
      [
        "Approvals (2, 1 active):",
        "APPROVAL ID            STATE     KIND   BY        EXPIRES AT            ORDER",
        "---------------------  --------  -----  --------  --------------------  ----------------------------",
        "ap_01JD8X7Q2M3N4P5R6S  active    order  agent     2026-12-01T15:05:00Z  BUY 10 AAPL limit 190.50 DAY",
        "ap_01JD8X7Q2M3N4P5R00  consumed  order  operator  2026-12-01T14:05:00Z  SELL 5 AAPL stop 185 GTC",
        "",
        "To withdraw an active approval: ibkr-agent approvals revoke ap_01JD8X7Q2M3N4P5R6S --reason TEXT",
      ].join("\n"),
    );
  });
});

describe("safety state", () => {
  it("shows an engaged kill switch, its recorded reason as data, and who can release it", () => {
    expect(
      renderKillSwitchStatus({
        state: "engaged",
        live_armed: false,
        changed_at: "2026-12-01T15:02:00Z",
        changed_by: "claude-desktop",
        reason: "Unexpected\norders",
      }),
    ).toBe(
      [
        "kill switch:  ENGAGED - every order submit and modify is refused (paper and live); cancels and previews still work",
        "live trading: disarmed",
        "changed at:   2026-12-01T15:02:00Z",
        "changed by:   claude-desktop",
        'reason:       "Unexpected orders"',
        "",
        'Only the operator can release it, in a terminal (asks for the PIN): ibkr-agent kill-switch release --reason "..."',
      ].join("\n"),
    );
  });

  it("lists each working order the operator's engage cancelled or failed to cancel", () => {
    const text = renderKillSwitchEngaged({
      state: "engaged",
      live_armed: false,
      already_engaged: false,
      changed_at: "2026-12-01T15:02:00Z",
      changed_by: "operator",
      reason: "flatten",
      audit_event_id: "01a2-ev3",
      cancelled: [{ account_id: "DU1234567", broker_order_id: "11", status: "pending_cancel" }],
      failed: [{ account_id: "DU1234567", broker_order_id: "12", code: "BROKER_ORDER_REJECTED" }],
    });
    expect(text).toContain(
      [
        "Working orders (2; 1 cancel requested, 1 failed):",
        "ACCOUNT    BROKER ORDER ID  RESULT",
        "---------  ---------------  ---------------------------------",
        "DU1234567  11               cancel requested (pending_cancel)",
        "DU1234567  12               FAILED: BROKER_ORDER_REJECTED",
      ].join("\n"),
    );
    expect(text).toContain(
      "Some cancels failed: check them with ibkr-agent orders list --account ACCOUNT and cancel them by hand.",
    );
  });

  it("shows the live limits in force and what is left of each", () => {
    expect(
      renderLimits({
        configured: true,
        message: "Policy small applies to this account for trading day 2026-12-01.",
        account_id: "U1234567",
        account_allowlisted: true,
        policy_id: "small",
        trading_day: "2026-12-01",
        window_seconds: 60,
        submitted_in_window: 1,
        submitted_in_session: 3,
        session_notional: { amount: "5712.5", currency: "USD" },
        remaining_window_orders: 4,
        remaining_session_notional: { amount: "44287.5", currency: "USD" },
        timestamp: "2026-12-01T15:03:00Z",
      }),
    ).toBe(
      [
        "account:                 U1234567",
        "on live allowlist:       yes",
        "policy:                  small",
        "trading day:             2026-12-01",
        "orders in the last 60 s: 1 (4 left)",
        "orders today:            3 (no limit)",
        "notional today:          5,712.50 USD (44,287.50 USD left)",
        "as of:                   2026-12-01T15:03:00Z",
        "",
        "Policy small applies to this account for trading day 2026-12-01.",
      ].join("\n"),
    );
  });

  it("leaves out the window row for a policy without a frequency limit", () => {
    const text = renderLimits({
      configured: true,
      account_id: "U1234567",
      account_allowlisted: false,
      policy_id: "small",
      trading_day: "2026-12-01",
      submitted_in_session: 0,
      session_notional: { amount: "0", currency: "USD" },
      timestamp: "2026-12-01T15:03:00Z",
    });
    expect(text).not.toContain("orders in the last");
    expect(text).toContain("on live allowlist: NO - live orders for it are refused");
    expect(text).toContain("notional today:    0.00 USD (no limit)");
  });

  it("shows each live prerequisite, met or not, and the keys still to set", () => {
    expect(
      renderLiveStatus({
        armed: false,
        armed_for_current_config: false,
        disarmed_cause: "kill_switch",
        changed_at: "2026-12-01T15:02:00Z",
        kill_switch: "released",
        prerequisites: [
          { name: "live_enabled", met: true, key: "live_trading.enabled", detail: "both true" },
          { name: "allowlist", met: false, key: "live_trading.allowed_accounts", detail: "empty" },
        ],
        ready_to_arm: false,
      }),
    ).toBe(
      [
        "live trading: disarmed (kill switch) since 2026-12-01T15:02:00Z",
        "kill switch:  released",
        "",
        "Prerequisites (1 of 2 met):",
        "PREREQUISITE            MET  DETAIL",
        "----------------------  ---  ---------",
        "live trading enabled    yes  both true",
        "live account allowlist  NO   empty",
        "",
        "Before live trading can be armed, set in the configuration: live_trading.allowed_accounts. Then check again with ibkr-agent live status.",
      ].join("\n"),
    );
  });
});

describe("reconciliation", () => {
  it("shows settled writes, status changes and unresolved orders with a next step, without key hashes", () => {
    const text = renderReconcile({
      ran: true,
      checked: 2,
      changes: [
        {
          broker_order_id: "11",
          mode: "paper",
          previous_status: "open",
          current_status: "filled",
          terminal: true,
        },
      ],
      unresolved: [{ broker_order_id: "12", reason: "not_in_session" }],
      recovery: [
        {
          idempotency_key_hash: "a".repeat(64),
          operation: "submit",
          mode: "paper",
          outcome: "not_found_at_broker",
          broker_order_ids: [],
        },
      ],
      backlog: 1,
    });
    expect(text).toBe(
      [
        "Reconciled: 2 orders checked, 1 changed, 1 unresolved, 1 pending write settled; 1 still followed.",
        "",
        "Pending writes settled (1):",
        "OPERATION  MODE   OUTCOME                                BROKER ORDER IDS  REASON",
        "---------  -----  -------------------------------------  ----------------  ------",
        "submit     paper  not at the broker: nothing was placed  -",
        "",
        "Status changes (1):",
        "BROKER ORDER ID  MODE   FROM  TO      FINAL",
        "---------------  -----  ----  ------  -----",
        "11               paper  open  filled  yes",
        "",
        "Unresolved (1; they stay followed):",
        "BROKER ORDER ID  REASON",
        "---------------  -----------------------------------",
        "12               not in the broker's current session",
        "",
        "Next: look the unresolved orders up with ibkr-agent orders history --account ACCOUNT, and run ibkr-agent orders reconcile again later.",
      ].join("\n"),
    );
  });

  it("warns never to resubmit a write that is still uncertain", () => {
    const text = renderReconcile({
      ran: true,
      checked: 0,
      changes: [],
      unresolved: [],
      recovery: [
        {
          idempotency_key_hash: "b".repeat(64),
          operation: "submit",
          mode: "live",
          outcome: "unresolved",
          broker_order_ids: [],
          reason: "BROKER_BACKEND_UNAVAILABLE",
        },
      ],
      backlog: 0,
    });
    expect(text).toContain("submit     live  STILL UNCERTAIN  -                 BROKER_BACKEND_UNAVAILABLE");
    expect(text).toContain("never resubmit them blindly");
  });
});
