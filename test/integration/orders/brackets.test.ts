// Brackets: one approval of one bracket preview places one linked group in one request - the entry with its
// cOID, the take-profit and stop-loss as its children (parentId), never three independent orders. At the
// simulated broker the children wait for the parent and one child's fill cancels the other; the reconciler
// follows all three to their ends. Live brackets take the live limits per leg.
import { afterEach, describe, expect, it } from "vitest";
import type { Gateway } from "../../../src/gateway/index.ts";
import {
  closeGateways,
  eventsOf,
  expectSafeStore,
  LIVE_ACCOUNT,
  ok,
  orderGateway,
  PAPER_ACCOUNT,
  paperYaml,
  previewAndApprove,
  refused,
} from "./harness.ts";
import { liveGateway, liveSubmitArgs, policy } from "./live-setup.ts";

afterEach(closeGateways);

const BRACKET = {
  account_id: PAPER_ACCOUNT,
  symbol: "AAPL",
  side: "buy",
  quantity: "10",
  entry_limit_price: "265",
  take_profit_limit_price: "274",
  stop_loss_stop_price: "258",
};

function reconcile(gateway: Gateway) {
  return gateway.procedures.reconciler.once({
    kind: "system",
    context: { ...gateway.store.systemContext(), principal: "system:reconciler" },
  });
}

async function paperBracket(gateway: Gateway, key: string) {
  const { approval } = await previewAndApprove(gateway, BRACKET, { tool: "ibkr_bracket_order_preview" });
  const submit = await ok(gateway, "ibkr_paper_bracket_order_submit", {
    account_id: PAPER_ACCOUNT,
    approval_id: approval.approval_id,
    idempotency_key: key,
  });
  return { approval, submit };
}

describe("a paper bracket", () => {
  it("is one request: the entry carries the cOID, the exits are its children, one approval covers it", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval, submit } = await paperBracket(gateway, "bracket-one-1");
    expect(sim.control.count("placeOrders")).toBe(1);
    const [entry, profit, loss] = sim.state.orders.all();
    expect(sim.state.orders.all()).toHaveLength(3);
    expect(entry).toMatchObject({ cOID: submit.client_order_id, parentOrderId: null });
    expect(entry?.ticket).toMatchObject({ side: "BUY", orderType: "LMT", price: 265, quantity: 10 });
    for (const child of [profit, loss]) {
      expect(child).toMatchObject({ cOID: null, parentOrderId: entry?.orderId, held: true });
      expect(child?.ticket.parentId).toBe(submit.client_order_id);
    }
    expect(profit?.ticket).toMatchObject({ side: "SELL", orderType: "LMT", price: 274 });
    expect(loss?.ticket).toMatchObject({ side: "SELL", orderType: "STP", auxPrice: 258 });
    expect(profit?.ocaGroup).toBe(loss?.ocaGroup);
    expect(submit).toMatchObject({
      mode: "paper",
      writer: "broker",
      replayed: false,
      approval_id: approval.approval_id,
      legs: [
        {
          role: "entry",
          broker_order_id: String(entry?.orderId),
          side: "buy",
          order_type: "limit",
          limit_price: "265",
        },
        { role: "take_profit", broker_order_id: String(profit?.orderId), side: "sell", limit_price: "274" },
        {
          role: "stop_loss",
          broker_order_id: String(loss?.orderId),
          side: "sell",
          order_type: "stop",
          stop_price: "258",
        },
      ],
    });
    expect(eventsOf(gateway, "approval_consumed")).toHaveLength(1);
    expect(eventsOf(gateway, "order_submitted")[0]?.metadata).toMatchObject({
      client_order_ids: [submit.client_order_id],
      broker_order_ids: [String(entry?.orderId), String(profit?.orderId), String(loss?.orderId)],
      order_group_id: submit.client_order_id,
    });
    expect(gateway.store.orderGroups.get(String(submit.client_order_id))?.payload).toEqual({
      preview_id: submit.preview_id,
      legs: [
        { role: "entry", broker_order_id: String(entry?.orderId) },
        { role: "take_profit", broker_order_id: String(profit?.orderId) },
        { role: "stop_loss", broker_order_id: String(loss?.orderId) },
      ],
    });
    expect(gateway.store.backlog.list().map((o) => [o.role, o.clientOrderId])).toEqual([
      ["entry", submit.client_order_id],
      ["take_profit", null],
      ["stop_loss", null],
    ]);
    // A replay returns the group; the approval allows no second group.
    const replay = await ok(gateway, "ibkr_paper_bracket_order_submit", {
      account_id: PAPER_ACCOUNT,
      approval_id: approval.approval_id,
      idempotency_key: "bracket-one-1",
    });
    expect(replay).toMatchObject({ replayed: true, legs: submit.legs });
    const second = await refused(gateway, "ibkr_paper_bracket_order_submit", {
      account_id: PAPER_ACCOUNT,
      approval_id: approval.approval_id,
      idempotency_key: "bracket-one-2",
    });
    expect(second.code).toBe("APPROVAL_CONSUMED");
    expect(sim.control.count("placeOrders")).toBe(1);
    expectSafeStore(gateway);
  });

  it("keeps its exits waiting until the entry fills; one exit's fill cancels the other; the reconciler follows all three", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { submit } = await paperBracket(gateway, "bracket-life-1");
    const [entryId, profitId, lossId] = (submit.legs as { broker_order_id: string }[]).map((l) =>
      Number(l.broker_order_id),
    );
    const status = () => [entryId, profitId, lossId].map((id) => sim.state.orders.get(Number(id))?.status);
    // The market runs up through the take-profit before the entry filled: nothing happens to the exits.
    sim.control.setPrice("AAPL", 276);
    sim.control.advance(60_000);
    expect(sim.state.orders.get(Number(profitId))?.filled).toBe(0);
    expect(status()).toEqual(["Submitted", "PreSubmitted", "PreSubmitted"]);
    // Down to the entry: it fills, and the exits start working.
    sim.control.setPrice("AAPL", 264);
    sim.control.advance(60_000);
    expect(status()[0]).toBe("Filled");
    const first = await reconcile(gateway);
    expect(first.changes.map((c) => [c.broker_order_id, c.current_status, c.terminal])).toContainEqual([
      String(entryId),
      "filled",
      true,
    ]);
    // Up through the take-profit: it fills and the stop-loss is cancelled.
    sim.control.setPrice("AAPL", 275);
    sim.control.advance(60_000);
    expect(status()).toEqual(["Filled", "Filled", "Cancelled"]);
    const second = await reconcile(gateway);
    expect(second.changes.map((c) => [c.broker_order_id, c.current_status, c.terminal]).sort()).toEqual(
      [
        [String(profitId), "filled", true],
        [String(lossId), "cancelled", true],
      ].sort(),
    );
    expect(second.backlog).toBe(0);
    expect(gateway.store.backlog.list()).toEqual([]);
    const lifecycle = eventsOf(gateway, "order_lifecycle_changed").map((e) => [
      e.metadata.broker_order_id,
      e.metadata.current_status,
    ]);
    expect(lifecycle).toContainEqual([String(entryId), "filled"]);
    expect(lifecycle).toContainEqual([String(profitId), "filled"]);
    expect(lifecycle).toContainEqual([String(lossId), "cancelled"]);
    expectSafeStore(gateway);
  });
});

