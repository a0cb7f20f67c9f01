// The live path through gateway.dispatch on the live-account scenario: every live gate missing on its own
// (and several together) with the refusal code and the gate report in details, arming bound to the live
// configuration, the local_candidate and refusing writers, live modify with a replacement preview, live
// cancel under the kill switch, and the limits status with its trading-day counters.
import { afterEach, describe, expect, it } from "vitest";
import type { Config } from "../../../src/config/index.ts";
import { LIVE_GATES } from "../../../src/gates/index.ts";
import type { Gateway } from "../../../src/gateway/index.ts";
import type { Simulator } from "../../../src/simulator/index.ts";
import {
  call,
  closeGateways,
  eventsOf,
  expectSafeStore,
  LIVE_ACCOUNT,
  LIVE_SCOPES,
  type LiveOptions,
  limitBuy,
  liveYaml,
  ok,
  operatorContext,
  orderGateway,
  PAPER_ACCOUNT,
  PIN,
  paperYaml,
  previewAndApprove,
  refused,
} from "./harness.ts";
import {
  type Approved,
  approveLive,
  LIVE_BUY,
  liveGateway,
  liveOrder,
  liveSubmitArgs,
  policy,
} from "./live-setup.ts";

afterEach(closeGateways);

interface GateRow {
  readonly name: string;
  readonly live?: LiveOptions;
  readonly patch?: (config: Config) => void;
  readonly arm?: boolean;
  readonly startAt?: number;
  /** Live orders placed (and counted) before the one under test. */
  readonly prior?: number;
  readonly approval?: Record<string, unknown>;
  readonly before?: (t: { gateway: Gateway; sim: Simulator; approved: Approved }) => Promise<void>;
  readonly args?: (approved: Approved, gateway: Gateway) => Promise<Record<string, unknown>>;
  readonly code: string;
  readonly failed: readonly string[];
  readonly reasons: readonly string[];
  /** Orders the row itself places at the broker (besides the prior ones). */
  readonly placed?: number;
}

