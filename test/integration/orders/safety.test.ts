// The persisted kill switch: engaged by an agent through ibkr_kill_switch_engage (a second engage keeps the
// first reason), kept across a restart on the same $IBKR_AGENT_HOME, effective at once for another gateway
// on that home, disarming live trading, and released only by the operator at a terminal with the PIN.
import { afterEach, describe, expect, it } from "vitest";
import {
  closeGateways,
  eventsOf,
  expectSafeStore,
  LIVE_ACCOUNT,
  limitBuy,
  ok,
  operatorContext,
  orderGateway,
  PIN,
  PIN_HASH,
  paperYaml,
  previewAndApprove,
  refused,
  submitArgs,
} from "./harness.ts";
import { approveLive, liveGateway, liveSubmitArgs } from "./live-setup.ts";

afterEach(closeGateways);

const PAPER_WITH_PIN = paperYaml({ extra: `operator:\n  pin_hash: "${PIN_HASH}"\n` });

describe("ibkr_kill_switch_engage", () => {
  it("engages once; a second engage reports already_engaged and keeps the first reason", async () => {
    const { gateway } = await orderGateway({ config: PAPER_WITH_PIN });
    expect(await ok(gateway, "ibkr_kill_switch_status", {})).toEqual({
      state: "released",
      live_armed: false,
    });
    const first = await ok(gateway, "ibkr_kill_switch_engage", { reason: "first reason" });
    expect(first).toMatchObject({
      state: "engaged",
      live_armed: false,
      already_engaged: false,
      changed_by: gateway.principal,
      reason: "first reason",
      changed_at: "2026-12-01T15:00:00Z",
    });
    const second = await ok(gateway, "ibkr_kill_switch_engage", { reason: "second reason" });
    expect(second).toMatchObject({ state: "engaged", already_engaged: true, reason: "first reason" });
    expect(await ok(gateway, "ibkr_kill_switch_status", {})).toMatchObject({
      state: "engaged",
      reason: "first reason",
      changed_at: "2026-12-01T15:00:00Z",
    });
    expect(
      eventsOf(gateway, "kill_switch_engaged").map((e) => [e.metadata.already_engaged, e.metadata.reason]),
    ).toEqual([
      [false, "first reason"],
      [true, "second reason"],
    ]);
    expectSafeStore(gateway);
  });

  it("stays engaged across a restart on the same home", async () => {
    const first = await orderGateway({ config: PAPER_WITH_PIN, sharedBroker: true });
    const { approval } = await previewAndApprove(first.gateway, limitBuy("265"));
    await ok(first.gateway, "ibkr_kill_switch_engage", { reason: "before restart" });
    await first.gateway.close();
    const restarted = await orderGateway({
      config: PAPER_WITH_PIN,
      home: first.home,
      sim: first.sim,
      clock: first.clock,
    });
    expect(await ok(restarted.gateway, "ibkr_kill_switch_status", {})).toMatchObject({
      state: "engaged",
      reason: "before restart",
    });
    const refusal = await refused(
      restarted.gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "after-restart"),
    );
    expect(refusal.code).toBe("KILL_SWITCH_ENGAGED");
    expect(first.sim.control.count("placeOrders")).toBe(0);
  });

  it("takes effect at once for another gateway already running on the same home", async () => {
    const running = await orderGateway({ config: PAPER_WITH_PIN, sharedBroker: true });
    const other = await orderGateway({
      config: PAPER_WITH_PIN,
      home: running.home,
      sim: running.sim,
      clock: running.clock,
    });
    const { approval } = await previewAndApprove(running.gateway, limitBuy("265"));
    await ok(other.gateway, "ibkr_kill_switch_engage", { reason: "from the other process" });
    const refusal = await refused(
      running.gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "other-instance"),
    );
    expect(refusal).toMatchObject({
      code: "KILL_SWITCH_ENGAGED",
      details: { reason: "from the other process" },
    });
    expect(running.sim.control.count("placeOrders")).toBe(0);
  });

  it("disarms live trading, audited", async () => {
    const { gateway, sim } = await liveGateway();
    expect(await ok(gateway, "ibkr_kill_switch_status", {})).toMatchObject({ live_armed: true });
    const engaged = await ok(gateway, "ibkr_kill_switch_engage", { reason: "limits look wrong" });
    expect(engaged).toMatchObject({ live_armed: false });
    expect(gateway.store.liveArming.get()).toMatchObject({ armed: false, cause: "kill_switch" });
    expect(eventsOf(gateway, "live_disarmed")[0]?.metadata).toMatchObject({
      cause: "kill_switch",
      reason: "limits look wrong",
    });
    const approved = await approveLive(gateway);
    const refusal = await refused(
      gateway,
      "ibkr_live_order_submit",
      liveSubmitArgs(approved, "after-engage"),
    );
    expect(refusal.code).toBe("KILL_SWITCH_ENGAGED");
    expect(sim.control.count("placeOrders")).toBe(0);
    expect(gateway.store.hashAccountId(LIVE_ACCOUNT)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("releasing the kill switch", () => {
  it("is for the operator at an interactive terminal with the PIN only; live trading stays disarmed", async () => {
    const { gateway, sim } = await liveGateway();
    await ok(gateway, "ibkr_kill_switch_engage", { reason: "pause" });
    const safety = gateway.procedures.safety;
    for (const context of [gateway.context(), operatorContext(gateway, false)]) {
      expect(() => safety.release(context, { pin: PIN }, "agent wants to trade")).toThrow(
        expect.objectContaining({ code: "APPROVAL_HUMAN_REQUIRED" }),
      );
    }
    expect(() => safety.release(operatorContext(gateway), { pin: "111111" }, "wrong pin")).toThrow(
      expect.objectContaining({ code: "OPERATOR_PIN_INVALID" }),
    );
    expect(gateway.store.killSwitch.get().engaged).toBe(true);
    const released = safety.release(operatorContext(gateway), { pin: PIN }, "checked, all fine");
    expect(released).toMatchObject({ state: "released", live_armed: false });
    expect(eventsOf(gateway, "kill_switch_released")[0]?.metadata).toMatchObject({
      operator_verified: true,
      reason: "checked, all fine",
    });
    expect(() => safety.release(operatorContext(gateway), { pin: PIN }, "again")).toThrow(
      expect.objectContaining({ code: "INPUT_INVALID_ARGUMENT" }),
    );
    // Released but not armed: live orders wait for the operator to arm again.
    const approved = await approveLive(gateway);
    expect(
      (await refused(gateway, "ibkr_live_order_submit", liveSubmitArgs(approved, "released-1"))).code,
    ).toBe("LIVE_NOT_ARMED");
    safety.arm(operatorContext(gateway), { pin: PIN }, "back to work");
    await ok(gateway, "ibkr_live_order_submit", liveSubmitArgs(approved, "released-2"));
    expect(sim.control.count("placeOrders")).toBe(1);
    expectSafeStore(gateway);
  });

  it("engaging with --cancel-open is the operator's too, and cancels every working order", async () => {
    const { gateway, sim } = await orderGateway({ config: PAPER_WITH_PIN });
    const { approval } = await previewAndApprove(gateway, limitBuy("264"));
    await ok(gateway, "ibkr_paper_order_submit", submitArgs(approval.approval_id, "to-be-pulled"));
    const safety = gateway.procedures.safety;
    const agent = {
      ...gateway.context(),
      tool: "ibkr_kill_switch_engage" as const,
      noteBrokerRequest: () => undefined,
    };
    await expect(safety.engageAndCancelOpen(agent, { pin: PIN }, "agent")).rejects.toMatchObject({
      code: "APPROVAL_HUMAN_REQUIRED",
    });
    const operator = {
      ...operatorContext(gateway),
      tool: "ibkr_kill_switch_engage" as const,
      noteBrokerRequest: () => undefined,
    };
    const result = await safety.engageAndCancelOpen(operator, { pin: PIN }, "panic");
    expect(result).toMatchObject({ state: "engaged", failed: [] });
    expect(result.cancelled).toHaveLength(1);
    sim.control.advance(1000);
    expect(sim.state.orders.all().map((o) => o.status)).toEqual(["Cancelled"]);
  });
});
