// Starts `ibkr-agent simulator` as a real process (HTTPS on a free loopback port) and waits for the one
// JSON line it prints. End-to-end tests point the client or the CLI at it.
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { ROOT } from "./run.ts";

export interface SpawnedSimulator {
  readonly process: ChildProcess;
  readonly baseUrl: string;
  readonly port: number;
  readonly certificateFile: string;
  readonly info: Record<string, unknown>;
  /** Output so far (for assertions on shutdown messages). */
  output(): { stdout: string; stderr: string };
  /** SIGTERM and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnSimulator(args: readonly string[] = []): Promise<SpawnedSimulator> {
  const child = spawn(
    process.execPath,
    [resolve(ROOT, "src/cli/bin.ts"), "simulator", "--port", "0", "--json", ...args],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`simulator did not start: ${stderr}`));
    }, 20_000);
    const onData = () => {
      const line = stdout.split("\n")[0];
      if (line === undefined || !stdout.includes("\n")) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      const info = JSON.parse(line) as Record<string, unknown>;
      resolvePromise({
        process: child,
        info,
        baseUrl: String(info.base_url),
        port: Number(info.port),
        certificateFile: String(info.certificate_file),
        output: () => ({ stdout, stderr }),
        stop: async (signal = "SIGTERM") => {
          if (child.exitCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (!stdout.includes("\n")) reject(new Error(`simulator exited with ${code}: ${stderr}`));
    });
  });
}