const GATE_ROWS: readonly GateRow[] = [
  {
    name: "live trading switched off (safety.live_trading_enabled)",
    patch: (c) => {
      c.safety.live_trading_enabled = false;
    },
    code: "LIVE_TRADING_DISABLED",
    // A safety flag changed after arming, so the arming no longer covers the configuration either.
    failed: ["live_enabled", "armed"],
    reasons: ["LIVE_FEATURE_DISABLED", "LIVE_NOT_ARMED_GATE"],
  },
  {
    name: "an account that is not on the live allowlist",
    live: { accounts: ["U0000001"] },
    code: "LIVE_GATE_MISSING",
    failed: ["account_allowlisted"],
    reasons: ["LIVE_ACCOUNT_NOT_ALLOWLISTED"],
  },
  {
    // A checklist withdrawn is a change of the live configuration, so arming no longer covers it either.
    name: "a withdrawn paper-to-live checklist",
    patch: (c) => {
      c.live_trading.paper_to_live_checklist_acknowledged = false;
    },
    code: "LIVE_MIGRATION_REQUIRED",
    failed: ["checklist_acknowledged", "armed"],
    reasons: ["LIVE_MIGRATION_CHECKLIST_MISSING", "LIVE_NOT_ARMED_GATE"],
  },
  {
    name: "audit retention below 2555 days",
    patch: (c) => {
      c.audit.retention_days = 30;
    },
    // Lowered after arming: the retention gate fails, and the arming no longer covers the configuration.
    code: "LIVE_NOT_ARMED",
    failed: ["audit_available", "armed"],
    reasons: ["LIVE_AUDIT_UNAVAILABLE", "LIVE_NOT_ARMED_GATE"],
  },
  {
    name: "a gateway the operator has not armed",
    arm: false,
    code: "LIVE_NOT_ARMED",
    failed: ["armed"],
    reasons: ["LIVE_NOT_ARMED_GATE"],
  },
  {
    // Engaging the switch disarms live trading too.
    name: "an engaged kill switch",
    before: async ({ gateway }) => {
      await ok(gateway, "ibkr_kill_switch_engage", { reason: "stop everything" });
    },
    code: "KILL_SWITCH_ENGAGED",
    failed: ["armed", "kill_switch_released"],
    reasons: ["LIVE_NOT_ARMED_GATE", "LIVE_KILL_SWITCH_ENGAGED"],
  },
  {
    // The approval never outlives its preview, so it has expired too; no preview leaves no limits to check.
    name: "an expired preview",
    before: async ({ sim }) => {
      sim.control.advance(301_000);
    },
    code: "LIVE_GATE_MISSING",
    failed: ["preview_unexpired", "approval_valid", "limit_policy_passed"],
    reasons: ["LIVE_PREVIEW_EXPIRED", "LIVE_APPROVAL_MISSING", "LIVE_RISK_POLICY_REFUSED"],
  },
  {
    name: "no approval",
    args: async (approved) => ({ ...liveSubmitArgs(approved, "live-row"), approval_id: "ap_00000000000000" }),
    code: "LIVE_GATE_MISSING",
    failed: ["approval_valid"],
    reasons: ["LIVE_APPROVAL_MISSING"],
  },
  {
    name: "a consumed approval",
    before: async ({ gateway, approved }) => {
      await ok(gateway, "ibkr_live_order_submit", liveSubmitArgs(approved, "live-first-use"));
    },
    placed: 1,
    code: "APPROVAL_CONSUMED",
    failed: ["approval_valid"],
    reasons: ["LIVE_APPROVAL_MISSING"],
  },
  {
    name: "an expired approval",
    approval: { ttl_seconds: 30 },
    before: async ({ sim }) => {
      sim.control.advance(31_000);
    },
    code: "APPROVAL_EXPIRED",
    failed: ["approval_valid"],
    reasons: ["LIVE_APPROVAL_MISSING"],
  },
  {
    name: "the approval of another preview",
    args: async (approved, gateway) => {
      const other = await ok(gateway, "ibkr_order_preview", limitBuy("265", { account_id: LIVE_ACCOUNT }));
      return { ...liveSubmitArgs(approved, "live-row"), preview_id: other.preview_id };
    },
    code: "APPROVAL_PREVIEW_MISMATCH",
    failed: ["approval_valid"],
    reasons: ["LIVE_APPROVAL_MISSING"],
  },
  {
    name: "a symbol outside the policy's allowlist",
    live: { policy: policy({ allowed_symbols: "[MSFT]" }) },
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_SYMBOL_REFUSED"],
  },
  {
    name: "an asset class outside the policy's allowlist",
    live: { policy: policy({ allowed_asset_classes: "[etf]" }) },
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_ASSET_CLASS_REFUSED"],
  },
  {
    name: "a quantity above the live maximum",
    live: { policy: policy({ max_order_quantity: '"9"' }) },
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_QUANTITY_LIMIT_REFUSED"],
  },
  {
    name: "a value above the live maximum notional",
    live: { policy: policy({ max_order_notional: '"2659.99"' }) },
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_NOTIONAL_LIMIT_REFUSED"],
  },
  {
    name: "a limit outside the price collar",
    live: { policy: policy({ price_collar_bps: "10" }) },
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_PRICE_COLLAR_REFUSED"],
  },
  {
    // Previewed two minutes before after-hours trading ends (20:00 New York), submitted two minutes after:
    // the quote stopped at 20:00.
    name: "a quote older than the policy allows",
    startAt: Date.UTC(2026, 11, 2, 0, 58, 0),
    before: async ({ sim }) => {
      sim.control.advance(240_000);
    },
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_STALE_QUOTE"],
  },
  {
    name: "the frequency window used up",
    live: { policy: policy({ max_orders_per_window: "1", window_seconds: "60" }) },
    prior: 1,
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_FREQUENCY_LIMIT_REFUSED"],
  },
  {
    name: "the trading day's order count used up",
    live: { policy: policy({ max_orders_per_session: "1" }) },
    prior: 1,
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_SESSION_ORDER_LIMIT_REFUSED"],
  },
  {
    name: "the trading day's notional used up",
    live: { policy: policy({ max_session_notional: '"5000"' }) },
    prior: 1,
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_SESSION_NOTIONAL_LIMIT_REFUSED"],
  },
  {
    name: "a disabled limit policy",
    live: { policy: policy({ enabled: "false" }) },
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_LIMIT_POLICY_DISABLED"],
  },
  {
    name: "several limits at once",
    live: { policy: policy({ allowed_symbols: "[MSFT]", max_order_quantity: '"5"' }) },
    code: "LIVE_LIMIT_REFUSED",
    failed: ["limit_policy_passed"],
    reasons: ["LIVE_SYMBOL_REFUSED", "LIVE_QUANTITY_LIMIT_REFUSED"],
  },
  {
    name: "several gates at once",
    live: { accounts: ["U0000001"], policy: policy({ allowed_symbols: "[MSFT]" }) },
    args: async (approved) => ({ ...liveSubmitArgs(approved, "live-row"), approval_id: "ap_00000000000000" }),
    code: "LIVE_GATE_MISSING",
    failed: ["account_allowlisted", "approval_valid", "limit_policy_passed"],
    reasons: [
      "LIVE_ACCOUNT_NOT_ALLOWLISTED",
      "LIVE_APPROVAL_MISSING",
      "LIVE_RISK_POLICY_REFUSED",
      "LIVE_SYMBOL_REFUSED",
    ],
  },
];

