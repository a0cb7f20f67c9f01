// Run as a separate process by concurrency.test.ts: opens the store file and appends N events as fast as
// it can, so two of these contend for the write lock.
import { openStore } from "../../../src/store/index.ts";

const [path, label, countText] = process.argv.slice(2);
if (!path || !label || !countText) throw new Error("usage: append-worker.ts <db> <label> <count>");
const store = openStore({
  path,
  secrets: { auditSecret: "test-audit-secret-one-0123456789abcdef-XYZ" },
  checkpointEvery: 50,
  busyTimeoutMs: 30_000,
});
// Both workers open the store first, then start together when the test says go (one line on stdin).
process.stdout.write("ready\n");
await new Promise<void>((go) => process.stdin.once("data", () => go()));
for (let i = 1; i <= Number(countText); i += 1) {
  store.append({
    event_type: "tool_call",
    request_id: `req_${label}-${i}`,
    session_id: `ses_${label}`,
    principal: `local:${label}`,
    front_door: "cli",
    tool: "ibkr_accounts_list",
    scopes: ["ibkr:accounts:read"],
    decision: "allow",
    result_status: "completed",
    input_hash: "a".repeat(64),
    output_hash: "b".repeat(64),
    metadata: { duration_ms: i },
  });
  // A short pause between calls, as real callers have: without it one writer can hold the lock in a tight
  // loop while the other sleeps in SQLite's busy handler, and the two would rarely interleave.
  await new Promise((resume) => setTimeout(resume, 1));
}
store.close();
process.stdin.destroy();
