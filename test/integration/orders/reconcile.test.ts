// Reconciliation: the reconciler follows every order the gateway placed until it ends - a fill, a cancel,
// and a GTC order across a brokerage session reset - writing order_lifecycle_changed for each change and
// dropping finished orders from the backlog.
import { afterEach, describe, expect, it } from "vitest";
import type { Gateway } from "../../../src/gateway/index.ts";
import {
  closeGateways,
  eventsOf,
  expectSafeStore,
  limitBuy,
  ok,
  orderGateway,
  PAPER_ACCOUNT,
  paperYaml,
  previewAndApprove,
} from "./harness.ts";

afterEach(closeGateways);

function reconcile(gateway: Gateway) {
  return gateway.procedures.reconciler.once({
    kind: "system",
    context: { ...gateway.store.systemContext(), principal: "system:reconciler" },
  });
}

async function place(gateway: Gateway, order: Record<string, unknown>, key: string) {
  const { approval } = await previewAndApprove(gateway, order);
  return ok(gateway, "ibkr_paper_order_submit", {
    account_id: PAPER_ACCOUNT,
    approval_id: approval.approval_id,
    idempotency_key: key,
  });
}

describe("the reconciler", () => {
  it("audits fills and cancels, drops finished orders, and follows a GTC order across a session reset", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const filled = await place(gateway, limitBuy("264"), "recon-filled");
    const cancelled = await place(gateway, limitBuy("263"), "recon-cancelled");
    const gtc = await place(gateway, limitBuy("262", { time_in_force: "gtc" }), "recon-gtc");
    expect(gateway.store.backlog.list().map((o) => o.brokerOrderId)).toEqual(
      [filled, cancelled, gtc].map((r) => r.broker_order_id),
    );
    const quiet = await reconcile(gateway);
    expect(quiet).toMatchObject({ ran: true, checked: 3, changes: [], unresolved: [], backlog: 3 });

    sim.control.fill(Number(filled.broker_order_id));
    await ok(gateway, "ibkr_paper_order_cancel", {
      account_id: PAPER_ACCOUNT,
      broker_order_id: cancelled.broker_order_id,
      idempotency_key: "recon-cancel-1",
    });
    sim.control.advance(1000);
    const first = await reconcile(gateway);
    expect(first.changes).toEqual([
      {
        broker_order_id: filled.broker_order_id,
        mode: "paper",
        previous_status: "open",
        current_status: "filled",
        terminal: true,
      },
      {
        broker_order_id: cancelled.broker_order_id,
        mode: "paper",
        previous_status: "open",
        current_status: "cancelled",
        terminal: true,
      },
    ]);
    expect(first.backlog).toBe(1);
    const [fill, cancel] = eventsOf(gateway, "order_lifecycle_changed");
    expect(fill).toMatchObject({
      front_door: "system",
      account_id_hash: gateway.store.hashAccountId(PAPER_ACCOUNT),
      metadata: {
        account_mode: "paper",
        broker_order_id: filled.broker_order_id,
        client_order_id: filled.client_order_id,
        previous_status: "open",
        current_status: "filled",
        terminal: true,
        filled_quantity: "10",
        source: "reconciler",
      },
    });
    expect(cancel?.metadata).toMatchObject({
      broker_order_id: cancelled.broker_order_id,
      current_status: "cancelled",
    });
    // Nothing changed since: the next pass writes nothing.
    const before = eventsOf(gateway, "order_lifecycle_changed").length;
    expect((await reconcile(gateway)).changes).toEqual([]);
    expect(eventsOf(gateway, "order_lifecycle_changed")).toHaveLength(before);

    // The nightly reset: a new brokerage session, where the old session's order status no longer answers.
    sim.control.dropBrokerage();
    sim.control.login();
    sim.control.advance(60_000);
    const after = await reconcile(gateway);
    expect(after.unresolved).toEqual([]);
    expect(after.backlog).toBe(1);
    sim.control.fill(Number(gtc.broker_order_id));
    const last = await reconcile(gateway);
    expect(last.changes).toEqual([
      {
        broker_order_id: gtc.broker_order_id,
        mode: "paper",
        previous_status: "open",
        current_status: "filled",
        terminal: true,
      },
    ]);
    expect(last.backlog).toBe(0);
    expect(gateway.store.backlog.list()).toEqual([]);
    expectSafeStore(gateway);
  });
});
