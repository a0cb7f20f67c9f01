// Order endpoints. Every order write answers HTTP 200 with one of four shapes - a success list, a question
// to confirm, an error object, or the p12 prompt - and never a 4xx for a business refusal. Questions are
// walked through /iserver/reply/{id} one round at a time; a reply that other requests overtook is stale
// (503). Cancels are only "submitted"; unknown ids answer 200 with an error; order status answers 503 for
// orders of an earlier brokerage session; the first order list and trade list of a session are empty.
import { instrumentByConid } from "../instruments.ts";
import { addDays, fromNewYork, newYorkTime } from "../market-time.ts";
import type { OrderTicket, OrderType, SimOrder, TimeInForce } from "../orders.ts";
import { TERMINAL } from "../orders.ts";
import { naturalQuestions, P12_PROMPT, type PendingAction, questionText } from "../questions.ts";
import type { SimulatorState } from "../state.ts";
import { round2, valueAccount } from "../valuation.ts";
import { grouped, money } from "../wire/format.ts";
import { liveOrder, orderStatusBody, tradeRow } from "../wire/orders.ts";
import {
  badRequest,
  fail,
  integerParam,
  ok,
  type Route,
  type SimRequest,
  type SimResponse,
} from "./types.ts";

const ORDER_TYPES: ReadonlySet<string> = new Set([
  "LMT",
  "MKT",
  "STP",
  "STOP_LIMIT",
  "MIDPRICE",
  "TRAIL",
  "TRAILLMT",
]);
const TIFS: ReadonlySet<string> = new Set(["DAY", "GTC", "IOC", "OPG", "PAX"]);
const TICKET_FIELDS: ReadonlySet<string> = new Set([
  "acctId",
  "conid",
  "conidex",
  "secType",
  "cOID",
  "parentId",
  "orderType",
  "listingExchange",
  "isSingleGroup",
  "outsideRTH",
  "price",
  "auxPrice",
  "side",
  "ticker",
  "referrer",
  "tif",
  "trailingAmt",
  "trailingType",
  "quantity",
  "cashQty",
  "useAdaptive",
  "isCcyConv",
  "allOrNone",
  "allocationMethod",
  "strategy",
  "strategyParameters",
  "manualIndicator",
  "extOperator",
  "taxOptimizerId",
]);
const MAX_COID = 64;

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

function parseTicket(raw: unknown, index: number): Parsed<OrderTicket> {
  const where = `orders[${index}]`;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return { ok: false, problem: `${where} is not an object` };
  const t = raw as Record<string, unknown>;
  for (const key of Object.keys(t)) {
    if (!TICKET_FIELDS.has(key)) return { ok: false, problem: `${where}.${key} is not an order field` };
  }
  let conid = t.conid;
  if (conid === undefined && typeof t.conidex === "string") conid = Number(t.conidex.split("@")[0]);
  if (typeof conid !== "number" || !Number.isInteger(conid))
    return { ok: false, problem: `${where}.conid must be an integer` };
  const side = typeof t.side === "string" ? t.side.toUpperCase() : "";
  if (side !== "BUY" && side !== "SELL") return { ok: false, problem: `${where}.side must be BUY or SELL` };
  if (typeof t.orderType !== "string" || !ORDER_TYPES.has(t.orderType)) {
    return { ok: false, problem: `${where}.orderType is not valid` };
  }
  if (typeof t.tif !== "string" || !TIFS.has(t.tif))
    return { ok: false, problem: `${where}.tif is not valid` };
  if (typeof t.quantity !== "number" || !Number.isFinite(t.quantity)) {
    return { ok: false, problem: `${where}.quantity must be a number` };
  }
  for (const key of ["price", "auxPrice", "trailingAmt"] as const) {
    if (t[key] !== undefined && (typeof t[key] !== "number" || !Number.isFinite(t[key]))) {
      return { ok: false, problem: `${where}.${key} must be a number` };
    }
  }
  for (const key of ["cOID", "parentId", "acctId"] as const) {
    if (t[key] !== undefined && (typeof t[key] !== "string" || (t[key] as string).length > MAX_COID)) {
      return { ok: false, problem: `${where}.${key} must be a short string` };
    }
  }
  if (t.trailingType !== undefined && t.trailingType !== "amt" && t.trailingType !== "%") {
    return { ok: false, problem: `${where}.trailingType must be amt or %` };
  }
  return {
    ok: true,
    value: {
      conid,
      side,
      orderType: t.orderType as OrderType,
      quantity: t.quantity,
      tif: t.tif as TimeInForce,
      price: t.price as number | undefined,
      auxPrice: t.auxPrice as number | undefined,
      trailingAmt: t.trailingAmt as number | undefined,
      trailingType: t.trailingType as "amt" | "%" | undefined,
      outsideRTH: t.outsideRTH === true,
      cOID: t.cOID as string | undefined,
      parentId: t.parentId as string | undefined,
      acctId: t.acctId as string | undefined,
      isSingleGroup: t.isSingleGroup === true,
      listingExchange: t.listingExchange as string | undefined,
      ticker: t.ticker as string | undefined,
      secType: t.secType as string | undefined,
      referrer: t.referrer as string | undefined,
      useAdaptive: t.useAdaptive === true,
      allOrNone: t.allOrNone === true,
    },
  };
}

