// Reconciliation: the orders the gateway placed (paper and live) are followed until they end. Each pass first
// settles abandoned pending writes (crash recovery), then asks the broker for every order in the backlog,
// audits each status change (order_lifecycle_changed) and drops orders that reached a final state. Only one
// process reconciles at a time (a lease in the coordination file), however many CLI commands and MCP
// servers share the gateway. Account ids come back from hashes through the broker's account list.
import { getLiveOrders, getOrderStatus } from "../../../generated/cpapi/client.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { isGatewayError, toGatewayError } from "../../core/gateway-error.ts";
import type { ClientTransport } from "../../cpapi/index.ts";
import {
  mapOrderStatusBody,
  mapOrdersHistory,
  mapOrdersList,
  normaliseOrderStatus,
} from "../../cpapi/mappers/index.ts";
import type { BacklogOrder } from "../../store/index.ts";
import { countingTransport } from "../broker.ts";
import { executionsReader, type OrderDeps } from "./deps.ts";
import { type EventOrigin, recordEvent } from "./events.ts";
import type { Recovery, RecoveryReport } from "./recovery.ts";
import { EXECUTION_DAYS } from "./writer.ts";

const TERMINAL: ReadonlySet<string> = new Set(["filled", "cancelled", "rejected"]);
const NORMALISED: ReadonlySet<string> = new Set([
  "pending_submit",
  "open",
  "partially_filled",
  "filled",
  "pending_cancel",
  "cancelled",
  "inactive",
  "rejected",
  "unknown",
]);
const LEASE = "reconciler";

export interface LifecycleChange {
  readonly broker_order_id: string;
  readonly mode: string;
  readonly previous_status: string;
  readonly current_status: string;
  readonly terminal: boolean;
}

export interface ReconcileReport {
  /** False when another process holds the reconciler lease; nothing was done. */
  readonly ran: boolean;
  readonly checked: number;
  readonly changes: readonly LifecycleChange[];
  /** Orders the broker could not tell about this time (they stay in the backlog). */
  readonly unresolved: readonly { broker_order_id: string; reason: string }[];
  readonly recovery: readonly RecoveryReport[];
  readonly backlog: number;
}

interface Observed {
  readonly status: string;
  readonly raw: string | null;
  readonly filled?: string;
  readonly remaining?: string;
  readonly averagePrice?: string;
}

