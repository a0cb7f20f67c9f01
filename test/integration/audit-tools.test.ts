// The audit tools through the composed gateway (dispatcher, scope gate, output check, tool_call audit): the
// verified tail, paged exports with their batch digest, and refusals on a broken chain. The chain is broken
// by editing the SQLite file directly, as someone with write access to it would.
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { CONFIG_HEADER, callCode, callOk, testGateway } from "../support/gateway.ts";

const AUDIT_SCOPES = `${CONFIG_HEADER}auth:\n  enabled_scopes: [ibkr:health:read, ibkr:accounts:read, ibkr:audit:read, ibkr:audit:export]\n`;

type Event = Record<string, unknown> & { sequence: number };

async function auditGateway() {
  return testGateway({ config: AUDIT_SCOPES });
}

function editPayload(path: string, sequence: number): void {
  const db = new DatabaseSync(path);
  try {
    db.prepare(
      `UPDATE audit_events SET payload = replace(payload, '"allow"', '"deny"') WHERE sequence = ?`,
    ).run(sequence);
  } finally {
    db.close();
  }
}

/** JSON with sorted keys: the canonical form of these flat events (strings and integers only). */
function sortedJson(value: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))));
}

describe("ibkr_audit_tail", () => {
  it("returns the newest events oldest first, with only the contract's fields, after verifying", async () => {
    const { gateway } = await auditGateway();
    for (let i = 0; i < 3; i += 1) await callOk(gateway, "ibkr_health");
    const tail = await callOk(gateway, "ibkr_audit_tail", { limit: 2 });
    const events = tail.events as Event[];
    expect(tail.chain_verified).toBe(true);
    expect(tail.verified_through_sequence).toBe(3);
    expect(events.map((e) => [e.sequence, e.event_type, e.tool, e.decision, e.result_status])).toEqual([
      [2, "tool_call", "ibkr_health", "allow", "completed"],
      [3, "tool_call", "ibkr_health", "allow", "completed"],
    ]);
    // Scopes, hashes of arguments, metadata and the session stay in the log.
    expect(Object.keys(events[0] as Event).sort()).toEqual([
      "chain_hash",
      "decision",
      "event_id",
      "event_type",
      "request_id",
      "result_status",
      "sequence",
      "timestamp",
      "tool",
    ]);
  });

  it("returns 100 events by default and an empty verified tail for an empty log", async () => {
    const { gateway } = await auditGateway();
    const empty = await callOk(gateway, "ibkr_audit_tail");
    expect(empty).toEqual({ events: [], chain_verified: true, verified_through_sequence: 0 });
    for (let i = 0; i < 104; i += 1) await callOk(gateway, "ibkr_health");
    const tail = await callOk(gateway, "ibkr_audit_tail");
    const sequences = (tail.events as Event[]).map((e) => e.sequence);
    expect(sequences).toHaveLength(100);
    expect([sequences[0], sequences.at(-1)]).toEqual([6, 105]);
  });

  it("shows an account only as its keyed hash", async () => {
    const { gateway } = await auditGateway();
    await callOk(gateway, "ibkr_account_metadata", { account_id: "DU1234567" });
    const tail = await callOk(gateway, "ibkr_audit_tail");
    const [event] = tail.events as Event[];
    expect(event?.account_id_hash).toBe(gateway.store.hashAccountId("DU1234567"));
    expect(JSON.stringify(tail)).not.toContain("DU1234567");
  });

  it("returns AUDIT_CHAIN_INVALID and no events when a row was edited, and audits the refusal", async () => {
    const { gateway } = await auditGateway();
    for (let i = 0; i < 4; i += 1) await callOk(gateway, "ibkr_health");
    editPayload(gateway.store.path, 2);
    const outcome = await gateway.dispatch("ibkr_audit_tail", { limit: 1 });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe("AUDIT_CHAIN_INVALID");
    expect(outcome.error.details).toMatchObject({ first_break_sequence: 2, break_kind: "chain_mismatch" });
    expect("result" in outcome).toBe(false);
    const last = [...gateway.store.exportEvents({ afterSequence: 4 })];
    expect(last.map((e) => [e.tool, e.result_status, e.error_code])).toEqual([
      ["ibkr_audit_tail", "failed", "AUDIT_CHAIN_INVALID"],
    ]);
  });

  it("rejects a limit outside 1-500 before reading anything", async () => {
    const { gateway } = await auditGateway();
    expect(await callCode(gateway, "ibkr_audit_tail", { limit: 0 })).toBe("INPUT_INVALID_ARGUMENT");
    expect(await callCode(gateway, "ibkr_audit_tail", { limit: 501 })).toBe("INPUT_INVALID_ARGUMENT");
  });

  it("is denied without ibkr:audit:read", async () => {
    const { gateway } = await testGateway({
      config: `${CONFIG_HEADER}auth:\n  enabled_scopes: [ibkr:health:read]\n`,
    });
    expect(await callCode(gateway, "ibkr_audit_tail")).toBe("AUTH_MISSING_SCOPE");
    expect(await callCode(gateway, "ibkr_audit_export")).toBe("AUTH_MISSING_SCOPE");
  });
});

