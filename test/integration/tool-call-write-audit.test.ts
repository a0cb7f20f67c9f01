// The tool_call event of a write names its idempotency key the way the workflow events do (the same keyed
// hash, scoped to the caller) and says whether the result was a replay, so an incident review can join a
// call to its order events and tell a repeated call from a second order.
import { describe, expect, it } from "vitest";
import { callOk, testGateway } from "../support/gateway.ts";
import { LIMIT_BUY, PAPER_ACCOUNT, paperConfig, paperOrder } from "../support/orders.ts";

describe("tool_call events of write tools", () => {
  it("carry the key's hash and the replay flag", async () => {
    const t = await testGateway({ config: paperConfig() });
    const quote = await callOk(t.gateway, "ibkr_market_snapshot", { contract_id: "265598" });
    const { approval } = await paperOrder(
      t.gateway,
      { ...LIMIT_BUY, limit_price: String(quote.bid) },
      "audit-key-0001",
    );
    await callOk(t.gateway, "ibkr_paper_order_submit", {
      account_id: PAPER_ACCOUNT,
      approval_id: approval.approval_id,
      idempotency_key: "audit-key-0001",
    });
    const events = [...t.gateway.store.exportEvents()];
    const submitted = events.find((e) => e.event_type === "order_submitted");
    const calls = events.filter((e) => e.event_type === "tool_call" && e.tool === "ibkr_paper_order_submit");
    const keyHash = submitted?.metadata.idempotency_key_hash;
    expect(typeof keyHash).toBe("string");
    expect(calls.map((e) => [e.metadata.idempotency_key_hash, e.metadata.idempotent_replay])).toEqual([
      [keyHash, false],
      [keyHash, true],
    ]);
    const reads = events.filter((e) => e.event_type === "tool_call" && e.tool === "ibkr_market_snapshot");
    expect(reads.map((e) => "idempotency_key_hash" in e.metadata)).toEqual([false]);
  });
});
