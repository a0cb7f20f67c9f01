// Two real processes share one (simulated) gateway through the coordination file: while one walks an
// order's three-round reply chain under the order-in-flight lock, the other's reads wait, so the broker
// never sees a request between a question and its answer (which would make the reply stale: 503).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

const WORKER = resolve(import.meta.dirname, "two-process-worker.ts");

function start(args: string[]) {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  let closed = false;
  // A worker that dies before it is ready fails the test with its stderr instead of timing out.
  const ready = new Promise<void>((ok, fail) => {
    const check = () => {
      if (stdout.includes("ready\n")) ok();
      else if (closed) fail(new Error(`worker exited before it was ready: ${stderr}`));
      else setTimeout(check, 10);
    };
    check();
  });
  const finished = new Promise<{ code: number | null; last: unknown; stderr: string }>((ok) =>
    child.on("close", (code) => {
      closed = true;
      const lines = stdout.trim().split("\n");
      let last: unknown = null;
      try {
        last = JSON.parse(lines[lines.length - 1] as string);
      } catch {
        last = { unparsed: stdout };
      }
      ok({ code, last, stderr });
    }),
  );
  return { ready, finished, go: () => child.stdin.end("go\n") };
}

let sim: SpawnedSimulator;
let dispatcher: Agent;
beforeAll(async () => {
  sim = await spawnSimulator(["--scenario", "questions", "--time", "2026-12-01T15:00:00Z", "--seed", "9"]);
  dispatcher = new Agent({ connect: { ca: readFileSync(sim.certificateFile, "utf8") } });
});
afterAll(async () => {
  await dispatcher?.close();
  await sim?.stop();
});

describe("two processes, one gateway", () => {
  it("keeps a reply chain contiguous while another process reads, and neither earns a 429", async () => {
    const coordination = join(mkdtempSync(join(tmpdir(), "two-proc-")), "coordination.sqlite");
    const price = "270";
    const order = start([sim.baseUrl, sim.certificateFile, coordination, "order", price]);
    const reads = start([sim.baseUrl, sim.certificateFile, coordination, "reads"]);
    await Promise.all([order.ready, reads.ready]);
    reads.go();
    order.go();
    const [orderResult, readResult] = await Promise.all([order.finished, reads.finished]);
    expect(orderResult.stderr).toBe("");
    expect(readResult.stderr).toBe("");
    expect(orderResult.last).toEqual({ ok: true, rounds: 3, orders: 1 });
    expect(readResult.last).toEqual(Array(30).fill("ok"));

    const answer = await request(`https://localhost:${sim.port}/__simulator/requests`, { dispatcher });
    const log = (await answer.body.json()) as { operationId: string; status: number }[];
    expect(log.filter((entry) => entry.status === 429)).toEqual([]);
    const chain = ["placeOrders", "replyToQuestion", "replyToQuestion", "answerNotification"];
    const start0 = log.findIndex((entry) => entry.operationId === "placeOrders");
    expect(log.slice(start0, start0 + chain.length).map((entry) => entry.operationId)).toEqual(chain);
    // The reads really ran on both sides of the chain.
    expect(log.slice(0, start0).some((entry) => entry.operationId === "searchContracts")).toBe(true);
    expect(log.slice(start0 + chain.length).some((entry) => entry.operationId === "searchContracts")).toBe(
      true,
    );
  });
});
