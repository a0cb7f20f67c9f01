// The order engine: working orders, fills against the deterministic quotes, and the lifecycle rules the
// real API shows - stop orders held as PreSubmitted until they trigger, DAY orders cancelled at the close,
// IOC remainders cancelled, partial fills limited by per-minute liquidity, brackets whose children wait for
// their parent and then cancel or reduce each other (OCA), cancels that are only "submitted" until the next
// instant. Time moves only through advance(now), so a test that advances a virtual clock sees every fill
// that would have happened in between.
import { type AccountSeed, applyFill, commissionFor, type SimAccount } from "./accounts.ts";
import { type Instrument, instrumentByConid } from "./instruments.ts";
import {
  addDays,
  fromNewYork,
  isTradingDay,
  nextSessionAt,
  postClose,
  REGULAR_OPEN,
  regularClose,
  sessionPhase,
} from "./market-time.ts";
import type { PriceModel } from "./prices.ts";
import { currentTradingDay, type TopOfBook } from "./quotes.ts";
import { intBetween } from "./random.ts";

export type OrderType = "LMT" | "MKT" | "STP" | "STOP_LIMIT" | "MIDPRICE" | "TRAIL" | "TRAILLMT";
export type TimeInForce = "DAY" | "GTC" | "IOC" | "OPG" | "PAX";
export type OrderStatus =
  | "PreSubmitted"
  | "Submitted"
  | "Filled"
  | "PendingCancel"
  | "Cancelled"
  | "Inactive";

/** One order ticket as the wire carries it (OrderRequest of the contract). */
export interface OrderTicket {
  readonly conid: number;
  readonly side: "BUY" | "SELL";
  readonly orderType: OrderType;
  readonly quantity: number;
  readonly tif: TimeInForce;
  readonly price?: number;
  readonly auxPrice?: number;
  readonly trailingAmt?: number;
  readonly trailingType?: "amt" | "%";
  readonly outsideRTH?: boolean;
  readonly cOID?: string;
  readonly parentId?: string;
  readonly acctId?: string;
  readonly isSingleGroup?: boolean;
  readonly listingExchange?: string;
  readonly ticker?: string;
  readonly secType?: string;
  readonly referrer?: string;
  readonly useAdaptive?: boolean;
  readonly allOrNone?: boolean;
}

export interface SimOrder {
  readonly orderId: number;
  readonly accountId: string;
  readonly instrument: Instrument;
  ticket: OrderTicket;
  readonly cOID: string | null;
  readonly parentOrderId: number | null;
  readonly ocaGroup: string | null;
  status: OrderStatus;
  filled: number;
  avgFillPrice: number;
  readonly createdAt: number;
  updatedAt: number;
  lastExecutionAt: number | null;
  /** Brokerage session the order was placed in (order status answers 503 for other sessions). */
  readonly epoch: number;
  /** Stop-type orders: true once the stop price was reached. */
  triggered: boolean;
  /** Trailing orders: best price seen since submission. */
  trailExtreme: number | null;
  /** When a requested cancel takes effect. */
  cancelAt: number | null;
  /** When a DAY order expires. */
  expiresAt: number | null;
  /** Children wait for the parent's fill. */
  held: boolean;
  /** Waits for the answer to a server prompt (p12) before it can work. */
  awaitingPrompt: boolean;
  /** The order reaches the exchange (and can fill) from this instant on. */
  activeFrom: number;
  /** Minute of the last fill and the quantity filled in it (liquidity is per minute). */
  fillMinute: number;
  filledInMinute: number;
  /** Text that explains a cancellation or rejection (shown in order status). */
  reason: string | null;
}

export const TERMINAL: ReadonlySet<OrderStatus> = new Set(["Filled", "Cancelled", "Inactive"]);
const STOP_TYPES: ReadonlySet<OrderType> = new Set(["STP", "STOP_LIMIT", "TRAIL", "TRAILLMT"]);

