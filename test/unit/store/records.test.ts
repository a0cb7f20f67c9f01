import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { isGatewayError } from "../../../src/core/gateway-error.ts";
import { LATEST_SCHEMA_VERSION, openStore } from "../../../src/store/index.ts";
import { appendMany, DIGEST_A, DIGEST_B, fixture, SECRET_1, tamper, toolCall } from "./helpers.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isGatewayError(error)) return error.code;
    throw error;
  }
  return "no error";
}

describe("store file and migrations", () => {
  it("creates a 0600 WAL file with FULL sync, and reopening applies nothing twice", () => {
    const f = fixture();
    f.open().close();
    expect(statSync(f.path).mode & 0o777).toBe(0o600);
    f.open().close();
    const store = f.open();
    store.append(toolCall(1));
    store.close();
    tamper(f.path, (db) => {
      expect(db.prepare("SELECT version FROM schema_version ORDER BY version").all()).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
      ]);
      expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
      expect(db.prepare("SELECT COUNT(*) AS n FROM kill_switch").get()).toEqual({ n: 1 });
      expect(db.prepare("SELECT key_id FROM audit_keys").all()).toEqual([{ key_id: "k1" }]);
    });
    expect(LATEST_SCHEMA_VERSION).toBe(4);
  });

  it("moves a version-3 store to version 4: the audit table loses its event_id index, the chain stays whole", () => {
    const f = fixture();
    const store = f.open();
    appendMany(store, 4);
    store.checkpoint();
    store.close();
    const indexes = (db: DatabaseSync) =>
      (db.prepare("PRAGMA index_list(audit_events)").all() as { name: string }[]).map((row) => row.name);
    const rows = (db: DatabaseSync) =>
      db.prepare("SELECT * FROM audit_events ORDER BY sequence").all() as Record<string, unknown>[];
    let before: Record<string, unknown>[] = [];
    // Back to the version-3 shape: the table as version 1 made it, and no version-4 row.
    tamper(f.path, (db) => {
      before = rows(db);
      db.exec(`
        CREATE TABLE audit_events_v3 (
          sequence INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, event_type TEXT NOT NULL,
          timestamp TEXT NOT NULL, key_id TEXT NOT NULL, request_id TEXT NOT NULL, account_id_hash TEXT,
          payload TEXT NOT NULL, prev_hash TEXT NOT NULL, chain_hash TEXT NOT NULL
        ) STRICT;
        INSERT INTO audit_events_v3 SELECT * FROM audit_events;
        DROP TABLE audit_events;
        ALTER TABLE audit_events_v3 RENAME TO audit_events;
        DELETE FROM schema_version WHERE version = 4;
      `);
      expect(indexes(db)).toEqual(["sqlite_autoindex_audit_events_1"]);
    });
    expect(before).toHaveLength(5);
    const reopened = f.open();
    // Four tool calls and the checkpoint's own event; the signed checkpoint row still covers the fifth.
    expect(reopened.verify()).toMatchObject({ chain_valid: true, events_scanned: 5, checkpoints_checked: 1 });
    reopened.append(toolCall(6));
    expect(reopened.verify()).toMatchObject({ chain_valid: true, events_scanned: 6 });
    reopened.close();
    tamper(f.path, (db) => {
      expect(indexes(db)).toEqual([]);
      expect(rows(db).slice(0, 5)).toEqual(before);
      expect(db.prepare("SELECT MAX(version) AS v FROM schema_version").get()).toEqual({ v: 4 });
    });
  });

  it("refuses a store written by a newer schema", () => {
    const f = fixture();
    f.open().close();
    tamper(f.path, (db) =>
      db.exec("INSERT INTO schema_version VALUES (99, 'future', '2030-01-01T00:00:00Z')"),
    );
    expect(codeOf(() => f.open())).toBe("AUDIT_WRITE_FAILED");
  });
});

