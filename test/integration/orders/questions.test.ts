// Broker reply questions on a submit, answered only per contracts/questions.yaml and audited round by round:
// confirm questions are answered automatically, refuse questions stop the order with the question text,
// require_approval questions need an approval that acknowledges them, and unknown ids are refused.
import { afterEach, describe, expect, it } from "vitest";
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
  refused,
  submitArgs,
} from "./harness.ts";

afterEach(closeGateways);

describe("reply questions", () => {
  it("with the confirm policy are answered automatically, each round audited", async () => {
    // The questions scenario asks every order o10153, then o10152, then the p12 prompt.
    const { gateway, sim } = await orderGateway({ config: paperYaml(), scenario: "questions" });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    const submit = await ok(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "confirmed-1"),
    );
    expect(
      (submit.answered_questions as { question_id: string; answer: string }[]).map((q) => [
        q.question_id,
        q.answer,
      ]),
    ).toEqual([
      ["o10153", "confirmed"],
      ["o10152", "confirmed"],
      ["p12", "Do not use"],
    ]);
    expect(
      eventsOf(gateway, "order_question_answered").map((e) => [
        e.decision,
        e.metadata.message_ids,
        e.metadata.policies,
        e.metadata.answer,
      ]),
    ).toEqual([
      ["allow", ["o10153"], ["confirm"], "confirmed_true"],
      ["allow", ["o10152"], ["confirm"], "confirmed_true"],
      ["allow", ["p12"], ["confirm"], "Do not use"],
    ]);
    expect(eventsOf(gateway, "order_submitted")[0]?.metadata.reply_rounds).toBe(3);
    expect(sim.control.count("replyToQuestion")).toBe(2);
    expect(sim.control.count("answerNotification")).toBe(1);
    expect(sim.state.orders.all()).toHaveLength(1);
    expectSafeStore(gateway);
  });

  it("with the refuse policy stop the order with BROKER_QUESTION_UNAPPROVED and the question text", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    sim.control.queueQuestions(["o2137"]);
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "refuse-1"),
    );
    expect(refusal.code).toBe("BROKER_QUESTION_UNAPPROVED");
    expect(refusal.details).toMatchObject({
      question_ids: ["o2137"],
      policies: ["refuse"],
      untrusted_fields: ["question_text"],
      discarded: true,
    });
    expect(String(refusal.details.question_text)).toMatch(/\S/);
    const [answered] = eventsOf(gateway, "order_question_answered");
    expect(answered).toMatchObject({
      decision: "refuse",
      result_status: "refused",
      error_code: "BROKER_QUESTION_UNAPPROVED",
      metadata: { message_ids: ["o2137"], policies: ["refuse"], answer: "confirmed_false" },
    });
    expect(sim.state.orders.all().filter((o) => o.status !== "Cancelled")).toEqual([]);
    // An acknowledgement can never unlock a refuse question.
    const ack = await refused(gateway, "ibkr_approvals_create", {
      account_id: PAPER_ACCOUNT,
      preview_id: approval.preview_id,
      acknowledged_question_ids: ["o2137"],
    });
    expect(ack.code).toBe("INPUT_INVALID_ARGUMENT");
  });

  it("with an unknown id are refused like refuse questions", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { approval } = await previewAndApprove(gateway, limitBuy("265"));
    sim.control.queueQuestions(["o99999"]);
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "unknown-1"),
    );
    expect(refusal).toMatchObject({
      code: "BROKER_QUESTION_UNAPPROVED",
      details: { question_ids: ["o99999"], policies: ["unknown"] },
    });
    expect(eventsOf(gateway, "order_question_answered")[0]?.metadata).toMatchObject({
      policies: ["unknown"],
      answer: "confirmed_false",
    });
  });

  it("with require_approval are refused without an acknowledgement and confirmed with a fresh approval that has it", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const { preview, approval } = await previewAndApprove(gateway, limitBuy("265"));
    sim.control.queueQuestions(["o163"]);
    const refusal = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "needs-ack-1"),
    );
    expect(refusal).toMatchObject({
      code: "BROKER_QUESTION_UNAPPROVED",
      details: { question_ids: ["o163"], policies: ["require_approval"] },
    });
    // A person read the question: a fresh approval of the same preview acknowledges it.
    const fresh = await ok(gateway, "ibkr_approvals_create", {
      account_id: PAPER_ACCOUNT,
      preview_id: preview.preview_id,
      acknowledged_question_ids: ["o163"],
    });
    expect(eventsOf(gateway, "approval_revoked")[0]?.metadata).toMatchObject({
      approval_id: approval.approval_id,
      revoked_by: "system",
    });
    const stale = await refused(
      gateway,
      "ibkr_paper_order_submit",
      submitArgs(approval.approval_id, "needs-ack-2"),
    );
    expect(stale.code).toBe("APPROVAL_REVOKED");
    sim.control.queueQuestions(["o163"]);
    const submit = await ok(gateway, "ibkr_paper_order_submit", submitArgs(fresh.approval_id, "needs-ack-3"));
    expect(
      (submit.answered_questions as { question_id: string; answer: string }[]).map((q) => [
        q.question_id,
        q.answer,
      ]),
    ).toEqual([["o163", "confirmed"]]);
    expect(
      eventsOf(gateway, "order_question_answered").map((e) => [e.decision, e.metadata.approval_id]),
    ).toEqual([
      ["refuse", approval.approval_id],
      ["allow", fresh.approval_id],
    ]);
    expect(sim.state.orders.all().filter((o) => o.status !== "Cancelled")).toHaveLength(1);
    expectSafeStore(gateway);
  });
});
