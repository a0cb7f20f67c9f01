// Durable idempotency around the order writer, through gateway.dispatch: replay and conflict, concurrency
// (one key from fifty callers, two keys on one approval), a refused broker answer, a write that never
// reached the broker, and uncertain outcomes (a lost answer, an order that never arrived) settled by
// recovery and the reconciler - always exactly one order at the simulated broker.
import { afterEach, describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/core/gateway-error.ts";
import type { Gateway } from "../../../src/gateway/index.ts";
import type { OrderWriter } from "../../../src/workflows/index.ts";
import { brokerWriter } from "../../../src/workflows/index.ts";
import {
  call,
  closeGateways,
  eventsOf,
  eventTypes,
  expectSafeStore,
  lastSequence,
  limitBuy,
  ok,
  orderGateway,
  paperYaml,
  previewAndApprove,
  refused,
  submitArgs,
} from "./harness.ts";

afterEach(closeGateways);

function reconcilerOrigin(gateway: Gateway) {
  return {
    kind: "system" as const,
    context: { ...gateway.store.systemContext(), principal: "system:reconciler" },
  };
}

describe("the same key", () => {
  it("with the same request replays the first result: replayed true, nothing sent again, audited", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    const first = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "replay-key-1"),
    );
    const before = lastSequence(gateway);
    const again = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "replay-key-1"),
    );
    const { replayed: firstReplayed, ...firstRest } = first;
    const { replayed: againReplayed, ...againRest } = again;
    expect([firstReplayed, againReplayed]).toEqual([false, true]);
    expect(againRest).toEqual(firstRest);
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(sim.state.orders.all()).toHaveLength(1);
    expect(eventTypes(gateway, before)).toEqual(["idempotency_replayed"]);
    expect(eventsOf(gateway, "idempotency_replayed")[0]?.metadata).toMatchObject({
      operation: "submit",
      stored_status: "submitted",
      idempotency_key_hash: eventsOf(gateway, "order_submitted")[0]?.metadata.idempotency_key_hash,
    });
    // The replay still answers after the approval was consumed; another request under the key does not.
    const other = await previewAndApprove(gateway, limitBuy("264"));
    const conflict = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(other.approval.approval_id, "replay-key-1"),
    );
    expect(conflict).toMatchObject({ code: "IDEMPOTENCY_CONFLICT", details: { field: "idempotency_key" } });
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(gateway.store.approvals.get(String(other.approval.approval_id))?.status).toBe("active");
    expectSafeStore(gateway);
  });

  it("is scoped to its caller: another principal's identical key is its own write", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const first = await previewAndApprove(gateway, limitBuy("265"));
    const second = await previewAndApprove(gateway, limitBuy("264"));
    await ok(gateway, "ibkr_paper_order_submit", submitArgs(first.approval.approval_id, "shared-key-1"));
    const other = gateway.context({ principal: "local:someone-else" });
    const theirs = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(second.approval.approval_id, "shared-key-1"),
      other,
    );
    expect(theirs.replayed).toBe(false);
    expect(sim.control.count("placeOrders")).toBe(2);
  });

  it("from fifty concurrent submits places exactly one broker order", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () =>
        call(gateway, "ibkr_paper_order_submit", submitArgs(approval.approval_id, "fifty-callers")),
      ),
    );
    const succeeded = outcomes.filter((o) => o.ok);
    const codes = new Set(outcomes.filter((o) => !o.ok).map((o) => (o.ok ? "" : o.code)));
    expect([...codes].filter((code) => code !== "IDEMPOTENCY_IN_PROGRESS")).toEqual([]);
    expect(succeeded.filter((o) => o.ok && o.result.replayed === false)).toHaveLength(1);
    expect(new Set(succeeded.map((o) => (o.ok ? o.result.broker_order_id : "")))).toHaveProperty("size", 1);
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(sim.state.orders.all()).toHaveLength(1);
    expect(eventsOf(gateway, "order_submitted")).toHaveLength(1);
    expectSafeStore(gateway);
  });
});

describe("one approval", () => {
  it("under two keys at once places one order; the other key is APPROVAL_CONSUMED", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    const [a, b] = await Promise.all([
      call(gateway, "ibkr_paper_order_submit", submitArgs(approval.approval_id, "two-keys-a")),
      call(gateway, "ibkr_paper_order_submit", submitArgs(approval.approval_id, "two-keys-b")),
    ]);
    const results = [a, b].map((o) => (o.ok ? "ok" : o.code)).sort();
    expect(results).toEqual(["APPROVAL_CONSUMED", "ok"]);
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(sim.state.orders.all()).toHaveLength(1);
  });
});