const CANCEL_GATES = [
  "live_enabled",
  "account_allowlisted",
  "live_scope_granted",
  "checklist_acknowledged",
  "audit_available",
];

describe("the live gates", () => {
  it.each(GATE_ROWS)("refuse $name with $code and the whole gate report", async (row) => {
    const { gateway, sim } = await liveGateway({
      ...(row.live !== undefined ? { live: row.live } : {}),
      ...(row.patch !== undefined ? { patch: row.patch } : {}),
      ...(row.arm !== undefined ? { arm: row.arm } : {}),
      ...(row.startAt !== undefined ? { startAt: row.startAt } : {}),
    });
    for (let n = 0; n < (row.prior ?? 0); n += 1) await liveOrder(gateway, `live-prior-${n}`);
    const approved = await approveLive(gateway, LIVE_BUY, row.approval ?? {});
    await row.before?.({ gateway, sim, approved });
    const args =
      row.args === undefined ? liveSubmitArgs(approved, "live-row") : await row.args(approved, gateway);
    const ledgerBefore = gateway.store.ledger.totalsForDay(
      gateway.store.hashAccountId(LIVE_ACCOUNT),
      "live",
      "2026-12-01",
    );
    const refusal = await refused(gateway, "ibkr_live_order_submit", args);
    expect(refusal.code).toBe(row.code);
    expect(refusal.details.failed_gates).toEqual(row.failed);
    expect(refusal.details.refusal_reasons).toEqual(row.reasons);
    const report = refusal.details.gates as { gate: string; passed: boolean }[];
    expect(report.map((g) => g.gate)).toEqual([...LIVE_GATES]);
    expect(report.filter((g) => !g.passed).map((g) => g.gate)).toEqual(row.failed);
    expect(sim.control.count("placeOrders")).toBe((row.prior ?? 0) + (row.placed ?? 0));
    expect(
      gateway.store.ledger.totalsForDay(gateway.store.hashAccountId(LIVE_ACCOUNT), "live", "2026-12-01"),
    ).toEqual(ledgerBefore);
    expectSafeStore(gateway);
  });

  it("keep a live tool out of reach without its scope (the dispatcher's scope gate answers first)", async () => {
    const { gateway, sim } = await liveGateway({
      live: { scopes: LIVE_SCOPES.filter((scope) => scope !== "ibkr:orders:live:submit") },
    });
    expect(gateway.tools()).not.toContain("ibkr_live_order_submit");
    const approved = await approveLive(gateway);
    const refusal = await refused(gateway, "ibkr_live_order_submit", liveSubmitArgs(approved, "no-scope-1"));
    expect(refusal).toMatchObject({
      code: "AUTH_MISSING_SCOPE",
      details: { required_scope: "ibkr:orders:live:submit" },
    });
    expect(sim.control.count("placeOrders")).toBe(0);
  });

  it("pass and report every gate on a live submit that goes through", async () => {
    const { gateway, sim } = await liveGateway();
    const approved = await approveLive(gateway);
    const result = await ok(gateway, "ibkr_live_order_submit", liveSubmitArgs(approved, "live-ok-1"));
    expect(result).toMatchObject({
      mode: "live",
      writer: "broker",
      policy_id: "small",
      replayed: false,
      order: { symbol: "AAPL", side: "buy", quantity: "10", limit_price: "266" },
    });
    expect((result.gates as { gate: string; passed: boolean }[]).map((g) => [g.gate, g.passed])).toEqual(
      LIVE_GATES.map((gate) => [gate, true]),
    );
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(eventsOf(gateway, "order_submitted")[0]?.metadata).toMatchObject({
      account_mode: "live",
      notional: "2660",
    });
    expectSafeStore(gateway);
  });
});

