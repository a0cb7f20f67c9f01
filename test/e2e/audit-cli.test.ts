// `ibkr-agent audit ...` as real processes on a temporary $IBKR_AGENT_HOME with a config file that grants the
// audit scopes. Events are seeded with the store itself (backdated where a purge needs old events); tampering
// edits the SQLite file directly with node:sqlite, as someone with write access to it could. The tests run
// concurrently (each spawn loads the whole gateway), so each keeps its own directory.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createManualClock } from "../../src/core/clock.ts";
import { openStore } from "../../src/store/index.ts";
import { TEST_SECRET, TEST_SECRET_ENV } from "../support/gateway.ts";
import { cli, ROOT, type RunResult } from "../support/run.ts";

const READ_SCOPES = "[ibkr:health:read, ibkr:audit:read, ibkr:audit:export]";
const ADMIN_SCOPES = "[ibkr:health:read, ibkr:audit:read, ibkr:audit:export, ibkr:audit:admin]";
const NEW_SECRET_ENV = "IBKR_AGENT_TEST_AUDIT_SECRET_K2";
const NEW_SECRET = "second-test-audit-secret-fedcba9876543210";
const DIGEST = "a".repeat(64);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Home {
  readonly dir: string;
  readonly storePath: string;
  readonly env: NodeJS.ProcessEnv;
  /** Runs the CLI in this home with its config file (or another one given). */
  run(args: readonly string[], config?: string): Promise<RunResult>;
  /** Writes a config file next to the home and returns its path. */
  config(name: string, yaml: string): string;
  file(name: string): string;
}

function newHome(scopes = ADMIN_SCOPES): Home {
  const dir = mkdtempSync(join(tmpdir(), "ibkr-audit-cli-"));
  dirs.push(dir);
  const env = {
    IBKR_AGENT_HOME: join(dir, "home"),
    [TEST_SECRET_ENV]: TEST_SECRET,
    [NEW_SECRET_ENV]: NEW_SECRET,
  };
  const home: Home = {
    dir,
    storePath: join(dir, "home", "profiles", "simulator", "state.sqlite"),
    env,
    file: (name) => join(dir, name),
    config: (name, yaml) => {
      const path = join(dir, name);
      writeFileSync(path, yaml);
      return path;
    },
    run: (args, config = join(dir, "config.yaml")) => cli(["--config", config, ...args], env),
  };
  home.config(
    "config.yaml",
    `audit:\n  secret_env: ${TEST_SECRET_ENV}\n  retention_days: 30\nauth:\n  enabled_scopes: ${scopes}\n`,
  );
  return home;
}

/** Appends `count` tool_call events with the store itself, at `startMs` one minute apart. */
function seed(home: Home, count: number, options: { startMs?: number; checkpointEvery?: number } = {}): void {
  mkdirSync(join(home.dir, "home", "profiles", "simulator"), { recursive: true });
  const clock = createManualClock(options.startMs ?? Date.now() - 3_600_000);
  const store = openStore({
    path: home.storePath,
    secrets: { auditSecret: TEST_SECRET },
    clock,
    ...(options.checkpointEvery !== undefined ? { checkpointEvery: options.checkpointEvery } : {}),
  });
  try {
    for (let i = 1; i <= count; i += 1) {
      store.append({
        event_type: "tool_call",
        request_id: `req_seed-${i}`,
        session_id: "ses_seed",
        principal: "local:seed",
        front_door: "cli",
        tool: "ibkr_health",
        scopes: ["ibkr:health:read"],
        decision: "allow",
        result_status: "completed",
        input_hash: DIGEST,
        output_hash: DIGEST,
        metadata: { duration_ms: i, broker_requests: 0 },
      });
      clock.advance(60_000);
    }
  } finally {
    store.close();
  }
}

function tamper(home: Home, sql: (db: DatabaseSync) => void): void {
  const db = new DatabaseSync(home.storePath);
  try {
    sql(db);
  } finally {
    db.close();
  }
}

