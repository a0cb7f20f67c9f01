// The paper path through gateway.dispatch: the paper gates (disabled, not allowlisted, an account the broker
// does not report as paper), the kill switch (stops submits and modifies, never cancels), cancels of a
// bracket entry, modifies that must pass the preview policy again, and trailing orders - checked at the
// simulated broker as well as in the results and the audit.

import { getResponse } from "msw";
import { afterEach, describe, expect, it } from "vitest";
import type { Gateway } from "../../../src/gateway/index.ts";
import { IN_PROCESS_SIMULATOR_URL } from "../../../src/gateway/index.ts";
import type { Simulator } from "../../../src/simulator/index.ts";
import { STOCKS } from "../../../src/simulator/index.ts";
import { optionConid } from "../../../src/simulator/instruments.ts";
import { CONFIG_HEADER } from "../../support/gateway.ts";
import {
  closeGateways,
  eventsOf,
  expectSafeStore,
  LIVE_ACCOUNT,
  limitBuy,
  ok,
  orderGateway,
  PAPER_ACCOUNT,
  PAPER_SCOPES,
  paperYaml,
  previewAndApprove,
  refused,
  SECOND_PAPER,
  submitArgs,
} from "./harness.ts";

afterEach(closeGateways);

async function placed(gateway: Gateway, order: Record<string, unknown>, key: string) {
  const { approval } = await previewAndApprove(gateway, order);
  return ok(
    gateway,
    "ibkr_paper_order_submit",
    submitArgs(approval.approval_id, key, String(order.account_id)),
  );
}

function simOrder(sim: Simulator, orderId: unknown) {
  return sim.state.orders.get(Number(orderId));
}

describe("the paper gates", () => {
  it("refuse with PAPER_TRADING_DISABLED while paper trading is off", async () => {
    const { gateway, sim } = await orderGateway({
      config: `${CONFIG_HEADER}auth:\n  enabled_scopes: [${PAPER_SCOPES.join(", ")}]\norder_preview:\n  enabled: true\n`,
    });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "paper-off-1"),
    );
    expect(refusal).toMatchObject({
      code: "PAPER_TRADING_DISABLED",
      message: "Paper trading is disabled in the configuration.",
      details: { field: "paper_trading.enabled" },
    });
    expect(sim.control.count("placeOrders")).toBe(0);
  });

  it("refuse when the safety switch is off even if a config rule was bypassed", async () => {
    const { gateway } = await orderGateway({
      config: paperYaml(),
      patch: (config) => {
        config.safety.paper_trading_enabled = false;
      },
    });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "paper-off-2"),
    );
    expect(refusal.code).toBe("PAPER_TRADING_DISABLED");
  });

  it("refuse an account that is not on the paper allowlist", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml(), scenario: "multi-account" });
    const { approval } = await previewAndApprove(gateway, limitBuy("265", { account_id: SECOND_PAPER }));
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "not-listed-1", SECOND_PAPER),
    );
    expect(refusal).toMatchObject({
      code: "PAPER_TRADING_DISABLED",
      message: "The account is not on the paper allowlist.",
      details: { field: "account_id" },
    });
    expect(sim.control.count("placeOrders")).toBe(0);
  });

  it("refuse an allowlisted account the broker reports as real money with PAPER_ACCOUNT_REFUSED", async () => {
    const { gateway, sim } = await orderGateway({
      config: paperYaml({ accounts: [LIVE_ACCOUNT], preview: "  account_modes: [paper, live]\n" }),
      scenario: "live-account",
    });
    const { approval } = await previewAndApprove(gateway, limitBuy("265", { account_id: LIVE_ACCOUNT }));
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "real-money-1", LIVE_ACCOUNT),
    );
    expect(refusal).toMatchObject({
      code: "PAPER_ACCOUNT_REFUSED",
      details: { field: "account_id", broker_reports_paper: false, paper_prefix: false },
    });
    // Cancels take the same gate: nothing on a real-money account goes through the paper path.
    const cancel = await refused(gateway, "ibkr_paper_order_cancel", {
      account_id: LIVE_ACCOUNT,
      broker_order_id: "1",
      idempotency_key: "real-money-2",
    });
    expect(cancel.code).toBe("PAPER_ACCOUNT_REFUSED");
    expect(sim.control.count("placeOrders") + sim.control.count("cancelOrder")).toBe(0);
    expectSafeStore(gateway);
  });

  it("refuse a DU account once the broker stops reporting the login as paper", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    (sim.state.accounts.get(PAPER_ACCOUNT) as unknown as { paper: boolean }).paper = false;
    // The gateway reads the account list again once its minute-long cache has run out.
    sim.control.advance(61_000);
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "flag-flipped"),
    );
    expect(refusal).toMatchObject({
      code: "PAPER_ACCOUNT_REFUSED",
      details: { broker_reports_paper: false, paper_prefix: true },
    });
    expect(sim.control.count("placeOrders")).toBe(0);
  });
});

