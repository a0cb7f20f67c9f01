import { createHash, createHmac, hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isGatewayError } from "../../../src/core/gateway-error.ts";
import { canonicalJson, openStore } from "../../../src/store/index.ts";
import { appendMany, eventIdAt, fixture, SECRET_1, tamper, toolCall } from "./helpers.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isGatewayError(error)) return error.code;
    throw error;
  }
  return "no error";
}

/** 25 tool calls with a checkpoint after every 10th event: rows 1..27, checkpoint events at 11 and 21. */
function populated() {
  const f = fixture();
  const store = f.open();
  appendMany(store, 25);
  return { ...f, store };
}

describe("audit append", () => {
  it("writes the contract envelope and chains it with HMAC(chain key, prev:event_id:sha256(payload))", () => {
    const f = fixture();
    const store = f.open();
    const first = store.append(toolCall(1));
    const second = store.append(
      toolCall(2, { result_status: "failed", error_code: "BROKER_BACKEND_UNAVAILABLE" }),
    );
    store.close();

    expect(first).toMatchObject({
      sequence: 1,
      schema_version: 1,
      event_type: "tool_call",
      timestamp: "2026-11-24T14:30:00.000Z",
      key_id: "k1",
      request_id: "req_test-1",
      session_id: "ses_test",
      principal: "local:tester",
      front_door: "cli",
      tool: "ibkr_accounts_list",
      scopes: ["ibkr:accounts:read"],
      decision: "allow",
      result_status: "completed",
      redactions: [],
      metadata: { duration_ms: 1, broker_requests: 1, tier: "read" },
      prev_hash: "",
    });
    expect(first.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second.prev_hash).toBe(first.chain_hash);
    expect(second.error_code).toBe("BROKER_BACKEND_UNAVAILABLE");

    // Recompute independently of the store: HKDF-SHA256 of the secret, then the contract's chain message.
    const chainKey = Buffer.from(
      hkdfSync("sha256", SECRET_1, "ibkr-agent-gateway/audit-keys/v1", "ibkr-agent audit chain", 32),
    );
    tamper(f.path, (db) => {
      const rows = db.prepare("SELECT * FROM audit_events ORDER BY sequence").all() as {
        event_id: string;
        payload: string;
        prev_hash: string;
        chain_hash: string;
      }[];
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        const digest = createHash("sha256").update(row.payload).digest("hex");
        const expected = createHmac("sha256", chainKey)
          .update(`${row.prev_hash}:${row.event_id}:${digest}`)
          .digest("hex");
        expect(row.chain_hash).toBe(expected);
        const parsed = JSON.parse(row.payload);
        expect(canonicalJson(parsed)).toBe(row.payload);
        expect(Object.keys(parsed)).not.toContain("chain_hash");
        expect(Object.keys(parsed)).not.toContain("prev_hash");
      }
      expect(rows[0]?.payload.startsWith('{"decision":"allow","event_id":')).toBe(true);
    });
  });

  it("rejects unknown event types and events the catalogue does not allow", () => {
    const f = fixture();
    const store = f.open();
    expect(codeOf(() => store.append(toolCall(1, { event_type: "tool_called" as never })))).toBe(
      "INTERNAL_ERROR",
    );
    expect(codeOf(() => store.append(toolCall(1, { metadata: { secret_note: "x" } })))).toBe(
      "INTERNAL_ERROR",
    );
    expect(codeOf(() => store.append(toolCall(1, { result_status: "failed" })))).toBe("INTERNAL_ERROR");
    expect(codeOf(() => store.append(toolCall(1, { error_code: "INTERNAL_ERROR" })))).toBe("INTERNAL_ERROR");
    expect(codeOf(() => store.append(toolCall(1, { decision: "deny" })))).toBe("INTERNAL_ERROR");
    expect(codeOf(() => store.append(toolCall(1, { input_hash: undefined })))).toBe("INTERNAL_ERROR");
    expect(codeOf(() => store.append(toolCall(1, { request_id: "has spaces" })))).toBe("INTERNAL_ERROR");
    expect(codeOf(() => store.append(toolCall(1, { account_id_hash: "U1234567" })))).toBe("INTERNAL_ERROR");
    expect(store.verify().events_scanned).toBe(0);
    store.close();
  });

  it("stores a raw account id only as its keyed hash and a client tool name only when it looks like one", () => {
    const f = fixture();
    const store = f.open();
    const event = store.append(
      toolCall(1, {
        tool: "Robert'); DROP TABLE",
        event_type: "tool_call",
        decision: "refuse",
        result_status: "refused",
        error_code: "INPUT_UNKNOWN_TOOL",
      }),
    );
    expect(event.tool).toBe("invalid");
    const preview = store.append({
      event_type: "order_preview_created",
      request_id: "req_p",
      session_id: "ses_test",
      principal: "local:tester",
      front_door: "sdk",
      tool: "ibkr_orders_preview",
      decision: "allow",
      result_status: "completed",
      account_id: "DU1234567",
      metadata: { preview_id: "pv_1", symbol: "AAPL" },
    });
    expect(preview.account_id_hash).toBe(store.hashAccountId("DU1234567"));
    expect(preview.account_id_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(preview)).not.toContain("DU1234567");
    store.close();
  });

  it("turns a SQLite failure into AUDIT_WRITE_FAILED (retryable) and leaves the chain as it was", () => {
    const f = fixture();
    const store = f.open();
    appendMany(store, 3);
    tamper(f.path, (db) => {
      db.exec(
        "CREATE TRIGGER fail_insert BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk is full'); END",
      );
    });
    let caught: unknown;
    try {
      store.append(toolCall(4));
    } catch (error) {
      caught = error;
    }
    expect(isGatewayError(caught) && caught.code).toBe("AUDIT_WRITE_FAILED");
    expect(isGatewayError(caught) && caught.retryable).toBe(true);
    tamper(f.path, (db) => db.exec("DROP TRIGGER fail_insert"));
    expect(store.append(toolCall(4)).sequence).toBe(4);
    expect(store.verify()).toMatchObject({ chain_valid: true, events_scanned: 4 });
    store.close();
  });

  it("refuses to append through a read-only store (not retryable)", () => {
    const f = fixture();
    f.open().close();
    const store = f.open({ readonly: true });
    let caught: unknown;
    try {
      store.append(toolCall(1));
    } catch (error) {
      caught = error;
    }
    expect(isGatewayError(caught) && caught.code).toBe("AUDIT_WRITE_FAILED");
    expect(isGatewayError(caught) && caught.retryable).toBe(false);
    store.close();
  });

  it("writes a signed checkpoint after every N-th event", () => {
    const { store, path } = populated();
    store.close();
    tamper(path, (db) => {
      expect(db.prepare("SELECT sequence, kind FROM audit_checkpoints ORDER BY sequence").all()).toEqual([
        { sequence: 11, kind: "periodic" },
        { sequence: 21, kind: "periodic" },
      ]);
      const second = JSON.parse(
        (db.prepare("SELECT payload FROM audit_events WHERE sequence = 21").get() as { payload: string })
          .payload,
      );
      expect(second.event_type).toBe("audit_checkpoint");
      expect(second.metadata.covered_sequence).toBe(20);
      expect(second.metadata.events_since_previous).toBe(9);
      expect(second.metadata.checkpoint_hmac).toMatch(/^[0-9a-f]{64}$/);
    });
  });
});

