// The order-read tools through the composed gateway against the in-process simulator: orders are placed with
// the gateway's own CPAPI client and filled through the simulator's control API, then read back as the
// session's orders, as history (session orders plus orders rebuilt from earlier days' executions), one by
// one by broker or client order id, and as executions.
import { describe, expect, it } from "vitest";
import type { OrderRequest } from "../../src/cpapi/client.ts";
import type { Gateway } from "../../src/gateway/index.ts";
import { callOk, testGateway } from "../support/gateway.ts";

const ACCOUNT = "DU1234567";
const SECOND = "DU2345678";
const AAPL = 265598;
const DAY_MS = 86_400_000;

async function place(gateway: Gateway, order: Partial<OrderRequest>, accountId = ACCOUNT): Promise<number> {
  const placed = await gateway.broker.client.orders.submit({
    accountId,
    orders: [{ conid: AAPL, side: "BUY", orderType: "LMT", tif: "DAY", quantity: 10, ...order }],
  });
  return Number(placed.orders[0]?.orderId);
}

/** The code, message and action of a failed call. */
async function failure(gateway: Gateway, tool: string, args: unknown) {
  const outcome = await gateway.dispatch(tool, args);
  if (outcome.ok) throw new Error(`${tool} unexpectedly succeeded`);
  const { code, message, userAction, details } = outcome.error;
  return { code, message, userAction, details };
}

/**
 * One filled and one partly filled AAPL buy on Tuesday 2026-12-01 (AAPL moved to 200 first, so the limits
 * below the market keep working until the control API fills them).
 */
async function twoOrders() {
  const t = await testGateway();
  t.sim.control.setPrice("AAPL", 200);
  const filled = await place(t.gateway, { price: 196, cOID: "agent-filled-1" });
  t.clock.advance(1_000);
  t.sim.control.fill(filled, { price: 195.5 });
  t.clock.advance(60_000);
  const partial = await place(t.gateway, { price: 195, quantity: 20, tif: "GTC", cOID: "agent-partial-1" });
  t.clock.advance(1_000);
  t.sim.control.fill(partial, { quantity: 5, price: 194.9 });
  return { ...t, filled, partial };
}

describe("ibkr_orders_list", () => {
  it("lists the session's orders of the account with fill state, newest first", async () => {
    const { gateway, sim, filled, partial } = await twoOrders();
    const result = await callOk(gateway, "ibkr_orders_list", { account_id: ACCOUNT });
    expect(result).toEqual({
      account_id: ACCOUNT,
      complete: true,
      orders: [
        {
          broker_order_id: String(partial),
          client_order_id: "agent-partial-1",
          account_id: ACCOUNT,
          contract_id: "265598",
          symbol: "AAPL",
          asset_class: "stock",
          side: "buy",
          order_type: "limit",
          time_in_force: "gtc",
          status: "partially_filled",
          quantity: "20",
          filled_quantity: "5",
          remaining_quantity: "15",
          limit_price: "195",
          average_fill_price: "194.9",
          currency: "USD",
          description: "Buy 20 Limit 195.00, GTC",
          detail: "session",
          updated_at: "2026-12-01T15:01:02Z",
        },
        {
          broker_order_id: String(filled),
          client_order_id: "agent-filled-1",
          account_id: ACCOUNT,
          contract_id: "265598",
          symbol: "AAPL",
          asset_class: "stock",
          side: "buy",
          order_type: "limit",
          time_in_force: "day",
          status: "filled",
          quantity: "10",
          filled_quantity: "10",
          remaining_quantity: "0",
          limit_price: "196",
          average_fill_price: "195.5",
          currency: "USD",
          description: "Bought 10 Limit 196.00, Day",
          detail: "session",
          updated_at: "2026-12-01T15:00:01Z",
        },
      ],
      source: { backend: "simulator", simulated: true },
    });
    // The first list of a session is the broker's empty cold read; the client asked a second time.
    expect(sim.control.count("getLiveOrders")).toBe(2);
  });

  it("refuses an account the broker does not list, before asking for orders", async () => {
    const { gateway, sim } = await testGateway();
    const error = await failure(gateway, "ibkr_orders_list", { account_id: "U0000000" });
    expect(error.code).toBe("INPUT_UNAUTHORIZED_ACCOUNT");
    expect(error.userAction).toContain("ibkr_accounts_list");
    expect(sim.control.count("getLiveOrders")).toBe(0);
  });

  it("shows only the requested account's orders in a multi-account login", async () => {
    const { gateway, sim } = await testGateway({ scenario: "multi-account" });
    sim.control.setPrice("AAPL", 200);
    const first = await place(gateway, { price: 196, cOID: "first-account" });
    const second = await place(gateway, { price: 196, cOID: "second-account" }, SECOND);
    const listed = async (accountId: string) => {
      const result = await callOk(gateway, "ibkr_orders_list", { account_id: accountId });
      return (result.orders as { broker_order_id: string; account_id: string }[]).map((o) => [
        o.broker_order_id,
        o.account_id,
      ]);
    };
    expect(await listed(ACCOUNT)).toEqual([[String(first), ACCOUNT]]);
    expect(await listed(SECOND)).toEqual([[String(second), SECOND]]);
  });
});