describe("live arming", () => {
  it("covers the configuration it was given under: a changed live config disarms, audited", async () => {
    const armed = await liveGateway({ sharedBroker: true });
    const changed = await orderGateway({
      config: liveYaml({ policy: policy({ max_order_quantity: '"50"' }) }),
      home: armed.home,
      sim: armed.sim,
      clock: armed.clock,
    });
    const approved = await approveLive(changed.gateway);
    const refusal = await refused(
      changed.gateway,
      "ibkr_live_order_submit",
      liveSubmitArgs(approved, "changed-1"),
    );
    expect(refusal.code).toBe("LIVE_NOT_ARMED");
    expect(
      (refusal.details.gates as { gate: string; detail?: string }[]).find((g) => g.gate === "armed"),
    ).toEqual({
      gate: "armed",
      passed: false,
      detail: "the live configuration changed since arming; the operator must arm again",
    });
    expect(eventsOf(changed.gateway, "live_disarmed").map((e) => e.metadata.cause)).toEqual([
      "config_changed",
    ]);
    // Disarmed for every gateway on the home, the original configuration included.
    expect(changed.gateway.store.liveArming.get()).toMatchObject({ armed: false, cause: "config_changed" });
    const back = await refused(
      armed.gateway,
      "ibkr_live_order_submit",
      liveSubmitArgs(approved, "changed-2"),
    );
    expect(back.code).toBe("LIVE_NOT_ARMED");
    expect(armed.sim.control.count("placeOrders")).toBe(0);
  });

  it("also covers what bounds live writes outside live_trading: a widened scope set is not armed", async () => {
    const armed = await liveGateway({ sharedBroker: true });
    const widened = await orderGateway({
      config: liveYaml({ scopes: [...LIVE_SCOPES, "ibkr:audit:export"] }),
      home: armed.home,
      sim: armed.sim,
      clock: armed.clock,
    });
    // Both report on the same arming row; only the configuration it was armed under counts as armed.
    expect(await ok(armed.gateway, "ibkr_kill_switch_status", {})).toMatchObject({ live_armed: true });
    expect(await ok(widened.gateway, "ibkr_kill_switch_status", {})).toMatchObject({ live_armed: false });
    expect(widened.gateway.procedures.safety.liveStatus()).toMatchObject({
      armed: true,
      armed_for_current_config: false,
    });
    const approved = await approveLive(widened.gateway);
    const refusal = await refused(
      widened.gateway,
      "ibkr_live_order_submit",
      liveSubmitArgs(approved, "widened-1"),
    );
    expect(refusal.code).toBe("LIVE_NOT_ARMED");
    expect(armed.sim.control.count("placeOrders")).toBe(0);
  });

  it("is only done by the operator at a terminal with the PIN, after the live checklist", async () => {
    const { gateway } = await liveGateway({ arm: false });
    const safety = gateway.procedures.safety;
    expect(() => safety.arm(gateway.context(), { pin: PIN }, "agent tries")).toThrow(
      expect.objectContaining({ code: "APPROVAL_HUMAN_REQUIRED" }),
    );
    expect(() => safety.arm(operatorContext(gateway), { pin: "999999" }, "wrong pin")).toThrow(
      expect.objectContaining({ code: "OPERATOR_PIN_INVALID" }),
    );
    expect(gateway.store.liveArming.get().armed).toBe(false);
    const armed = safety.arm(operatorContext(gateway), { pin: PIN }, "checklist done");
    expect(armed).toMatchObject({ armed: true, risk_policy_id: "small" });
    expect(eventsOf(gateway, "live_armed")[0]?.metadata).toMatchObject({
      operator_verified: true,
      risk_policy_id: "small",
      reason: "checklist done",
    });
    expect(safety.disarm(operatorContext(gateway), "done for today")).toMatchObject({
      armed: false,
      changed: true,
    });
    expect(eventsOf(gateway, "live_disarmed").map((e) => e.metadata.cause)).toEqual(["operator"]);
  });
});

