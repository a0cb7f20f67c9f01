// The audit log's operator procedures (what `ibkr-agent audit verify|anchor|rotate-key|purge|backup` run)
// against a composed gateway's store: each is scope-checked, every run is recorded under its event type -
// denied, failed and refused ones too - and a recorded denial or failure changes nothing else.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { createAuditProcedures } from "../../src/gateway/index.ts";
import { CONFIG_HEADER, callOk, testGateway } from "../support/gateway.ts";

const READ_ONLY = `${CONFIG_HEADER}auth:\n  enabled_scopes: [ibkr:health:read, ibkr:audit:read, ibkr:audit:export]\n`;
const ADMIN = `${CONFIG_HEADER}  retention_days: 30\nauth:\n  enabled_scopes: [ibkr:health:read, ibkr:audit:read, ibkr:audit:export, ibkr:audit:admin]\n`;
const NEW_SECRET = "second-test-audit-secret-0123456789abcdef";

async function setup(config: string) {
  const t = await testGateway({ config });
  return { ...t, procedures: createAuditProcedures(t.gateway.store), context: t.gateway.context() };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  return "no error";
}

function lastEvent(t: Awaited<ReturnType<typeof setup>>) {
  return [...t.gateway.store.exportEvents()].at(-1);
}

describe("audit procedures", () => {
  it("denies the admin procedures without ibkr:audit:admin and records each denial", async () => {
    const t = await setup(READ_ONLY);
    const { procedures, context } = t;
    const denied = [
      [
        await codeOf(
          procedures.rotateKey(context, {
            secretEnv: "NEW",
            secret: NEW_SECRET,
            keyId: "k2",
            configuredEnvs: [],
          }),
        ),
        lastEvent(t)?.event_type,
      ],
      [
        await codeOf(procedures.purge(context, { before: "2020-01-01T00:00:00Z", exportPath: "x.jsonl" })),
        lastEvent(t)?.event_type,
      ],
      [await codeOf(procedures.backup(context, join(t.home, "b.db"))), lastEvent(t)?.event_type],
    ];
    expect(denied).toEqual([
      ["AUTH_MISSING_SCOPE", "audit_key_rotated"],
      ["AUTH_MISSING_SCOPE", "audit_purged"],
      ["AUTH_MISSING_SCOPE", "audit_backed_up"],
    ]);
    const events = [...t.gateway.store.exportEvents()];
    expect(events.map((e) => [e.decision, e.result_status, e.error_code])).toEqual([
      ["deny", "denied_scope", "AUTH_MISSING_SCOPE"],
      ["deny", "denied_scope", "AUTH_MISSING_SCOPE"],
      ["deny", "denied_scope", "AUTH_MISSING_SCOPE"],
    ]);
    expect(events[0]?.scopes).toEqual(["ibkr:audit:export", "ibkr:audit:read", "ibkr:health:read"]);
    // A denied rotation names no new key: the log goes on under k1 and still verifies.
    expect(events[0]?.metadata).toEqual({});
    await callOk(t.gateway, "ibkr_health");
    expect(t.gateway.store.keyId).toBe("k1");
    expect(t.gateway.store.verify()).toMatchObject({ chain_valid: true, key_ids: ["k1"] });
  });

  it("records a verification, with the error and the break when the chain is broken", async () => {
    const t = await setup(READ_ONLY);
    await callOk(t.gateway, "ibkr_health");
    const ok = await t.procedures.verify(t.context);
    expect(ok).toMatchObject({ chain_valid: true, events_scanned: 1, to_sequence: 1 });
    expect(lastEvent(t)).toMatchObject({
      event_id: ok.audit_event_id,
      event_type: "audit_verified",
      result_status: "completed",
      metadata: { target: "store", events_scanned: 1, from_sequence: 1, to_sequence: 1, key_ids: ["k1"] },
    });

    const db = new DatabaseSync(t.gateway.store.path);
    db.exec(`UPDATE audit_events SET payload = replace(payload, '"allow"', '"deny"') WHERE sequence = 1`);
    db.close();
    let thrown: { code?: string; details?: unknown; auditEventId?: string } = {};
    await t.procedures.verify(t.context).catch((error) => {
      thrown = error;
    });
    expect(thrown.code).toBe("AUDIT_CHAIN_INVALID");
    expect(thrown.details).toMatchObject({
      chain_valid: false,
      first_break_sequence: 1,
      break_kind: "chain_mismatch",
    });
    expect(lastEvent(t)).toMatchObject({
      event_id: thrown.auditEventId,
      sequence: 3,
      event_type: "audit_verified",
      result_status: "failed",
      error_code: "AUDIT_CHAIN_INVALID",
      metadata: { first_break_sequence: 1, break_kind: "chain_mismatch", events_scanned: 0 },
    });
  });

  it("records failed procedures with their error codes, never the secret", async () => {
    const t = await setup(ADMIN);
    const missing = await codeOf(
      t.procedures.rotateKey(t.context, {
        secretEnv: "NOT_SET",
        secret: undefined,
        keyId: "k2",
        configuredEnvs: [],
      }),
    );
    const reused = await codeOf(
      t.procedures.rotateKey(t.context, {
        secretEnv: "SAME",
        secret: NEW_SECRET,
        keyId: "k2",
        configuredEnvs: ["SAME"],
      }),
    );
    const badAnchor = await codeOf(t.procedures.verify(t.context, { anchorPath: join(t.home, "none.json") }));
    expect([missing, reused, badAnchor]).toEqual([
      "CONFIG_SECRET_MISSING",
      "CONFIG_INVALID",
      "INPUT_INVALID_ARGUMENT",
    ]);
    const events = [...t.gateway.store.exportEvents()];
    expect(events.map((e) => [e.event_type, e.decision, e.result_status, e.error_code])).toEqual([
      ["audit_key_rotated", "allow", "failed", "CONFIG_SECRET_MISSING"],
      ["audit_key_rotated", "allow", "failed", "CONFIG_INVALID"],
      ["audit_verified", "allow", "failed", "INPUT_INVALID_ARGUMENT"],
    ]);
    expect(JSON.stringify(events)).not.toContain(NEW_SECRET);
  });

  it("rotates the key: the chain continues under the new key id and verifies with both", async () => {
    const t = await setup(ADMIN);
    await callOk(t.gateway, "ibkr_health");
    const result = await t.procedures.rotateKey(t.context, {
      secretEnv: "NEW",
      secret: NEW_SECRET,
      keyId: "k2",
      configuredEnvs: ["IBKR_AGENT_TEST_AUDIT_SECRET"],
    });
    expect(result).toMatchObject({ previous_key_id: "k1", new_key_id: "k2", live_disarmed: false });
    await callOk(t.gateway, "ibkr_health");
    const events = [...t.gateway.store.exportEvents()];
    expect(events.map((e) => [e.event_type, e.key_id])).toEqual([
      ["tool_call", "k1"],
      ["audit_checkpoint", "k1"],
      ["audit_key_rotated", "k1"],
      ["tool_call", "k2"],
    ]);
    expect(events[2]?.metadata).toMatchObject({ previous_key_id: "k1", new_key_id: "k2", key_source: "env" });
    expect(t.gateway.store.verify()).toMatchObject({ chain_valid: true, key_ids: ["k1", "k2"] });
  });

  it("writes an anchor to a new file only, and records both outcomes", async () => {
    const t = await setup(READ_ONLY);
    await callOk(t.gateway, "ibkr_health");
    const path = join(t.home, "head.json");
    const { anchor } = await t.procedures.anchor(t.context, { kind: "file", path });
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(anchor);
    expect(anchor).toMatchObject({ format: "ibkr-agent-audit-anchor", sequence: 1, key_id: "k1" });
    expect(await codeOf(t.procedures.anchor(t.context, { kind: "file", path }))).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    const [, anchored, refused] = [...t.gateway.store.exportEvents()];
    expect(anchored).toMatchObject({
      event_type: "audit_anchored",
      result_status: "completed",
      metadata: { anchor_sequence: 1, anchor_chain_hash: anchor.chain_hash, anchor_kind: "file" },
    });
    expect(refused).toMatchObject({
      event_type: "audit_anchored",
      result_status: "failed",
      error_code: "INPUT_INVALID_ARGUMENT",
      metadata: { anchor_sequence: 2 },
    });
    expect(JSON.stringify(refused)).not.toContain(t.home);
  });

  it("refuses a purge inside the retention period and a cut-off without an offset, recording both", async () => {
    const t = await setup(ADMIN);
    await callOk(t.gateway, "ibkr_health");
    const recent = new Date(t.clock.now() - 86_400_000).toISOString();
    expect(await codeOf(t.procedures.purge(t.context, { before: recent, exportPath: "none.jsonl" }))).toBe(
      "AUDIT_RETENTION_REFUSED",
    );
    expect(
      await codeOf(
        t.procedures.purge(t.context, { before: "2020-01-01T00:00:00", exportPath: "none.jsonl" }),
      ),
    ).toBe("INPUT_INVALID_TIME_RANGE");
    const events = [...t.gateway.store.exportEvents({ afterSequence: 1 })];
    expect(events.map((e) => [e.event_type, e.decision, e.result_status, e.error_code])).toEqual([
      ["audit_purged", "refuse", "refused", "AUDIT_RETENTION_REFUSED"],
      ["audit_purged", "refuse", "refused", "INPUT_INVALID_TIME_RANGE"],
    ]);
    expect(events[0]?.metadata).toMatchObject({ events_purged: 0, retention_days: 30 });
  });
});