describe("ibkr_order_status", () => {
  it("finds an order by broker order id and by the client order id it was sent with", async () => {
    const { gateway, partial } = await twoOrders();
    const byBroker = await callOk(gateway, "ibkr_order_status", {
      account_id: ACCOUNT,
      broker_order_id: String(partial),
    });
    expect(byBroker).toMatchObject({
      matched_by: "broker_order_id",
      order: {
        broker_order_id: String(partial),
        status: "partially_filled",
        quantity: "20",
        filled_quantity: "5",
        remaining_quantity: "15",
        average_fill_price: "194.9",
        submitted_at: "2026-12-01T15:01:01Z",
      },
    });
    const byClient = await callOk(gateway, "ibkr_order_status", {
      account_id: ACCOUNT,
      broker_order_id: "agent-partial-1",
    });
    expect(byClient).toMatchObject({
      matched_by: "client_order_id",
      order: { broker_order_id: String(partial), client_order_id: "agent-partial-1", filled_quantity: "5" },
    });
  });

  it("answers ORDER_NOT_FOUND with an action for an id the session does not know", async () => {
    const { gateway, sim } = await twoOrders();
    const error = await failure(gateway, "ibkr_order_status", {
      account_id: ACCOUNT,
      broker_order_id: "1999999999",
    });
    expect(error.code).toBe("ORDER_NOT_FOUND");
    expect(error.userAction).toContain("ibkr_orders_list");
    // The broker id was asked (503), then the client ids of the session's orders.
    expect(sim.control.requests().filter((r) => r.operationId === "getOrderStatus")).toMatchObject([
      { status: 503 },
    ]);
  });

  it("does not show another account's order, even by its broker id", async () => {
    const { gateway, sim } = await testGateway({ scenario: "multi-account" });
    sim.control.setPrice("AAPL", 200);
    const theirs = await place(gateway, { price: 196, cOID: "theirs-1" }, SECOND);
    for (const id of [String(theirs), "theirs-1"]) {
      const error = await failure(gateway, "ibkr_order_status", { account_id: ACCOUNT, broker_order_id: id });
      expect(error.code).toBe("ORDER_NOT_FOUND");
    }
  });
});

describe("ibkr_executions_list", () => {
  it("lists the fills of today, asking again when the broker's first answer is the empty cold read", async () => {
    const { gateway, sim, filled, partial } = await twoOrders();
    const result = await callOk(gateway, "ibkr_executions_list", { account_id: ACCOUNT });
    expect(result).toMatchObject({ account_id: ACCOUNT, days: 1 });
    const executions = result.executions as Record<string, unknown>[];
    expect(
      executions.map((e) => [e.broker_order_id, e.client_order_id, e.side, e.quantity, e.price]),
    ).toEqual([
      [String(partial), "agent-partial-1", "buy", "5", "194.9"],
      [String(filled), "agent-filled-1", "buy", "10", "195.5"],
    ]);
    expect(executions[1]).toMatchObject({
      contract_id: "265598",
      symbol: "AAPL",
      commission: "1",
      net_amount: "1955",
      executed_at: "2026-12-01T15:00:01Z",
    });
    expect(sim.control.count("getTrades")).toBe(2);
  });

  it("reads the requested account's fills in a multi-account login by selecting it first", async () => {
    const { gateway, sim, clock } = await testGateway({ scenario: "multi-account" });
    sim.control.setPrice("AAPL", 200);
    const mine = await place(gateway, { price: 196 });
    const theirs = await place(gateway, { price: 196 }, SECOND);
    clock.advance(1_000);
    sim.control.fill(mine, { price: 195 });
    sim.control.fill(theirs, { price: 195.25 });
    const fillsOf = async (accountId: string) => {
      const result = await callOk(gateway, "ibkr_executions_list", { account_id: accountId });
      return (result.executions as { broker_order_id: string; price: string }[]).map((e) => [
        e.broker_order_id,
        e.price,
      ]);
    };
    expect(await fillsOf(SECOND)).toEqual([[String(theirs), "195.25"]]);
    expect(await fillsOf(ACCOUNT)).toEqual([[String(mine), "195"]]);
    expect(sim.control.count("switchAccount")).toBe(2);
  });
});