function parseSubmission(body: unknown): Parsed<OrderTicket[]> {
  // Real clients wrap the tickets in {"orders": [...]}; one example in IBKR's guide sends a bare array.
  const list = Array.isArray(body) ? body : (body as { orders?: unknown } | null)?.orders;
  if (!Array.isArray(list) || list.length === 0)
    return { ok: false, problem: "orders must be a non-empty array" };
  const tickets: OrderTicket[] = [];
  for (const [i, raw] of list.entries()) {
    const parsed = parseTicket(raw, i);
    if (!parsed.ok) return parsed;
    tickets.push(parsed.value);
  }
  return { ok: true, value: tickets };
}

function referenceOf(state: SimulatorState, ticket: OrderTicket, now: number): number | null {
  const instrument = instrumentByConid(ticket.conid);
  return instrument === undefined ? null : state.book(instrument, now).last;
}

/** Question rounds for tickets: queued by a test, forced by the scenario, then the natural ones. */
function questionRounds(state: SimulatorState, tickets: readonly OrderTicket[], now: number): string[][] {
  const rounds: string[][] = [];
  const queued = state.queuedQuestions.shift();
  if (queued !== undefined) rounds.push(...queued.map((id) => [id]));
  rounds.push(...state.scenario.forcedQuestions.map((round) => [...round]));
  const hasData = state.marketData !== "none";
  for (const ticket of tickets) {
    for (const id of naturalQuestions(ticket, referenceOf(state, ticket, now), hasData)) {
      if (!rounds.some((round) => round.includes(id))) rounds.push([id]);
    }
  }
  const suppressed = state.suppressed;
  return rounds.filter((round) => !round.every((id) => suppressed.has(id)));
}

function questionAnswer(
  state: SimulatorState,
  action: PendingAction,
  rounds: string[][],
  request: SimRequest,
): SimResponse {
  const next = rounds[0] as string[];
  if (next.length === 1 && next[0] === "p12") return execute(state, action, rounds, request);
  const reply = state.replies.ask(action, rounds, request.sequence, request.now);
  const ticket = action.kind === "place" ? (action.tickets[0] as OrderTicket) : action.ticket;
  const instrument = instrumentByConid(ticket.conid);
  const symbol =
    instrument === undefined
      ? String(ticket.conid)
      : instrument.kind === "stock"
        ? instrument.symbol
        : instrument.underlying.symbol;
  const reference = referenceOf(state, ticket, request.now) ?? 0;
  return ok([
    {
      id: reply.id,
      message: next.map((id) => questionText(id, ticket, symbol, reference)),
      isSuppressed: false,
      messageIds: next,
    },
  ]);
}

