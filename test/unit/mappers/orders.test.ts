import { describe, expect, it } from "vitest";
import {
  mapExecutionsList,
  mapOrderStatusByBrokerId,
  mapOrderStatusByClientId,
  mapOrdersHistory,
  mapOrdersList,
  normaliseOrderStatus,
  normaliseOrderType,
  normaliseTimeInForce,
} from "../../../src/cpapi/mappers/index.ts";
import { clone, expectGatewayError, expectValid, fixture } from "./helpers.ts";

const ACCOUNT = { accountId: "DU1234567" };

const SPY_SELL = {
  broker_order_id: "1370093240",
  client_order_id: "iag-0002-spy-sell",
  account_id: "DU1234567",
  contract_id: "756733",
  symbol: "SPY",
  asset_class: "stock",
  side: "sell",
  order_type: "market",
  time_in_force: "day",
  status: "filled",
  quantity: "5",
  filled_quantity: "5",
  remaining_quantity: "0",
  average_fill_price: "680.71",
  currency: "USD",
  description: "Sold 5 Market, Day",
  detail: "session",
  updated_at: "2025-12-16T19:33:40Z",
};
const AAPL_BUY = {
  broker_order_id: "1370093239",
  client_order_id: "iag-0001-aapl-buy",
  account_id: "DU1234567",
  contract_id: "265598",
  symbol: "AAPL",
  asset_class: "stock",
  side: "buy",
  order_type: "limit",
  time_in_force: "day",
  status: "open",
  quantity: "10",
  filled_quantity: "0",
  remaining_quantity: "10",
  limit_price: "270",
  currency: "USD",
  description: "Buy 10 Limit 270.00, Day",
  detail: "session",
  updated_at: "2025-12-16T19:31:02Z",
};

describe("order vocabulary", () => {
  it.each([
    ["Inactive", undefined, "inactive"],
    ["PendingSubmit", undefined, "pending_submit"],
    ["PreSubmitted", "0", "open"],
    ["pre_submitted", undefined, "open"],
    ["Submitted", "3", "partially_filled"],
    ["Filled", "10", "filled"],
    ["PendingCancel", undefined, "pending_cancel"],
    ["Pending Cancel", undefined, "pending_cancel"],
    ["Cancelled", "3", "cancelled"],
    ["WarnState", undefined, "open"],
    ["Rejected", undefined, "rejected"],
    ["Whatever", undefined, "unknown"],
    [undefined, undefined, "unknown"],
  ] as const)("status %s (filled %s) -> %s", (status, filled, expected) => {
    expect(normaliseOrderStatus(status, filled)).toBe(expected);
  });

  it("normalises order types and time in force", () => {
    expect(
      ["LMT", "Limit", "MARKET", "STP", "Stop Limit", "STOP_LIMIT", "TRAIL", "TRAILLMT", "MIDPRICE"].map(
        normaliseOrderType,
      ),
    ).toEqual([
      "limit",
      "limit",
      "market",
      "stop",
      "stop_limit",
      "stop_limit",
      "trailing_stop",
      "trailing_stop_limit",
      "other",
    ]);
    expect(["DAY", "CLOSE", "GTC", "IOC", "OPG", "GTD"].map(normaliseTimeInForce)).toEqual([
      "day",
      "day",
      "gtc",
      "ioc",
      "opg",
      "other",
    ]);
  });
});