describe("live writers", () => {
  it("local_candidate (the CLI's --live-broker) runs every gate and sends nothing", async () => {
    const { gateway, sim } = await liveGateway();
    const approved = await approveLive(gateway);
    const context = { ...gateway.context(), liveWriter: "local_candidate" as const };
    const result = await ok(
      gateway,
      "ibkr_live_order_submit",
      liveSubmitArgs(approved, "candidate-1"),
      context,
    );
    expect(result).toMatchObject({ writer: "local_candidate", mode: "live", replayed: false });
    expect(String(result.broker_order_id)).toMatch(/^9[0-9]{12}$/);
    expect((result.gates as { passed: boolean }[]).every((g) => g.passed)).toBe(true);
    expect(sim.control.count("placeOrders")).toBe(0);
    expect(sim.state.orders.all()).toEqual([]);
    // A rehearsal counts toward no limit and is not followed by the reconciler.
    const limits = await ok(gateway, "ibkr_limits_status", { account_id: LIVE_ACCOUNT });
    expect(limits.submitted_in_session).toBe(0);
    expect(gateway.store.backlog.list()).toEqual([]);
    // The gates still run for a rehearsal: without arming it is refused like any live write.
    gateway.procedures.safety.disarm(operatorContext(gateway), "rehearsal check");
    const second = await approveLive(gateway, limitBuy("265", { account_id: LIVE_ACCOUNT }));
    const refusal = await refused(
      gateway,
      "ibkr_live_order_submit",
      liveSubmitArgs(second, "candidate-2"),
      context,
    );
    expect(refusal.code).toBe("LIVE_NOT_ARMED");
  });

  it("local_candidate from config rehearses every live write, cancel included", async () => {
    const { gateway, sim } = await liveGateway({ live: { writer: "local_candidate" } });
    const placed = await liveOrder(gateway, "candidate-config");
    expect(placed.writer).toBe("local_candidate");
    const cancel = await ok(gateway, "ibkr_live_order_cancel", {
      account_id: LIVE_ACCOUNT,
      broker_order_id: placed.broker_order_id,
      idempotency_key: "candidate-cancel",
    });
    expect(cancel).toMatchObject({ writer: "local_candidate", status: "cancelled" });
    expect(sim.control.count("placeOrders") + sim.control.count("cancelOrder")).toBe(0);
    // The audit says a rehearsal was recorded, not that the broker took an order.
    const writers = ["order_submitted", "order_cancel_requested"].map((type) =>
      eventsOf(gateway, type).map((event) => event.metadata.writer),
    );
    expect(writers).toEqual([["local_candidate"], ["local_candidate"]]);
  });

  it("settle an uncertain write with the writer that made it, whatever writer the retry names", async () => {
    const { gateway, sim } = await liveGateway();
    const approved = await approveLive(gateway);
    sim.control.loseNextResponse("placeOrders");
    const lost = await refused(gateway, "ibkr_live_order_submit", liveSubmitArgs(approved, "writer-switch"));
    expect(lost.code).toBe("ORDER_OUTCOME_UNCERTAIN");
    // The retry asks for a rehearsal, but the first attempt went to the broker: the real order is found.
    const rehearsal = { ...gateway.context(), liveWriter: "local_candidate" as const };
    const replay = await ok(
      gateway,
      "ibkr_live_order_submit",
      liveSubmitArgs(approved, "writer-switch"),
      rehearsal,
    );
    const [order] = sim.state.orders.all();
    expect(replay).toMatchObject({
      replayed: true,
      writer: "broker",
      broker_order_id: String(order?.orderId),
    });
    expect(await ok(gateway, "ibkr_limits_status", { account_id: LIVE_ACCOUNT })).toMatchObject({
      submitted_in_session: 1,
    });
    expect(gateway.store.backlog.list().map((o) => o.brokerOrderId)).toEqual([String(order?.orderId)]);
    expect(sim.control.count("placeOrders")).toBe(1);
  });

  it("refusing refuses every live write before the pending row", async () => {
    const { gateway, sim } = await liveGateway({ live: { writer: "refusing" } });
    const approved = await approveLive(gateway);
    const refusal = await refused(gateway, "ibkr_live_order_submit", liveSubmitArgs(approved, "refusing-1"));
    expect(refusal).toMatchObject({ code: "LIVE_TRADING_DISABLED", details: { writer: "refusing" } });
    expect(gateway.store.idempotency.listPending()).toEqual([]);
    expect(sim.control.count("placeOrders")).toBe(0);
  });
});