/** Runs the action once every question is confirmed; a remaining p12 round turns into the prompt. */
function execute(
  state: SimulatorState,
  action: PendingAction,
  rounds: readonly (readonly string[])[],
  request: SimRequest,
): SimResponse {
  const prompt = rounds.some((round) => round.includes("p12"));
  if (action.kind === "place") {
    const error = state.orders.validate(action.accountId, action.tickets, request.now);
    if (error !== null) return ok({ error });
    const placed = state.orders.place(action.accountId, action.tickets, request.now, prompt);
    if (prompt) return promptFor(state, placed);
    return ok(
      placed.map((order) => ({
        order_id: String(order.orderId),
        order_status: order.status,
        encrypt_message: "1",
      })),
    );
  }
  const order = state.orders.get(action.orderId);
  if (order === undefined) return ok({ error: `OrderID ${action.orderId} doesn't exist` });
  const error = state.orders.validateModify(order, action.ticket);
  if (error !== null) return ok({ error });
  state.orders.modify(order, action.ticket, request.now);
  return ok([{ order_id: String(order.orderId), order_status: order.status, encrypt_message: "1" }]);
}

function promptFor(state: SimulatorState, placed: SimOrder[]): SimResponse {
  const first = placed[0] as SimOrder;
  const reqId = state.replies.nextPromptId();
  state.replies.addPrompt({ reqId, orderId: first.orderId, orderIds: placed.map((o) => o.orderId) });
  return ok({
    dismissable: [],
    messageId: "p12",
    options: [...P12_PROMPT.options],
    orderId: first.orderId,
    prompt: true,
    reqId,
    text: P12_PROMPT.text,
    type: "M",
  });
}

const placeOrders: Route = (request, state) => {
  const parsed = parseSubmission(request.body);
  if (!parsed.ok) return badRequest(parsed.problem);
  const accountId = request.params.accountId ?? "";
  const error = state.orders.validate(accountId, parsed.value, request.now);
  if (error !== null) {
    return error.startsWith("Bad Request") ? fail(400, error, true) : ok({ error });
  }
  const action: PendingAction = { kind: "place", accountId, tickets: parsed.value };
  const rounds = questionRounds(state, parsed.value, request.now);
  if (rounds.length === 0) return execute(state, action, [], request);
  return questionAnswer(state, action, rounds, request);
};

const replyToQuestion: Route = (request, state) => {
  const replyId = request.params.replyId ?? "";
  const reply = state.replies.take(replyId);
  if (reply === undefined) return ok({ error: `reply id not found: '${replyId}'` });
  if (state.replies.isStale(reply, request.sequence)) {
    return fail(503, "Timeout: the order reply expired because other requests were made in between", true);
  }
  const confirmed = (request.body as { confirmed?: unknown } | null)?.confirmed;
  if (confirmed !== true) return ok({ error: "Order not confirmed " });
  const remaining = reply.remaining.map((round) => [...round]);
  if (remaining.length > 0) return questionAnswer(state, reply.action, remaining, request);
  return execute(state, reply.action, [], request);
};

const answerNotification: Route = (request, state) => {
  const body = (request.body ?? {}) as { orderId?: unknown; reqId?: unknown; text?: unknown };
  if (typeof body.orderId !== "number" || typeof body.reqId !== "string" || typeof body.text !== "string") {
    return badRequest("orderId, reqId and text needed");
  }
  const prompt = state.replies.takePrompt(body.orderId, body.reqId);
  if (prompt === undefined) return fail(500, "unknown notification");
  if (!(P12_PROMPT.options as readonly string[]).includes(body.text))
    return badRequest("text is not one of the options");
  const orders = prompt.orderIds.map((id) => state.orders.get(id)).filter((o) => o !== undefined);
  state.orders.releasePrompt(orders, request.now);
  return { status: 200, text: "Request was submitted" };
};

function ownOrder(request: SimRequest, state: SimulatorState): SimOrder | undefined {
  const id = integerParam(request.params.orderId);
  const order = id === null ? undefined : state.orders.get(id);
  return order !== undefined && order.accountId === request.params.accountId ? order : undefined;
}