describe("order-side records", () => {
  it("keeps previews and one-time approvals keyed by account hash", () => {
    const f = fixture();
    const store = f.open();
    const hash = store.hashAccountId("DU1234567");
    store.previews.insert({
      previewId: "pv_1",
      accountIdHash: hash,
      mode: "paper",
      payload: { symbol: "AAPL", quantity: "10" },
      createdAt: 1000,
      expiresAt: 61_000,
    });
    expect(store.previews.get("pv_1")).toEqual({
      previewId: "pv_1",
      accountIdHash: hash,
      mode: "paper",
      payload: { quantity: "10", symbol: "AAPL" },
      createdAt: 1000,
      expiresAt: 61_000,
    });
    expect(store.previews.get("pv_missing")).toBeNull();
    expect(
      codeOf(() =>
        store.previews.insert({
          previewId: "pv_2",
          accountIdHash: "DU1234567",
          mode: "paper",
          payload: {},
          createdAt: 1,
          expiresAt: 2,
        }),
      ),
    ).toBe("INTERNAL_ERROR");
    expect(
      codeOf(() =>
        store.previews.insert({
          previewId: "pv_3",
          accountIdHash: hash,
          mode: "paper",
          payload: { account_id: "DU1234567" },
          createdAt: 1,
          expiresAt: 2,
        }),
      ),
    ).toBe("INTERNAL_ERROR");

    store.approvals.insert({
      approvalId: "ap_1",
      previewId: "pv_1",
      accountIdHash: hash,
      approvedBy: "local:operator",
      payload: {},
      createdAt: 2000,
      expiresAt: 10_000,
    });
    expect(store.approvals.consume("ap_1", 10_000)).toBe(false); // expired at its expiry instant
    expect(store.approvals.consume("ap_1", 5000)).toBe(true);
    expect(store.approvals.consume("ap_1", 5001)).toBe(false); // one-time
    expect(store.approvals.revoke("ap_1", 6000, "local:operator")).toBe(false);
    expect(store.approvals.get("ap_1")).toMatchObject({
      status: "consumed",
      consumedAt: 5000,
      revokedAt: null,
    });
    store.approvals.insert({
      approvalId: "ap_2",
      previewId: "pv_1",
      accountIdHash: hash,
      approvedBy: "agent",
      payload: {},
      createdAt: 2000,
      expiresAt: 10_000,
    });
    expect(store.approvals.revoke("ap_2", 3000, "local:operator")).toBe(true);
    expect(store.approvals.consume("ap_2", 3001)).toBe(false);
    expect(
      codeOf(() =>
        store.approvals.insert({
          approvalId: "ap_3",
          previewId: "pv_1",
          accountIdHash: hash,
          approvedBy: "x",
          payload: {},
          createdAt: 5,
          expiresAt: 5,
        }),
      ),
    ).toBe("INTERNAL_ERROR");
    store.close();
  });

  it("moves idempotency records only from pending_writer to submitted or failed_after_writer", () => {
    const f = fixture();
    const store = f.open();
    const account = store.hashAccountId("U1234567");
    const first = store.idempotency.begin({
      keyHash: DIGEST_A,
      requestHash: DIGEST_B,
      operation: "orders.paper.submit",
      accountIdHash: account,
      clientOrderId: "coid-1",
      at: 100,
    });
    expect(first).toMatchObject({
      kind: "created",
      record: { status: "pending_writer", clientOrderId: "coid-1", result: null },
    });
    const again = store.idempotency.begin({
      keyHash: DIGEST_A,
      requestHash: "c".repeat(64),
      operation: "orders.paper.submit",
      accountIdHash: account,
      at: 200,
    });
    expect(again).toMatchObject({ kind: "exists", record: { requestHash: DIGEST_B, createdAt: 100 } });
    expect(store.idempotency.listPending().map((r) => r.keyHash)).toEqual([DIGEST_A]);
    expect(
      store.idempotency.markSubmitted(DIGEST_A, { result: { order_id: "1" }, brokerOrderId: "1", at: 300 }),
    ).toBe(true);
    expect(store.idempotency.markFailedAfterWriter(DIGEST_A, { failure: { code: "X" }, at: 400 })).toBe(
      false,
    );
    expect(store.idempotency.get(DIGEST_A)).toMatchObject({
      status: "submitted",
      brokerOrderId: "1",
      result: { order_id: "1" },
      updatedAt: 300,
    });
    store.idempotency.begin({
      keyHash: "d".repeat(64),
      requestHash: DIGEST_B,
      operation: "orders.live.submit",
      accountIdHash: account,
      at: 500,
    });
    expect(
      store.idempotency.markFailedAfterWriter("d".repeat(64), {
        failure: { code: "BROKER_BACKEND_UNAVAILABLE" },
        at: 600,
      }),
    ).toBe(true);
    expect(store.idempotency.get("d".repeat(64))).toMatchObject({
      status: "failed_after_writer",
      resolution: "rejected",
    });
    expect(store.idempotency.listPending()).toEqual([]);
    expect(
      codeOf(() =>
        store.idempotency.markSubmitted("d".repeat(64), { result: { account: "U1234567" }, at: 700 }),
      ),
    ).toBe("INTERNAL_ERROR");
    store.close();
  });

  it("lets one approval back only one write, and takes up a failed key again only when nothing was sent", () => {
    const f = fixture();
    const store = f.open();
    const account = store.hashAccountId("DU1234567");
    const begin = (key: string, request: string, at: number) =>
      store.idempotency.begin({
        keyHash: key.repeat(64),
        requestHash: request.repeat(64),
        operation: "paper.submit",
        accountIdHash: account,
        mode: "paper",
        approvalId: "ap_one",
        owner: "host:1:a",
        context: { client_order_ids: ["iag-1"] },
        at,
      });
    expect(begin("a", "b", 1).kind).toBe("created");
    expect(begin("c", "b", 2)).toEqual({ kind: "approval_in_use" });
    // Refused by the broker: the approval is free again, but the same key replays the refusal.
    store.idempotency.markFailedAfterWriter("a".repeat(64), {
      failure: { code: "BROKER_ORDER_REJECTED" },
      at: 3,
    });
    expect(begin("a", "b", 4).kind).toBe("exists");
    expect(begin("c", "b", 5).kind).toBe("created");
    // Never reached the broker: the same key and request run again; another request under it does not.
    store.idempotency.markFailedAfterWriter("c".repeat(64), {
      failure: { code: "BROKER_BACKEND_UNAVAILABLE" },
      at: 6,
      resolution: "not_sent",
    });
    const failed = store.idempotency.get("c".repeat(64));
    expect(failed && store.idempotency.isRetryable(failed)).toBe(true);
    expect(begin("c", "e", 7).kind).toBe("exists");
    expect(begin("c", "b", 8)).toMatchObject({
      kind: "created",
      record: { status: "pending_writer", resolution: null, failure: null, updatedAt: 8, createdAt: 5 },
    });
    store.close();
  });

  it("sums the ledger per trading day and counts the orders of a window", () => {
    const f = fixture();
    const store = f.open();
    const account = store.hashAccountId("U1234567");
    const entry = (key: string, day: string, at: number, orders: number, notional: string) =>
      store.ledger.record({
        accountIdHash: account,
        mode: "live",
        operation: orders === 3 ? "bracket_submit" : "submit",
        tradingDay: day,
        submittedAt: at,
        orders,
        notional,
        currency: "USD",
        idempotencyKeyHash: key.repeat(64),
      });
    entry("a", "2026-12-01", 1_000, 1, "1905.50");
    entry("b", "2026-12-01", 2_000, 3, "0.25");
    entry("b", "2026-12-01", 2_000, 3, "0.25"); // the same write recorded twice counts once
    entry("c", "2026-12-02", 3_000, 1, "10");
    expect(store.ledger.totalsForDay(account, "live", "2026-12-01")).toEqual({
      orders: 4,
      notionals: [{ currency: "USD", amount: "1905.75" }],
    });
    expect(store.ledger.totalsForDay(account, "paper", "2026-12-01")).toEqual({ orders: 0, notionals: [] });
    expect(store.ledger.ordersSince(account, "live", 1_500)).toBe(4);
    expect(codeOf(() => entry("d", "1 Dec", 4_000, 1, "1"))).toBe("INTERNAL_ERROR");
    store.close();
  });

  it("persists the kill switch, live arming, backlog and order groups across reopening", () => {
    const f = fixture();
    const store = f.open();
    const account = store.hashAccountId("U1234567");
    expect(store.killSwitch.get()).toEqual({
      engaged: false,
      changedBy: null,
      reason: null,
      eventId: null,
      changedAt: null,
    });
    expect(store.liveArming.get().armed).toBe(false);
    store.killSwitch.engage({ by: "agent", reason: "runaway", at: 10 });
    store.liveArming.arm({ by: "local:operator", at: 20, eventId: "e1" });
    store.backlog.upsert({
      accountIdHash: account,
      brokerOrderId: "111",
      mode: "live",
      lastStatus: "Submitted",
      createdAt: 30,
      lastPolledAt: null,
      clientOrderId: "iag-0123",
      originRequestId: "req_1",
      role: "single",
    });
    store.backlog.upsert({
      accountIdHash: account,
      brokerOrderId: "111",
      mode: "live",
      lastStatus: "Filled",
      createdAt: 99,
      lastPolledAt: 40,
    });
    store.backlog.upsert({
      accountIdHash: account,
      brokerOrderId: "222",
      mode: "paper",
      lastStatus: "PreSubmitted",
      createdAt: 31,
      lastPolledAt: null,
    });
    store.orderGroups.insert({
      groupId: "grp_1",
      accountIdHash: account,
      mode: "paper",
      payload: { parent: "1", children: ["2", "3"] },
      createdAt: 50,
    });
    store.close();

    const reopened = f.open();
    expect(reopened.killSwitch.get()).toEqual({
      engaged: true,
      changedBy: "agent",
      reason: "runaway",
      eventId: null,
      changedAt: 10,
    });
    expect(reopened.liveArming.get()).toMatchObject({ armed: true, armedAt: 20, eventId: "e1" });
    expect(reopened.backlog.list("live")).toEqual([
      {
        accountIdHash: account,
        brokerOrderId: "111",
        mode: "live",
        lastStatus: "Filled",
        createdAt: 30,
        lastPolledAt: 40,
        clientOrderId: "iag-0123",
        originRequestId: "req_1",
        role: "single",
      },
    ]);
    expect(reopened.backlog.list().map((o) => o.brokerOrderId)).toEqual(["111", "222"]);
    expect(reopened.backlog.remove(account, "111")).toBe(true);
    expect(reopened.orderGroups.get("grp_1")?.payload).toEqual({ children: ["2", "3"], parent: "1" });
    reopened.killSwitch.release({ by: "local:operator", at: 60 });
    expect(reopened.killSwitch.get()).toMatchObject({ engaged: false, reason: null });
    reopened.liveArming.disarm({ by: "local:operator", cause: "operator", at: 70 });
    expect(reopened.liveArming.get()).toMatchObject({ armed: false, cause: "operator" });
    reopened.close();
  });

  it("commits a state change and its audit event together, or neither", () => {
    const f = fixture();
    const store = f.open();
    expect(() =>
      store.transaction(() => {
        store.killSwitch.engage({ by: "agent", reason: "stop", at: 1 });
        store.append({
          ...store.systemContext(),
          event_type: "kill_switch_engaged",
          decision: "allow",
          result_status: "completed",
        });
        throw new Error("crash before commit");
      }),
    ).toThrow("crash before commit");
    expect(store.killSwitch.get().engaged).toBe(false);
    expect(store.verify().events_scanned).toBe(0);
    store.transaction(() => {
      const event = store.append({
        ...store.systemContext(),
        event_type: "kill_switch_engaged",
        decision: "allow",
        result_status: "completed",
      });
      store.killSwitch.engage({ by: "agent", reason: "stop", at: 1, eventId: event.event_id });
    });
    expect(store.killSwitch.get().engaged).toBe(true);
    expect(store.verify()).toMatchObject({ chain_valid: true, events_scanned: 1 });
    store.close();
  });
});

