// Run by concurrent-open.test.ts: opens the coordination file and the store at the given paths the moment
// it is told to, so several processes race to create the same new files.
import { openCoordination } from "../../../src/cpapi/coordination.ts";
import { openStore } from "../../../src/store/index.ts";

const [coordinationPath, storePath] = process.argv.slice(2) as [string, string];
process.stdout.write("ready\n");
await new Promise<void>((go) => process.stdin.once("data", () => go()));
const coordination = openCoordination({
  path: coordinationPath,
  instanceId: `worker-${process.pid}`,
  backoff: { penaltyMs: 600_000, firstProbeMs: 60_000 },
});
const store = openStore({ path: storePath, secrets: { auditSecret: "x".repeat(32) } });
store.append({
  event_type: "tool_call",
  request_id: `req_open-${process.pid}`,
  session_id: `ses_open-${process.pid}`,
  principal: "local:test",
  front_door: "cli",
  tool: "ibkr_health",
  scopes: ["ibkr:health:read"],
  decision: "allow",
  result_status: "completed",
  input_hash: "a".repeat(64),
  output_hash: "b".repeat(64),
  metadata: { duration_ms: 1 },
});
store.close();
coordination.close();
process.stdout.write("opened\n");
process.stdin.destroy();