describe("audit verify", () => {
  it("passes on an intact chain in one pass and reports progress", () => {
    const { store } = populated();
    const progress: number[] = [];
    const report = store.verify({ onProgress: (p) => progress.push(p.events_scanned), progressEvery: 10 });
    expect(report).toEqual({
      events_scanned: 27,
      chain_valid: true,
      first_break_sequence: null,
      first_break_event_id: null,
      reason: null,
      break_kind: null,
      from_sequence: 1,
      to_sequence: 27,
      base_sequence: 0,
      key_ids: ["k1"],
      checkpoints_checked: 2,
      anchor_checked: false,
      checkpoint_event_id: report.checkpoint_event_id,
    });
    expect(report.checkpoint_event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(progress).toEqual([10, 20]);
    store.close();
  });

  const cases: {
    name: string;
    change: (path: string) => void;
    sequence: number;
    kind: string;
    eventAt?: number | "forged" | null;
  }[] = [
    {
      name: "an edited payload",
      change: (path) =>
        tamper(path, (db) =>
          db.exec(
            `UPDATE audit_events SET payload = replace(payload, '"duration_ms":5', '"duration_ms":6') WHERE sequence = 5`,
          ),
        ),
      sequence: 5,
      kind: "chain_mismatch",
      eventAt: 5,
    },
    {
      name: "an edited chain_hash",
      change: (path) =>
        tamper(path, (db) =>
          db.exec(`UPDATE audit_events SET chain_hash = '${"0".repeat(64)}' WHERE sequence = 7`),
        ),
      sequence: 7,
      kind: "chain_mismatch",
      eventAt: 7,
    },
    {
      name: "a deleted middle row",
      change: (path) => tamper(path, (db) => db.exec("DELETE FROM audit_events WHERE sequence = 5")),
      sequence: 5,
      kind: "sequence_gap",
      eventAt: null,
    },
  ];

  for (const c of cases) {
    it(`finds ${c.name}`, () => {
      const { store, path } = populated();
      store.close();
      const id = typeof c.eventAt === "number" ? eventIdAt(path, c.eventAt) : null;
      c.change(path);
      const reopened = populatedReopen(path);
      const report = reopened.verify();
      expect(report.chain_valid).toBe(false);
      expect(report.first_break_sequence).toBe(c.sequence);
      expect(report.break_kind).toBe(c.kind);
      expect(report.first_break_event_id).toBe(id);
      expect(report.to_sequence).toBe(c.sequence - 1);
      reopened.close();
    });
  }

  it("finds two rows whose sequences were swapped", () => {
    const { store, path } = populated();
    store.close();
    const sixth = eventIdAt(path, 6);
    tamper(path, (db) => {
      db.exec("UPDATE audit_events SET sequence = -5 WHERE sequence = 5");
      db.exec("UPDATE audit_events SET sequence = 5 WHERE sequence = 6");
      db.exec("UPDATE audit_events SET sequence = 6 WHERE sequence = -5");
    });
    const report = populatedReopen(path).verify();
    expect(report).toMatchObject({
      chain_valid: false,
      first_break_sequence: 5,
      first_break_event_id: sixth,
      break_kind: "chain_mismatch",
    });
  });

  it("finds a forged row inserted in the middle and one appended at the end", () => {
    const { store, path } = populated();
    store.close();
    const forgedId = "01900000-0000-7000-8000-000000000000";
    tamper(path, (db) => {
      db.exec("UPDATE audit_events SET sequence = sequence + 1000 WHERE sequence >= 5");
      db.exec("UPDATE audit_events SET sequence = sequence - 999 WHERE sequence >= 1000");
      const prev = (
        db.prepare("SELECT chain_hash FROM audit_events WHERE sequence = 4").get() as { chain_hash: string }
      ).chain_hash;
      db.prepare(
        "INSERT INTO audit_events (sequence, event_id, event_type, timestamp, key_id, request_id, payload, prev_hash, chain_hash) VALUES (5, ?, 'tool_call', '2026-11-24T14:30:00.000Z', 'k1', 'req_x', '{}', ?, ?)",
      ).run(forgedId, prev, "f".repeat(64));
    });
    expect(populatedReopen(path).verify()).toMatchObject({
      chain_valid: false,
      first_break_sequence: 5,
      first_break_event_id: forgedId,
      break_kind: "chain_mismatch",
    });

    const second = populated();
    second.store.close();
    tamper(second.path, (db) => {
      const prev = (
        db.prepare("SELECT chain_hash FROM audit_events WHERE sequence = 27").get() as { chain_hash: string }
      ).chain_hash;
      db.prepare(
        "INSERT INTO audit_events (sequence, event_id, event_type, timestamp, key_id, request_id, payload, prev_hash, chain_hash) VALUES (28, ?, 'tool_call', '2026-11-24T14:30:00.000Z', 'k1', 'req_x', '{}', ?, ?)",
      ).run(forgedId, prev, "e".repeat(64));
    });
    expect(populatedReopen(second.path).verify()).toMatchObject({
      chain_valid: false,
      first_break_sequence: 28,
      first_break_event_id: forgedId,
    });
  });

  it("finds a truncated tail from the checkpoint rows left behind", () => {
    const { store, path } = populated();
    store.close();
    tamper(path, (db) => db.exec("DELETE FROM audit_events WHERE sequence >= 19"));
    expect(populatedReopen(path).verify()).toMatchObject({
      chain_valid: false,
      first_break_sequence: 19,
      first_break_event_id: null,
      break_kind: "truncated_tail",
      to_sequence: 18,
    });
  });

  it("finds a tail deleted together with its checkpoints only against the external anchor", () => {
    const { store, path } = populated();
    const anchor = store.anchor();
    expect(anchor).toMatchObject({ format: "ibkr-agent-audit-anchor", sequence: 27, key_id: "k1" });
    expect(store.verify({ anchor })).toMatchObject({ chain_valid: true, anchor_checked: true });
    store.close();
    tamper(path, (db) => {
      db.exec("DELETE FROM audit_events WHERE sequence >= 19");
      db.exec("DELETE FROM audit_checkpoints WHERE sequence >= 19");
      db.exec("DELETE FROM audit_verified_marks");
    });
    const reopened = populatedReopen(path);
    expect(reopened.verify()).toMatchObject({ chain_valid: true, to_sequence: 18 });
    expect(reopened.verify({ anchor })).toMatchObject({
      chain_valid: false,
      first_break_sequence: 19,
      break_kind: "truncated_tail",
      anchor_checked: false,
    });
  });

  it("writes checkpoints on demand and records an anchor written outside the database", () => {
    const f = fixture();
    const store = f.open();
    appendMany(store, 3);
    const checkpoint = store.checkpoint();
    expect(checkpoint).toMatchObject({ sequence: 4, kind: "manual", key_id: "k1" });
    const anchor = store.anchor();
    expect(anchor.sequence).toBe(4);
    const recorded = store.recordAnchored(anchor, { anchorKind: "file" });
    expect(recorded).toMatchObject({
      event_type: "audit_anchored",
      result_status: "completed",
      metadata: { anchor_sequence: 4, anchor_chain_hash: anchor.chain_hash, anchor_kind: "file" },
    });
    expect(store.verify({ anchor })).toMatchObject({
      chain_valid: true,
      anchor_checked: true,
      checkpoints_checked: 1,
    });
    expect(codeOf(() => store.recordAnchored({ ...anchor, sequence: 3 }, { anchorKind: "file" }))).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    store.close();
  });

  it("rejects a forged checkpoint row and an altered anchor", () => {
    const { store, path } = populated();
    const anchor = store.anchor();
    store.close();
    const reopened = populatedReopen(path);
    expect(reopened.verify({ anchor: { ...anchor, sequence: 26 } })).toMatchObject({
      chain_valid: false,
      break_kind: "anchor_invalid",
    });
    reopened.close();
    tamper(path, (db) =>
      db.exec(`UPDATE audit_checkpoints SET signature = '${"0".repeat(64)}' WHERE sequence = 11`),
    );
    expect(populatedReopen(path).verify()).toMatchObject({
      chain_valid: false,
      first_break_sequence: 11,
      break_kind: "checkpoint_invalid",
    });
  });
});

describe("verified tail", () => {
  it("returns the newest events oldest first, verifying from a mark after the first full pass", () => {
    const { store } = populated();
    const first = store.tailVerified(5);
    expect(first.events.map((e) => e.sequence)).toEqual([23, 24, 25, 26, 27]);
    expect(first).toMatchObject({ verified_through_sequence: 27, verified_from: "full" });
    expect(first.events[4]?.chain_hash).toMatch(/^[0-9a-f]{64}$/);
    const second = store.tailVerified(5);
    expect(second.verified_from).toBe("from_mark");
    expect(second.events.map((e) => e.event_id)).toEqual(first.events.map((e) => e.event_id));
    // A window straddling the newest checkpoint starts from the one before it.
    expect(store.tailVerified(8)).toMatchObject({
      verified_from: "from_mark",
      verified_through_sequence: 27,
    });
    expect(store.tailVerified(500).events).toHaveLength(27);
    store.close();
  });

  it("refuses a tail whose verified part was changed, and bad limits", () => {
    const { store, path } = populated();
    store.tailVerified(5);
    tamper(path, (db) =>
      db.exec(
        `UPDATE audit_events SET payload = replace(payload, '"duration_ms":24', '"duration_ms":1') WHERE sequence = 26`,
      ),
    );
    expect(codeOf(() => store.tailVerified(5))).toBe("AUDIT_CHAIN_INVALID");
    expect(codeOf(() => store.tailVerified(0))).toBe("INPUT_INVALID_ARGUMENT");
    expect(codeOf(() => store.tailVerified(501))).toBe("INPUT_INVALID_ARGUMENT");
    store.close();
  });

  it("does not re-read rows older than its mark (documented); full verify still finds a change there", () => {
    const { store, path } = populated();
    store.tailVerified(5);
    tamper(path, (db) =>
      db.exec(
        `UPDATE audit_events SET payload = replace(payload, '"duration_ms":2', '"duration_ms":3') WHERE sequence = 2`,
      ),
    );
    expect(store.tailVerified(5).verified_from).toBe("from_mark");
    expect(store.verify()).toMatchObject({ chain_valid: false, first_break_sequence: 2 });
    store.close();
  });
});

function populatedReopen(path: string) {
  // Reopen the tampered file with the same secret (a fresh process would do the same).
  return fixtureAt(path);
}

function fixtureAt(path: string) {
  return openStore({ path, secrets: { auditSecret: SECRET_1 }, checkpointEvery: 10 });
}