export interface OrderEngineDeps {
  readonly seed: number;
  readonly prices: PriceModel;
  readonly quote: (instrument: Instrument, ms: number) => TopOfBook;
  readonly account: (id: string) => SimAccount | undefined;
  readonly epoch: () => number;
}

export interface OrderEngine {
  /** Checks tickets as the broker would; returns its error text or null. */
  validate(accountId: string, tickets: readonly OrderTicket[], now: number): string | null;
  /** Places validated tickets (one order, a bracket, or an OCA group); `hold` keeps them for a prompt. */
  place(accountId: string, tickets: readonly OrderTicket[], now: number, hold?: boolean): SimOrder[];
  /** The prompt was answered: the orders start working. */
  releasePrompt(orders: readonly SimOrder[], now: number): void;
  /** Checks a modification; returns the broker's error text or null. */
  validateModify(order: SimOrder, ticket: OrderTicket): string | null;
  modify(order: SimOrder, ticket: OrderTicket, now: number): void;
  /** Requests a cancel: PendingCancel now, Cancelled an instant later. */
  cancel(order: SimOrder, now: number): void;
  /** Runs the market up to `now`; true when any order (or book) changed on the way. */
  advance(now: number): boolean;
  /** Fills an order now regardless of the market (control API). */
  forceFill(order: SimOrder, now: number, quantity?: number, price?: number): void;
  get(orderId: number): SimOrder | undefined;
  all(): readonly SimOrder[];
  /** Orders placed for an account. */
  forAccount(accountId: string): SimOrder[];
  reset(): void;
  /** Forgets what no endpoint can show any more: old finished orders and expired cOIDs. */
  compact(now: number): void;
  exportState(): EngineData;
  importState(data: EngineData): void;
}

/** A SimOrder as plain data: the instrument by its conid. */
export type OrderData = Omit<SimOrder, "instrument"> & { readonly conid: number };

/** The whole engine as plain data (persisted simulators store it). */
export interface EngineData {
  readonly nextId: number;
  readonly lastAdvance: number;
  /** In placement order, which is the order the engine visits them in. */
  readonly orders: readonly OrderData[];
  readonly coids: readonly (readonly [string, number])[];
}

/** Finished orders older than this leave the engine: live orders, order status and trades never show them. */
export const FINISHED_ORDER_RETENTION_MS = 8 * 86_400_000;

function orderData(order: SimOrder): OrderData {
  const { instrument, ...rest } = order;
  return { ...rest, conid: instrument.conid };
}

function orderFromData(data: OrderData): SimOrder {
  const { conid, ...rest } = data;
  const instrument = instrumentByConid(conid);
  if (instrument === undefined)
    throw new RangeError(`stored order ${data.orderId} names unknown conid ${conid}`);
  return { ...rest, instrument };
}

const COID_LIFETIME_MS = 24 * 3_600_000;
/** Time between the gateway accepting an order and the order working at the exchange. The submit answer
 * therefore never reports a fill; the fill shows up in later reads, as with the real gateway. */
const EXCHANGE_LATENCY_MS = 100;

function isWorking(order: SimOrder): boolean {
  return !TERMINAL.has(order.status);
}

function tradesInPhase(order: SimOrder, now: number): boolean {
  const phase = sessionPhase(now);
  if (phase === "regular") return true;
  return (
    order.instrument.kind === "stock" &&
    order.ticket.outsideRTH === true &&
    (phase === "pre" || phase === "post")
  );
}

const MINUTE = 60_000;

/** The first minute boundary at or after `ms`. */
function boundaryAtOrAfter(ms: number): number {
  return Math.ceil(ms / MINUTE) * MINUTE;
}

/**
 * The earliest instant at or after `from` at which step() can change a working order: its cancel taking
 * effect, its expiry, or the market being open to it (past its exchange latency). Before it, every step
 * of the order is a no-op, which is what lets a catch-up jump over nights and weekends.
 */