describe("mapOrdersList", () => {
  it("maps camelCase live orders, newest first", () => {
    const result = mapOrdersList(fixture("getLiveOrders.with-orders"), ACCOUNT);
    expectValid("ibkr_orders_list", result);
    expect(result).toEqual({ account_id: "DU1234567", orders: [SPY_SELL, AAPL_BUY], complete: true });
  });

  it("says incomplete for the first call of a session", () => {
    const result = mapOrdersList(fixture("getLiveOrders.first-call-empty"), ACCOUNT);
    expectValid("ibkr_orders_list", result);
    expect(result).toEqual({ account_id: "DU1234567", orders: [], complete: false });
  });

  it("drops orders of other accounts and marks partial fills, stop prices and odd ids", () => {
    const body = clone(fixture("getLiveOrders.with-orders")) as { orders: Record<string, unknown>[] };
    const [aapl, spy] = body.orders as [Record<string, unknown>, Record<string, unknown>];
    spy.acct = "DU7654321";
    Object.assign(aapl, {
      orderId: "1370093239",
      conid: "265598",
      filledQuantity: 4,
      remainingQuantity: 6,
      origOrderType: "STOP_LIMIT",
      auxPrice: "268.50",
      order_ref: "not a valid coid!",
    });
    const result = mapOrdersList(body, ACCOUNT);
    expectValid("ibkr_orders_list", result);
    expect(result.orders).toHaveLength(1);
    expect(result.orders[0]).toMatchObject({
      broker_order_id: "1370093239",
      status: "partially_filled",
      order_type: "stop_limit",
      limit_price: "270",
      stop_price: "268.5",
      filled_quantity: "4",
    });
    expect(result.orders[0]).not.toHaveProperty("client_order_id");
  });

  it("refuses an order without an order id", () => {
    const body = clone(fixture("getLiveOrders.with-orders")) as { orders: Record<string, unknown>[] };
    delete (body.orders[0] as Record<string, unknown>).orderId;
    expectGatewayError(() => mapOrdersList(body, ACCOUNT), "BROKER_RESPONSE_INVALID", {
      operation_id: "getLiveOrders",
      field: "orderId",
    });
  });
});

describe("order status", () => {
  it("maps the snake_case status body by broker id", () => {
    const result = mapOrderStatusByBrokerId(fixture("getOrderStatus.submitted"), {
      ...ACCOUNT,
      clientOrderId: "iag-0001-aapl-buy",
    });
    if (result === null) throw new Error("expected the order");
    expectValid("ibkr_order_status", result);
    expect(result).toEqual({
      matched_by: "broker_order_id",
      order: {
        broker_order_id: "1370093239",
        client_order_id: "iag-0001-aapl-buy",
        account_id: "DU1234567",
        contract_id: "265598",
        symbol: "AAPL",
        asset_class: "stock",
        side: "buy",
        order_type: "limit",
        time_in_force: "day",
        status: "open",
        quantity: "10",
        filled_quantity: "0",
        remaining_quantity: "10",
        limit_price: "270",
        currency: "USD",
        description: "Buy 10 Limit 270.00, Day",
        detail: "session",
        submitted_at: "2025-12-16T19:31:02Z",
      },
    });
  });

  it("maps a filled order and hides orders of other accounts", () => {
    const filled = mapOrderStatusByBrokerId(fixture("getOrderStatus.filled"), ACCOUNT);
    if (filled === null) throw new Error("expected the order");
    expectValid("ibkr_order_status", filled);
    expect(filled.order).toMatchObject({
      status: "filled",
      side: "sell",
      order_type: "market",
      filled_quantity: "5",
      remaining_quantity: "0",
      average_fill_price: "680.71",
    });
    expect(mapOrderStatusByBrokerId(fixture("getOrderStatus.filled"), { accountId: "DU7654321" })).toBeNull();
  });

  it("finds an order by client order id among the session's orders", () => {
    const result = mapOrderStatusByClientId(fixture("getLiveOrders.with-orders"), {
      ...ACCOUNT,
      clientOrderId: "iag-0001-aapl-buy",
    });
    if (result === null) throw new Error("expected the order");
    expectValid("ibkr_order_status", result);
    expect(result).toEqual({ order: AAPL_BUY, matched_by: "client_order_id" });
    expect(
      mapOrderStatusByClientId(fixture("getLiveOrders.with-orders"), {
        ...ACCOUNT,
        clientOrderId: "nope-0000",
      }),
    ).toBeNull();
  });
});

const EARLIER_FILLS = [
  {
    execution_id: "0000e0d5.6760.01.01",
    symbol: "MSFT",
    side: "B",
    trade_time: "20251212-15:00:00",
    trade_time_r: 1765551600000,
    size: 3,
    price: "100",
    order_ref: "iag-0000-msft",
    commission: "1.00",
    net_amount: 300,
    account: "DU1234567",
    sec_type: "STK",
    conid: 272093,
    exchange: "NASDAQ",
    order_id: 1370090001,
  },
  {
    execution_id: "0000e0d5.6760.01.02",
    symbol: "MSFT",
    side: "B",
    trade_time: "20251212-15:05:00",
    size: "1",
    price: "104",
    account: "DU1234567",
    sec_type: "STK",
    conid: "272093",
    order_id: "1370090001",
  },
  {
    execution_id: "0000e0d5.6760.01.03",
    symbol: "IBM",
    side: "S",
    trade_time_r: 1765551600000,
    size: 1,
    price: "300",
    account: "DU7654321",
    conid: 8314,
    order_id: 1370090002,
  },
];

