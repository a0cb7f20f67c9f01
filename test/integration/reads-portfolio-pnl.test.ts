// The running P&L when the broker is slow to compute it (simulator scenario slow-pnl: the first three
// /pnl/partitioned answers of the brokerage session are the cold {"upnl":{}}).
import { describe, expect, it } from "vitest";
import { callOk, testGateway } from "../support/gateway.ts";

const ACCOUNT = "DU1234567";

describe("ibkr_pnl_realtime while the broker is still computing", () => {
  it("asks once more, then refuses with MARKET_DATA_INCOMPLETE instead of serving empty figures", async () => {
    const { gateway, sim } = await testGateway({ scenario: "slow-pnl" });
    const outcome = await gateway.dispatch("ibkr_pnl_realtime", { account_id: ACCOUNT });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe("MARKET_DATA_INCOMPLETE");
    expect(outcome.error.retryable).toBe(true);
    expect(outcome.error.userAction).toBe(
      "Retry in about 5 seconds (the broker allows one P&L request every 5 s); ibkr_pnl_daily reads the ledger meanwhile.",
    );
    expect(outcome.error.details).toEqual({ reason: "pnl_cold", broker_requests: 2 });
    // Two asks, the second held back by the endpoint's pacing (1 request per 5 s), in virtual time.
    const asks = sim.control.requests().filter((r) => r.operationId === "getPartitionedPnl");
    expect(asks.length).toBe(2);
    expect((asks[1]?.at ?? 0) - (asks[0]?.at ?? 0)).toBeGreaterThanOrEqual(5_000);

    const [event] = [...gateway.store.exportEvents()].filter((e) => e.event_type === "tool_call");
    expect(event).toMatchObject({ tool: "ibkr_pnl_realtime", error_code: "MARKET_DATA_INCOMPLETE" });
  });

  it("keeps nothing from a cold answer: the next call asks afresh and returns the figures once ready", async () => {
    const { gateway, sim } = await testGateway({ scenario: "slow-pnl" });
    await gateway.dispatch("ibkr_pnl_realtime", { account_id: ACCOUNT });
    // The third answer is still cold, the fourth has the figures.
    const pnl = await callOk(gateway, "ibkr_pnl_realtime", { account_id: ACCOUNT });
    expect(sim.control.count("getPartitionedPnl")).toBe(4);
    const summary = await callOk(gateway, "ibkr_account_summary", { account_id: ACCOUNT });
    expect(pnl.net_liquidation).toEqual(summary.net_liquidation);
    expect(pnl).toMatchObject({ account_id: ACCOUNT, base_currency: "USD" });
  });
});
