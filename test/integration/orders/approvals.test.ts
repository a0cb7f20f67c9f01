// Approvals through gateway.dispatch and the operator procedures: expiry, one-time use, mismatches, revoke,
// one approval per preview, TTL bounds, acknowledged question ids, and approvals that need a person (the
// tool refused and unlisted; the operator approves only at an interactive terminal with the PIN, and wrong
// PINs are throttled).
import { afterEach, describe, expect, it } from "vitest";
import {
  call,
  closeGateways,
  eventsOf,
  expectSafeStore,
  limitBuy,
  ok,
  operatorContext,
  orderGateway,
  PAPER_ACCOUNT,
  PIN,
  PIN_HASH,
  paperYaml,
  previewAndApprove,
  refused,
  SECOND_PAPER,
  submitArgs,
} from "./harness.ts";

afterEach(closeGateways);

const BRACKET = {
  account_id: PAPER_ACCOUNT,
  symbol: "AAPL",
  side: "buy",
  quantity: "10",
  entry_limit_price: "265",
  take_profit_limit_price: "280",
  stop_loss_stop_price: "255",
};

describe("an approval at submit", () => {
  it("expires with the manual clock: APPROVAL_EXPIRED, nothing sent", async () => {
    const { gateway, sim, clock } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"), { approval: { ttl_seconds: 60 } });
    const record = gateway.store.approvals.get(String(approval.approval_id));
    clock.set(record?.expiresAt ?? 0);
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "expired-1"),
    );
    expect(refusal.code).toBe("APPROVAL_EXPIRED");
    expect(refusal.details).toEqual({ field: "approval_id", expired_at: approval.expires_at });
    expect(sim.control.count("placeOrders")).toBe(0);
    expect(gateway.store.approvals.get(String(approval.approval_id))?.status).toBe("active");
  });

  it("is used once: a second submit with a new key is APPROVAL_CONSUMED and places nothing", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    await ok(gateway, "ibkr_paper_order_submit", submitArgs(approval.approval_id, "first-key"));
    const again = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "second-key"),
    );
    expect(again.code).toBe("APPROVAL_CONSUMED");
    expect(again.details).toEqual({ field: "approval_id" });
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(eventsOf(gateway, "approval_consumed").map((e) => e.metadata.approval_id)).toEqual([
      approval.approval_id,
    ]);
    expectSafeStore(gateway);
  });

  it("belongs to its account: another account's submit is APPROVAL_PREVIEW_MISMATCH", async () => {
    const { gateway, sim } = await orderGateway({
      config: paperYaml({ accounts: [PAPER_ACCOUNT, SECOND_PAPER] }),
      scenario: "multi-account",
    });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "other-account", SECOND_PAPER),
    );
    expect(refusal).toMatchObject({
      code: "APPROVAL_PREVIEW_MISMATCH",
      message: "The approval was created for another account.",
      details: { field: "account_id" },
    });
    expect(sim.control.count("placeOrders")).toBe(0);
  });

  it("matches the preview kind: a bracket approval on a single submit and the reverse are refused", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const single = await previewAndApprove(gateway, limitBuy("265"));
    const bracket = await previewAndApprove(gateway, BRACKET, { tool: "ibkr_bracket_order_preview" });
    expect(bracket.approval.preview_kind).toBe("bracket");
    const onSingle = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(bracket.approval.approval_id, "bracket-on-single"),
    );
    expect(onSingle).toMatchObject({
      code: "APPROVAL_PREVIEW_MISMATCH",
      message: "This call needs the approval of a single-order preview.",
      details: { field: "approval_id", preview_kind: "bracket" },
    });
    const onBracket = await refused(
      gateway,
      "ibkr_paper_bracket_order_submit",
      submitArgs(single.approval.approval_id, "single-on-bracket"),
    );
    expect(onBracket).toMatchObject({
      code: "APPROVAL_PREVIEW_MISMATCH",
      message: "This call needs the approval of a bracket preview.",
      details: { field: "approval_id", preview_kind: "order" },
    });
    expect(sim.control.count("placeOrders")).toBe(0);
  });

  it("is required: an unknown approval id is PAPER_APPROVAL_REQUIRED", async () => {
    const { gateway } = await orderGateway({ config: paperYaml() });
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs("ap_00000000000000", "no-approval"),
    );
    expect(refusal).toMatchObject({ code: "PAPER_APPROVAL_REQUIRED", details: { field: "approval_id" } });
  });
});