const modifyOrder: Route = (request, state) => {
  const order = ownOrder(request, state);
  if (order === undefined) return ok({ error: `OrderID ${request.params.orderId} doesn't exist` });
  // Modify takes one full order object, not an array and not wrapped.
  if (Array.isArray(request.body) || (request.body as { orders?: unknown } | null)?.orders !== undefined) {
    return badRequest("modify takes a single order object");
  }
  const parsed = parseTicket(request.body, 0);
  if (!parsed.ok) return badRequest(parsed.problem.replace("orders[0]", "order"));
  const error = state.orders.validateModify(order, parsed.value);
  if (error !== null) return ok({ error });
  const action: PendingAction = {
    kind: "modify",
    accountId: order.accountId,
    orderId: order.orderId,
    ticket: parsed.value,
  };
  const rounds = questionRounds(state, [parsed.value], request.now).filter((round) => !round.includes("p12"));
  if (rounds.length === 0) return execute(state, action, [], request);
  return questionAnswer(state, action, rounds, request);
};

const cancelOrder: Route = (request, state) => {
  const order = ownOrder(request, state);
  if (order === undefined) return ok({ error: `OrderID ${request.params.orderId} doesn't exist` });
  state.orders.cancel(order, request.now);
  // "Submitted" means received: the order is cancelled an instant later, and only then shows Cancelled.
  return ok({
    msg: "Request was submitted",
    order_id: order.orderId,
    conid: order.instrument.conid,
    account: order.accountId,
  });
};

const STATUS_FILTERS: Record<string, string> = {
  inactive: "Inactive",
  pending_submit: "PendingSubmit",
  pre_submitted: "PreSubmitted",
  submitted: "Submitted",
  filled: "Filled",
  pending_cancel: "PendingCancel",
  pre_cancelled: "PendingCancel",
  cancelled: "Cancelled",
  warn_state: "WarnState",
};

const getLiveOrders: Route = (request, state) => {
  const epoch = state.epochState;
  const cold = !state.warmUp.liveOrders;
  state.warmUp.liveOrders = true;
  // The first call of a session can be empty even when orders exist; force=true clears the cache and
  // answers an empty list by design.
  if (cold || request.query.get("force") === "true") return ok({ orders: [], snapshot: false });
  const account = request.query.get("accountId") ?? state.selectedAccount;
  const filters = (request.query.get("filters") ?? "")
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f !== "");
  const wanted = new Set(filters.map((f) => STATUS_FILTERS[f]).filter((s) => s !== undefined));
  const list = state.orders
    .forAccount(account)
    // Only the current brokerage session's orders show, plus GTC orders still working from earlier ones.
    .filter((o) => o.epoch === epoch.epoch || (!TERMINAL.has(o.status) && o.ticket.tif === "GTC"))
    .filter((o) => wanted.size === 0 || wanted.has(o.status))
    .sort(
      (a, b) =>
        (b.lastExecutionAt ?? b.updatedAt) - (a.lastExecutionAt ?? a.updatedAt) || b.orderId - a.orderId,
    );
  return ok({ orders: list.map(liveOrder), snapshot: true });
};

const getOrderStatus: Route = (request, state) => {
  const id = integerParam(request.params.orderId);
  const order = id === null ? undefined : state.orders.get(id);
  if (order === undefined || order.epoch !== state.epochState.epoch) {
    return fail(
      503,
      "Details currently unavailable. Please try again later and contact client services if the issue persists.",
      true,
    );
  }
  return ok(orderStatusBody(order));
};

const getTrades: Route = (request, state) => {
  const cold = !state.warmUp.trades;
  state.warmUp.trades = true;
  const daysText = request.query.get("days");
  const days = daysText === null ? 1 : integerParam(daysText);
  if (days === null || days < 1 || days > 7) return badRequest("days must be 1-7");
  // Cold read: the first trade list of a session comes back empty.
  if (cold) return ok([]);
  const today = newYorkTime(request.now).date;
  const from = fromNewYork(addDays(today, -(days - 1)), 0);
  const account = state.accounts.get(state.selectedAccount);
  const rows = (account?.executions ?? [])
    .filter((e) => e.at >= from && e.at <= request.now)
    .sort((a, b) => b.at - a.at)
    .map((e) => {
      const instrument = instrumentByConid(e.conid);
      return instrument === undefined ? null : tradeRow(e, instrument);
    })
    .filter((row) => row !== null);
  return ok(rows);
};

