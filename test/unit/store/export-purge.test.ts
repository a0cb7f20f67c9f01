import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isGatewayError } from "../../../src/core/gateway-error.ts";
import { manifestPathFor, openStore } from "../../../src/store/index.ts";
import { appendMany, fixture, SECRET_1, tamper, toolCall } from "./helpers.ts";

const DAY = 86_400_000;

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isGatewayError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  return { code: "no error", message: "" };
}

describe("audit export", () => {
  it("writes JSONL with a signed sha256 manifest that verifies, and records the export", () => {
    const f = fixture();
    const store = f.open();
    appendMany(store, 25);
    const path = join(f.dir, "audit.jsonl");
    const manifest = store.writeExport(path);
    const text = readFileSync(path, "utf8");
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(27);
    expect(manifest).toMatchObject({
      format: "ibkr-agent-audit-export",
      format_version: 1,
      file: "audit.jsonl",
      count: 27,
      first_sequence: 1,
      last_sequence: 27,
      first_prev_hash: "",
      key_ids: ["k1"],
      signing_key_id: "k1",
      sha256: createHash("sha256").update(text).digest("hex"),
    });
    expect(JSON.parse(lines[26] as string).chain_hash).toBe(manifest.last_chain_hash);
    expect(JSON.parse(readFileSync(manifestPathFor(path), "utf8"))).toEqual(manifest);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(store.verifyExport(path)).toMatchObject({ valid: true, events_checked: 27 });

    const recorded = [...store.exportEvents({ afterSequence: 27 })];
    expect(recorded.map((e) => e.event_type)).toEqual(["audit_exported"]);
    expect(recorded[0]?.metadata).toMatchObject({
      export_id: manifest.export_id,
      from_sequence: 1,
      to_sequence: 27,
      events_count: 27,
      export_sha256: manifest.sha256,
      destination: "file",
    });
    store.close();
  });

  it("rejects an export whose file or manifest was changed", () => {
    const f = fixture();
    const store = f.open();
    appendMany(store, 5);
    const path = join(f.dir, "audit.jsonl");
    store.writeExport(path);
    const original = readFileSync(path, "utf8");
    const manifestText = readFileSync(manifestPathFor(path), "utf8");

    writeFileSync(path, original.replace('"duration_ms":3', '"duration_ms":4'));
    expect(errorOf(() => store.verifyExport(path)).code).toBe("AUDIT_EXPORT_INVALID");

    // Dropping a line and fixing the digest is still caught: the manifest signature covers the digest.
    const shortened = `${original.trimEnd().split("\n").slice(0, 4).join("\n")}\n`;
    writeFileSync(path, shortened);
    const forged = {
      ...JSON.parse(manifestText),
      count: 4,
      sha256: createHash("sha256").update(shortened).digest("hex"),
    };
    writeFileSync(manifestPathFor(path), JSON.stringify(forged));
    expect(errorOf(() => store.verifyExport(path))).toMatchObject({
      code: "AUDIT_EXPORT_INVALID",
      message: "The audit export does not match its manifest: the manifest signature is invalid.",
    });

    writeFileSync(path, original);
    writeFileSync(manifestPathFor(path), manifestText);
    expect(store.verifyExport(path).valid).toBe(true);
    store.close();
  });

  it("selects a gap-free range by time, sequence and limit", () => {
    const f = fixture();
    const store = f.open();
    for (let i = 1; i <= 6; i += 1) {
      store.append(toolCall(i));
      f.clock.advance(60_000);
    }
    const start = Date.UTC(2026, 10, 24, 14, 30, 0);
    const sequences = (filter: Parameters<typeof store.exportEvents>[0]) =>
      [...store.exportEvents(filter)].map((e) => e.sequence);
    expect(sequences({})).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sequences({ since: new Date(start + 120_000).toISOString() })).toEqual([3, 4, 5, 6]);
    expect(sequences({ until: new Date(start + 120_000) })).toEqual([1, 2]);
    expect(sequences({ afterSequence: 4 })).toEqual([5, 6]);
    expect(sequences({ limit: 2, afterSequence: 1 })).toEqual([2, 3]);
    expect(errorOf(() => [...store.exportEvents({ since: "yesterday" })]).code).toBe(
      "INPUT_INVALID_TIME_RANGE",
    );
    expect(
      errorOf(() => [...store.exportEvents({ since: "2026-11-25T00:00:00Z", until: "2026-11-24T00:00:00Z" })])
        .code,
    ).toBe("INPUT_INVALID_TIME_RANGE");
    store.close();
  });
});

describe("audit backup", () => {
  it("copies the store through the backup API into a file that verifies on its own", async () => {
    const f = fixture();
    const store = f.open();
    appendMany(store, 12);
    const destination = join(f.dir, "backup.db");
    const result = await store.backup(destination);
    expect(result.pages).toBeGreaterThan(0);
    expect(statSync(destination).mode & 0o777).toBe(0o600);
    store.append(toolCall(13));
    store.close();
    const copy = openStore({ path: destination, secrets: { auditSecret: SECRET_1 }, readonly: true });
    expect(copy.verify()).toMatchObject({ chain_valid: true, events_scanned: 13 });
    copy.close();
    await expect(f.open().backup(destination)).rejects.toMatchObject({ code: "INPUT_INVALID_ARGUMENT" });
  });
});

