// The broker's order-reply questions: which ones an order triggers, their texts (in the broker's words, as
// the gateway sends them), and the pending reply chain. A reply id is valid once; any other request that
// reaches the gateway between a question and its answer makes the reply stale (503), which is why the client
// holds the order-in-flight lock across the whole chain.
//
// A persisted simulator shares the pending replies of its profile between processes, but not the request
// counter that makes one stale: counting every read of every process would turn each read into a write. So a
// reply is judged stale by the requests of the simulator instance (process) that asked it; an answer from
// another instance is never stale.
import { randomUUID } from "node:crypto";
import type { OrderTicket } from "./orders.ts";

const TEXTS: Record<string, string> = {
  o163: 'The following order "{order}" price exceeds \nthe Percentage constraint of 3%.\nAre you sure you want to submit this order?',
  o354: "You are submitting an order without market data. We strongly recommend against this as it may result in erroneous and unexpected trades.\nAre you sure you want to submit this order?",
  o383: 'The following order "{order}" size exceeds the Size Limit of 500.\nAre you sure you want to submit this order?',
  o403: "This order will most likely trigger and fill immediately.\nAre you sure you want to submit this order?",
  o451: 'The following order "{order}" value estimate of {value} USD exceeds \nthe Total Value Limit of 100,000 USD.\nAre you sure you want to submit this order?',
  o10151:
    "Market order warning: a market order is executed at the next available price, which may be far from the last price.\nAre you sure you want to submit this order?",
  o10152:
    "Stop order warning: a stop order becomes a market order when triggered and may fill away from the stop price.\nAre you sure you want to submit this order?",
  o10153:
    "Confirm Mandatory Cap Price: to avoid trading at a price that is not consistent with a fair and orderly market, IB may set a cap on your order.\nAre you sure you want to submit this order?",
  o10331:
    "You are about to submit a stop order. Please be aware of the various stop order types available and the risks associated with each one.\nAre you sure you want to submit this order?",
  o2136: "Mixed allocation order warning.\nAre you sure you want to submit this order?",
};

export function questionText(id: string, ticket: OrderTicket, symbol: string, reference: number): string {
  const template = TEXTS[id] ?? `Order warning ${id}.\nAre you sure you want to submit this order?`;
  const px = ticket.price ?? ticket.auxPrice;
  const order = `${ticket.side} ${ticket.quantity} ${symbol} ${ticket.orderType}${px === undefined ? "" : ` @ ${px.toFixed(2)}`}`;
  const value = ((px ?? reference) * ticket.quantity).toLocaleString("en-US", { maximumFractionDigits: 0 });
  return template.replace("{order}", order).replace("{value}", value);
}

export const P12_PROMPT = {
  options: ["Use on this order", "Always use", "Do not use"],
  text: "If your order is not immediately executable, our systems may, depending on market conditions, reject your order if its limit price is more than the allowed amount away from the reference price at that time. If this happens, you will not receive a fill. This is a control designed to ensure that we comply with our regulatory obligations to avoid submitting disruptive orders to the marketplace.\nUse the Price Management Algo?",
} as const;

/** Questions a ticket raises on its own merits (the account's precautionary settings). */
export function naturalQuestions(
  ticket: OrderTicket,
  reference: number | null,
  hasMarketData: boolean,
): string[] {
  const ids: string[] = [];
  if (!hasMarketData) ids.push("o354");
  if (ticket.orderType === "MKT") ids.push("o10151");
  if (
    ticket.orderType === "STP" ||
    ticket.orderType === "STOP_LIMIT" ||
    ticket.orderType === "TRAIL" ||
    ticket.orderType === "TRAILLMT"
  ) {
    ids.push("o10331");
  }
  const px = ticket.price;
  if (
    px !== undefined &&
    reference !== null &&
    reference > 0 &&
    Math.abs(px - reference) / reference > 0.03
  ) {
    ids.push("o163");
  }
  if (ticket.quantity > 500 && ticket.parentId === undefined) ids.push("o383");
  if (reference !== null && (px ?? reference) * ticket.quantity > 100_000 && ticket.parentId === undefined) {
    ids.push("o451");
  }
  return ids;
}

