// The order writer: the one interface through which a workflow changes anything at the broker. The gates,
// the idempotency step and the audit all sit in front of it, so an embedding application can plug in its own
// writer (a different broker route, a recorder) and keep every guarantee. Three come with the gateway:
//   broker          - the CPAPI client: placeOrders / modifyOrder with the reply chain under the order-in-flight
//                     lock, cancelOrder, and a lookup by cOID for crash recovery;
//   local_candidate - a rehearsal: every gate runs and the write is recorded, but nothing reaches the broker
//                     (order ids are the gateway's own, derived from the cOID);
//   refusing        - fail closed: every write is refused before the pending row is written.
import { createHash } from "node:crypto";
import { cancelOrder, getLiveOrders, getTrades } from "../../../generated/cpapi/client.gen.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import type { AnsweredQuestion, ClientTransport, CpapiClient } from "../../cpapi/index.ts";
import type { OrderTicket } from "../../cpapi/mappers/index.ts";

export type WriterKind = "broker" | "local_candidate" | "refusing";

export interface PlaceRequest {
  readonly accountId: string;
  /** One order, or a bracket's entry followed by its children (one linked request). */
  readonly tickets: readonly OrderTicket[];
  /** require_approval question ids the approval acknowledged. */
  readonly approvedQuestions: readonly string[];
  /** Every answered or refused question round, as it happens (for the audit). */
  readonly onRound: (round: AnsweredQuestion) => void;
}

export interface ModifyRequest {
  readonly accountId: string;
  readonly orderId: string;
  /** The whole order with its new values (CPAPI modify takes a full ticket). */
  readonly ticket: OrderTicket;
  readonly approvedQuestions: readonly string[];
  readonly onRound: (round: AnsweredQuestion) => void;
}

export interface PlacedOrders {
  /** In the order the broker listed them; for a bracket, the entry first. */
  readonly orders: readonly { readonly orderId: string; readonly status: string | null }[];
  readonly answered: readonly AnsweredQuestion[];
}

export interface CancelAnswer {
  readonly status: string | null;
  /** The broker's own words (untrusted), e.g. "Request was submitted". */
  readonly message?: string;
}

/** An order the broker holds that a lookup found, with what recovery needs to settle a write. */
export interface FoundOrder {
  readonly orderId: string;
  readonly clientOrderId: string | null;
  /** The broker id of the parent, for bracket children. */
  readonly parentOrderId: string | null;
  readonly status: string | null;
}

/**
 * The order a cOID names and its children, in request order (the broker numbers children after their
 * parent, take-profit first); empty when the parent is not among the orders found.
 */
export function orderGroup(found: readonly FoundOrder[], clientOrderId: string): FoundOrder[] {
  const parent = found.find((o) => o.clientOrderId === clientOrderId);
  if (parent === undefined) return [];
  const children = found
    .filter((o) => o.parentOrderId === parent.orderId)
    .sort((a, b) => (BigInt(a.orderId) < BigInt(b.orderId) ? -1 : 1));
  return [parent, ...children];
}

export interface OrderWriter {
  readonly kind: WriterKind;
  place(request: PlaceRequest): Promise<PlacedOrders>;
  modify(request: ModifyRequest): Promise<PlacedOrders>;
  cancel(request: { accountId: string; orderId: string }): Promise<CancelAnswer>;
  /**
   * Orders of the account with these cOIDs, and the children of those orders; null when the broker could not
   * give a complete answer (the session's order list still loading), so absence proves nothing.
   */
  find(accountId: string, clientOrderIds: readonly string[]): Promise<FoundOrder[] | null>;
}