describe("a refused broker answer", () => {
  it("is stored and replayed as the same refusal, with nothing sent again", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    // o2137 (cross side) is a refuse-policy question: the gateway answers no and the broker drops the order.
    sim.control.queueQuestions(["o2137"]);
    const first = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "refused-key"),
    );
    expect(first.code).toBe("BROKER_QUESTION_UNAPPROVED");
    const sent = sim.control.count("placeOrders") + sim.control.count("replyToQuestion");
    const again = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "refused-key"),
    );
    expect(again).toMatchObject({ code: "BROKER_QUESTION_UNAPPROVED", details: { idempotent_replay: true } });
    expect(sim.control.count("placeOrders") + sim.control.count("replyToQuestion")).toBe(sent);
    expect(sim.state.orders.all().filter((o) => o.status !== "Cancelled")).toEqual([]);
    const [failed] = eventsOf(gateway, "order_submitted");
    expect(failed).toMatchObject({ result_status: "failed", error_code: "BROKER_QUESTION_UNAPPROVED" });
    // The approval can never pass that question: it is retired, so a person may approve the preview again.
    expect(gateway.store.approvals.get(String(approval.approval_id))?.status).toBe("revoked");
    expectSafeStore(gateway);
  });
});

describe("a write that never reached the broker", () => {
  it("may be retried with the same key and then places exactly one order", async () => {
    let down = false;
    const holder: { gateway?: Gateway } = {};
    const { gateway, sim } = await orderGateway({
      config: paperYaml(),
      writers: {
        // The CPAPI writer, with the simulated gateway taken down just before the order POST.
        paper: {
          kind: "broker",
          place(request) {
            const g = holder.gateway as Gateway;
            if (down) sim.control.setGatewayDown(true);
            return brokerWriter(g.broker.client, g.broker.client.transport).place(request);
          },
          modify: () => Promise.reject(new Error("unused")),
          cancel: () => Promise.reject(new Error("unused")),
          find: (accountId, ids) => {
            const g = holder.gateway as Gateway;
            return brokerWriter(g.broker.client, g.broker.client.transport).find(accountId, ids);
          },
        },
      },
    });
    holder.gateway = gateway;
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    down = true;
    const first = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "not-sent-key"),
    );
    expect(first.code).toBe("BROKER_BACKEND_UNAVAILABLE");
    expect(sim.state.orders.all()).toEqual([]);
    down = false;
    sim.control.setGatewayDown(false);
    const retried = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "not-sent-key"),
    );
    expect(retried.replayed).toBe(false);
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(sim.state.orders.all()).toHaveLength(1);
  });
});