describe("the kill switch on the paper path", () => {
  it("stops submits and modifies but never cancels", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const working = await placed(gateway, limitBuy("264"), "ks-working");
    const { approval } = await previewAndApprove(gateway, limitBuy("263"));
    const engaged = await ok(gateway, "ibkr_kill_switch_engage", { reason: "agent saw a runaway loop" });
    expect(engaged).toMatchObject({
      state: "engaged",
      already_engaged: false,
      reason: "agent saw a runaway loop",
    });
    const submit = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "ks-submit"),
    );
    expect(submit).toMatchObject({
      code: "KILL_SWITCH_ENGAGED",
      details: {
        reason: "agent saw a runaway loop",
        engaged_at: engaged.changed_at,
        untrusted_fields: ["reason"],
      },
    });
    const modify = await refused(gateway, "ibkr_paper_order_modify", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: working.broker_order_id,
      idempotency_key: "ks-modify",
      limit_price: "252",
    });
    expect(modify.code).toBe("KILL_SWITCH_ENGAGED");
    expect(sim.control.count("modifyOrder")).toBe(0);
    const cancel = await ok(gateway, "ibkr_paper_order_cancel", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: working.broker_order_id,
      idempotency_key: "ks-cancel",
    });
    expect(cancel).toMatchObject({
      broker_order_id: working.broker_order_id,
      mode: "paper",
      writer: "broker",
    });
    expect(eventsOf(gateway, "order_cancel_requested")[0]?.metadata).toMatchObject({
      writer: "broker",
      broker_order_id: working.broker_order_id,
      kill_switch_engaged: true,
    });
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(sim.control.count("cancelOrder")).toBe(1);
    sim.control.advance(1000);
    expect(simOrder(sim, working.broker_order_id)?.status).toBe("Cancelled");
    // The approval held back by the switch is still usable once the operator releases it.
    expect(gateway.store.approvals.get(String(approval.approval_id))?.status).toBe("active");
    expectSafeStore(gateway);
  });
});

describe("paper cancels", () => {
  it("of a bracket entry cancel its take-profit and stop-loss children", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(
      gateway,
      {
        account_id: PAPER_ACCOUNT,
        symbol: "AAPL",
        side: "buy",
        quantity: "10",
        entry_limit_price: "265",
        take_profit_limit_price: "274",
        stop_loss_stop_price: "258",
      },
      { tool: "ibkr_bracket_order_preview" },
    );
    const bracket = await ok(
      gateway,
      "ibkr_paper_bracket_order_submit",
      submitArgs(approval.approval_id, "bracket-cancel"),
    );
    const [entry] = bracket.legs as { broker_order_id: string }[];
    const cancel = await ok(gateway, "ibkr_paper_order_cancel", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: entry?.broker_order_id,
      idempotency_key: "bracket-cancel-entry",
    });
    expect(cancel.replayed).toBe(false);
    sim.control.advance(1000);
    expect(sim.state.orders.all().map((o) => o.status)).toEqual(["Cancelled", "Cancelled", "Cancelled"]);
    const replay = await ok(gateway, "ibkr_paper_order_cancel", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: entry?.broker_order_id,
      idempotency_key: "bracket-cancel-entry",
    });
    expect(replay.replayed).toBe(true);
    expect(sim.control.count("cancelOrder")).toBe(1);
  });
});

