// The composed gateway (config -> store -> broker -> workflows -> dispatcher): every call is audited once,
// scope denials never reach the broker, forbidden names are refused and audited, and the audit chain holds.
import { describe, expect, it } from "vitest";
import { CONFIG_HEADER, callCode, callOk, testGateway } from "../support/gateway.ts";

describe("the composed gateway", () => {
  it("runs with no config at all: simulator backend, read scopes, a generated audit secret", async () => {
    const { gateway } = await testGateway();
    expect(gateway.loaded.source).toBe("defaults");
    expect(gateway.broker.source()).toEqual({ backend: "simulator", simulated: true });
    expect(
      [...gateway.localScopes].every((scope) => scope.endsWith(":read") || scope === "ibkr:audit:export"),
    ).toBe(true);
    const health = await callOk(gateway, "ibkr_health");
    expect(health).toMatchObject({ status: "ok", audit_writable: true, enabled_tiers: ["read"] });
  });

  it("writes exactly one tool_call event per call, success or failure, and keeps a valid chain", async () => {
    const { gateway } = await testGateway();
    await callOk(gateway, "ibkr_accounts_list");
    await callCode(gateway, "ibkr_account_metadata", { account_id: "U0000000" });
    await callCode(gateway, "ibkr_account_metadata", { account_id: "DU1234567", extra: 1 });
    const events = [...gateway.store.exportEvents()].filter((e) => e.event_type === "tool_call");
    expect(events.map((e) => [e.tool, e.decision, e.result_status, e.error_code ?? null])).toEqual([
      ["ibkr_accounts_list", "allow", "completed", null],
      ["ibkr_account_metadata", "refuse", "refused", "INPUT_UNAUTHORIZED_ACCOUNT"],
      ["ibkr_account_metadata", "refuse", "refused", "INPUT_INVALID_ARGUMENT"],
    ]);
    expect(gateway.store.verify().chain_valid).toBe(true);
  });

  it("refuses a call outside the configured scopes before the broker is touched, and audits it", async () => {
    const { gateway, sim } = await testGateway({
      config: `${CONFIG_HEADER}auth:\n  enabled_scopes: [ibkr:health:read]\n`,
    });
    const before = sim.control.requests().length;
    expect(await callCode(gateway, "ibkr_accounts_list")).toBe("AUTH_MISSING_SCOPE");
    expect(sim.control.requests().length).toBe(before);
    const [event] = [...gateway.store.exportEvents()].filter((e) => e.event_type === "tool_call");
    expect(event).toMatchObject({
      decision: "deny",
      result_status: "denied_scope",
      error_code: "AUTH_MISSING_SCOPE",
    });
    expect(gateway.tools()).toEqual([
      "ibkr_backend_status",
      "ibkr_health",
      "ibkr_kill_switch_status",
      "ibkr_session_renew",
      "ibkr_session_requirements",
    ]);
  });

  it("refuses the seed's generic write tool names with READONLY_WRITE_FORBIDDEN and audits them", async () => {
    const { gateway } = await testGateway();
    for (const name of [
      "ibkr_order_submit",
      "ibkr_order_cancel",
      "ibkr_order_modify",
      "ibkr_order_approve",
      "ibkr_order_intent_validate",
      "ibkr_order_preview_explain",
    ]) {
      expect(await callCode(gateway, name)).toBe("READONLY_WRITE_FORBIDDEN");
    }
    expect(
      [...gateway.store.exportEvents()].filter((e) => e.error_code === "READONLY_WRITE_FORBIDDEN"),
    ).toHaveLength(6);
    // An unknown name is a protocol error: not a tool call, so not audited.
    expect(await callCode(gateway, "ibkr_does_not_exist")).toBe("INPUT_UNKNOWN_TOOL");
    expect([...gateway.store.exportEvents()]).toHaveLength(6);
  });

  it("stores account ids only as hashes", async () => {
    const { gateway } = await testGateway();
    await callOk(gateway, "ibkr_account_metadata", { account_id: "DU1234567" });
    const [event] = [...gateway.store.exportEvents()];
    expect(event?.account_id_hash).toBe(gateway.store.hashAccountId("DU1234567"));
    expect(JSON.stringify(event)).not.toContain("DU1234567");
  });

  it("reports a dead broker as BROKER_BACKEND_UNAVAILABLE and a lost session as BROKER_SESSION_REQUIRED", async () => {
    const { gateway, sim } = await testGateway();
    sim.control.setGatewayDown(true);
    expect(await callCode(gateway, "ibkr_accounts_list")).toBe("BROKER_BACKEND_UNAVAILABLE");
    const status = await callOk(gateway, "ibkr_backend_status");
    expect(status).toMatchObject({ state: "gateway_unreachable", gateway_reachable: false });
    sim.control.setGatewayDown(false);
    sim.control.logout();
    expect(await callCode(gateway, "ibkr_account_metadata", { account_id: "DU1234567" })).toBe(
      "BROKER_SESSION_REQUIRED",
    );
    const steps = await callOk(gateway, "ibkr_session_requirements");
    expect(steps).toMatchObject({ ready: false, state: "login_required" });
  });
});

describe("scope denial per tier", () => {
  it.each([
    [
      "preview",
      "ibkr_order_preview",
      {
        account_id: "DU1234567",
        symbol: "AAPL",
        side: "buy",
        quantity: "1",
        order_type: "limit",
        limit_price: "100",
      },
    ],
    [
      "paper",
      "ibkr_paper_order_submit",
      { account_id: "DU1234567", approval_id: "ap_0000000000000000", idempotency_key: "key-0000001" },
    ],
    [
      "live",
      "ibkr_live_order_cancel",
      { account_id: "DU1234567", broker_order_id: "1", idempotency_key: "key-0000002" },
    ],
    ["admin", "ibkr_kill_switch_engage", { reason: "testing the scope gate" }],
  ])(
    "refuses a %s tool under the default read scopes, before the broker, and audits it",
    async (_tier, tool, args) => {
      const { gateway, sim } = await testGateway();
      const outcome = await gateway.dispatch(tool, args);
      expect(outcome.ok ? "ok" : outcome.error.code).toBe("AUTH_MISSING_SCOPE");
      expect(sim.control.requests()).toEqual([]);
      expect(gateway.tools()).not.toContain(tool);
      const events = [...gateway.store.exportEvents()];
      expect(events.map((e) => [e.tool, e.result_status])).toEqual([[tool, "denied_scope"]]);
    },
  );
});

describe("bad arguments of every kind", () => {
  it.each([
    ["a wrong type", { account_id: 1234567 }, "account_id"],
    ["a missing required argument", {}, "account_id"],
    ["an unknown argument", { account_id: "DU1234567", verbose: true }, "verbose"],
    ["a pattern mismatch", { account_id: "DU-1234567" }, "account_id"],
    ["an oversized string", { account_id: "D".repeat(10_000) }, "account_id"],
    ["not an object at all", ["DU1234567"], "(arguments)"],
  ])(
    "refuses %s with INPUT_INVALID_ARGUMENT naming the field, before the broker",
    async (_kind, args, field) => {
      const { gateway, sim } = await testGateway();
      const outcome = await gateway.dispatch("ibkr_account_metadata", args);
      if (outcome.ok) throw new Error("expected a refusal");
      expect(outcome.error.code).toBe("INPUT_INVALID_ARGUMENT");
      expect(outcome.error.message.startsWith(`${field}:`)).toBe(true);
      expect(sim.control.requests()).toEqual([]);
    },
  );
});