export function createReconciler(deps: OrderDeps, recovery: Recovery) {
  const { store, clock } = deps;

  /** Each account's executions of the last days, read at most once per pass. */
  function tradesOnce(transport: ClientTransport): (accountId: string) => Promise<unknown> {
    const read = executionsReader(deps, transport);
    const byAccount = new Map<string, Promise<unknown>>();
    return (accountId) => {
      let trades = byAccount.get(accountId);
      if (trades === undefined) {
        trades = read(accountId, EXECUTION_DAYS);
        byAccount.set(accountId, trades);
      }
      return trades;
    };
  }

  async function observe(
    order: BacklogOrder,
    transport: ClientTransport,
    accounts: Map<string, string>,
    trades: (accountId: string) => Promise<unknown>,
  ): Promise<Observed | null> {
    try {
      const answer = await getOrderStatus(transport, { path: { orderId: Number(order.brokerOrderId) } });
      const item = mapOrderStatusBody(answer.body);
      const raw = (answer.body as { order_status?: unknown }).order_status;
      return {
        status: item.status,
        raw: typeof raw === "string" ? raw : null,
        filled: item.filled_quantity,
        ...(item.remaining_quantity !== undefined ? { remaining: item.remaining_quantity } : {}),
        ...(item.average_fill_price !== undefined ? { averagePrice: item.average_fill_price } : {}),
      };
    } catch (error) {
      if (!isGatewayError(error) || error.code !== "ORDER_NOT_FOUND") throw error;
    }
    // Order status answers only for the current brokerage session; the session's list still has GTC orders.
    const accountId = accounts.get(order.accountIdHash);
    if (accountId === undefined) return null;
    const body = (await getLiveOrders(transport, { query: { accountId } })).body;
    const listing = mapOrdersList(body, { accountId });
    let item = listing.orders.find((o) => o.broker_order_id === order.brokerOrderId);
    if (item === undefined) {
      // An order of an earlier session that finished in this one has left the complete list; if it traded,
      // its executions still name it (filled). Without them it stays unresolved, for a person to look at.
      if (!listing.complete) return null;
      const history = mapOrdersHistory(body, await trades(accountId), {
        accountId,
        fromMs: 0,
        toMs: clock.now(),
        limit: 500,
      });
      item = history.orders.find((o) => o.broker_order_id === order.brokerOrderId);
      if (item === undefined) return null;
    }
    return {
      status: item.status,
      raw: null,
      filled: item.filled_quantity,
      ...(item.remaining_quantity !== undefined ? { remaining: item.remaining_quantity } : {}),
      ...(item.average_fill_price !== undefined ? { averagePrice: item.average_fill_price } : {}),
    };
  }

  async function accountMap(transport: ClientTransport): Promise<Map<string, string>> {
    const listing = await deps.accounts.listing(transport);
    const map = new Map<string, string>();
    const add = (id: unknown) => {
      if (typeof id === "string") map.set(store.hashAccountId(id.toUpperCase()), id.toUpperCase());
    };
    for (const row of Array.isArray(listing.portfolio)
      ? (listing.portfolio as Record<string, unknown>[])
      : [])
      add(row.accountId ?? row.id);
    const brokerage = listing.brokerage as { accounts?: unknown } | null;
    for (const id of Array.isArray(brokerage?.accounts) ? brokerage.accounts : []) add(id);
    return map;
  }

  /** The backlog holds the broker's spelling after a submit and the normalised status after a pass. */
  function lifecycleStatus(value: string): string {
    return NORMALISED.has(value) ? value : normaliseOrderStatus(value);
  }

  async function once(origin: EventOrigin, context?: OperationContext): Promise<ReconcileReport> {
    const client = deps.broker.client;
    if (!client.leases.acquire(LEASE, 60_000)) {
      return {
        ran: false,
        checked: 0,
        changes: [],
        unresolved: [],
        recovery: [],
        backlog: store.backlog.list().length,
      };
    }
    try {
      const transport =
        context === undefined
          ? client.transport
          : countingTransport(client.transport, () => context.noteBrokerRequest());
      const recovered = await recovery.recoverAll(origin, context);
      const backlog = store.backlog.list();
      const changes: LifecycleChange[] = [];
      const unresolved: { broker_order_id: string; reason: string }[] = [];
      const accounts = backlog.length === 0 ? new Map<string, string>() : await accountMap(transport);
      const trades = tradesOnce(transport);
      for (const order of backlog) {
        let seen: Observed | null;
        try {
          seen = await observe(order, transport, accounts, trades);
        } catch (error) {
          unresolved.push({ broker_order_id: order.brokerOrderId, reason: toGatewayError(error).code });
          continue;
        }
        const now = clock.now();
        if (seen === null) {
          unresolved.push({ broker_order_id: order.brokerOrderId, reason: "not_in_session" });
          store.backlog.upsert({ ...order, lastPolledAt: now });
          continue;
        }
        const previous = lifecycleStatus(order.lastStatus);
        const current = seen.status;
        const terminal = TERMINAL.has(current);
        store.transaction(() => {
          if (current !== previous) {
            recordEvent(store, origin, {
              type: "order_lifecycle_changed",
              accountIdHash: order.accountIdHash,
              metadata: {
                account_mode: order.mode,
                broker_order_id: order.brokerOrderId,
                client_order_id: order.clientOrderId ?? undefined,
                origin_request_id: order.originRequestId ?? undefined,
                previous_status: previous,
                current_status: current,
                broker_status: seen.raw ?? undefined,
                terminal,
                filled_quantity: seen.filled,
                remaining_quantity: seen.remaining,
                average_price: seen.averagePrice,
                source: "reconciler",
              },
            });
            changes.push({
              broker_order_id: order.brokerOrderId,
              mode: order.mode,
              previous_status: previous,
              current_status: current,
              terminal,
            });
          }
          if (terminal) store.backlog.remove(order.accountIdHash, order.brokerOrderId);
          else store.backlog.upsert({ ...order, lastStatus: current, lastPolledAt: now });
        });
      }
      return {
        ran: true,
        checked: backlog.length,
        changes,
        unresolved,
        recovery: recovered,
        backlog: store.backlog.list().length,
      };
    } finally {
      client.leases.release(LEASE);
    }
  }

  return { once };
}

export type Reconciler = ReturnType<typeof createReconciler>;