describe("a paper bracket asked the p12 prompt", () => {
  it("is reported as the whole group, though the prompt names only the entry", async () => {
    // The questions scenario ends every submit with p12, whose answer carries one order id.
    const { gateway, sim } = await orderGateway({ config: paperYaml(), scenario: "questions" });
    const { submit } = await paperBracket(gateway, "bracket-p12-1");
    const ids = sim.state.orders.all().map((o) => String(o.orderId));
    expect(ids).toHaveLength(3);
    expect(submit).toMatchObject({ replayed: false, status: "open" });
    expect(
      (submit.legs as { role: string; broker_order_id: string }[]).map((l) => [l.role, l.broker_order_id]),
    ).toEqual([
      ["entry", ids[0]],
      ["take_profit", ids[1]],
      ["stop_loss", ids[2]],
    ]);
    expect((submit.answered_questions as { question_id: string }[]).map((q) => q.question_id)).toEqual([
      "o10153",
      "o10152",
      "p12",
    ]);
    expect(eventsOf(gateway, "order_outcome_uncertain")).toEqual([]);
    expect(gateway.store.backlog.list()).toHaveLength(3);
    expect(sim.control.count("placeOrders")).toBe(1);
  });
});

describe("a live bracket", () => {
  it("takes the live limits per leg and counts three orders", async () => {
    const { gateway, sim } = await liveGateway({
      live: { policy: policy({ max_orders_per_session: "4", max_order_quantity: '"10"' }) },
    });
    const order = { ...BRACKET, account_id: LIVE_ACCOUNT };
    const preview = await ok(gateway, "ibkr_bracket_order_preview", order);
    const approval = await ok(gateway, "ibkr_approvals_create", {
      account_id: LIVE_ACCOUNT,
      preview_id: preview.preview_id,
    });
    const approved = { previewId: String(preview.preview_id), approvalId: String(approval.approval_id) };
    const placed = await ok(
      gateway,
      "ibkr_live_bracket_order_submit",
      liveSubmitArgs(approved, "live-bracket-1"),
    );
    expect(placed).toMatchObject({ mode: "live", writer: "broker", policy_id: "small" });
    expect(sim.state.orders.all()).toHaveLength(3);
    const limits = await ok(gateway, "ibkr_limits_status", { account_id: LIVE_ACCOUNT });
    expect(limits).toMatchObject({ submitted_in_session: 3, remaining_session_orders: 1 });
    // A second bracket would make six orders of a four-order day.
    const again = await ok(gateway, "ibkr_bracket_order_preview", order);
    const againApproval = await ok(gateway, "ibkr_approvals_create", {
      account_id: LIVE_ACCOUNT,
      preview_id: again.preview_id,
    });
    const refusal = await refused(
      gateway,
      "ibkr_live_bracket_order_submit",
      liveSubmitArgs(
        { previewId: String(again.preview_id), approvalId: String(againApproval.approval_id) },
        "live-bracket-2",
      ),
    );
    expect(refusal).toMatchObject({
      code: "LIVE_LIMIT_REFUSED",
      details: { refusal_reasons: ["LIVE_SESSION_ORDER_LIMIT_REFUSED"] },
    });
    expect(sim.control.count("placeOrders")).toBe(1);
  });
});