describe("nothing secret in the file", () => {
  it("leaves no raw account id, token, cookie or secret in the database bytes after logging them", () => {
    const f = fixture();
    const store = f.open();
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudC0xIn0.SIGNATUREsignature0123";
    const cookie = "Set-Cookie: JSESSIONID=9f8e7d6c5b4a39281706f5e4d3c2b1a0; Path=/; Secure";
    const bearerToken = "opaqueBearerValue0123456789";
    store.append(
      toolCall(1, {
        principal: "local:tester U1234567",
        metadata: {
          mcp_client: `client ${jwt}`,
          jsonrpc_id: `Bearer ${bearerToken}`,
          cli_command: cookie,
          refusal_reasons: [
            "account DU7654321 is not allowed",
            { token: SECRET_1, nested: [{ account_id: "U5550001" }] },
          ],
        },
      }),
    );
    store.append({
      event_type: "order_preview_created",
      request_id: "req_p",
      session_id: "ses_test",
      principal: "local:tester",
      front_door: "sdk",
      tool: "ibkr_orders_preview",
      decision: "allow",
      result_status: "completed",
      account_id: "U1234567",
      metadata: { preview_id: "pv_1", symbol: "AAPL" },
    });
    store.previews.insert({
      previewId: "pv_1",
      accountIdHash: store.hashAccountId("U1234567"),
      mode: "paper",
      payload: { symbol: "AAPL" },
      createdAt: 1,
      expiresAt: 2,
    });
    store.writeExport(join(f.dir, "export.jsonl"));
    store.close();

    const files = readdirSync(f.dir).filter((name) => !name.endsWith(".manifest.json"));
    expect(files.sort()).toEqual(["export.jsonl", "state.db"]);
    // Positive control: the scan does see plain payload text in the database file.
    expect(readFileSync(f.path).toString("latin1")).toContain('"symbol":"AAPL"');
    const forbidden = [
      "U1234567",
      "DU7654321",
      "U5550001",
      jwt,
      "JSESSIONID=9f8e",
      bearerToken,
      SECRET_1,
      "SIGNATUREsignature",
    ];
    for (const name of files) {
      const bytes = readFileSync(join(f.dir, name)).toString("latin1");
      for (const value of forbidden)
        expect({ file: name, found: bytes.includes(value) }).toEqual({ file: name, found: false });
    }
    // The redactions were recorded by path, without the values.
    const reopened = openStore({ path: f.path, secrets: { auditSecret: SECRET_1 } });
    const [first] = [...reopened.exportEvents()];
    expect(first?.redactions).toEqual([
      { field_path: "principal", reason: "sensitive_value:account_id_value" },
      { field_path: "metadata.mcp_client", reason: "sensitive_value:jwt" },
      { field_path: "metadata.jsonrpc_id", reason: "sensitive_value:bearer" },
      { field_path: "metadata.cli_command", reason: "sensitive_value:cookie_header" },
      { field_path: "metadata.refusal_reasons[0]", reason: "sensitive_value:account_id_value" },
      { field_path: "metadata.refusal_reasons[1].token", reason: "sensitive_key" },
      { field_path: "metadata.refusal_reasons[1].nested[0].account_id", reason: "account_id" },
    ]);
    reopened.close();
  });
});
