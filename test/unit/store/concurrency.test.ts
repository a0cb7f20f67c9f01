import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openStore } from "../../../src/store/index.ts";
import { SECRET_1, tempDir } from "./helpers.ts";

const NODE = resolve(import.meta.dirname, "../../../node_modules/.bin/node");
const WORKER = resolve(import.meta.dirname, "append-worker.ts");

interface Worker {
  readonly ready: Promise<void>;
  readonly finished: Promise<{ code: number | null; stderr: string }>;
  go(): void;
}

function start(path: string, label: string, count: number): Worker {
  const child = spawn(NODE, [WORKER, path, label, String(count)], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const ready = new Promise<void>((done) => child.stdout.once("data", () => done()));
  const finished = new Promise<{ code: number | null; stderr: string }>((done) =>
    child.on("close", (code) => done({ code, stderr })),
  );
  return { ready, finished, go: () => child.stdin.write("go\n") };
}

describe("several processes appending", () => {
  it("keeps one valid chain when two processes append 200 events each at the same time", async () => {
    const path = join(tempDir(), "shared.db");
    // Create the file first so both workers open an existing store (migrations under contention are
    // covered too: the second open finds the version table already at the latest version).
    openStore({ path, secrets: { auditSecret: SECRET_1 } }).close();
    const workers = [start(path, "alpha", 200), start(path, "beta", 200)];
    await Promise.all(workers.map((worker) => worker.ready));
    for (const worker of workers) worker.go();
    const results = await Promise.all(workers.map((worker) => worker.finished));
    expect(results).toEqual([
      { code: 0, stderr: "" },
      { code: 0, stderr: "" },
    ]);
    const store = openStore({ path, secrets: { auditSecret: SECRET_1 } });
    const events = [...store.exportEvents()].filter((event) => event.event_type === "tool_call");
    expect(events).toHaveLength(400);
    expect(new Set(events.map((event) => event.request_id)).size).toBe(400);
    expect(events.filter((event) => event.session_id === "ses_alpha")).toHaveLength(200);
    // The writers overlapped: each one's range of sequences reaches into the other's.
    const range = (session: string) => {
      const sequences = events.filter((event) => event.session_id === session).map((event) => event.sequence);
      return [Math.min(...sequences), Math.max(...sequences)] as const;
    };
    const [alphaFirst, alphaLast] = range("ses_alpha");
    const [betaFirst, betaLast] = range("ses_beta");
    expect(alphaFirst < betaLast && betaFirst < alphaLast).toBe(true);
    const report = store.verify();
    expect(report.chain_valid).toBe(true);
    expect(report.events_scanned).toBe(400 + Math.floor(report.events_scanned / 50));
    store.close();
  }, 60_000);
});