function nextActionAt(
  order: SimOrder,
  from: number,
  sessionAt: (ms: number, extended: boolean) => number,
): number {
  if (order.held) return Number.POSITIVE_INFINITY;
  const cancel = order.cancelAt ?? Number.POSITIVE_INFINITY;
  if (order.awaitingPrompt) return Math.max(from, cancel);
  const expiry = order.expiresAt ?? Number.POSITIVE_INFINITY;
  const extended = order.instrument.kind === "stock" && order.ticket.outsideRTH === true;
  const trading = sessionAt(Math.max(from, order.activeFrom), extended);
  return Math.max(from, Math.min(cancel, expiry, trading));
}

/** When a DAY order placed at `now` expires: the end of the session it belongs to. */
function dayExpiry(now: number, outsideRth: boolean): number {
  let day = currentTradingDay(now);
  const end = (d: string) => fromNewYork(d, outsideRth ? postClose(d) : regularClose(d));
  if (now >= end(day)) {
    day = addDays(day, 1);
    while (!isTradingDay(day)) day = addDays(day, 1);
  }
  return end(day);
}

export function createOrderEngine(deps: OrderEngineDeps): OrderEngine {
  const orders = new Map<number, SimOrder>();
  const coids = new Map<string, number>();
  let nextId = 1_370_093_300 + (deps.seed % 1_000) * 10;
  let lastAdvance = 0;

  function fillable(order: SimOrder, quote: TopOfBook): number | null {
    const t = order.ticket;
    const buy = t.side === "BUY";
    let type: OrderType = t.orderType;
    let limit = t.price;
    if (STOP_TYPES.has(t.orderType)) {
      if (!order.triggered) return null;
      if (t.orderType === "STP" || t.orderType === "TRAIL") type = "MKT";
      else if (t.orderType === "TRAILLMT") {
        type = "LMT";
        const stop = trailStop(order) ?? quote.last;
        limit = buy ? stop + (t.price ?? 0) : stop - (t.price ?? 0);
      } else type = "LMT";
    }
    if (type === "MKT") return buy ? quote.ask : quote.bid;
    if (type === "MIDPRICE") {
      const mid = (quote.bid + quote.ask) / 2;
      if (limit === undefined) return mid;
      return buy ? (mid <= limit ? mid : null) : mid >= limit ? mid : null;
    }
    if (limit === undefined) return null;
    if (buy) return quote.ask <= limit ? Math.min(limit, quote.ask) : null;
    return quote.bid >= limit ? Math.max(limit, quote.bid) : null;
  }

  function trailStop(order: SimOrder): number | null {
    const t = order.ticket;
    if (order.trailExtreme === null || t.trailingAmt === undefined) return null;
    const distance = t.trailingType === "%" ? (order.trailExtreme * t.trailingAmt) / 100 : t.trailingAmt;
    return t.side === "BUY" ? order.trailExtreme + distance : order.trailExtreme - distance;
  }

  function checkTrigger(order: SimOrder, quote: TopOfBook): void {
    const t = order.ticket;
    if (!STOP_TYPES.has(t.orderType) || order.triggered) return;
    const buy = t.side === "BUY";
    if (t.orderType === "TRAIL" || t.orderType === "TRAILLMT") {
      const extreme = order.trailExtreme;
      order.trailExtreme =
        extreme === null ? quote.last : buy ? Math.min(extreme, quote.last) : Math.max(extreme, quote.last);
      const stop = trailStop(order);
      if (stop !== null && (buy ? quote.last >= stop : quote.last <= stop)) order.triggered = true;
    } else if (t.auxPrice !== undefined && (buy ? quote.last >= t.auxPrice : quote.last <= t.auxPrice)) {
      order.triggered = true;
    }
    if (order.triggered) order.status = "Submitted";
  }

  function children(order: SimOrder): SimOrder[] {
    return [...orders.values()].filter((o) => o.parentOrderId === order.orderId);
  }

  function siblings(order: SimOrder): SimOrder[] {
    if (order.ocaGroup === null) return [];
    return [...orders.values()].filter(
      (o) => o.ocaGroup === order.ocaGroup && o.orderId !== order.orderId && isWorking(o),
    );
  }

  function finish(
    order: SimOrder,
    status: "Cancelled" | "Filled" | "Inactive",
    now: number,
    reason?: string,
  ): void {
    order.status = status;
    order.updatedAt = now;
    order.cancelAt = null;
    if (reason !== undefined) order.reason = reason;
    const kids = children(order).filter(isWorking);
    if (status === "Filled") {
      for (const child of kids) release(child, now, child.ticket.quantity);
    } else if (order.filled > 0) {
      // A partly filled parent protects the part that filled.
      for (const child of kids) release(child, now, Math.min(child.ticket.quantity, order.filled));
    } else {
      for (const child of kids) finish(child, "Cancelled", now, "parent order cancelled");
    }
  }

  function release(child: SimOrder, now: number, quantity: number): void {
    child.held = false;
    child.activeFrom = now + EXCHANGE_LATENCY_MS;
    child.ticket = { ...child.ticket, quantity };
    child.status =
      STOP_TYPES.has(child.ticket.orderType) || !tradesInPhase(child, now) ? "PreSubmitted" : "Submitted";
    child.updatedAt = now;
  }

  function execute(order: SimOrder, now: number, quantity: number, price: number): void {
    const account = deps.account(order.accountId);
    if (account === undefined || quantity <= 0) return;
    const commission = commissionFor(order.instrument, quantity, price);
    applyFill(
      account,
      order.instrument,
      {
        executionId: `0000e0d5.${(order.orderId % 0xffffffff).toString(16).padStart(8, "0")}.${String(account.executionCount + 1).padStart(2, "0")}.01`,
        orderId: order.orderId,
        orderRef: order.cOID,
        accountId: order.accountId,
        conid: order.instrument.conid,
        side: order.ticket.side,
        quantity,
        price,
        commission,
        at: now,
        exchange: order.instrument.kind === "stock" ? order.instrument.listingExchange : "CBOE",
      },
      currentTradingDay(now),
    );
    order.avgFillPrice = (order.avgFillPrice * order.filled + price * quantity) / (order.filled + quantity);
    order.filled = Math.round((order.filled + quantity) * 1e6) / 1e6;
    order.lastExecutionAt = now;
    order.updatedAt = now;
    for (const sibling of siblings(order)) {
      // One-cancels-other by reduction: the sibling keeps protecting what is still open.
      const remaining = sibling.ticket.quantity - quantity;
      if (remaining <= sibling.filled) finish(sibling, "Cancelled", now, "OCA group member filled");
      else sibling.ticket = { ...sibling.ticket, quantity: remaining };
    }
    if (order.filled >= order.ticket.quantity) finish(order, "Filled", now);
  }

  function step(order: SimOrder, now: number, quotes: Map<number, TopOfBook>): void {
    if (!isWorking(order) || order.held) return;
    if (order.awaitingPrompt) {
      if (order.cancelAt !== null && now >= order.cancelAt) finish(order, "Cancelled", now);
      return;
    }
    if (order.cancelAt !== null && now >= order.cancelAt) {
      finish(order, "Cancelled", now);
      return;
    }
    if (order.expiresAt !== null && now >= order.expiresAt) {
      finish(order, "Cancelled", now, "day order expired at the close");
      return;
    }
    if (now < order.activeFrom || !tradesInPhase(order, now)) return;
    // Orders on one instrument share its quote at this instant.
    let quote = quotes.get(order.instrument.conid);
    if (quote === undefined) {
      quote = deps.quote(order.instrument, now);
      quotes.set(order.instrument.conid, quote);
    }
    checkTrigger(order, quote);
    if (order.status === "PreSubmitted" && !STOP_TYPES.has(order.ticket.orderType))
      order.status = "Submitted";
    const price = fillable(order, quote);
    if (order.ticket.tif === "OPG") {
      const openAt = fromNewYork(currentTradingDay(now), REGULAR_OPEN);
      if (now >= openAt + 60_000) {
        if (price !== null && order.filled === 0) execute(order, now, order.ticket.quantity, price);
        if (isWorking(order)) finish(order, "Cancelled", now, "opening order not filled at the open");
        return;
      }
    }
    if (price === null) {
      if (order.ticket.tif === "IOC") finish(order, "Cancelled", now, "IOC order not marketable");
      return;
    }
    const minute = Math.floor(now / 60_000);
    if (minute !== order.fillMinute) {
      order.fillMinute = minute;
      order.filledInMinute = 0;
    }
    const perMinute =
      order.instrument.kind === "stock"
        ? 100 * intBetween(2, 6, deps.seed, order.orderId, minute)
        : intBetween(5, 20, deps.seed, order.orderId, minute);
    const available = perMinute - order.filledInMinute;
    const quantity = Math.min(order.ticket.quantity - order.filled, available);
    if (quantity > 0) {
      order.filledInMinute += quantity;
      execute(order, now, quantity, Math.round(price * 100) / 100);
    }
    if (order.ticket.tif === "IOC" && isWorking(order))
      finish(order, "Cancelled", now, "IOC remainder cancelled");
  }

  const engine: OrderEngine = {
    validate(accountId, tickets, now) {
      const account = deps.account(accountId);
      if (account === undefined) return `Bad Request: account ${accountId} is not valid`;
      const parents = new Set(tickets.filter((t) => t.cOID !== undefined).map((t) => t.cOID as string));
      for (const t of tickets) {
        const instrument = instrumentByConid(t.conid);
        if (instrument === undefined) return `Invalid contract id: ${t.conid}`;
        if (t.acctId !== undefined && t.acctId !== accountId)
          return "Account of the order does not match the account in the path";
        if (!(t.quantity > 0)) return "Order quantity must be positive";
        if (!Number.isInteger(t.quantity) && (instrument.kind === "option" || !instrument.fractional)) {
          return `Fractional-sized orders are not supported for ${instrument.symbol}`;
        }
        if ((t.orderType === "LMT" || t.orderType === "STOP_LIMIT") && t.price === undefined) {
          return "Missing order price: a limit order needs price";
        }
        if ((t.orderType === "STP" || t.orderType === "STOP_LIMIT") && t.auxPrice === undefined) {
          return "Missing stop price: a stop order needs auxPrice";
        }
        if (
          (t.orderType === "TRAIL" || t.orderType === "TRAILLMT") &&
          (t.trailingAmt === undefined || t.trailingType === undefined)
        ) {
          return "Trailing orders need trailingAmt and trailingType";
        }
        if (t.price !== undefined && !(t.price > 0)) return "Order price must be positive";
        if (t.parentId !== undefined && !parents.has(t.parentId)) {
          return `Parent order ${t.parentId} is not part of this request`;
        }
        if (t.cOID !== undefined) {
          const seenAt = coids.get(t.cOID);
          if (seenAt !== undefined && now - seenAt < COID_LIFETIME_MS) {
            return `Order couldn't be submitted: Local order ID=${t.cOID} is already registered.`;
          }
        }
      }
      const notional = tickets
        .filter((t) => t.parentId === undefined && t.side === "BUY")
        .reduce((sum, t) => {
          const instrument = instrumentByConid(t.conid) as Instrument;
          const px = t.price ?? t.auxPrice ?? deps.quote(instrument, now).ask;
          return sum + px * t.quantity * (instrument.kind === "option" ? 100 : 1);
        }, 0);
      const buyingPower = Math.max(0, account.cash) * 4;
      if (notional > buyingPower) {
        return `Your order is not accepted because your Equity with Loan Value is insufficient to cover the Initial Margin requirement of ${notional.toFixed(2)} USD.`;
      }
      return null;
    },
    place(accountId, tickets, now, hold = false) {
      const epoch = deps.epoch();
      const byCoid = new Map<string, SimOrder>();
      const oca = tickets.length > 1 ? `oca-${nextId}` : null;
      const placed: SimOrder[] = [];
      // Parents first, so children can point at them.
      const ordered = [...tickets].sort(
        (a, b) => Number(a.parentId !== undefined) - Number(b.parentId !== undefined),
      );
      for (const ticket of ordered) {
        const parent = ticket.parentId !== undefined ? byCoid.get(ticket.parentId) : undefined;
        const isChild = parent !== undefined;
        const instrument = instrumentByConid(ticket.conid) as Instrument;
        const order: SimOrder = {
          orderId: nextId,
          accountId,
          instrument,
          ticket,
          cOID: ticket.cOID ?? null,
          parentOrderId: parent?.orderId ?? null,
          // Bracket children form one OCA group; isSingleGroup makes a whole request one.
          ocaGroup: isChild ? `bracket-${parent.orderId}` : ticket.isSingleGroup === true ? oca : null,
          status: "PreSubmitted",
          filled: 0,
          avgFillPrice: 0,
          createdAt: now,
          updatedAt: now,
          lastExecutionAt: null,
          epoch,
          triggered: false,
          trailExtreme: null,
          cancelAt: null,
          expiresAt: ticket.tif === "DAY" ? dayExpiry(now, ticket.outsideRTH === true) : null,
          held: isChild,
          awaitingPrompt: false,
          activeFrom: now + EXCHANGE_LATENCY_MS,
          fillMinute: -1,
          filledInMinute: 0,
          reason: null,
        };
        nextId += 1;
        if (!isChild && !STOP_TYPES.has(ticket.orderType) && tradesInPhase(order, now))
          order.status = "Submitted";
        orders.set(order.orderId, order);
        if (order.cOID !== null) {
          coids.set(order.cOID, now);
          byCoid.set(order.cOID, order);
        }
        placed.push(order);
      }
      for (const order of placed) {
        if (hold) {
          order.awaitingPrompt = true;
          order.status = "PreSubmitted";
        }
      }
      return placed.sort((a, b) => a.orderId - b.orderId);
    },
    releasePrompt(list, now) {
      for (const order of list) {
        if (!order.awaitingPrompt) continue;
        order.awaitingPrompt = false;
        order.activeFrom = now + EXCHANGE_LATENCY_MS;
        if (!order.held && !STOP_TYPES.has(order.ticket.orderType) && tradesInPhase(order, now)) {
          order.status = "Submitted";
        }
      }
    },
    validateModify(order, ticket) {
      if (!isWorking(order) || order.status === "PendingCancel") {
        return `Order ${order.orderId} cannot be modified: it is ${order.status}`;
      }
      if (ticket.conid !== order.instrument.conid) return "The contract of an order cannot be changed";
      if (ticket.side !== order.ticket.side) return "The side of an order cannot be changed";
      if (ticket.quantity < order.filled) return "The quantity cannot be less than the filled quantity";
      if ((ticket.orderType === "LMT" || ticket.orderType === "STOP_LIMIT") && ticket.price === undefined) {
        return "Missing order price: a limit order needs price";
      }
      return null;
    },
    modify(order, ticket, now) {
      order.ticket = { ...ticket, cOID: order.ticket.cOID, parentId: order.ticket.parentId };
      order.updatedAt = now;
      if (order.ticket.tif === "DAY" && order.expiresAt === null)
        order.expiresAt = dayExpiry(now, ticket.outsideRTH === true);
      if (order.ticket.tif !== "DAY") order.expiresAt = null;
      order.activeFrom = now + EXCHANGE_LATENCY_MS;
    },
    cancel(order, now) {
      if (!isWorking(order) || order.status === "PendingCancel") return;
      order.status = "PendingCancel";
      order.cancelAt = now + 500;
      order.updatedAt = now;
      // A held child, or an order outside its trading hours, has nothing at an exchange to pull back.
      if (order.held || order.awaitingPrompt || !tradesInPhase(order, now)) finish(order, "Cancelled", now);
    },
    advance(now) {
      const working = [...orders.values()].filter(isWorking);
      if (working.length === 0 || now <= lastAdvance) {
        lastAdvance = Math.max(lastAdvance, now);
        return false;
      }
      // Only orders working before the walk can change in it (fills, triggers, releases, OCA reductions).
      const before = working.map((order) => JSON.stringify(orderData(order)));
      // Visit every minute boundary since the last visit (capped at two weeks), then `now` itself - except
      // stretches in which no order can act (nights, weekends, held children), which are jumped over: the
      // outcome is the same as visiting each of their minutes, for a fraction of the work.
      const from = Math.max(lastAdvance, now - 14 * 86_400_000);
      const visit = (t: number): boolean => {
        const quotes = new Map<number, TopOfBook>();
        let any = false;
        for (const order of working) {
          if (!isWorking(order)) continue;
          any = true;
          if (order.createdAt <= t) step(order, t, quotes);
        }
        return any;
      };
      let t = Math.floor(from / MINUTE + 1) * MINUTE;
      let open = true;
      while (open && t < now) {
        let next = Number.POSITIVE_INFINITY;
        // Most orders ask about the same instant: answer each question once per turn.
        const asked = new Map<string, number>();
        const sessionAt = (ms: number, extended: boolean): number => {
          const key = `${ms}:${extended}`;
          let at = asked.get(key);
          if (at === undefined) {
            at = nextSessionAt(ms, extended);
            asked.set(key, at);
          }
          return at;
        };
        for (const order of working) {
          if (isWorking(order))
            next = Math.min(next, nextActionAt(order, Math.max(t, order.createdAt), sessionAt));
        }
        t = boundaryAtOrAfter(next);
        if (t >= now) break;
        open = visit(t);
        t += MINUTE;
      }
      if (open) visit(now);
      lastAdvance = now;
      return working.some((order, i) => JSON.stringify(orderData(order)) !== before[i]);
    },
    forceFill(order, now, quantity, price) {
      if (!isWorking(order)) return;
      if (order.held) release(order, now, order.ticket.quantity);
      const qty = Math.min(
        quantity ?? order.ticket.quantity - order.filled,
        order.ticket.quantity - order.filled,
      );
      const px = price ?? deps.quote(order.instrument, now).last;
      execute(order, now, qty, px);
    },
    get: (orderId) => orders.get(orderId),
    all: () => [...orders.values()],
    forAccount: (accountId) => [...orders.values()].filter((o) => o.accountId === accountId),
    reset() {
      orders.clear();
      coids.clear();
    },
    compact(now) {
      for (const [id, order] of orders) {
        if (TERMINAL.has(order.status) && order.updatedAt < now - FINISHED_ORDER_RETENTION_MS)
          orders.delete(id);
      }
      for (const [coid, at] of coids) if (now - at >= COID_LIFETIME_MS) coids.delete(coid);
    },
    exportState: () => ({
      nextId,
      lastAdvance,
      orders: [...orders.values()].map(orderData),
      coids: [...coids.entries()],
    }),
    importState(data) {
      orders.clear();
      for (const stored of data.orders) orders.set(stored.orderId, orderFromData(stored));
      coids.clear();
      for (const [coid, at] of data.coids) coids.set(coid, at);
      nextId = data.nextId;
      lastAdvance = data.lastAdvance;
    },
  };
  return engine;
}

export type { AccountSeed };
