// Runs the CLI in a pseudo-terminal (util-linux `script`), so a test is the person at the keyboard: stdin and
// stdout are a TTY, and the test types the operator PIN once the prompt shows, as a person would. The pty
// merges stdout and stderr into one stream and ends lines with CRLF; the output comes back with LF.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { ROOT } from "./run.ts";

export interface TerminalResult {
  readonly code: number | null;
  readonly output: string;
}

const PIN_PROMPT = "Operator PIN (not shown): ";

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Runs `ibkr-agent ...args` in a terminal; types `pin` and Enter when the PIN prompt appears. */
export function cliInTerminal(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { pin?: string; timeoutMs?: number } = {},
): Promise<TerminalResult> {
  const command = [process.execPath, resolve(ROOT, "src/cli/bin.ts"), ...args].map(shellQuote).join(" ");
  return new Promise((done, fail) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    let typed = false;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (!typed && options.pin !== undefined && output.includes(PIN_PROMPT)) {
        typed = true;
        child.stdin.write(`${options.pin}\r`);
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      done({ code, output: output.replaceAll("\r\n", "\n") });
    });
  });
}
