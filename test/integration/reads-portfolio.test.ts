// The portfolio read tools through the composed gateway against the in-process simulator: balances, the day's
// P&L from the ledger, the running P&L, positions (and the broker's position cache) and the snapshot. Prices
// are pinned with the control API and fills forced on orders placed over the simulator's wire, so every
// expected figure follows from the simulator's rules: 30% / 25% margin, 4x buying power, 1 USD commission.
import { getResponse } from "msw";
import { describe, expect, it } from "vitest";
import type { Simulator } from "../../src/simulator/index.ts";
import { callCode, callOk, testGateway } from "../support/gateway.ts";
import { SIM_BASE_URL } from "../support/simulator.ts";

const ACCOUNT = "DU1234567";
const SOURCE = { backend: "simulator", simulated: true };
/** MARKET_OPEN as the outputs spell it. */
const AT_OPEN = "2026-12-01T15:00:00Z";
const usd = (amount: string) => ({ amount, currency: "USD" });

/**
 * One request straight to the simulator's wire, as a second platform on the same login would send it. Its own
 * pacing bucket keeps it from eating into the gateway's budget.
 */
async function wire(sim: Simulator, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await getResponse(
    sim.handlers,
    new Request(`${SIM_BASE_URL}${path}`, {
      method,
      headers: { "content-type": "application/json", "x-simulator-source": "second-platform" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
  if (response === undefined) throw new Error(`no simulator handler for ${method} ${path}`);
  return response.json();
}

/** Places a DAY limit order 1% away from the pinned price (so it rests, no question asked) and returns its id. */
async function restingOrder(
  sim: Simulator,
  conid: number,
  side: "BUY" | "SELL",
  price: number,
  quantity: number,
): Promise<number> {
  await wire(sim, "GET", "/iserver/accounts");
  const answer = await wire(sim, "POST", `/iserver/account/${ACCOUNT}/orders`, {
    orders: [{ conid, orderType: "LMT", price, side, tif: "DAY", quantity }],
  });
  const [placed] = answer as { order_id?: string }[];
  if (placed?.order_id === undefined) throw new Error(`order not accepted: ${JSON.stringify(answer)}`);
  return Number(placed.order_id);
}

const AAPL = 265598;
const IBM = 8314;

/** AAPL 250, MSFT 480, SPY 650: the seeded 200 / 60 / 20 shares are then worth 50,000 + 28,800 + 13,000. */
function pinPrices(sim: Simulator): void {
  sim.control.setPrice("AAPL", 250);
  sim.control.setPrice("MSFT", 480);
  sim.control.setPrice("SPY", 650);
  sim.control.setPrice("IBM", 300);
}

function positionOf(
  result: Record<string, unknown>,
  contractId: string,
): Record<string, unknown> | undefined {
  return (result.positions as Record<string, unknown>[]).find((p) => p.contract_id === contractId);
}

describe("ibkr_account_summary", () => {
  it("returns the balances the simulator's book implies, as exact decimal strings in USD", async () => {
    const { gateway, sim } = await testGateway();
    pinPrices(sim);
    const summary = await callOk(gateway, "ibkr_account_summary", { account_id: ACCOUNT });
    // Cash 880,000 + positions 91,800; margin 30% / 25% of 91,800; buying power 4 x available funds.
    expect(summary).toEqual({
      account_id: ACCOUNT,
      base_currency: "USD",
      net_liquidation: usd("971800"),
      total_cash: usd("880000"),
      settled_cash: usd("880000"),
      buying_power: usd("3777040"),
      available_funds: usd("944260"),
      excess_liquidity: usd("948850"),
      initial_margin: usd("27540"),
      maintenance_margin: usd("22950"),
      gross_position_value: usd("91800"),
      equity_with_loan: usd("971800"),
      as_of: AT_OPEN,
      source: SOURCE,
    });
  });

  it("follows fills: cash pays for the shares and the commission, net liquidation is cash plus positions", async () => {
    const { gateway, sim } = await testGateway();
    pinPrices(sim);
    const order = await restingOrder(sim, AAPL, "BUY", 247.5, 10);
    sim.control.fill(order, { price: 250 });
    const summary = await callOk(gateway, "ibkr_account_summary", { account_id: ACCOUNT });
    // 880,000 - 10 x 250 - 1 commission; positions 210 x 250 + 28,800 + 13,000.
    expect(summary.total_cash).toEqual(usd("877499"));
    expect(summary.gross_position_value).toEqual(usd("94300"));
    expect(summary.net_liquidation).toEqual(usd("971799"));
  });
});

describe("ibkr_pnl_daily", () => {
  it("reports the day's realized P&L of a closing fill and the open positions' unrealized P&L", async () => {
    const { gateway, sim } = await testGateway();
    pinPrices(sim);
    // Sell 10 of the 200 AAPL bought at 251.30 for 252.50: 12 USD realized.
    const order = await restingOrder(sim, AAPL, "SELL", 252.5, 10);
    sim.control.fill(order, { price: 252.5 });
    const pnl = await callOk(gateway, "ibkr_pnl_daily", { account_id: ACCOUNT });
    // Unrealized: 190 x (250 - 251.30) + 60 x (480 - 482.12) + 20 x (650 - 655.04) = -247 - 127.2 - 100.8.
    expect(pnl).toEqual({
      account_id: ACCOUNT,
      base_currency: "USD",
      realized_pnl: usd("12"),
      unrealized_pnl: usd("-475"),
      by_currency: [
        {
          currency: "USD",
          realized_pnl: "12",
          unrealized_pnl: "-475",
          cash_balance: "882524",
          exchange_rate: "1",
        },
      ],
      as_of: AT_OPEN,
      source: SOURCE,
    });
  });
});

describe("ibkr_pnl_realtime", () => {
  it("asks again after the session's cold first answer and returns the figures the summary agrees with", async () => {
    const { gateway, sim } = await testGateway();
    pinPrices(sim);
    const pnl = await callOk(gateway, "ibkr_pnl_realtime", { account_id: ACCOUNT });
    // The first answer of the brokerage session was {"upnl":{}}; the second, 5 s later (pacing), had data.
    expect(sim.control.count("getPartitionedPnl")).toBe(2);
    const summary = await callOk(gateway, "ibkr_account_summary", { account_id: ACCOUNT });
    expect(pnl.net_liquidation).toEqual(summary.net_liquidation);
    expect(pnl.excess_liquidity).toEqual(summary.excess_liquidity);
    // Every position is long, so the market value is the gross position value.
    expect(pnl.market_value).toEqual(summary.gross_position_value);
    expect(pnl).toMatchObject({ account_id: ACCOUNT, base_currency: "USD", source: SOURCE });
    expect((pnl.daily_pnl as { currency: string }).currency).toBe("USD");
    expect((pnl.daily_pnl as { amount: string }).amount).toMatch(/^-?\d+(\.\d{1,2})?$/);

    // Warm now: one request per call.
    await callOk(gateway, "ibkr_pnl_realtime", { account_id: ACCOUNT });
    expect(sim.control.count("getPartitionedPnl")).toBe(3);
  });

  it("needs the brokerage session: with only the web session it answers BROKER_SESSION_REQUIRED", async () => {
    const { gateway, sim } = await testGateway({ scenario: "sso-only" });
    expect(await callCode(gateway, "ibkr_pnl_realtime", { account_id: ACCOUNT })).toBe(
      "BROKER_SESSION_REQUIRED",
    );
    // /portfolio reads need only the web session.
    const summary = await callOk(gateway, "ibkr_account_summary", { account_id: ACCOUNT });
    expect(summary.total_cash).toEqual(usd("880000"));
    expect(
      sim.control.requests().filter((r) => r.operationId === "getPartitionedPnl" && r.status === 200),
    ).toEqual([]);
  });
});

describe("ibkr_positions_list", () => {
  it("lists the seeded positions with exact quantities, prices and values", async () => {
    const { gateway, sim } = await testGateway();
    pinPrices(sim);
    const list = await callOk(gateway, "ibkr_positions_list", { account_id: ACCOUNT });
    expect(list).toMatchObject({
      account_id: ACCOUNT,
      page: 0,
      page_size: 100,
      has_more: false,
      source: SOURCE,
    });
    expect(list.positions).toEqual([
      {
        contract_id: "265598",
        symbol: "AAPL",
        description: "AAPL",
        asset_class: "stock",
        currency: "USD",
        quantity: "200",
        average_price: "251.3",
        average_cost: "251.3",
        market_price: "250",
        market_value: "50000",
        unrealized_pnl: "-260",
        realized_pnl: "0",
        listing_exchange: "NASDAQ",
      },
      {
        contract_id: "272093",
        symbol: "MSFT",
        description: "MSFT",
        asset_class: "stock",
        currency: "USD",
        quantity: "60",
        average_price: "482.12",
        average_cost: "482.12",
        market_price: "480",
        market_value: "28800",
        unrealized_pnl: "-127.2",
        realized_pnl: "0",
        listing_exchange: "NASDAQ",
      },
      {
        contract_id: "756733",
        symbol: "SPY",
        description: "SPY",
        asset_class: "etf",
        currency: "USD",
        quantity: "20",
        average_price: "655.04",
        average_cost: "655.04",
        market_price: "650",
        market_value: "13000",
        unrealized_pnl: "-100.8",
        realized_pnl: "0",
        listing_exchange: "ARCA",
      },
    ]);
  });

  it("shows a fill's new quantity, and a newly opened position only after refresh rebuilds the cache", async () => {
    const { gateway, sim } = await testGateway();
    pinPrices(sim);
    await callOk(gateway, "ibkr_positions_list", { account_id: ACCOUNT });
    sim.control.fill(await restingOrder(sim, AAPL, "BUY", 247.5, 10), { price: 250 });
    sim.control.fill(await restingOrder(sim, IBM, "BUY", 297, 5), { price: 300 });

    // The broker's cached list still has the three positions it had; their figures are current.
    const cached = await callOk(gateway, "ibkr_positions_list", { account_id: ACCOUNT });
    expect((cached.positions as unknown[]).length).toBe(3);
    expect(positionOf(cached, "8314")).toBeUndefined();
    // 210 shares averaging (200 x 251.30 + 10 x 250) / 210 = 251.238..., sent rounded to cents.
    expect(positionOf(cached, "265598")).toMatchObject({
      quantity: "210",
      average_price: "251.24",
      market_value: "52500",
      unrealized_pnl: "-260",
    });
    expect(sim.control.count("invalidatePositions")).toBe(0);

    const fresh = await callOk(gateway, "ibkr_positions_list", { account_id: ACCOUNT, refresh: true });
    expect(sim.control.count("invalidatePositions")).toBe(1);
    expect((fresh.positions as { contract_id: string }[]).map((p) => p.contract_id)).toEqual([
      "8314",
      "265598",
      "272093",
      "756733",
    ]);
    expect(positionOf(fresh, "8314")).toMatchObject({ symbol: "IBM", quantity: "5", market_value: "1500" });
  });
});

describe("ibkr_portfolio_snapshot", () => {
  it("combines balances, cash per currency and the first page of positions", async () => {
    const { gateway, sim } = await testGateway();
    pinPrices(sim);
    const snapshot = await callOk(gateway, "ibkr_portfolio_snapshot", { account_id: ACCOUNT });
    expect(snapshot).toMatchObject({
      account_id: ACCOUNT,
      base_currency: "USD",
      net_liquidation: usd("971800"),
      total_cash: usd("880000"),
      buying_power: usd("3777040"),
      excess_liquidity: usd("948850"),
      initial_margin: usd("27540"),
      maintenance_margin: usd("22950"),
      cash_balances: [usd("880000")],
      positions_truncated: false,
      as_of: AT_OPEN,
      source: SOURCE,
    });
    const positions = snapshot.positions as { contract_id: string; market_value: string }[];
    expect(positions.map((p) => [p.contract_id, p.market_value])).toEqual([
      ["265598", "50000"],
      ["272093", "28800"],
      ["756733", "13000"],
    ]);
    // Net liquidation is cash plus what the positions are worth.
    const worth = positions.reduce((sum, p) => sum + Number(p.market_value), 0);
    expect(880_000 + worth).toBe(971_800);
    // A short first page needs no look at page 1.
    expect(sim.control.count("getPositions")).toBe(1);
  });
});

const TOOLS = [
  "ibkr_account_summary",
  "ibkr_pnl_daily",
  "ibkr_pnl_realtime",
  "ibkr_positions_list",
  "ibkr_portfolio_snapshot",
] as const;

describe("every portfolio tool", () => {
  it("refuses an account the broker does not list before any request names it", async () => {
    const { gateway, sim } = await testGateway();
    for (const tool of TOOLS) {
      expect(await callCode(gateway, tool, { account_id: "DU7777777" })).toBe("INPUT_UNAUTHORIZED_ACCOUNT");
    }
    const asked = sim.control.requests().map((r) => r.operationId);
    expect([...new Set(asked)].sort()).toEqual(["getBrokerageAccounts", "getPortfolioAccounts"]);
    expect(sim.control.requests().filter((r) => r.path.includes("DU7777777"))).toEqual([]);
    // Neither the refused id nor a real one is written to the audit store in the clear.
    const stored = JSON.stringify([...gateway.store.exportEvents()]);
    expect(stored).not.toContain("DU7777777");
  });

  it("answers BROKER_SESSION_REQUIRED once the session is gone, and serves nothing from before", async () => {
    const { gateway, sim } = await testGateway();
    await callOk(gateway, "ibkr_accounts_list");
    sim.control.logout();
    for (const tool of TOOLS) {
      expect(await callCode(gateway, tool, { account_id: ACCOUNT })).toBe("BROKER_SESSION_REQUIRED");
    }
    const served = sim.control
      .requests()
      .filter((r) => r.path.startsWith(`/portfolio/${ACCOUNT}`) || r.operationId === "getPartitionedPnl");
    expect(served.filter((r) => r.status === 200)).toEqual([]);
  });

  it("writes one tool_call event per call, with the account only as its hash", async () => {
    const { gateway } = await testGateway();
    for (const tool of TOOLS) await callOk(gateway, tool, { account_id: ACCOUNT });
    const events = [...gateway.store.exportEvents()].filter((e) => e.event_type === "tool_call");
    expect(events.map((e) => [e.tool, e.result_status])).toEqual(TOOLS.map((tool) => [tool, "completed"]));
    expect(events.every((e) => e.account_id_hash === gateway.store.hashAccountId(ACCOUNT))).toBe(true);
    expect(JSON.stringify(events)).not.toContain(ACCOUNT);
  });
});