describe("revoking an approval", () => {
  it("makes a submit APPROVAL_REVOKED, is audited, and lets the preview be approved again", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { preview, approval } = await previewAndApprove(gateway, limitBuy("265"));
    const operator = operatorContext(gateway);
    expect(
      gateway.procedures.approvals.revoke(operator, String(approval.approval_id), "changed my mind"),
    ).toEqual({
      approval_id: approval.approval_id,
      state: "revoked",
    });
    const [revoked] = eventsOf(gateway, "approval_revoked");
    expect(revoked).toMatchObject({
      account_id_hash: gateway.store.hashAccountId(PAPER_ACCOUNT),
      metadata: {
        approval_id: approval.approval_id,
        preview_id: preview.preview_id,
        revoked_by: "operator",
        reason: "changed my mind",
      },
    });
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "revoked-1"),
    );
    expect(refusal.code).toBe("APPROVAL_REVOKED");
    expect(() =>
      gateway.procedures.approvals.revoke(operator, String(approval.approval_id), "again"),
    ).toThrow(expect.objectContaining({ code: "APPROVAL_REVOKED" }));
    expect(() => gateway.procedures.approvals.revoke(operator, "ap_00000000000000", "none")).toThrow(
      expect.objectContaining({ code: "INPUT_INVALID_ARGUMENT" }),
    );
    // A revoked approval no longer holds the preview: a fresh approval of it submits.
    const fresh = await ok(gateway, "ibkr_approvals_create", {
      account_id: PAPER_ACCOUNT,
      preview_id: preview.preview_id,
    });
    await ok(gateway, "ibkr_paper_order_submit", submitArgs(fresh.approval_id, "after-revoke"));
    expect(sim.control.count("placeOrders")).toBe(1);
    expect(() => gateway.procedures.approvals.revoke(operator, String(fresh.approval_id), "late")).toThrow(
      expect.objectContaining({ code: "APPROVAL_CONSUMED" }),
    );
    expect(gateway.procedures.approvals.list().map((a) => [a.approval_id, a.state])).toEqual([
      [fresh.approval_id, "consumed"],
      [approval.approval_id, "revoked"],
    ]);
    expectSafeStore(gateway);
  });
});

describe("creating an approval", () => {
  it("allows one active approval per preview, and none after the preview was used", async () => {
    const { gateway } = await orderGateway({ config: paperYaml() });
    const { preview, approval } = await previewAndApprove(gateway, limitBuy("265"));
    const args = { account_id: PAPER_ACCOUNT, preview_id: preview.preview_id };
    const second = await refused(gateway, "ibkr_approvals_create", args);
    expect(second).toMatchObject({
      code: "INPUT_INVALID_ARGUMENT",
      details: { field: "preview_id", approval_id: approval.approval_id },
    });
    await ok(gateway, "ibkr_paper_order_submit", submitArgs(approval.approval_id, "used-once"));
    const after = await refused(gateway, "ibkr_approvals_create", args);
    expect(after).toMatchObject({
      code: "APPROVAL_CONSUMED",
      details: { field: "preview_id", approval_id: approval.approval_id },
    });
    expect(eventsOf(gateway, "approval_created")).toHaveLength(1);
  });

  it("takes ttl_seconds within the configured bounds and never outlives the preview", async () => {
    const { gateway } = await orderGateway({
      config: paperYaml({
        extra: "approvals:\n  min_ttl_seconds: 60\n  max_ttl_seconds: 600\n  default_ttl_seconds: 120\n",
      }),
    });
    const preview = await ok(gateway, "ibkr_order_preview", limitBuy("265"));
    const args = { account_id: PAPER_ACCOUNT, preview_id: preview.preview_id };
    for (const ttl of [59, 601]) {
      const refusal = await refused(gateway, "ibkr_approvals_create", { ...args, ttl_seconds: ttl });
      expect(refusal, String(ttl)).toMatchObject({
        code: "INPUT_INVALID_ARGUMENT",
        message: "ttl_seconds must be from 60 to 600 on this gateway.",
        details: { field: "ttl_seconds" },
      });
    }
    // Outside the contract's own bounds the schema refuses it.
    expect(
      (await refused(gateway, "ibkr_approvals_create", { ...args, ttl_seconds: 5 })).details,
    ).toMatchObject({
      problems: [{ field: "ttl_seconds" }],
    });
    const approval = await ok(gateway, "ibkr_approvals_create", args);
    const record = gateway.store.approvals.get(String(approval.approval_id));
    expect((record?.expiresAt ?? 0) - (record?.createdAt ?? 0)).toBe(120_000);
    gateway.procedures.approvals.revoke(
      operatorContext(gateway),
      String(approval.approval_id),
      "retry with 600",
    );
    // 600 s asked, but the preview expires after 300 s: the approval ends with it.
    const capped = await ok(gateway, "ibkr_approvals_create", { ...args, ttl_seconds: 600 });
    expect(capped.expires_at).toBe(preview.expires_at);
    expect(gateway.store.approvals.get(String(capped.approval_id))?.expiresAt).toBe(
      gateway.store.previews.get(String(preview.preview_id))?.expiresAt,
    );
    const [, second] = eventsOf(gateway, "approval_created");
    expect(second?.metadata).toMatchObject({ ttl_seconds: 600, expires_at: preview.expires_at });
  });

  it("accepts only require_approval question ids as acknowledged", async () => {
    const { gateway } = await orderGateway({ config: paperYaml() });
    const preview = await ok(gateway, "ibkr_order_preview", limitBuy("265"));
    const args = { account_id: PAPER_ACCOUNT, preview_id: preview.preview_id };
    const cases = [
      ["o10153", "Question o10153 cannot be acknowledged: its policy is confirm, not require_approval."],
      ["o2137", "Question o2137 cannot be acknowledged: its policy is refuse, not require_approval."],
      ["x999", "Question x999 cannot be acknowledged: its policy is unknown, not require_approval."],
    ] as const;
    for (const [id, message] of cases) {
      const refusal = await refused(gateway, "ibkr_approvals_create", {
        ...args,
        acknowledged_question_ids: ["o163", id],
      });
      expect(refusal, id).toMatchObject({
        code: "INPUT_INVALID_ARGUMENT",
        message,
        details: { field: "acknowledged_question_ids", question_id: id },
      });
    }
    const approval = await ok(gateway, "ibkr_approvals_create", {
      ...args,
      acknowledged_question_ids: ["o163", "o354"],
    });
    expect(approval.acknowledged_question_ids).toEqual(["o163", "o354"]);
    expect(eventsOf(gateway, "approval_created")[0]?.metadata.acknowledged_question_ids).toEqual([
      "o163",
      "o354",
    ]);
  });

  it("refuses a preview of another account as ORDER_PREVIEW_NOT_FOUND", async () => {
    const { gateway } = await orderGateway({
      config: paperYaml({ accounts: [PAPER_ACCOUNT, SECOND_PAPER] }),
      scenario: "multi-account",
    });
    const preview = await ok(gateway, "ibkr_order_preview", limitBuy("265"));
    const refusal = await refused(gateway, "ibkr_approvals_create", {
      account_id: SECOND_PAPER,
      preview_id: preview.preview_id,
    });
    expect(refusal).toMatchObject({ code: "ORDER_PREVIEW_NOT_FOUND", details: { field: "preview_id" } });
  });
});