function json(result: RunResult): Record<string, unknown> {
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

function errorOf(result: RunResult): { code: string; details?: Record<string, unknown> } {
  return (json(result) as { error: { code: string; details?: Record<string, unknown> } }).error;
}

/** Spawns a long-running CLI command and collects its output. */
function start(home: Home, args: readonly string[]) {
  const child: ChildProcess = spawn(
    process.execPath,
    [resolve(ROOT, "src/cli/bin.ts"), "--config", home.file("config.yaml"), ...args],
    { cwd: ROOT, env: { ...process.env, ...home.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    async waitFor(predicate: (stdout: string) => boolean, timeoutMs = 20_000): Promise<void> {
      const until = Date.now() + timeoutMs;
      while (!predicate(stdout)) {
        if (Date.now() > until || child.exitCode !== null) {
          throw new Error(`gave up waiting; stdout:\n${stdout}\nstderr:\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{") && line.endsWith("}"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe.concurrent("ibkr-agent audit", { timeout: 120_000 }, () => {
  it("tail prints the verified newest events; --json is the tool's result", async () => {
    const home = newHome(READ_SCOPES);
    seed(home, 3);
    const human = await home.run(["audit", "tail", "--limit", "2"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("verified through sequence: 3");
    expect(human.stdout).toMatch(/^\s+3\s+\S+\s+tool_call\s+ibkr_health\s+allow\s+completed/m);
    const machine = await home.run(["audit", "tail", "--limit", "2", "--json"]);
    const result = json(machine);
    expect(result.chain_verified).toBe(true);
    // The human tail above was itself a call: sequence 4.
    expect((result.events as { sequence: number; tool: string }[]).map((e) => [e.sequence, e.tool])).toEqual([
      [3, "ibkr_health"],
      [4, "ibkr_audit_tail"],
    ]);
  });

  it("tail --follow prints new events as they arrive and stops cleanly on Ctrl+C", async () => {
    const home = newHome(READ_SCOPES);
    seed(home, 2);
    const follow = start(home, ["audit", "tail", "--follow", "--limit", "1", "--json"]);
    await follow.waitFor((out) => jsonLines(out).length >= 1);
    expect(await (await home.run(["health"])).code).toBe(0);
    expect(await (await home.run(["health"])).code).toBe(0);
    await follow.waitFor((out) => jsonLines(out).filter((e) => e.tool === "ibkr_health").length >= 3);
    follow.child.kill("SIGINT");
    expect(await follow.exited).toBe(0);
    const events = jsonLines(follow.output().stdout);
    // Seeded event 2, the follow's own opening call, then the two health calls: every sequence once.
    expect(events.map((e) => [e.sequence, e.tool])).toEqual([
      [2, "ibkr_health"],
      [3, "ibkr_audit_tail"],
      [4, "ibkr_health"],
      [5, "ibkr_health"],
    ]);
  });

  it("tail --follow stops with exit code 2 when the chain breaks while it runs", async () => {
    const home = newHome(READ_SCOPES);
    seed(home, 2);
    const follow = start(home, ["audit", "tail", "--follow"]);
    await follow.waitFor((out) => /^\s+2\s/m.test(out));
    tamper(home, (db) =>
      db.exec(`UPDATE audit_events SET payload = replace(payload, '"allow"', '"deny"') WHERE sequence = 1`),
    );
    expect(await follow.exited).toBe(2);
    expect(follow.output().stderr).toContain("Error AUDIT_CHAIN_INVALID");
  });

  it("verify exits 0 on an intact chain and records the verification", async () => {
    const home = newHome(READ_SCOPES);
    seed(home, 4);
    const human = await home.run(["audit", "verify"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("Audit chain intact.");
    expect(human.stdout).toMatch(/^events scanned:\s+4$/m);
    const machine = await home.run(["audit", "verify", "--json"]);
    expect(machine.code).toBe(0);
    expect(json(machine)).toMatchObject({
      chain_valid: true,
      events_scanned: 5,
      to_sequence: 5,
      key_ids: ["k1"],
    });
  });

  it("verify exits 2 and names the first broken sequence for each kind of tampering", async () => {
    const forgedId = "01900000-0000-7000-8000-000000000000";
    const cases: {
      name: string;
      change: (db: DatabaseSync) => void;
      sequence: number;
      kind: string;
      anchored?: boolean;
    }[] = [
      {
        name: "edited row",
        change: (db) =>
          db.exec(
            `UPDATE audit_events SET payload = replace(payload, '"duration_ms":5', '"duration_ms":50') WHERE sequence = 5`,
          ),
        sequence: 5,
        kind: "chain_mismatch",
      },
      {
        name: "deleted row",
        change: (db) => db.exec("DELETE FROM audit_events WHERE sequence = 5"),
        sequence: 5,
        kind: "sequence_gap",
      },
      {
        name: "swapped rows",
        change: (db) => {
          db.exec("UPDATE audit_events SET sequence = -5 WHERE sequence = 5");
          db.exec("UPDATE audit_events SET sequence = 5 WHERE sequence = 6");
          db.exec("UPDATE audit_events SET sequence = 6 WHERE sequence = -5");
        },
        sequence: 5,
        kind: "chain_mismatch",
      },
      {
        name: "inserted row",
        change: (db) => {
          db.exec("UPDATE audit_events SET sequence = sequence + 1000 WHERE sequence >= 5");
          db.exec("UPDATE audit_events SET sequence = sequence - 999 WHERE sequence >= 1000");
          const prev = db.prepare("SELECT chain_hash FROM audit_events WHERE sequence = 4").get() as {
            chain_hash: string;
          };
          db.prepare(
            "INSERT INTO audit_events (sequence, event_id, event_type, timestamp, key_id, request_id, payload, prev_hash, chain_hash) VALUES (5, ?, 'tool_call', '2026-11-24T14:30:00.000Z', 'k1', 'req_x', '{}', ?, ?)",
          ).run(forgedId, prev.chain_hash, "f".repeat(64));
        },
        sequence: 5,
        kind: "chain_mismatch",
      },
      {
        // The newest rows deleted together with their checkpoint rows: only the anchor can tell.
        name: "truncated tail",
        change: (db) => {
          db.exec("DELETE FROM audit_events WHERE sequence >= 10");
          db.exec("DELETE FROM audit_checkpoints WHERE sequence >= 10");
          db.exec("DELETE FROM audit_verified_marks");
        },
        sequence: 10,
        kind: "truncated_tail",
        anchored: true,
      },
    ];
    const results = await Promise.all(
      cases.map(async (c) => {
        const home = newHome(READ_SCOPES);
        // 12 calls with a checkpoint after every 5th event: checkpoints at sequences 6 and 11, head 14.
        seed(home, 12, { checkpointEvery: 5 });
        const anchorArgs = c.anchored ? ["--anchor", home.file("head.json")] : [];
        if (c.anchored)
          expect((await home.run(["audit", "anchor", "--out", home.file("head.json")])).code).toBe(0);
        expect((await home.run(["audit", "verify", ...anchorArgs])).code).toBe(0);
        tamper(home, c.change);
        const broken = await home.run(["audit", "verify", "--json", ...anchorArgs]);
        const withoutAnchor = c.anchored ? (await home.run(["audit", "verify", "--json"])).code : null;
        return { name: c.name, code: broken.code, error: errorOf(broken), withoutAnchor };
      }),
    );
    expect(
      results.map((r) => [
        r.name,
        r.code,
        r.error.code,
        r.error.details?.first_break_sequence,
        r.error.details?.break_kind,
      ]),
    ).toEqual(cases.map((c) => [c.name, 2, "AUDIT_CHAIN_INVALID", c.sequence, c.kind]));
    expect(results.find((r) => r.name === "inserted row")?.error.details?.first_break_event_id).toBe(
      forgedId,
    );
    // Without the anchor the shortened chain looks whole: that is why anchors are kept elsewhere.
    expect(results.find((r) => r.name === "truncated tail")?.withoutAnchor).toBe(0);
  });

  it("verify names the break in words for a person too", async () => {
    const home = newHome(READ_SCOPES);
    seed(home, 6);
    tamper(home, (db) => db.exec("DELETE FROM audit_events WHERE sequence = 3"));
    const result = await home.run(["audit", "verify"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("Audit chain BROKEN.");
    expect(result.stdout).toMatch(/^first break sequence: 3$/m);
    expect(result.stdout).toMatch(/^break kind:\s+sequence_gap$/m);
    expect(result.stderr).toContain(
      "Error AUDIT_CHAIN_INVALID: The audit log failed verification at sequence 3",
    );
  });

  it("export --out writes a JSONL file with its manifest; verify --export accepts it and refuses a changed one", async () => {
    const home = newHome(READ_SCOPES);
    seed(home, 5);
    const file = home.file("audit.jsonl");
    const exported = await home.run(["audit", "export", "--format", "jsonl", "--out", file, "--json"]);
    expect(exported.code).toBe(0);
    expect(json(exported)).toMatchObject({
      file,
      manifest_file: `${file}.manifest.json`,
      manifest: { count: 5, first_sequence: 1, last_sequence: 5, key_ids: ["k1"] },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as { sequence: number }).sequence)).toEqual([1, 2, 3, 4, 5]);

    const ok = await home.run(["audit", "verify", "--export", file]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`Export intact: ${file} matches its signed manifest.`);
    expect(ok.stdout).toMatch(/^events checked: 5$/m);

    writeFileSync(file, readFileSync(file, "utf8").replace('"duration_ms":3', '"duration_ms":4'));
    const changed = await home.run(["audit", "verify", "--export", file, "--json"]);
    expect(changed.code).toBe(2);
    expect(errorOf(changed)).toMatchObject({ code: "AUDIT_EXPORT_INVALID" });
    expect(errorOf(changed).details?.reason).toBe("a line's chain_hash does not match its content");
  });

  it("export without --out is the tool; --format needs --out; an existing file is never overwritten", async () => {
    const home = newHome(READ_SCOPES);
    seed(home, 3);
    const page = await home.run(["audit", "export", "--limit", "2", "--json"]);
    expect(page.code).toBe(0);
    expect(json(page)).toMatchObject({ more: true, chain_verified: true });
    expect((json(page).events as unknown[]).length).toBe(2);
    const formatOnly = await home.run(["audit", "export", "--format", "jsonl"]);
    expect(formatOnly.code).toBe(2);
    expect(formatOnly.stderr).toContain("Implications failed:\n format -> out");
    writeFileSync(home.file("taken.jsonl"), "mine\n");
    const taken = await home.run(["audit", "export", "--out", home.file("taken.jsonl"), "--json"]);
    expect(taken.code).toBe(2);
    expect(errorOf(taken).code).toBe("INPUT_INVALID_ARGUMENT");
    expect(readFileSync(home.file("taken.jsonl"), "utf8")).toBe("mine\n");
  });

  it("anchor prints the signed head, or writes it to a new file", async () => {
    const home = newHome(READ_SCOPES);
    seed(home, 2);
    const printed = await home.run(["audit", "anchor"]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({
      format: "ibkr-agent-audit-anchor",
      sequence: 2,
      key_id: "k1",
    });
    const written = await home.run(["audit", "anchor", "--out", home.file("head.json"), "--json"]);
    expect(written.code).toBe(0);
    expect(JSON.parse(readFileSync(home.file("head.json"), "utf8"))).toEqual(json(written).anchor);
    expect((json(written).anchor as { sequence: number }).sequence).toBe(3);
    expect((await home.run(["audit", "verify", "--anchor", home.file("head.json")])).code).toBe(0);
  });

  it("purge refuses without a covering verified export and inside the retention period", async () => {
    const home = newHome();
    seed(home, 4, { startMs: Date.UTC(2019, 5, 1) });
    const missingFlag = await home.run(["audit", "purge", "--before", "2020-01-01T00:00:00Z"]);
    expect(missingFlag.code).toBe(2);
    expect(missingFlag.stderr).toContain("Missing required argument: export");
    const noExport = await home.run([
      "audit",
      "purge",
      "--before",
      "2020-01-01T00:00:00Z",
      "--export",
      home.file("none.jsonl"),
      "--json",
    ]);
    expect([noExport.code, errorOf(noExport).code]).toEqual([2, "AUDIT_EXPORT_INVALID"]);

    // An export of the first two events only does not cover the four to purge.
    const partial = home.file("partial.jsonl");
    expect(
      (await home.run(["audit", "export", "--until", "2019-06-01T00:01:30Z", "--out", partial])).code,
    ).toBe(0);
    const uncovered = await home.run([
      "audit",
      "purge",
      "--before",
      "2020-01-01T00:00:00Z",
      "--export",
      partial,
      "--json",
    ]);
    expect([uncovered.code, errorOf(uncovered).code]).toEqual([1, "AUDIT_RETENTION_REFUSED"]);

    const full = home.file("all.jsonl");
    expect((await home.run(["audit", "export", "--out", full])).code).toBe(0);
    const recent = await home.run([
      "audit",
      "purge",
      "--before",
      new Date().toISOString(),
      "--export",
      full,
      "--json",
    ]);
    expect([recent.code, errorOf(recent).code]).toEqual([1, "AUDIT_RETENTION_REFUSED"]);

    // Nothing was deleted, and every refusal is in the log.
    const tail = json(await home.run(["audit", "tail", "--json"]));
    const purges = (
      tail.events as { event_type: string; result_status: string; error_code?: string }[]
    ).filter((e) => e.event_type === "audit_purged");
    expect(purges.map((e) => [e.result_status, e.error_code])).toEqual([
      ["refused", "AUDIT_EXPORT_INVALID"],
      ["refused", "AUDIT_RETENTION_REFUSED"],
      ["refused", "AUDIT_RETENTION_REFUSED"],
    ]);
    expect((tail.events as { sequence: number }[])[0]?.sequence).toBe(1);
  });

  it("purge deletes old events after a verified export, re-anchors, and verify still passes", async () => {
    const home = newHome();
    seed(home, 4, { startMs: Date.UTC(2019, 5, 1) });
    const file = home.file("audit-2019.jsonl");
    expect((await home.run(["audit", "export", "--until", "2020-01-01T00:00:00Z", "--out", file])).code).toBe(
      0,
    );
    expect((await home.run(["audit", "verify", "--export", file])).code).toBe(0);
    const purged = await home.run([
      "audit",
      "purge",
      "--before",
      "2020-01-01T00:00:00Z",
      "--export",
      file,
      "--anchor-out",
      home.file("after-purge.json"),
      "--json",
    ]);
    expect(purged.code).toBe(0);
    expect(json(purged)).toMatchObject({
      events_purged: 4,
      from_sequence: 1,
      to_sequence: 4,
      base_sequence: 4,
    });
    const verified = await home.run(["audit", "verify", "--anchor", home.file("after-purge.json"), "--json"]);
    expect(verified.code).toBe(0);
    expect(json(verified)).toMatchObject({
      chain_valid: true,
      base_sequence: 4,
      from_sequence: 5,
      anchor_checked: true,
    });
    // The export still verifies on its own after its events left the database.
    expect((await home.run(["audit", "verify", "--export", file])).code).toBe(0);
  });

  it("backup writes a complete store that verifies on its own, and never overwrites a file", async () => {
    const home = newHome();
    seed(home, 3);
    const file = home.file("backup.db");
    const result = await home.run(["audit", "backup", "--out", file, "--json"]);
    expect(result.code).toBe(0);
    expect(json(result)).toMatchObject({ file, to_sequence: 3 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const copy = openStore({ path: file, secrets: { auditSecret: TEST_SECRET }, readonly: true });
    try {
      expect(copy.verify()).toMatchObject({ chain_valid: true, events_scanned: 3, to_sequence: 3 });
    } finally {
      copy.close();
    }
    const again = await home.run(["audit", "backup", "--out", file, "--json"]);
    expect([again.code, errorOf(again).code]).toEqual([2, "INPUT_INVALID_ARGUMENT"]);
  });

  it("admin commands are denied without ibkr:audit:admin, and the denial is audited", async () => {
    const home = newHome(READ_SCOPES);
    seed(home, 1);
    const denied = await Promise.all([
      home.run(["audit", "backup", "--out", home.file("b.db"), "--json"]),
      home.run([
        "audit",
        "purge",
        "--before",
        "2020-01-01T00:00:00Z",
        "--export",
        home.file("x.jsonl"),
        "--json",
      ]),
      home.run(["audit", "rotate-key", "--new-secret-env", NEW_SECRET_ENV, "--new-key-id", "k2", "--json"]),
    ]);
    expect(denied.map((r) => [r.code, errorOf(r).code, errorOf(r).details?.required_scope])).toEqual([
      [4, "AUTH_MISSING_SCOPE", "ibkr:audit:admin"],
      [4, "AUTH_MISSING_SCOPE", "ibkr:audit:admin"],
      [4, "AUTH_MISSING_SCOPE", "ibkr:audit:admin"],
    ]);
    expect(existsSync(home.file("b.db"))).toBe(false);
    const tail = json(await home.run(["audit", "tail", "--json"]));
    const recorded = (tail.events as { event_type: string; decision: string }[])
      .filter((e) => e.decision === "deny")
      .map((e) => e.event_type)
      .sort();
    expect(recorded).toEqual(["audit_backed_up", "audit_key_rotated", "audit_purged"]);
  });

  it("rotate-key continues the log under the new key; the printed config verifies both generations", async () => {
    const home = newHome();
    seed(home, 2);
    const rotated = await home.run([
      "audit",
      "rotate-key",
      "--new-secret-env",
      NEW_SECRET_ENV,
      "--new-key-id",
      "k2",
      "--json",
    ]);
    expect(rotated.code).toBe(0);
    const result = json(rotated) as { next_config: { audit: Record<string, unknown> } };
    expect(result).toMatchObject({ previous_key_id: "k1", new_key_id: "k2", live_disarmed: false });
    expect(result.next_config).toEqual({
      audit: {
        secret_env: NEW_SECRET_ENV,
        key_id: "k2",
        previous_secrets: [{ key_id: "k1", secret_env: TEST_SECRET_ENV }],
      },
    });
    expect(rotated.stdout).not.toContain(NEW_SECRET);

    // The operator steps: the old configuration may no longer write, the new one carries on.
    const stale = await home.run(["health", "--json"]);
    expect([stale.code, errorOf(stale).code]).toEqual([1, "AUDIT_WRITE_FAILED"]);
    const next = home.config(
      "config-k2.yaml",
      `${JSON.stringify({ ...result.next_config, auth: { enabled_scopes: parse(ADMIN_SCOPES) } })}\n`,
    );
    expect((await home.run(["health"], next)).code).toBe(0);
    const verified = await home.run(["audit", "verify", "--json"], next);
    expect(verified.code).toBe(0);
    expect(json(verified)).toMatchObject({ chain_valid: true, key_ids: ["k1", "k2"] });
  });
});