describe("ibkr_audit_export", () => {
  it("pages through the log with after_sequence and tells when there is more", async () => {
    const { gateway } = await auditGateway();
    for (let i = 0; i < 5; i += 1) await callOk(gateway, "ibkr_health");
    const first = await callOk(gateway, "ibkr_audit_export", { limit: 2 });
    expect((first.events as Event[]).map((e) => e.sequence)).toEqual([1, 2]);
    expect(first.more).toBe(true);
    expect(first.chain_verified).toBe(true);
    const second = await callOk(gateway, "ibkr_audit_export", { after_sequence: 2, limit: 2 });
    expect((second.events as Event[]).map((e) => e.sequence)).toEqual([3, 4]);
    expect(second.more).toBe(true);
    // By now the log also holds this test's own export calls (audit_exported + tool_call per page).
    const rest = await callOk(gateway, "ibkr_audit_export", { after_sequence: 4, limit: 500 });
    expect((rest.events as Event[]).map((e) => [e.sequence, e.event_type, e.tool ?? null])).toEqual([
      [5, "tool_call", "ibkr_health"],
      [6, "audit_exported", null],
      [7, "tool_call", "ibkr_audit_export"],
      [8, "audit_exported", null],
      [9, "tool_call", "ibkr_audit_export"],
    ]);
    expect(rest.more).toBe(false);
  });

  it("digests the batch as JSON Lines and records the export next to its tool call", async () => {
    const { gateway, clock } = await auditGateway();
    await callOk(gateway, "ibkr_health");
    await callOk(gateway, "ibkr_health");
    const result = await callOk(gateway, "ibkr_audit_export");
    const lines = (result.events as Event[]).map((e) => `${sortedJson(e)}\n`).join("");
    expect(result.batch_sha256).toBe(createHash("sha256").update(lines).digest("hex"));
    expect(result.exported_at).toBe(new Date(clock.now()).toISOString());
    const [exported, call] = [...gateway.store.exportEvents({ afterSequence: 2 })];
    expect(exported).toMatchObject({
      event_type: "audit_exported",
      decision: "allow",
      result_status: "completed",
      request_id: call?.request_id,
      metadata: {
        from_sequence: 1,
        to_sequence: 2,
        events_count: 2,
        export_sha256: result.batch_sha256,
        destination: "tool_result",
      },
    });
    expect(call).toMatchObject({ tool: "ibkr_audit_export", result_status: "completed" });
  });

  it("selects the gap-free run of events between since and until", async () => {
    const { gateway, clock } = await auditGateway();
    const start = clock.now();
    for (let i = 0; i < 4; i += 1) {
      await callOk(gateway, "ibkr_health");
      clock.advance(60_000);
    }
    const since = new Date(start + 60_000).toISOString();
    const until = new Date(start + 180_000).toISOString();
    const result = await callOk(gateway, "ibkr_audit_export", { since, until });
    expect((result.events as Event[]).map((e) => e.sequence)).toEqual([2, 3]);
    expect(result.more).toBe(false);
    expect(await callCode(gateway, "ibkr_audit_export", { since: until, until: since })).toBe(
      "INPUT_INVALID_TIME_RANGE",
    );
  });

  it("refuses to export from a broken chain", async () => {
    const { gateway } = await auditGateway();
    for (let i = 0; i < 3; i += 1) await callOk(gateway, "ibkr_health");
    editPayload(gateway.store.path, 1);
    const outcome = await gateway.dispatch("ibkr_audit_export", { after_sequence: 2 });
    expect(outcome.ok ? "ok" : outcome.error.code).toBe("AUDIT_CHAIN_INVALID");
    expect(outcome.ok ? null : outcome.error.details?.first_break_sequence).toBe(1);
  });
});