describe("approvals that need a person (approvals.require_human)", () => {
  const humanYaml = paperYaml({
    extra: `approvals:\n  require_human: true\noperator:\n  pin_hash: "${PIN_HASH}"\n`,
  });

  it("refuses the tool with APPROVAL_HUMAN_REQUIRED and does not list it", async () => {
    const { gateway } = await orderGateway({ config: humanYaml });
    expect(gateway.tools()).not.toContain("ibkr_approvals_create");
    expect(gateway.tools()).toContain("ibkr_paper_order_submit");
    const preview = await ok(gateway, "ibkr_order_preview", limitBuy("265"));
    const refusal = await refused(gateway, "ibkr_approvals_create", {
      account_id: PAPER_ACCOUNT,
      preview_id: preview.preview_id,
    });
    expect(refusal).toMatchObject({
      code: "APPROVAL_HUMAN_REQUIRED",
      details: { setting: "approvals.require_human" },
    });
    expect(eventsOf(gateway, "approval_created")).toEqual([]);
  });

  it("lets only an operator at an interactive terminal with the right PIN approve", async () => {
    const { gateway, sim } = await orderGateway({ config: humanYaml });
    const preview = await ok(gateway, "ibkr_order_preview", limitBuy("265"));
    const request = { accountId: PAPER_ACCOUNT, previewId: String(preview.preview_id) };
    const approvals = gateway.procedures.approvals;
    const contexts = [
      ["sdk", gateway.context()],
      ["mcp", { ...gateway.context(), frontDoor: "mcp_stdio" as const, interactive: true }],
      ["cli without a terminal", operatorContext(gateway, false)],
    ] as const;
    for (const [name, context] of contexts) {
      expect(() => approvals.operatorApprove(context, { pin: PIN }, request), name).toThrow(
        expect.objectContaining({ code: "APPROVAL_HUMAN_REQUIRED" }),
      );
    }
    const operator = operatorContext(gateway);
    expect(() => approvals.operatorApprove(operator, { pin: "135790" }, request)).toThrow(
      expect.objectContaining({ code: "OPERATOR_PIN_INVALID" }),
    );
    expect(() => approvals.operatorApprove(operator, undefined, request)).toThrow(
      expect.objectContaining({ code: "OPERATOR_PIN_INVALID" }),
    );
    // Every attempt is on record: the three from where no operator can be, then the two wrong PINs.
    expect(eventsOf(gateway, "auth_denied").map((e) => [e.result_status, e.error_code, e.metadata])).toEqual([
      ["denied_auth", "APPROVAL_HUMAN_REQUIRED", { check: "operator_terminal" }],
      ["denied_auth", "APPROVAL_HUMAN_REQUIRED", { check: "operator_terminal" }],
      ["denied_auth", "APPROVAL_HUMAN_REQUIRED", { check: "operator_terminal" }],
      ["denied_auth", "OPERATOR_PIN_INVALID", { check: "operator_pin" }],
      ["denied_auth", "OPERATOR_PIN_INVALID", { check: "operator_pin" }],
    ]);
    const { summary } = approvals.previewForApproval(PAPER_ACCOUNT, String(preview.preview_id));
    expect(summary).toBe("BUY 10 AAPL limit 265 DAY");
    const approval = approvals.operatorApprove(operator, { pin: PIN }, request);
    expect(approval).toMatchObject({ approved_by: "operator", preview_kind: "order", status: "approved" });
    expect(eventsOf(gateway, "approval_created")[0]).toMatchObject({
      tool: "ibkr_approvals_create",
      front_door: "cli",
      metadata: { approved_by: "operator", operator_verified: true },
    });
    // The agent submits with the person's approval; the submit gates are the same.
    const submit = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "human-approved"),
    );
    expect(submit.approval_id).toBe(approval.approval_id);
    expect(sim.control.count("placeOrders")).toBe(1);
    // The PIN never reaches the store.
    expect(JSON.stringify([...gateway.store.exportEvents()])).not.toContain(PIN);
    expectSafeStore(gateway);
  });

  it("locks the PIN after five wrong ones for fifteen minutes, across gateways on the same home", async () => {
    // The preview outlives the fifteen-minute lock.
    const longer = paperYaml({
      preview: "  ttl_seconds: 3600\n",
      extra: `approvals:\n  require_human: true\noperator:\n  pin_hash: "${PIN_HASH}"\n`,
    });
    const first = await orderGateway({ config: longer, sharedBroker: true });
    const preview = await ok(first.gateway, "ibkr_order_preview", limitBuy("265"));
    const request = { accountId: PAPER_ACCOUNT, previewId: String(preview.preview_id) };
    const operator = operatorContext(first.gateway);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect(() =>
        first.gateway.procedures.approvals.operatorApprove(operator, { pin: "000000" }, request),
      ).toThrow(expect.objectContaining({ code: "OPERATOR_PIN_INVALID" }));
    }
    // A second gateway (another process in real use) on the same home sees the same failures.
    const second = await orderGateway({
      config: longer,
      home: first.home,
      sim: first.sim,
      clock: first.clock,
    });
    const locked = () =>
      second.gateway.procedures.approvals.operatorApprove(
        operatorContext(second.gateway),
        { pin: PIN },
        request,
      );
    expect(locked).toThrow(
      expect.objectContaining({ code: "OPERATOR_PIN_INVALID", details: { locked: true } }),
    );
    first.clock.advance(15 * 60_000 + 1);
    expect(locked().approved_by).toBe("operator");
    expect(eventsOf(second.gateway, "auth_denied")).toHaveLength(5);
  });
});