describe("audit purge", () => {
  const start = Date.UTC(2026, 10, 24, 14, 30, 0);

  function aged() {
    const f = fixture();
    const store = f.open();
    appendMany(store, 25); // rows 1..27 at the start time
    const anchor = store.anchor();
    f.clock.advance(DAY);
    const path = join(f.dir, "old.jsonl");
    store.writeExport(path, { until: new Date(start + 3_600_000) }); // rows 1..27; the export event is row 28
    return { ...f, store, anchor, exportPath: path };
  }

  it("refuses inside the retention period and records the refusal", () => {
    const { store, exportPath, clock } = aged();
    clock.advance(100 * DAY);
    expect(errorOf(() => store.purge({ before: new Date(start + 3_600_000), exportPath })).code).toBe(
      "AUDIT_RETENTION_REFUSED",
    );
    const last = [...store.exportEvents()].at(-1);
    expect(last).toMatchObject({
      event_type: "audit_purged",
      decision: "refuse",
      result_status: "refused",
      error_code: "AUDIT_RETENTION_REFUSED",
      metadata: { events_purged: 0, retention_days: 2555, from_sequence: 1, to_sequence: 27 },
    });
    expect(store.verify().events_scanned).toBe(29);
    store.close();
  });

  it("refuses without a verified export that covers the range", () => {
    const { store, exportPath, clock, dir } = aged();
    clock.advance(2600 * DAY);
    const before = new Date(start + 3_600_000);
    expect(errorOf(() => store.purge({ before, exportPath: join(dir, "missing.jsonl") })).code).toBe(
      "AUDIT_EXPORT_INVALID",
    );
    const partial = join(dir, "partial.jsonl");
    store.writeExport(partial, { afterSequence: 5, until: before });
    expect(errorOf(() => store.purge({ before, exportPath: partial })).code).toBe("AUDIT_RETENTION_REFUSED");
    writeFileSync(exportPath, readFileSync(exportPath, "utf8").replace('"duration_ms":3', '"duration_ms":4'));
    expect(errorOf(() => store.purge({ before, exportPath })).code).toBe("AUDIT_EXPORT_INVALID");
    expect(store.verify()).toMatchObject({ chain_valid: true, base_sequence: 0 });
    store.close();
  });

  it("purges after a covering export, re-anchors, and verify still passes (also after reopening)", () => {
    const { store, exportPath, clock, anchor, path } = aged();
    clock.advance(2600 * DAY);
    const result = store.purge({ before: new Date(start + 3_600_000), exportPath });
    expect(result).toMatchObject({ events_purged: 27, from_sequence: 1, to_sequence: 27, base_sequence: 27 });
    // 28 export, 29 the purge checkpoint, 30 audit_purged, 31 the periodic checkpoint after every 10th row.
    expect(result.anchor.sequence).toBe(31);
    const remaining = [...store.exportEvents()].map((e) => [e.sequence, e.event_type]);
    expect(remaining).toEqual([
      [28, "audit_exported"],
      [29, "audit_checkpoint"],
      [30, "audit_purged"],
      [31, "audit_checkpoint"],
    ]);
    expect(store.verify()).toMatchObject({
      chain_valid: true,
      base_sequence: 27,
      from_sequence: 28,
      to_sequence: 31,
    });
    // The anchor taken before the purge named sequence 27, now the signed base: it still checks out.
    expect(store.verify({ anchor })).toMatchObject({ chain_valid: true, anchor_checked: true });
    expect(store.verify({ anchor: result.anchor })).toMatchObject({
      chain_valid: true,
      anchor_checked: true,
    });
    expect(store.tailVerified(10).events.map((e) => e.sequence)).toEqual([28, 29, 30, 31]);
    store.append(toolCall(99));
    store.close();

    const reopened = openStore({ path, secrets: { auditSecret: SECRET_1 }, checkpointEvery: 10 });
    expect(reopened.verify()).toMatchObject({ chain_valid: true, events_scanned: 5 });
    reopened.close();

    // Deleting the base the purge left behind is itself detected.
    tamper(path, (db) => db.exec("DELETE FROM audit_checkpoints WHERE kind = 'purge_base'"));
    const stripped = openStore({ path, secrets: { auditSecret: SECRET_1 } });
    expect(stripped.verify()).toMatchObject({
      chain_valid: false,
      first_break_sequence: 1,
      break_kind: "sequence_gap",
    });
    stripped.close();
  });

  it("purges up to a checkpoint row, and purges again later from the new base", () => {
    const f = fixture();
    const store = f.open();
    appendMany(store, 19); // rows 1..21; row 21 is a checkpoint
    f.clock.advance(DAY);
    const first = join(f.dir, "first.jsonl");
    store.writeExport(first, { until: new Date(start + 3_600_000) });
    f.clock.advance(2600 * DAY);
    expect(store.purge({ before: new Date(start + 3_600_000), exportPath: first })).toMatchObject({
      events_purged: 21,
      to_sequence: 21,
    });
    expect(store.verify()).toMatchObject({ chain_valid: true, base_sequence: 21 });

    const laterStart = f.clock.now();
    appendMany(store, 5);
    f.clock.advance(DAY);
    const second = join(f.dir, "second.jsonl");
    store.writeExport(second, { until: new Date(laterStart + 3_600_000) });
    f.clock.advance(2600 * DAY);
    const again = store.purge({ before: new Date(laterStart + 3_600_000), exportPath: second });
    expect(again.from_sequence).toBe(22);
    expect(store.verify()).toMatchObject({ chain_valid: true, base_sequence: again.to_sequence });
    expect(store.verify({ anchor: again.anchor }).chain_valid).toBe(true);
    store.close();
  });
});
