// The order reply chain. An order POST answers with a success list, a question, an error object or a p12
// prompt; questions are answered only as contracts/questions.yaml says (confirm, refuse, or require a
// person's approval), unknown question ids are refused, and the number of rounds is bounded. The question
// text is broker text: it travels in details marked untrusted and is never followed.
import { CPAPI_OPERATIONS, type CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";
import { QUESTION_POLICIES, type QuestionPolicy, questionPolicy } from "../../generated/questions.gen.ts";
import { GatewayError, isGatewayError } from "../core/gateway-error.ts";
import { errorOnlyMessage } from "./errors.ts";
import type { ClientReply, ClientTransport } from "./transport.ts";

export const DEFAULT_MAX_REPLY_ROUNDS = 5;

/** One question round, in the shape the audit event order_question_answered records. */
export interface AnsweredQuestion {
  readonly round: number;
  readonly kind: "question" | "prompt";
  /** The broker's reply id (POST /iserver/reply/{id}), or the prompt's reqId. */
  readonly replyId: string;
  /** The messageIds the broker sent (o354, p12, ...); empty when missing, which counts as unknown. */
  readonly questionIds: readonly string[];
  /** Policy per id, in the same order; "unknown" for ids the contract does not list. */
  readonly policies: readonly (QuestionPolicy | "unknown")[];
  /** "confirmed", "declined", or the option sent for a prompt (e.g. "Do not use"). */
  readonly answer: string;
  /** The broker's question text, untrusted: data to show, never instructions to follow. */
  readonly text: string;
  readonly untrusted: true;
}

export interface PlacedOrder {
  readonly orderId: string;
  /** Status the broker reported, or null when a prompt answer acknowledged the order without one. */
  readonly status: string | null;
}

export interface ReplyChainResult {
  readonly orders: readonly PlacedOrder[];
  /** The final success body (the success list, or the notification acknowledgement after a prompt). */
  readonly body: unknown;
  readonly answered: readonly AnsweredQuestion[];
  readonly simulated: boolean;
}

export interface ReplyChainOptions {
  /** Question ids a person acknowledged in the approval; only these require_approval questions are confirmed. */
  readonly approvedQuestions?: Iterable<string>;
  readonly maxRounds?: number;
  /** Called after every round, answered or refused (for the audit). */
  readonly onRound?: (round: AnsweredQuestion) => void;
  readonly lockToken?: string | null;
  readonly signal?: AbortSignal;
}

interface Question {
  readonly id: string;
  readonly message: readonly string[];
  readonly messageIds: readonly string[];
}

interface Prompt {
  readonly messageId: string;
  readonly options: readonly string[];
  readonly orderId: number;
  readonly reqId: string;
  readonly text: string;
}

function questionOf(body: unknown): Question | null {
  if (!Array.isArray(body)) return null;
  for (const item of body) {
    if (item !== null && typeof item === "object" && typeof (item as { id?: unknown }).id === "string") {
      const q = item as { id: string; message?: unknown; messageIds?: unknown };
      return {
        id: q.id,
        message: Array.isArray(q.message) ? q.message.map(String) : [],
        messageIds: Array.isArray(q.messageIds) ? q.messageIds.map(String) : [],
      };
    }
  }
  return null;
}

function successOf(body: unknown): PlacedOrder[] | null {
  if (!Array.isArray(body) || body.length === 0) return null;
  const orders: PlacedOrder[] = [];
  for (const item of body) {
    const record = item as { order_id?: unknown; order_status?: unknown } | null;
    if (record === null || typeof record !== "object") return null;
    if (typeof record.order_id !== "string" && typeof record.order_id !== "number") return null;
    orders.push({
      orderId: String(record.order_id),
      status: typeof record.order_status === "string" ? record.order_status : null,
    });
  }
  return orders;
}

function promptOf(body: unknown): Prompt | null {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return null;
  const p = body as Record<string, unknown>;
  if (typeof p.messageId !== "string" || !Array.isArray(p.options) || typeof p.reqId !== "string")
    return null;
  if (typeof p.orderId !== "number") return null;
  return {
    messageId: p.messageId,
    options: p.options.map(String),
    orderId: p.orderId,
    reqId: p.reqId,
    text: typeof p.text === "string" ? p.text : "",
  };
}

function policyOf(id: string): QuestionPolicy | "unknown" {
  return Object.hasOwn(QUESTION_POLICIES, id) ? questionPolicy(id) : "unknown";
}

/**
 * Walks the reply chain that `first` starts (placeOrders or modifyOrder) and returns the broker's final
 * success, or throws BROKER_ORDER_REJECTED, ORDER_NOT_FOUND, BROKER_QUESTION_UNAPPROVED or
 * ORDER_OUTCOME_UNCERTAIN. Run it under the order-in-flight lock.
 */
export async function walkReplyChain(
  transport: ClientTransport,
  operation: CpapiOperationSpec,
  first: () => Promise<ClientReply<unknown>>,
  options: ReplyChainOptions = {},
): Promise<ReplyChainResult> {
  const approved = new Set(options.approvedQuestions ?? []);
  const maxRounds = options.maxRounds ?? DEFAULT_MAX_REPLY_ROUNDS;
  const callOptions = { lockToken: options.lockToken ?? null, signal: options.signal };
  const answered: AnsweredQuestion[] = [];
  const note = (round: AnsweredQuestion) => {
    answered.push(round);
    options.onRound?.(round);
  };
  const reply = (replyId: string, confirmed: boolean) =>
    transport.call<unknown>(
      CPAPI_OPERATIONS.replyToQuestion,
      { path: { replyId }, body: { confirmed } },
      callOptions,
    );

  let current = await first();
  let answering = operation;
  for (let round = 1; ; round += 1) {
    const body = current.body;
    const orders = successOf(body);
    if (orders !== null) return { orders, body, answered, simulated: current.simulated };

    const rejection = errorOnlyMessage(body);
    if (rejection !== null) {
      const details = {
        operation_id: answering.operationId,
        broker_message: rejection.slice(0, 1_000),
        untrusted_fields: ["broker_message"],
        answered,
      };
      if (answering.operationId === "modifyOrder" && /doesn'?t exist|does not exist/i.test(rejection)) {
        throw new GatewayError("ORDER_NOT_FOUND", { details });
      }
      throw new GatewayError("BROKER_ORDER_REJECTED", { details });
    }

    const question = questionOf(body);
    const prompt = question === null ? promptOf(body) : null;
    if (question === null && prompt === null) {
      // The contract admitted the body, but it is none of the four shapes: the order may or may not exist.
      throw new GatewayError("ORDER_OUTCOME_UNCERTAIN", {
        details: { operation_id: answering.operationId, reason: "unrecognised_answer", answered },
      });
    }

    if (question !== null) {
      const ids = question.messageIds;
      const policies = ids.map(policyOf);
      const acceptable =
        ids.length > 0 &&
        round <= maxRounds &&
        ids.every(
          (id, i) => policies[i] === "confirm" || (policies[i] === "require_approval" && approved.has(id)),
        );
      const text = question.message.join("\n");
      const base = {
        round,
        kind: "question",
        replyId: question.id,
        questionIds: ids,
        policies,
        text,
      } as const;
      if (acceptable) {
        note({ ...base, answer: "confirmed", untrusted: true });
        answering = CPAPI_OPERATIONS.replyToQuestion;
        current = await reply(question.id, true);
        continue;
      }
      note({ ...base, answer: "declined", untrusted: true });
      // Discard the order explicitly, so nothing is left waiting at the broker for an answer.
      let discarded = true;
      try {
        await reply(question.id, false);
      } catch (error) {
        discarded = false;
        void error;
      }
      if (round > maxRounds) {
        throw new GatewayError("BROKER_RESPONSE_INVALID", {
          message: `The broker asked more than ${maxRounds} questions about this order; it was not sent.`,
          retryable: false,
          details: { operation_id: operation.operationId, reason: "too_many_rounds", answered, discarded },
        });
      }
      throw new GatewayError("BROKER_QUESTION_UNAPPROVED", {
        details: {
          reply_id: question.id,
          question_ids: ids,
          policies,
          question_text: text.slice(0, 2_000),
          untrusted_fields: ["question_text"],
          answered,
          discarded,
        },
      });
    }

    const p = prompt as Prompt;
    const policy = policyOf(p.messageId);
    const answer = Object.hasOwn(QUESTION_POLICIES, p.messageId)
      ? QUESTION_POLICIES[p.messageId as keyof typeof QUESTION_POLICIES].answer
      : null;
    const allowed =
      round <= maxRounds &&
      (policy === "confirm" || (policy === "require_approval" && approved.has(p.messageId))) &&
      answer !== null &&
      p.options.includes(answer);
    const base = {
      round,
      kind: "prompt",
      replyId: p.reqId,
      questionIds: [p.messageId],
      policies: [policy],
      text: p.text,
    } as const;
    if (!allowed) {
      note({ ...base, answer: "declined", untrusted: true });
      throw new GatewayError("BROKER_QUESTION_UNAPPROVED", {
        details: {
          reply_id: p.reqId,
          question_ids: [p.messageId],
          policies: [policy],
          question_text: p.text.slice(0, 2_000),
          untrusted_fields: ["question_text"],
          // The prompt names an order the broker holds until someone answers; check it before retrying.
          broker_order_id: String(p.orderId),
          answered,
          discarded: false,
        },
      });
    }
    note({ ...base, answer: answer as string, untrusted: true });
    try {
      const ack = await transport.call<unknown>(
        CPAPI_OPERATIONS.answerNotification,
        { body: { orderId: p.orderId, reqId: p.reqId, text: answer } },
        callOptions,
      );
      return {
        orders: [{ orderId: String(p.orderId), status: null }],
        body: ack.body,
        answered,
        simulated: ack.simulated,
      };
    } catch (error) {
      if (isGatewayError(error) && error.code !== "ORDER_OUTCOME_UNCERTAIN") {
        // The order exists at the broker (the prompt named it) but our answer did not land.
        throw new GatewayError("ORDER_OUTCOME_UNCERTAIN", {
          details: {
            operation_id: "answerNotification",
            broker_order_id: String(p.orderId),
            cause_code: error.code,
          },
        });
      }
      throw error;
    }
  }
}