describe("listing approvals", () => {
  it("shows each approval's state and what it would place", async () => {
    const { gateway, clock } = await orderGateway({ config: paperYaml() });
    const used = await previewAndApprove(gateway, limitBuy("265"));
    await ok(gateway, "ibkr_paper_order_submit", submitArgs(used.approval.approval_id, "list-used"));
    clock.advance(1000);
    const bracket = await previewAndApprove(gateway, BRACKET, {
      tool: "ibkr_bracket_order_preview",
      approval: { ttl_seconds: 30 },
    });
    clock.advance(1000);
    const waiting = await previewAndApprove(gateway, limitBuy("264", { quantity: "3" }));
    clock.advance(30_000);
    const listing = gateway.procedures.approvals.list({ accountId: PAPER_ACCOUNT });
    expect(listing.map((a) => [a.approval_id, a.preview_kind, a.state, a.approved_by, a.summary])).toEqual([
      [waiting.approval.approval_id, "order", "active", "agent", "BUY 3 AAPL limit 264 DAY"],
      [
        bracket.approval.approval_id,
        "bracket",
        "expired",
        "agent",
        "BUY 10 AAPL limit 265 DAY; exits: take profit limit 280, stop loss stop 255",
      ],
      [used.approval.approval_id, "order", "consumed", "agent", "BUY 10 AAPL limit 265 DAY"],
    ]);
    const outcome = await call(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(waiting.approval.approval_id, "list-wait"),
    );
    expect(outcome.ok).toBe(true);
  });
});