describe("an uncertain outcome", () => {
  it("(a lost answer) stays pending, is found at the broker by the reconciler, then replays", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    sim.control.loseNextResponse("placeOrders");
    const lost = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "lost-answer"),
    );
    expect(lost.code).toBe("ORDER_OUTCOME_UNCERTAIN");
    const [uncertain] = eventsOf(gateway, "order_outcome_uncertain");
    expect(uncertain).toMatchObject({
      result_status: "uncertain",
      error_code: "ORDER_OUTCOME_UNCERTAIN",
      metadata: { operation: "submit", account_mode: "paper", idempotency_status: "pending_writer" },
    });
    const [pending] = gateway.store.idempotency.listPending();
    expect(pending).toMatchObject({ status: "pending_writer", operation: "paper.submit" });
    // The order really is at the broker; the approval stays active until the write is settled.
    expect(sim.state.orders.all()).toHaveLength(1);
    expect(gateway.store.approvals.get(String(approval.approval_id))?.status).toBe("active");

    const report = await gateway.procedures.reconciler.once(reconcilerOrigin(gateway));
    const orderId = String(sim.state.orders.all()[0]?.orderId);
    expect(report.recovery).toEqual([
      {
        idempotency_key_hash: pending?.keyHash,
        operation: "paper.submit",
        mode: "paper",
        outcome: "found_at_broker",
        broker_order_ids: [orderId],
      },
    ]);
    expect(eventsOf(gateway, "order_outcome_resolved")[0]).toMatchObject({
      result_status: "completed",
      metadata: {
        resolution: "found_at_broker",
        broker_order_ids: [orderId],
        idempotency_status: "submitted",
      },
    });
    expect(gateway.store.approvals.get(String(approval.approval_id))?.status).toBe("consumed");
    const replay = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "lost-answer"),
    );
    expect(replay).toMatchObject({ replayed: true, broker_order_id: orderId });
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(sim.state.orders.all()).toHaveLength(1);
    expectSafeStore(gateway);
  });

  it("(a lost answer) is settled by the same key's next call, which then replays", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    sim.control.loseNextResponse("placeOrders");
    expect(
      (await refused(gateway, "ibkr_paper_order_submit", submitArgs(approval.approval_id, "lost-again")))
        .code,
    ).toBe("ORDER_OUTCOME_UNCERTAIN");
    const replay = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "lost-again"),
    );
    expect(replay).toMatchObject({ replayed: true, status: "open" });
    expect(eventTypes(gateway).slice(-4)).toEqual([
      "approval_consumed",
      "order_submitted",
      "order_outcome_resolved",
      "idempotency_replayed",
    ]);
    expect(sim.control.count("placeOrders")).toBe(1);
  });

  it("(a lost answer, then a fill and the nightly reset) is still found, by the fill's executions", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    sim.control.loseNextResponse("placeOrders");
    await refused(gateway, "ibkr_paper_order_submit", submitArgs(approval.approval_id, "lost-then-reset"));
    const [order] = sim.state.orders.all();
    sim.control.fill(Number(order?.orderId));
    // A new brokerage session: the filled order leaves the session's list, and the first read of the
    // executions comes back empty (cold) - neither may count as "not at the broker".
    sim.control.dropBrokerage();
    sim.control.login();
    const report = await gateway.procedures.reconciler.once(reconcilerOrigin(gateway));
    expect(report.recovery.map((r) => [r.outcome, r.broker_order_ids])).toEqual([
      ["found_at_broker", [String(order?.orderId)]],
    ]);
    const replay = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "lost-then-reset"),
    );
    expect(replay).toMatchObject({ replayed: true, broker_order_id: String(order?.orderId) });
    expect(sim.control.count("placeOrders")).toBe(1);
  });

  it("(an order that never arrived) is not found at the broker; the same key then places exactly one", async () => {
    let lose = true;
    const holder: { gateway?: Gateway } = {};
    const real = (): OrderWriter => {
      const g = holder.gateway as Gateway;
      return brokerWriter(g.broker.client, g.broker.client.transport);
    };
    const { gateway, sim } = await orderGateway({
      config: paperYaml(),
      writers: {
        // The request is lost on its way: the broker never sees it, the gateway cannot know.
        paper: {
          kind: "broker",
          place: async (request) => {
            if (!lose) return real().place(request);
            lose = false;
            throw new GatewayError("ORDER_OUTCOME_UNCERTAIN", { details: { failure: "timeout" } });
          },
          modify: (request) => real().modify(request),
          cancel: (request) => real().cancel(request),
          find: (accountId, ids) => real().find(accountId, ids),
        },
      },
    });
    holder.gateway = gateway;
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    expect(
      (await refused(gateway, "ibkr_paper_order_submit", submitArgs(approval.approval_id, "never-arrived")))
        .code,
    ).toBe("ORDER_OUTCOME_UNCERTAIN");
    const report = await gateway.procedures.reconciler.once(reconcilerOrigin(gateway));
    expect(report.recovery.map((r) => [r.operation, r.outcome, r.broker_order_ids])).toEqual([
      ["paper.submit", "not_found_at_broker", []],
    ]);
    expect(eventsOf(gateway, "order_outcome_resolved")[0]).toMatchObject({
      result_status: "failed",
      error_code: "ORDER_OUTCOME_UNCERTAIN",
      metadata: { resolution: "not_found_at_broker", idempotency_status: "failed_after_writer" },
    });
    expect(gateway.store.approvals.get(String(approval.approval_id))?.status).toBe("active");
    const placed = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "never-arrived"),
    );
    expect(placed.replayed).toBe(false);
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(sim.state.orders.all()).toHaveLength(1);
    expect(gateway.store.idempotency.listPending()).toEqual([]);
    expectSafeStore(gateway);
  });
});
