// Real processes sharing one persisted simulator state file, as CLI commands and MCP servers of one profile
// do: one places an order and exits, the next finds it by its cOID, sees its status and - once the market
// reaches it - its fill and the position; two processes placing orders at the same time lose none of them.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSimulator } from "../../src/simulator/index.ts";
import { run } from "../support/run.ts";

const WORKER = resolve(import.meta.dirname, "persistence-worker.ts");

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "sim-procs-"));
  dirs.push(dir);
  return join(dir, "simulator.sqlite");
}

async function worker(args: string[]): Promise<Record<string, unknown>> {
  const result = await run(process.execPath, [WORKER, ...args]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const lines = result.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
}

/** A worker that waits for "go" after it printed "ready", so two of them start placing at once. */
function gated(args: string[]) {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const finished = new Promise<{ code: number | null; last: Record<string, unknown>; stderr: string }>((ok) =>
    child.on("close", (code) => {
      const lines = stdout.trim().split("\n");
      ok({ code, last: JSON.parse(lines[lines.length - 1] as string), stderr });
    }),
  );
  const ready = new Promise<void>((ok, fail) => {
    const check = () => {
      if (stdout.includes("ready\n")) ok();
      else if (child.exitCode !== null) fail(new Error(`worker exited early: ${stderr}`));
      else setTimeout(check, 10);
    };
    check();
  });
  return { ready, finished, go: () => child.stdin.end("go\n") };
}

describe("processes sharing one simulator state", () => {
  it("lets a later process find an order by cOID, see its status, and then its fill and position", async () => {
    const path = stateFile();
    const placed = await worker([path, "place", "proc-0001"]);
    expect(placed).toEqual({ order_id: "1370093330" });
    const seen = await worker([path, "observe", "proc-0001"]);
    expect(seen).toEqual({
      listed: { order_id: 1370093330, order_ref: "proc-0001", status: "Submitted" },
      status_before: "Submitted",
      status_after: "Filled",
      position: 203,
    });
  });

  it("keeps every order of two processes placing at the same time, each with its own id", async () => {
    const path = stateFile();
    // Created first, so the two racers only ever open an existing file.
    createSimulator({ statePath: path, seed: 3, pacing: "bench" }).close();
    const count = 25;
    const left = gated([path, "burst", "left", String(count)]);
    const right = gated([path, "burst", "right", String(count)]);
    await Promise.all([left.ready, right.ready]);
    left.go();
    right.go();
    const [l, r] = await Promise.all([left.finished, right.finished]);
    expect([l.stderr, r.stderr, l.code, r.code]).toEqual(["", "", 0, 0]);
    const ids = [...(l.last.ids as string[]), ...(r.last.ids as string[])];
    expect(new Set(ids).size).toBe(2 * count);
    expect(ids.every((id) => /^13700933[3-9]\d$/.test(id))).toBe(true);

    const check = createSimulator({ statePath: path, seed: 3, pacing: "bench" });
    try {
      const orders = check.state.orders.all();
      expect(orders.map((order) => String(order.orderId)).sort()).toEqual([...ids].sort());
      expect(new Set(orders.map((order) => order.cOID)).size).toBe(2 * count);
      expect(orders.filter((order) => order.cOID?.startsWith("left-")).length).toBe(count);
    } finally {
      check.close();
    }
  });

  it("two processes creating the file at the same moment end up with one state", async () => {
    const path = stateFile();
    const [a, b] = await Promise.all([worker([path, "place", "race-a"]), worker([path, "place", "race-b"])]);
    expect(new Set([a.order_id, b.order_id])).toEqual(new Set(["1370093330", "1370093331"]));
  });
});