describe("paper modifies", () => {
  it("change the working order at the broker and are checked against the preview policy again", async () => {
    const { gateway, sim } = await orderGateway({
      config: paperYaml({ preview: '  max_order_quantity: "20"\n  max_order_notional: "6000"\n' }),
    });
    const working = await placed(gateway, limitBuy("264"), "modify-base");
    const modifyArgs = { account_id: PAPER_ACCOUNT, broker_order_id: working.broker_order_id };
    const tooMany = await refused(gateway, "ibkr_paper_order_modify", {
      ...modifyArgs,
      idempotency_key: "modify-too-many",
      quantity: "21",
    });
    expect(tooMany).toMatchObject({
      code: "ORDER_POLICY_REFUSED",
      details: { refusal_reasons: ["ORDER_QUANTITY_LIMIT_REFUSED"], policy_id: "order_preview" },
    });
    const tooBig = await refused(gateway, "ibkr_paper_order_modify", {
      ...modifyArgs,
      idempotency_key: "modify-too-big",
      quantity: "20",
      limit_price: "301",
    });
    expect(tooBig.details).toMatchObject({ refusal_reasons: ["ORDER_NOTIONAL_LIMIT_REFUSED"] });
    const wrongField = await refused(gateway, "ibkr_paper_order_modify", {
      ...modifyArgs,
      idempotency_key: "modify-wrong-field",
      stop_price: "240",
    });
    expect(wrongField).toMatchObject({ code: "ORDER_VALIDATION_FAILED", details: { field: "stop_price" } });
    const nothing = await refused(gateway, "ibkr_paper_order_modify", {
      ...modifyArgs,
      idempotency_key: "modify-nothing",
    });
    expect(nothing).toMatchObject({ code: "ORDER_VALIDATION_FAILED", details: { field: "quantity" } });
    expect(sim.control.count("modifyOrder")).toBe(0);

    const changed = await ok(gateway, "ibkr_paper_order_modify", {
      ...modifyArgs,
      idempotency_key: "modify-ok-1",
      quantity: "15",
      limit_price: "263.5",
      time_in_force: "gtc",
    });
    expect(changed).toMatchObject({
      broker_order_id: working.broker_order_id,
      client_order_id: working.client_order_id,
      replayed: false,
      changes: { quantity: "15", limit_price: "263.5", time_in_force: "gtc" },
      order: { side: "buy", quantity: "15", order_type: "limit", limit_price: "263.5", time_in_force: "gtc" },
      mode: "paper",
      writer: "broker",
    });
    expect(simOrder(sim, working.broker_order_id)?.ticket).toMatchObject({
      quantity: 15,
      price: 263.5,
      tif: "GTC",
    });
    expect(eventsOf(gateway, "order_modified")[0]?.metadata).toMatchObject({
      writer: "broker",
      broker_order_id: working.broker_order_id,
      changed_fields: ["quantity", "limit_price", "time_in_force"],
      quantity: "15",
      limit_price: "263.5",
    });
    const replay = await ok(gateway, "ibkr_paper_order_modify", {
      ...modifyArgs,
      idempotency_key: "modify-ok-1",
      quantity: "15",
      limit_price: "263.5",
      time_in_force: "gtc",
    });
    expect(replay.replayed).toBe(true);
    expect(sim.control.count("modifyOrder")).toBe(1);
    expectSafeStore(gateway);
  });

  it("refuse an unknown order and an order that has filled", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const unknown = await refused(gateway, "ibkr_paper_order_modify", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: "99999",
      idempotency_key: "modify-unknown",
      limit_price: "264",
    });
    expect(unknown).toMatchObject({ code: "ORDER_NOT_FOUND", details: { field: "broker_order_id" } });
    const working = await placed(gateway, limitBuy("264"), "modify-filled-base");
    sim.control.fill(Number(working.broker_order_id));
    const filled = await refused(gateway, "ibkr_paper_order_modify", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: working.broker_order_id,
      idempotency_key: "modify-filled",
      limit_price: "263",
    });
    expect(filled).toMatchObject({
      code: "ORDER_VALIDATION_FAILED",
      message: "The order is filled and can no longer be modified.",
      details: { field: "broker_order_id" },
    });
    expect(sim.control.count("modifyOrder")).toBe(0);
  });
});

