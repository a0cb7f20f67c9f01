// `ibkr-agent mcp serve --transport http` as a real process that keeps running: started from source (or
// through npm), awaited until it says it listens, read back (stdout, stderr), and stopped by a signal the
// way a person (Ctrl+C) or a service manager (SIGTERM) stops it.
import { type ChildProcess, spawn } from "node:child_process";
import { delimiter, join, resolve } from "node:path";
import { ROOT } from "./run.ts";

export interface ServingCli {
  readonly child: ChildProcess;
  /** The MCP endpoint the server announced. */
  readonly endpoint: string;
  /** Local mode: the bearer token of the announced client configuration. */
  readonly token: string | undefined;
  /** With --json: the parsed listening line. */
  readonly listening: Record<string, unknown> | undefined;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const TOKEN = /"Authorization": ?"Bearer ([0-9a-f]{64})"/;

/** PATH with the checkout's node_modules/.bin first, so `node` and `npx` are the pinned Node 24. */
export function pinnedPath(): string {
  return [join(ROOT, "node_modules/.bin"), process.env.PATH ?? ""].join(delimiter);
}

/**
 * Starts the server and resolves once it listens: with --json on its first stdout line, otherwise on the
 * last line of the start-up text on stderr. Rejects with its output if it exits first.
 */
export function startServingCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { viaNpm?: boolean; timeoutMs?: number } = {},
): Promise<ServingCli> {
  const child = options.viaNpm
    ? spawn("npm", ["start", "--silent", "--", ...args], {
        cwd: ROOT,
        env: { ...env, PATH: pinnedPath() },
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group: npm's child gets the signal too.
        detached: true,
      })
    : spawn(
        process.execPath,
        [resolve(ROOT, "src/cli/bin.ts"), "mcp", "serve", "--transport", "http", ...args],
        {
          cwd: ROOT,
          env,
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
  let stdout = "";
  let stderr = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on("close", (code, signal) => done({ code, signal }));
  });
  const json = args.includes("--json");
  return new Promise((ready, fail) => {
    let settled = false;
    const timer = setTimeout(
      () => finish(new Error("the server did not start in time")),
      options.timeoutMs ?? 60_000,
    );
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined) {
        child.kill("SIGKILL");
        fail(new Error(`${error.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      const line = json ? stdout.split("\n").find((text) => text.startsWith("{")) : undefined;
      const listening = line !== undefined ? (JSON.parse(line) as Record<string, unknown>) : undefined;
      const endpoint =
        listening !== undefined ? String(listening.endpoint) : (/^Endpoint: (\S+)$/m.exec(stderr)?.[1] ?? "");
      const token = TOKEN.exec(json ? stdout : stderr)?.[1];
      ready({
        child,
        endpoint,
        token,
        listening,
        stdout: () => stdout,
        stderr: () => stderr,
        async stop(signal = "SIGTERM") {
          if (child.exitCode === null && child.signalCode === null) {
            if (options.viaNpm && child.pid !== undefined) process.kill(-child.pid, signal);
            else child.kill(signal);
          }
          return exited;
        },
      });
    };
    const check = () => {
      const up = json ? /^\{.*"status":"listening"/m.test(stdout) : stderr.includes("Stop with Ctrl+C");
      if (up) finish();
    };
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      check();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    void exited.then(({ code, signal }) =>
      finish(new Error(`the server exited (code ${code}, signal ${signal})`)),
    );
  });
}