export interface PendingReply {
  readonly id: string;
  /** Question rounds still to ask after this one (each round is a list of message ids). */
  readonly remaining: readonly (readonly string[])[];
  readonly action: PendingAction;
  /** Request sequence number at which the question was asked (in the asking instance). */
  readonly askedAt: number;
  readonly askedAtMs: number;
  /** The simulator instance that asked it. */
  readonly askedBy: string;
}

export type PendingAction =
  | { readonly kind: "place"; readonly accountId: string; readonly tickets: readonly OrderTicket[] }
  | {
      readonly kind: "modify";
      readonly accountId: string;
      readonly orderId: number;
      readonly ticket: OrderTicket;
    };

export interface PendingPrompt {
  readonly reqId: string;
  readonly orderId: number;
  readonly orderIds: readonly number[];
}

export interface ReplyBook {
  ask(
    action: PendingAction,
    rounds: readonly (readonly string[])[],
    sequence: number,
    now: number,
  ): PendingReply;
  take(id: string): PendingReply | undefined;
  /** Marks every pending reply stale when a request other than a reply arrives. */
  noteRequest(sequence: number, isReply: boolean): void;
  isStale(reply: PendingReply, sequence: number): boolean;
  addPrompt(prompt: PendingPrompt): void;
  takePrompt(orderId: number, reqId: string): PendingPrompt | undefined;
  /** A fresh prompt request id. */
  nextPromptId(): string;
  clear(): void;
  /** Brokerage session the pending replies belong to (they die with it). */
  epoch: number;
  exportState(): ReplyBookData;
  /** Replaces what is pending; this instance's request counting carries on. */
  importState(data: ReplyBookData): void;
}

export interface ReplyBookData {
  readonly epoch: number;
  readonly promptCounter: number;
  readonly pending: readonly PendingReply[];
  readonly prompts: readonly PendingPrompt[];
}

export function createReplyBook(instance: string, epoch = 0): ReplyBook {
  const pending = new Map<string, PendingReply>();
  const prompts = new Map<string, PendingPrompt>();
  let lastOtherRequest = 0;
  let promptCounter = 22_170;
  const book: ReplyBook = {
    epoch,
    nextPromptId() {
      promptCounter += 1;
      return String(promptCounter);
    },
    ask(action, rounds, sequence, now) {
      const reply: PendingReply = {
        id: randomUUID(),
        remaining: rounds.slice(1),
        action,
        askedAt: sequence,
        askedAtMs: now,
        askedBy: instance,
      };
      pending.set(reply.id, reply);
      return reply;
    },
    take(id) {
      const reply = pending.get(id);
      pending.delete(id);
      return reply;
    },
    noteRequest(sequence, isReply) {
      if (!isReply) lastOtherRequest = sequence;
    },
    isStale: (reply, sequence) =>
      reply.askedBy === instance && lastOtherRequest > reply.askedAt && lastOtherRequest < sequence,
    addPrompt(prompt) {
      prompts.set(`${prompt.orderId}:${prompt.reqId}`, prompt);
    },
    takePrompt(orderId, reqId) {
      const key = `${orderId}:${reqId}`;
      const prompt = prompts.get(key);
      prompts.delete(key);
      return prompt;
    },
    clear() {
      pending.clear();
      prompts.clear();
    },
    exportState() {
      return {
        epoch: book.epoch,
        promptCounter,
        pending: [...pending.values()],
        prompts: [...prompts.values()],
      };
    },
    importState(data) {
      book.epoch = data.epoch;
      promptCounter = data.promptCounter;
      pending.clear();
      for (const reply of data.pending) pending.set(reply.id, reply);
      prompts.clear();
      for (const prompt of data.prompts) prompts.set(`${prompt.orderId}:${prompt.reqId}`, prompt);
    },
  };
  return book;
}