describe("a paper modify of an order placed outside the gateway", () => {
  it("is checked as the asset class the broker reports (an option), not as a stock", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    await ok(gateway, "ibkr_accounts_list", {});
    // Someone places an AAPL call option in TWS: straight at the broker, past every gate of ours.
    const aapl = STOCKS.find((stock) => stock.symbol === "AAPL") as (typeof STOCKS)[number];
    const conid = optionConid(aapl, "20281215", 250, "C");
    const placed = await getResponse(
      sim.handlers,
      new Request(`${IN_PROCESS_SIMULATOR_URL}/iserver/account/${PAPER_ACCOUNT}/orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          orders: [
            {
              acctId: PAPER_ACCOUNT,
              conid,
              orderType: "LMT",
              side: "BUY",
              quantity: 1,
              price: 57,
              tif: "DAY",
            },
          ],
        }),
      }),
    );
    const [answer] = (await (placed as Response).json()) as { order_id: string }[];
    const refusal = await refused(gateway, "ibkr_paper_order_modify", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: String(answer?.order_id),
      idempotency_key: "modify-option",
      quantity: "5",
    });
    expect(refusal).toMatchObject({
      code: "ORDER_POLICY_REFUSED",
      details: { refusal_reasons: ["ORDER_ASSET_CLASS_REFUSED"] },
    });
    expect(sim.control.count("modifyOrder")).toBe(0);
  });
});

describe("trailing orders", () => {
  it("are placed with their distance and modified from an amount to a percent", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const order = {
      account_id: PAPER_ACCOUNT,
      symbol: "AAPL",
      side: "sell",
      quantity: "5",
      order_type: "trailing_stop",
      trailing_amount: "2.5",
    };
    const preview = await ok(gateway, "ibkr_order_preview", order);
    expect(preview.order).toEqual({
      side: "sell",
      quantity: "5",
      order_type: "trailing_stop",
      trailing_amount: "2.5",
      time_in_force: "day",
    });
    const approval = await ok(gateway, "ibkr_approvals_create", {
      account_id: PAPER_ACCOUNT,
      preview_id: preview.preview_id,
    });
    const submit = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "trailing-1"),
    );
    expect(submit.order).toMatchObject({ order_type: "trailing_stop", trailing_amount: "2.5" });
    expect(simOrder(sim, submit.broker_order_id)?.ticket).toMatchObject({
      orderType: "TRAIL",
      side: "SELL",
      quantity: 5,
      trailingAmt: 2.5,
      trailingType: "amt",
    });
    const modified = await ok(gateway, "ibkr_paper_order_modify", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: submit.broker_order_id,
      idempotency_key: "trailing-2",
      trailing_percent: "1.5",
    });
    expect(modified.order).toMatchObject({ order_type: "trailing_stop", trailing_percent: "1.5" });
    expect(simOrder(sim, submit.broker_order_id)?.ticket).toMatchObject({
      trailingAmt: 1.5,
      trailingType: "%",
    });
    const both = await refused(gateway, "ibkr_paper_order_modify", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: submit.broker_order_id,
      idempotency_key: "trailing-3",
      trailing_percent: "1.5",
      trailing_amount: "1",
    });
    expect(both).toMatchObject({ code: "ORDER_VALIDATION_FAILED", details: { field: "trailing_percent" } });
    const limitOnTrail = await refused(gateway, "ibkr_paper_order_modify", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: submit.broker_order_id,
      idempotency_key: "trailing-4",
      trailing_percent: "2",
      limit_price: "260",
    });
    expect(limitOnTrail).toMatchObject({
      code: "ORDER_VALIDATION_FAILED",
      details: { field: "limit_price" },
    });
  });
});