describe("live modify", () => {
  it("needs an approved replacement preview equal to the changed order, with live limits on it", async () => {
    const { gateway, sim } = await liveGateway({ live: { policy: policy({ max_order_quantity: '"12"' }) } });
    const placed = await liveOrder(gateway, "modify-live-base");
    const modify = (approved: Approved, key: string, changes: Record<string, unknown>) =>
      call(gateway, "ibkr_live_order_modify", {
        account_id: LIVE_ACCOUNT,
        broker_order_id: placed.broker_order_id,
        approval_id: approved.approvalId,
        preview_id: approved.previewId,
        idempotency_key: key,
        ...changes,
      });
    // A replacement preview of another order than the change would make.
    const other = await approveLive(gateway, limitBuy("265.5", { account_id: LIVE_ACCOUNT, quantity: "9" }));
    const mismatch = await modify(other, "modify-live-1", { limit_price: "265.5" });
    expect(mismatch).toMatchObject({
      ok: false,
      code: "APPROVAL_PREVIEW_MISMATCH",
      details: { field: "preview_id" },
    });
    // Equal to the change, but above the live quantity limit.
    const big = await approveLive(gateway, limitBuy("266", { account_id: LIVE_ACCOUNT, quantity: "20" }));
    const tooBig = await modify(big, "modify-live-2", { quantity: "20" });
    expect(tooBig).toMatchObject({
      ok: false,
      code: "LIVE_LIMIT_REFUSED",
      details: { refusal_reasons: ["LIVE_QUANTITY_LIMIT_REFUSED"], failed_gates: ["limit_policy_passed"] },
    });
    expect(sim.control.count("modifyOrder")).toBe(0);
    const right = await approveLive(gateway, limitBuy("265.5", { account_id: LIVE_ACCOUNT }));
    const changed = await modify(right, "modify-live-3", { limit_price: "265.5" });
    expect(changed).toMatchObject({
      ok: true,
      result: {
        mode: "live",
        writer: "broker",
        preview_id: right.previewId,
        approval_id: right.approvalId,
        changes: { limit_price: "265.5" },
        order: { quantity: "10", limit_price: "265.5" },
        replayed: false,
      },
    });
    expect(sim.state.orders.get(Number(placed.broker_order_id))?.ticket.price).toBe(265.5);
    expect(gateway.store.approvals.get(right.approvalId)?.status).toBe("consumed");
    // The approval is one-time for a modify too.
    const reuse = await modify(right, "modify-live-4", { limit_price: "265.5" });
    expect(reuse).toMatchObject({ ok: false, code: "APPROVAL_CONSUMED" });
    expect(sim.control.count("modifyOrder")).toBe(1);
    expectSafeStore(gateway);
  });
});

describe("live cancel", () => {
  it("needs no approval and works while the kill switch is engaged", async () => {
    const { gateway, sim } = await liveGateway();
    const placed = await liveOrder(gateway, "cancel-live-base");
    await ok(gateway, "ibkr_kill_switch_engage", { reason: "pull everything" });
    const cancel = await ok(gateway, "ibkr_live_order_cancel", {
      account_id: LIVE_ACCOUNT,
      broker_order_id: placed.broker_order_id,
      idempotency_key: "cancel-live-1",
    });
    expect(cancel).toMatchObject({
      mode: "live",
      writer: "broker",
      broker_order_id: placed.broker_order_id,
      replayed: false,
    });
    expect((cancel.gates as { gate: string }[]).map((g) => g.gate)).toEqual(CANCEL_GATES);
    expect(sim.control.count("cancelOrder")).toBe(1);
    sim.control.advance(1000);
    expect(sim.state.orders.get(Number(placed.broker_order_id))?.status).toBe("Cancelled");
    expect(eventsOf(gateway, "order_cancel_requested")[0]?.metadata).toMatchObject({
      account_mode: "live",
      kill_switch_engaged: true,
    });
  });

  it("still takes the live gates a cancel needs", async () => {
    const { gateway, sim } = await liveGateway({ live: { accounts: ["U0000001"] } });
    const refusal = await refused(gateway, "ibkr_live_order_cancel", {
      account_id: LIVE_ACCOUNT,
      broker_order_id: "12345",
      idempotency_key: "cancel-live-2",
    });
    expect(refusal).toMatchObject({
      code: "LIVE_GATE_MISSING",
      details: { failed_gates: ["account_allowlisted"], refusal_reasons: ["LIVE_ACCOUNT_NOT_ALLOWLISTED"] },
    });
    expect(sim.control.count("cancelOrder")).toBe(0);
  });
});

