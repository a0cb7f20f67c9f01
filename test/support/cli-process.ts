// The CLI as a real process, with how it ended: exit code or the signal that killed it (a crash test must tell
// a SIGKILL from an exit), and its --json answer parsed from stdout or, for a failure, from stderr.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { ROOT } from "./run.ts";

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `ibkr-agent <args>` from source with the current (Node 24) runtime and exactly this environment. */
export function cliRun(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(ROOT, "src/cli/bin.ts"), ...args], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", fail);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** The JSON answer of a --json run: its result, or `{ error: {...} }`. */
export function answer(run: CliRun): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (exit ${run.code}, signal ${run.signal}): ${run.stdout}\n${run.stderr}`);
  }
}

/** The result of a --json run that must succeed. */
export function ok(run: CliRun): Record<string, unknown> {
  if (run.code !== 0) throw new Error(`exit ${run.code} (signal ${run.signal}): ${run.stdout}${run.stderr}`);
  return answer(run);
}
