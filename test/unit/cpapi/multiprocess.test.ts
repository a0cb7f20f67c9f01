// Two real processes share one gateway through the coordination file: together they stay within the global
// 10 req/s that a real HTTPS counting server observes (each alone would send 10 at once).
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { generate } from "selfsigned";
import { describe, expect, it } from "vitest";
import { fixture } from "./helpers.ts";

const NODE = resolve(import.meta.dirname, "../../../node_modules/.bin/node");
const WORKER = resolve(import.meta.dirname, "pacer-worker.ts");
const PER_WORKER = 12;

function start(args: string[]) {
  const child = spawn(NODE, [WORKER, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const ready = new Promise<void>((ok) => {
    const check = () => (stdout.includes("ready\n") ? ok() : setTimeout(check, 10));
    check();
  });
  const finished = new Promise<{ code: number | null; lines: string[]; stderr: string }>((ok) =>
    child.on("close", (code) => ok({ code, lines: stdout.trim().split("\n"), stderr })),
  );
  return { ready, finished, go: () => child.stdin.end("go\n") };
}

/** The most requests seen in any window of `windowMs`. */
function densest(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i += 1) {
    while ((sorted[i] as number) - (sorted[j] as number) >= windowMs) j += 1;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("two processes sharing the pacer file", () => {
  it("together never exceed the global limit", async () => {
    const pems = await generate([{ name: "commonName", value: "localhost" }], {
      keySize: 2048,
      extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
    });
    const dir = mkdtempSync(join(tmpdir(), "cpapi-mp-"));
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, pems.cert);
    const times: number[] = [];
    const server = createServer({ cert: pems.cert, key: pems.private }, (req, res) => {
      const path = req.url ?? "";
      times.push(performance.now());
      const body = path.includes("/iserver/accounts")
        ? fixture("getBrokerageAccounts.paper").body
        : fixture("searchContracts.aapl").body;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/api`;
    const coordination = join(dir, "coordination.sqlite");
    try {
      const workers = ["A", "B"].map((label) =>
        start([baseUrl, caFile, coordination, label, String(PER_WORKER)]),
      );
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.go();
      const done = await Promise.all(workers.map((w) => w.finished));
      for (const result of done) {
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(JSON.parse(result.lines[result.lines.length - 1] as string)).toEqual(
          Array(PER_WORKER).fill("ok"),
        );
      }
      // 24 reads and one or two pre-flights, all served.
      expect(times.length).toBeGreaterThanOrEqual(2 * PER_WORKER + 1);
      // Slightly shorter window than the broker's second, to tolerate scheduling jitter on a busy machine;
      // two uncoordinated processes would put 20 requests into the first few milliseconds.
      expect(densest(times, 950)).toBeLessThanOrEqual(10);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });
});