describe("audit search (incident review)", () => {
  const SCOPES = `${CONFIG_HEADER}auth:\n  enabled_scopes: [ibkr:health:read, ibkr:accounts:read, ibkr:portfolio:read, ibkr:audit:read, ibkr:audit:export]\n`;

  it("finds one call's events by request id, an account's by its hash, and events by tool and type", async () => {
    const t = await setup(SCOPES);
    const { gateway, procedures, context } = t;
    const call = gateway.context();
    await gateway.dispatch("ibkr_account_summary", { account_id: "DU1234567" }, call);
    await callOk(gateway, "ibkr_health");
    const byRequest = await procedures.search(context, { requestId: call.requestId });
    expect(byRequest.events.map((e) => [e.event_type, e.tool, e.request_id])).toEqual([
      ["tool_call", "ibkr_account_summary", call.requestId],
    ]);
    const byAccount = await procedures.search(context, { accountId: "du1234567" });
    expect(byAccount.account_id_hash).toBe(gateway.store.hashAccountId("DU1234567"));
    expect(byAccount.events.map((e) => e.tool)).toEqual(["ibkr_account_summary"]);
    const byTool = await procedures.search(context, { tool: "ibkr_health", eventType: "tool_call" });
    expect(byTool.events).toHaveLength(1);
    const one = await procedures.search(context, { eventId: byTool.events[0]?.event_id as string });
    expect(one.events.map((e) => e.event_id)).toEqual([byTool.events[0]?.event_id]);
    const limited = await procedures.search(context, { eventType: "audit_exported", limit: 1 });
    // Each search is itself recorded as an export to stdout: four so far, one returned.
    expect([limited.events.length, limited.truncated]).toEqual([1, true]);
    expect(lastEvent(t)).toMatchObject({ event_type: "audit_exported", metadata: { destination: "stdout" } });
  });

  it("refuses without ibkr:audit:export, and refuses to search a broken chain", async () => {
    const t = await setup(`${CONFIG_HEADER}auth:\n  enabled_scopes: [ibkr:health:read, ibkr:audit:read]\n`);
    expect(await codeOf(t.procedures.search(t.context, { tool: "ibkr_health" }))).toBe("AUTH_MISSING_SCOPE");
    const u = await setup(SCOPES);
    await callOk(u.gateway, "ibkr_health");
    const db = new DatabaseSync(u.gateway.store.path);
    db.exec(
      "UPDATE audit_events SET payload = replace(payload, 'ibkr_health', 'ibkr_healtX') WHERE sequence = 1",
    );
    db.close();
    expect(await codeOf(u.procedures.search(u.context, { tool: "ibkr_health" }))).toBe("AUDIT_CHAIN_INVALID");
  });
});