describe("ibkr_orders_history", () => {
  /** A filled order yesterday (an earlier brokerage session) and a working one today. */
  async function twoDays() {
    const t = await testGateway();
    t.sim.control.setPrice("AAPL", 200);
    const yesterday = await place(t.gateway, { price: 196, quantity: 10, cOID: "yesterday-1" });
    t.clock.advance(1_000);
    t.sim.control.fill(yesterday, { quantity: 4, price: 195 });
    t.clock.advance(1_000);
    t.sim.control.fill(yesterday, { price: 196 });
    // Wednesday at the same time: the idle SSO session ended overnight and a person logs in again.
    t.clock.advance(DAY_MS);
    t.sim.control.login();
    t.sim.control.setPrice("AAPL", 200);
    const today = await place(t.gateway, { price: 194, quantity: 3, cOID: "today-1" });
    return { ...t, yesterday, today };
  }

  it("merges today's session orders with orders rebuilt from earlier days' executions", async () => {
    const { gateway, yesterday, today } = await twoDays();
    const result = await callOk(gateway, "ibkr_orders_history", { account_id: ACCOUNT });
    expect(result).toMatchObject({
      account_id: ACCOUNT,
      from: "2026-11-25T15:00:02Z",
      to: "2026-12-02T15:00:02Z",
      truncated: false,
    });
    expect(result.orders).toEqual([
      expect.objectContaining({
        broker_order_id: String(today),
        client_order_id: "today-1",
        status: "open",
        quantity: "3",
        filled_quantity: "0",
        detail: "session",
      }),
      {
        broker_order_id: String(yesterday),
        client_order_id: "yesterday-1",
        account_id: ACCOUNT,
        contract_id: "265598",
        symbol: "AAPL",
        asset_class: "stock",
        side: "buy",
        status: "filled",
        filled_quantity: "10",
        // (4 x 195 + 6 x 196) / 10
        average_fill_price: "195.6",
        detail: "fills_only",
        submitted_at: "2026-12-01T15:00:01Z",
        updated_at: "2026-12-01T15:00:02Z",
      },
    ]);
  });

  it("filters by status and by time, and says when the limit cut the list", async () => {
    const { gateway, yesterday, today } = await twoDays();
    const ids = async (args: Record<string, unknown>) => {
      const result = await callOk(gateway, "ibkr_orders_history", { account_id: ACCOUNT, ...args });
      return [
        (result.orders as { broker_order_id: string }[]).map((o) => o.broker_order_id),
        result.truncated,
      ];
    };
    expect(await ids({ status: "filled" })).toEqual([[String(yesterday)], false]);
    expect(await ids({ status: "cancelled" })).toEqual([[], false]);
    expect(await ids({ from: "2026-12-02T00:00:00Z" })).toEqual([[String(today)], false]);
    expect(await ids({ from: "2026-11-30T00:00:00Z", to: "2026-12-01T23:59:59Z" })).toEqual([
      [String(yesterday)],
      false,
    ]);
    expect(await ids({ limit: 1 })).toEqual([[String(today)], true]);
  });

  it("no longer finds yesterday's order by id, and executions reach it only with days 2", async () => {
    const { gateway, yesterday } = await twoDays();
    const error = await failure(gateway, "ibkr_order_status", {
      account_id: ACCOUNT,
      broker_order_id: String(yesterday),
    });
    expect(error.code).toBe("ORDER_NOT_FOUND");
    const today = await callOk(gateway, "ibkr_executions_list", { account_id: ACCOUNT });
    expect(today.executions).toEqual([]);
    const twoDaysBack = await callOk(gateway, "ibkr_executions_list", { account_id: ACCOUNT, days: 2 });
    expect((twoDaysBack.executions as { quantity: string }[]).map((e) => e.quantity)).toEqual(["6", "4"]);
  });

  it("refuses ranges the broker cannot answer with INPUT_INVALID_TIME_RANGE, before any broker call", async () => {
    const { gateway, sim } = await testGateway();
    const before = sim.control.requests().length;
    const refused = async (args: Record<string, unknown>) => {
      const error = await failure(gateway, "ibkr_orders_history", { account_id: ACCOUNT, ...args });
      return [error.code, error.details?.field, error.details?.reason];
    };
    // Now is 2026-12-01T15:00:00Z.
    expect(await refused({ from: "2026-11-24T14:59:59Z" })).toEqual([
      "INPUT_INVALID_TIME_RANGE",
      "from",
      "from_too_early",
    ]);
    expect(await refused({ from: "2026-12-01T12:00:00Z", to: "2026-12-01T11:00:00Z" })).toEqual([
      "INPUT_INVALID_TIME_RANGE",
      "from",
      "from_after_to",
    ]);
    expect(await refused({ to: "2026-12-01T15:01:01Z" })).toEqual([
      "INPUT_INVALID_TIME_RANGE",
      "to",
      "to_in_future",
    ]);
    expect(sim.control.requests().length).toBe(before);
    // The bounds themselves are fine: exactly 7 days back, and a to a few seconds ahead of this clock.
    const edge = await callOk(gateway, "ibkr_orders_history", {
      account_id: ACCOUNT,
      from: "2026-11-24T15:00:00Z",
      to: "2026-12-01T15:00:30Z",
    });
    expect(edge).toMatchObject({ from: "2026-11-24T15:00:00Z", to: "2026-12-01T15:00:00Z", orders: [] });
  });

  it("rejects a limit outside 1-500 as an invalid argument", async () => {
    const { gateway } = await testGateway();
    for (const limit of [0, 501]) {
      const error = await failure(gateway, "ibkr_orders_history", { account_id: ACCOUNT, limit });
      expect(error.code).toBe("INPUT_INVALID_ARGUMENT");
    }
  });
});
