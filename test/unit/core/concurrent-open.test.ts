// Several processes creating the same new SQLite files at the same instant (every CLI command and MCP server
// is a process, and the first two of a fresh install can start together) must all succeed: SQLite reports
// the loser of such a race busy at once, without waiting, unless opening retries.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openStore } from "../../../src/store/index.ts";

const WORKER = resolve(import.meta.dirname, "concurrent-open-worker.ts");

function worker(coordinationPath: string, storePath: string) {
  const child = spawn(process.execPath, [WORKER, coordinationPath, storePath], { stdio: "pipe" });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const ready = new Promise<void>((ok) => {
    const check = () => (stdout.includes("ready\n") || child.exitCode !== null ? ok() : setTimeout(check, 5));
    check();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) =>
    child.on("close", (code) => ok({ code, stdout, stderr })),
  );
  return { ready, done, go: () => child.stdin.write("go\n") };
}

describe("opening new SQLite files from several processes at once", () => {
  it("lets every process open the coordination file and the store, and the store's chain stays whole", async () => {
    for (let round = 0; round < 6; round += 1) {
      const dir = mkdtempSync(join(tmpdir(), "concurrent-open-"));
      const coordination = join(dir, "coordination.sqlite");
      const store = join(dir, "audit.sqlite");
      const workers = Array.from({ length: 6 }, () => worker(coordination, store));
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.go();
      const results = await Promise.all(workers.map((w) => w.done));
      expect(results.map((r) => [r.code, r.stdout.trim().split("\n").at(-1), r.stderr])).toEqual(
        Array(6).fill([0, "opened", ""]),
      );
      using opened = openStore({ path: store, secrets: { auditSecret: "x".repeat(32) } });
      const report = opened.verify();
      expect(report.chain_valid).toBe(true);
      expect(report.events_scanned).toBe(6);
    }
  }, 60_000);
});
