// Reads the operator PIN from the terminal without echo. The terminal is put in raw mode, so the line
// discipline does not print what is typed and this module sees every key: Enter ends the PIN, Backspace and
// Ctrl+U edit it, Ctrl+C (and Ctrl+D on an empty line) cancel. Only a TTY can be read this way; the operator
// commands never ask anything of a pipe (the core refuses those callers before a PIN matters).
import { GatewayError } from "../core/gateway-error.ts";

/** The terminal the PIN is read from: process.stdin in the CLI, a fake one in tests. */
export interface PinInput {
  readonly isTTY?: boolean;
  setRawMode(raw: boolean): unknown;
  on(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  off(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PinOutput {
  write(text: string): unknown;
}

const MAX_LENGTH = 128;

function cancelled(): GatewayError {
  return new GatewayError("INPUT_INVALID_ARGUMENT", {
    message: "Cancelled at the PIN prompt; nothing was done.",
    userAction: "Run the command again when you are ready to type the operator PIN.",
    details: { field: "pin" },
  });
}

/** Shows `prompt`, reads one line from the terminal without showing it, and returns it. */
export function readHidden(
  prompt: string,
  input: PinInput = process.stdin,
  output: PinOutput = process.stderr.isTTY ? process.stderr : process.stdout,
): Promise<string> {
  if (input.isTTY !== true) {
    return Promise.reject(
      new GatewayError("APPROVAL_HUMAN_REQUIRED", {
        message: "The operator PIN can only be typed at an interactive terminal.",
        userAction: "Run the command yourself in a terminal.",
      }),
    );
  }
  return new Promise((resolve, reject) => {
    let typed = "";
    let inEscape = false;
    const finish = (error: GatewayError | null) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      output.write("\n");
      if (error === null) resolve(typed);
      else reject(error);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (inEscape) {
          // Arrow and function keys arrive as ESC [ ... letter; none of them belongs in a PIN.
          if (/[A-Za-z~]/.test(char)) inEscape = false;
          continue;
        }
        if (char === "\r" || char === "\n") return finish(null);
        if (char === "\u0003" || (char === "\u0004" && typed === "")) return finish(cancelled());
        if (char === "\u001b") inEscape = true;
        else if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else if (char === "\u0015") typed = "";
        else if (char >= " " && typed.length < MAX_LENGTH) typed += char;
      }
    };
    // Raw mode first: whatever is typed once the prompt shows is never echoed.
    input.setRawMode(true);
    input.on("data", onData);
    input.resume();
    output.write(prompt);
  });
}

/** The operator PIN, asked for at the terminal. */
export function askOperatorPin(input?: PinInput, output?: PinOutput): Promise<string> {
  return readHidden("Operator PIN (not shown): ", input, output);
}