function text(value: unknown): string | null {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

function rowsOf(body: unknown): { rows: Record<string, unknown>[]; complete: boolean } {
  const record = (body ?? {}) as { orders?: unknown; snapshot?: unknown };
  const rows = Array.isArray(record.orders) ? (record.orders as Record<string, unknown>[]) : [];
  return { rows, complete: record.snapshot === true };
}

/** The executions body (wire JSON) of one account over the last `days` days. */
export type ExecutionsReader = (accountId: string, days: number) => Promise<unknown>;

/**
 * The CPAPI writer over one client (the transport passed counts the call's broker requests). `executions`
 * reads fills for find(); the gateway passes the read side's reader, which selects the account on a
 * multi-account login and asks a cold (empty) first answer again - an empty answer must not prove absence.
 */
export function brokerWriter(
  client: CpapiClient,
  transport: ClientTransport,
  executions: ExecutionsReader = async (_accountId, days) =>
    (await getTrades(transport, { query: { days } })).body,
): OrderWriter {
  return {
    kind: "broker",
    async place(request) {
      const result = await client.orders.submit({
        accountId: request.accountId,
        orders: [...request.tickets],
        approvedQuestions: request.approvedQuestions,
        onRound: request.onRound,
      });
      return { orders: result.orders, answered: result.answered };
    },
    async modify(request) {
      const result = await client.orders.modify({
        accountId: request.accountId,
        orderId: Number(request.orderId),
        order: request.ticket,
        approvedQuestions: request.approvedQuestions,
        onRound: request.onRound,
      });
      return { orders: result.orders, answered: result.answered };
    },
    async cancel(request) {
      const answer = await cancelOrder(transport, {
        path: { accountId: request.accountId, orderId: Number(request.orderId) },
      });
      const body = (answer.body ?? {}) as { msg?: unknown; order_status?: unknown };
      const message = text(body.msg);
      return { status: text(body.order_status), ...(message !== null ? { message } : {}) };
    },
    async find(accountId, clientOrderIds) {
      const wanted = new Set(clientOrderIds);
      // The first order list of a session can come back empty while the broker loads it: ask again.
      let listing = rowsOf((await getLiveOrders(transport, { query: { accountId } })).body);
      for (let attempt = 0; !listing.complete && attempt < 2; attempt += 1) {
        await new Promise((resume) => setTimeout(resume, attempt === 0 ? 0 : 500));
        listing = rowsOf((await getLiveOrders(transport, { query: { accountId } })).body);
      }
      const found = new Map<string, FoundOrder>();
      for (const row of listing.rows) {
        const orderId = text(row.orderId ?? row.order_id);
        const clientOrderId = text(row.order_ref ?? row.orderRef ?? row.cOID);
        if (orderId === null || clientOrderId === null || !wanted.has(clientOrderId)) continue;
        found.set(orderId, { orderId, clientOrderId, parentOrderId: null, status: text(row.status) });
      }
      for (const row of listing.rows) {
        const orderId = text(row.orderId ?? row.order_id);
        const parent = text(row.parentId ?? row.parent_id ?? row.parentOrderId);
        if (orderId === null || parent === null || !found.has(parent) || found.has(orderId)) continue;
        found.set(orderId, { orderId, clientOrderId: null, parentOrderId: parent, status: text(row.status) });
      }
      if (found.size === 0) {
        // A filled order can have left the list after a session reset; its executions still name the cOID.
        const trades = await executions(accountId, EXECUTION_DAYS);
        for (const row of Array.isArray(trades) ? (trades as Record<string, unknown>[]) : []) {
          const orderId = text(row.order_id ?? row.orderId);
          const clientOrderId = text(row.order_ref ?? row.orderRef);
          if (orderId !== null && clientOrderId !== null && wanted.has(clientOrderId)) {
            found.set(orderId, { orderId, clientOrderId, parentOrderId: null, status: "Filled" });
          }
        }
      }
      if (found.size === 0 && !listing.complete) return null;
      return [...found.values()];
    },
  };
}

/** GET /iserver/account/trades covers at most this many days; recovery may run days after the write. */
export const EXECUTION_DAYS = 7;

/** A stable order id of the gateway's own for a rehearsed order (digits, like a broker id, but 9 first). */
function candidateId(clientOrderId: string, index: number): string {
  const digits = BigInt(`0x${createHash("sha256").update(clientOrderId).digest("hex").slice(0, 12)}`);
  return `9${(digits % 10n ** 11n).toString().padStart(11, "0")}${index}`;
}

/** The rehearsal writer: nothing reaches the broker; answers are what a broker would say on acceptance. */
export function localCandidateWriter(): OrderWriter {
  return {
    kind: "local_candidate",
    async place(request) {
      const parent = request.tickets[0]?.cOID ?? "candidate";
      return {
        orders: request.tickets.map((_, index) => ({
          orderId: candidateId(parent, index),
          status: "PreSubmitted",
        })),
        answered: [],
      };
    },
    async modify(request) {
      return { orders: [{ orderId: request.orderId, status: "PreSubmitted" }], answered: [] };
    },
    async cancel() {
      return { status: "Cancelled", message: "Rehearsal: nothing was sent to the broker." };
    },
    async find() {
      // Nothing of a rehearsal is ever at the broker.
      return [];
    },
  };
}

/** Fail closed: the operator chose that this gateway never writes through this path. */
export function refusingWriter(mode: "paper" | "live"): OrderWriter {
  const refuse = async (): Promise<never> => {
    throw new GatewayError(mode === "live" ? "LIVE_TRADING_DISABLED" : "PAPER_TRADING_DISABLED", {
      message: `The ${mode} order writer of this gateway is set to refusing.`,
      userAction:
        mode === "live"
          ? "Use --live-broker client-portal (CLI) or set live_trading.writer: broker to send live orders."
          : "Set paper_trading.writer: broker to send paper orders.",
      details: { writer: "refusing" },
    });
  };
  return { kind: "refusing", place: refuse, modify: refuse, cancel: refuse, find: async () => [] };
}