const whatIfOrder: Route = (request, state) => {
  const parsed = parseSubmission(request.body);
  if (!parsed.ok) return badRequest(parsed.problem);
  const accountId = request.params.accountId ?? "";
  const error = state.orders.validate(accountId, parsed.value, request.now);
  if (error !== null) return error.startsWith("Bad Request") ? fail(400, error, true) : ok({ error });
  const account = state.accounts.get(accountId);
  if (account === undefined) return badRequest("accountId is not valid");
  const ticket = parsed.value.find((t) => t.parentId === undefined) ?? (parsed.value[0] as OrderTicket);
  const instrument = instrumentByConid(ticket.conid);
  if (instrument === undefined) return ok({ error: `Invalid contract id: ${ticket.conid}` });
  const book = state.book(instrument, request.now);
  const px = ticket.price ?? ticket.auxPrice ?? (ticket.side === "BUY" ? book.ask : book.bid);
  const multiplier = instrument.kind === "option" ? 100 : 1;
  const amount = px * ticket.quantity * multiplier;
  const commission =
    instrument.kind === "option"
      ? Math.max(1, ticket.quantity * 0.65)
      : Math.max(1, Math.min(ticket.quantity * 0.005, amount * 0.01));
  const v = valueAccount(state, account, request.now);
  const held = account.positions.get(instrument.conid)?.quantity ?? 0;
  const signed = ticket.side === "BUY" ? ticket.quantity : -ticket.quantity;
  const marginChange = (Math.abs(held + signed) - Math.abs(held)) * px * multiplier;
  const whole = (n: number) => grouped(Math.round(n));
  const unit = instrument.kind === "option" ? "Contracts" : "Shares";
  return ok({
    amount: {
      amount: `${money(amount)} (${grouped(ticket.quantity, Number.isInteger(ticket.quantity) ? 0 : 4)} ${unit})`,
      commission: `${round2(commission)} USD`,
      total: money(amount + commission),
    },
    equity: {
      current: whole(v.netLiquidation),
      change: whole(-commission),
      after: whole(v.netLiquidation - commission),
    },
    initial: {
      current: whole(v.initMargin),
      change: whole(marginChange * 0.3),
      after: whole(v.initMargin + marginChange * 0.3),
    },
    maintenance: {
      current: whole(v.maintMargin),
      change: whole(marginChange * 0.25),
      after: whole(v.maintMargin + marginChange * 0.25),
    },
    position: { current: String(held), change: String(signed), after: String(held + signed) },
    warn:
      state.marketData === "none"
        ? "21/You are trying to submit an order without having market data for this instrument. \nIB strongly recommends against this kind of blind trading which may result in \nerroneous or unexpected trades."
        : null,
    error: null,
  });
};

const suppressQuestions: Route = (request, state) => {
  const ids = (request.body as { messageIds?: unknown } | null)?.messageIds;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > 51 ||
    !ids.every((id) => typeof id === "string")
  ) {
    return badRequest("messageIds must list 1-51 question ids");
  }
  for (const id of ids) state.suppressed.add(id);
  return ok({ status: "submitted" });
};

const resetSuppressedQuestions: Route = (_request, state) => {
  state.suppressed.clear();
  return ok({ status: "submitted" });
};

export const ORDER_ROUTES = {
  placeOrders,
  replyToQuestion,
  answerNotification,
  modifyOrder,
  cancelOrder,
  getLiveOrders,
  getOrderStatus,
  getTrades,
  whatIfOrder,
  suppressQuestions,
  resetSuppressedQuestions,
} satisfies Record<string, Route>;