describe("mapExecutionsList", () => {
  it("maps snake_case trades", () => {
    const result = mapExecutionsList(fixture("getTrades.today"), { ...ACCOUNT, days: 1 });
    expectValid("ibkr_executions_list", result);
    expect(result).toEqual({
      account_id: "DU1234567",
      days: 1,
      executions: [
        {
          execution_id: "0000e0d5.6761a8c4.01.01",
          broker_order_id: "1370093240",
          client_order_id: "iag-0002-spy-sell",
          contract_id: "756733",
          symbol: "SPY",
          asset_class: "stock",
          side: "sell",
          quantity: "5",
          price: "680.71",
          commission: "1",
          net_amount: "3402.55",
          exchange: "ARCA",
          executed_at: "2025-12-16T19:33:40Z",
        },
      ],
    });
  });

  it("drops other accounts, sorts newest first and reads the dashed time", () => {
    const trades = [...EARLIER_FILLS, ...(fixture("getTrades.today") as unknown[])];
    const result = mapExecutionsList(trades, { ...ACCOUNT, days: 7 });
    expectValid("ibkr_executions_list", result);
    expect(result.executions.map((e) => [e.execution_id, e.executed_at])).toEqual([
      ["0000e0d5.6761a8c4.01.01", "2025-12-16T19:33:40Z"],
      ["0000e0d5.6760.01.02", "2025-12-12T15:05:00Z"],
      ["0000e0d5.6760.01.01", "2025-12-12T15:00:00Z"],
    ]);
    expect(mapExecutionsList(fixture("getTrades.empty"), { ...ACCOUNT, days: 1 }).executions).toEqual([]);
  });

  it("refuses a trade without a price", () => {
    expectGatewayError(
      () => mapExecutionsList([{ ...EARLIER_FILLS[0], price: null }], { ...ACCOUNT, days: 1 }),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getTrades", field: "price" },
    );
  });
});

describe("mapOrdersHistory", () => {
  const RANGE = {
    ...ACCOUNT,
    fromMs: Date.UTC(2025, 11, 10),
    toMs: Date.UTC(2025, 11, 16, 20, 0),
    limit: 100,
  };
  const trades = () => [...EARLIER_FILLS, ...(fixture("getTrades.today") as unknown[])];

  it("merges session orders with orders rebuilt from earlier fills", () => {
    const result = mapOrdersHistory(fixture("getLiveOrders.with-orders"), trades(), RANGE);
    expectValid("ibkr_orders_history", result);
    expect(result.from).toBe("2025-12-10T00:00:00Z");
    expect(result.to).toBe("2025-12-16T20:00:00Z");
    expect(result.truncated).toBe(false);
    expect(result.orders).toEqual([
      SPY_SELL,
      AAPL_BUY,
      {
        broker_order_id: "1370090001",
        client_order_id: "iag-0000-msft",
        account_id: "DU1234567",
        contract_id: "272093",
        symbol: "MSFT",
        asset_class: "stock",
        side: "buy",
        status: "filled",
        filled_quantity: "4",
        average_fill_price: "101",
        detail: "fills_only",
        submitted_at: "2025-12-12T15:00:00Z",
        updated_at: "2025-12-12T15:05:00Z",
      },
    ]);
  });

  it("filters by range and status and truncates at the limit", () => {
    const today = mapOrdersHistory(fixture("getLiveOrders.with-orders"), trades(), {
      ...RANGE,
      fromMs: Date.UTC(2025, 11, 16),
    });
    expect(today.orders.map((o) => o.broker_order_id)).toEqual(["1370093240", "1370093239"]);
    const filled = mapOrdersHistory(fixture("getLiveOrders.with-orders"), trades(), {
      ...RANGE,
      status: "filled",
    });
    expect(filled.orders.map((o) => o.broker_order_id)).toEqual(["1370093240", "1370090001"]);
    const limited = mapOrdersHistory(fixture("getLiveOrders.with-orders"), trades(), { ...RANGE, limit: 1 });
    expectValid("ibkr_orders_history", limited);
    expect(limited).toMatchObject({ truncated: true });
    expect(limited.orders.map((o) => o.broker_order_id)).toEqual(["1370093240"]);
  });
});
