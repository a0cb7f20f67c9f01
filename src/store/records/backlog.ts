// Orders the reconciler follows, and linked order groups (brackets).
import type { DatabaseSync } from "node:sqlite";
import { type AccountMode, checkHash, checkMode, parse, storedPayload } from "./common.ts";

export interface BacklogOrder {
  readonly accountIdHash: string;
  readonly brokerOrderId: string;
  readonly mode: AccountMode;
  readonly lastStatus: string;
  readonly createdAt: number;
  readonly lastPolledAt: number | null;
  /** cOID the gateway sent, when it placed the order. */
  readonly clientOrderId?: string | null;
  /** request_id of the call that placed the order, linking lifecycle events back to it. */
  readonly originRequestId?: string | null;
  /** entry, take_profit or stop_loss for bracket legs; single for a single order. */
  readonly role?: string | null;
}

export interface Backlog {
  /** Adds an order to follow, or updates its last status and poll time. */
  upsert(order: BacklogOrder): void;
  list(mode?: AccountMode): BacklogOrder[];
  remove(accountIdHash: string, brokerOrderId: string): boolean;
}

interface BacklogRow {
  account_id_hash: string;
  broker_order_id: string;
  mode: AccountMode;
  last_status: string;
  created_at: number;
  last_polled_at: number | null;
  client_order_id: string | null;
  origin_request_id: string | null;
  role: string | null;
}

export function createBacklog(db: DatabaseSync): Backlog {
  const upsert = db.prepare(
    `INSERT INTO order_backlog (account_id_hash, broker_order_id, mode, last_status, created_at, last_polled_at,
       client_order_id, origin_request_id, role) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (account_id_hash, broker_order_id) DO UPDATE SET last_status = excluded.last_status,
       last_polled_at = excluded.last_polled_at`,
  );
  const all = db.prepare("SELECT * FROM order_backlog ORDER BY created_at, broker_order_id");
  const byMode = db.prepare(
    "SELECT * FROM order_backlog WHERE mode = ? ORDER BY created_at, broker_order_id",
  );
  const remove = db.prepare("DELETE FROM order_backlog WHERE account_id_hash = ? AND broker_order_id = ?");
  const toOrder = (row: BacklogRow): BacklogOrder => ({
    accountIdHash: row.account_id_hash,
    brokerOrderId: row.broker_order_id,
    mode: row.mode,
    lastStatus: row.last_status,
    createdAt: row.created_at,
    lastPolledAt: row.last_polled_at,
    clientOrderId: row.client_order_id,
    originRequestId: row.origin_request_id,
    role: row.role,
  });
  return {
    upsert(order) {
      checkHash("accountIdHash", order.accountIdHash);
      checkMode(order.mode);
      upsert.run(
        order.accountIdHash,
        order.brokerOrderId,
        order.mode,
        order.lastStatus,
        order.createdAt,
        order.lastPolledAt,
        order.clientOrderId ?? null,
        order.originRequestId ?? null,
        order.role ?? null,
      );
    },
    list: (mode) =>
      ((mode === undefined ? all.all() : byMode.all(mode)) as unknown as BacklogRow[]).map(toOrder),
    remove: (accountIdHash, brokerOrderId) => Number(remove.run(accountIdHash, brokerOrderId).changes) === 1,
  };
}

export interface OrderGroupRecord {
  readonly groupId: string;
  readonly accountIdHash: string;
  readonly mode: AccountMode;
  readonly payload: unknown;
  readonly createdAt: number;
}

export interface OrderGroups {
  insert(group: OrderGroupRecord): void;
  get(groupId: string): OrderGroupRecord | null;
}

export function createOrderGroups(db: DatabaseSync): OrderGroups {
  const insert = db.prepare(
    "INSERT INTO order_groups (group_id, account_id_hash, mode, payload, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  const select = db.prepare("SELECT * FROM order_groups WHERE group_id = ?");
  return {
    insert(group) {
      checkHash("accountIdHash", group.accountIdHash);
      checkMode(group.mode);
      insert.run(
        group.groupId,
        group.accountIdHash,
        group.mode,
        storedPayload("payload", group.payload),
        group.createdAt,
      );
    },
    get(groupId) {
      const row = select.get(groupId) as
        | {
            group_id: string;
            account_id_hash: string;
            mode: AccountMode;
            payload: string;
            created_at: number;
          }
        | undefined;
      if (!row) return null;
      return {
        groupId: row.group_id,
        accountIdHash: row.account_id_hash,
        mode: row.mode,
        payload: parse(row.payload),
        createdAt: row.created_at,
      };
    },
  };
}
