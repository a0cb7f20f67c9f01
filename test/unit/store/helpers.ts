// Shared helpers for the store tests: real SQLite files in a fresh temporary directory per test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach } from "vitest";
import { createManualClock, type ManualClock } from "../../../src/core/clock.ts";
import { type AuditEventInput, openStore, type Store, type StoreOptions } from "../../../src/store/index.ts";

export const SECRET_1 = "test-audit-secret-one-0123456789abcdef-XYZ";
export const SECRET_2 = "test-audit-secret-two-fedcba9876543210-QRS";
export const DIGEST_A = "a".repeat(64);
export const DIGEST_B = "b".repeat(64);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ibkr-store-"));
  dirs.push(dir);
  return dir;
}

export interface Fixture {
  readonly dir: string;
  readonly path: string;
  readonly clock: ManualClock;
  open(overrides?: Partial<StoreOptions>): Store;
}

export function fixture(): Fixture {
  const dir = tempDir();
  const path = join(dir, "state.db");
  const clock = createManualClock();
  return {
    dir,
    path,
    clock,
    open: (overrides = {}) =>
      openStore({ path, secrets: { auditSecret: SECRET_1 }, clock, checkpointEvery: 10, ...overrides }),
  };
}

export function toolCall(n: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    event_type: "tool_call",
    request_id: `req_test-${n}`,
    session_id: "ses_test",
    principal: "local:tester",
    front_door: "cli",
    tool: "ibkr_accounts_list",
    scopes: ["ibkr:accounts:read"],
    decision: "allow",
    result_status: "completed",
    input_hash: DIGEST_A,
    output_hash: DIGEST_B,
    metadata: { duration_ms: n, broker_requests: 1, tier: "read" },
    ...overrides,
  };
}

export function appendMany(store: Store, count: number): void {
  for (let i = 1; i <= count; i += 1) store.append(toolCall(i));
}

/** Opens the file directly, as an attacker with write access would, runs fn and closes it. */
export function tamper(path: string, fn: (db: DatabaseSync) => void): void {
  const db = new DatabaseSync(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

export function eventIdAt(path: string, sequence: number): string {
  let id = "";
  tamper(path, (db) => {
    id = (
      db.prepare("SELECT event_id FROM audit_events WHERE sequence = ?").get(sequence) as { event_id: string }
    ).event_id;
  });
  return id;
}