describe("ibkr_limits_status", () => {
  it("says plainly when no live policy is configured", async () => {
    const { gateway } = await liveGateway({
      patch: (c) => {
        c.live_trading.enabled = false;
      },
      arm: false,
    });
    const status = await ok(gateway, "ibkr_limits_status", { account_id: LIVE_ACCOUNT });
    expect(status).toEqual({
      configured: false,
      message: "No live limit policy is in force: live trading is not enabled on this gateway.",
      account_id: LIVE_ACCOUNT,
      timestamp: "2026-12-01T15:00:00Z",
    });
  });

  it("counts the trading day's live orders and notional, and starts again on the next trading day", async () => {
    const { gateway, sim } = await liveGateway({
      live: {
        policy: policy({
          max_orders_per_window: "5",
          window_seconds: "60",
          max_orders_per_session: "10",
          max_session_notional: '"20000"',
        }),
      },
    });
    await liveOrder(gateway, "limits-1");
    await liveOrder(gateway, "limits-2", limitBuy("265", { account_id: LIVE_ACCOUNT, quantity: "5" }));
    const status = await ok(gateway, "ibkr_limits_status", { account_id: LIVE_ACCOUNT });
    expect(status).toMatchObject({
      configured: true,
      account_id: LIVE_ACCOUNT,
      account_allowlisted: true,
      policy_id: "small",
      trading_day: "2026-12-01",
      window_seconds: 60,
      submitted_in_window: 2,
      submitted_in_session: 2,
      session_notional: { amount: "3985", currency: "USD" },
      remaining_window_orders: 3,
      remaining_session_orders: 8,
      remaining_session_notional: { amount: "16015", currency: "USD" },
    });
    // A minute on, the window is empty again; the day still counts both.
    sim.control.advance(61_000);
    expect(await ok(gateway, "ibkr_limits_status", { account_id: LIVE_ACCOUNT })).toMatchObject({
      submitted_in_window: 0,
      submitted_in_session: 2,
    });
    // Wednesday 10:00 in New York: a new trading day, nothing used yet.
    sim.control.advance(Date.UTC(2026, 11, 2, 15, 0, 0) - sim.control.now());
    expect(await ok(gateway, "ibkr_limits_status", { account_id: LIVE_ACCOUNT })).toMatchObject({
      trading_day: "2026-12-02",
      submitted_in_window: 0,
      submitted_in_session: 0,
      session_notional: { amount: "0", currency: "USD" },
      remaining_session_orders: 10,
      remaining_session_notional: { amount: "20000", currency: "USD" },
    });
  });

  it("leaves out the window when the policy has no frequency limit", async () => {
    const { gateway } = await liveGateway();
    const status = await ok(gateway, "ibkr_limits_status", { account_id: LIVE_ACCOUNT });
    expect(status).not.toHaveProperty("window_seconds");
    expect(status).not.toHaveProperty("submitted_in_window");
    expect(status).toMatchObject({ configured: true, submitted_in_session: 0 });
  });
});

describe("a live tool on a gateway without live trading", () => {
  it("is LIVE_TRADING_DISABLED with the gate report, even with no live policy configured at all", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml({ scopes: LIVE_SCOPES }) });
    const { preview, approval } = await previewAndApprove(gateway, limitBuy("265"));
    const refusal = await refused(gateway, "ibkr_live_order_submit", {
      account_id: PAPER_ACCOUNT,
      approval_id: approval.approval_id,
      preview_id: preview.preview_id,
      idempotency_key: "no-live-config",
    });
    expect(refusal.code).toBe("LIVE_TRADING_DISABLED");
    expect(refusal.details.failed_gates).toEqual([
      "live_enabled",
      "account_allowlisted",
      "checklist_acknowledged",
      "armed",
      "limit_policy_passed",
    ]);
    expect(sim.control.count("placeOrders")).toBe(0);
  });
});
