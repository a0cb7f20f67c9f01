// The PIN prompt on a fake terminal: nothing typed is echoed, editing keys work, Ctrl+C cancels, raw mode is
// always restored, and a pipe is never read.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { readHidden } from "../../../src/cli/pin-prompt.ts";

class FakeTerminal extends EventEmitter {
  readonly isTTY: boolean;
  readonly modes: boolean[] = [];
  written = "";
  constructor(isTTY = true) {
    super();
    this.isTTY = isTTY;
  }
  setRawMode(raw: boolean) {
    this.modes.push(raw);
  }
  resume() {}
  pause() {}
  write(text: string) {
    this.written += text;
  }
  type(text: string) {
    this.emit("data", Buffer.from(text));
  }
}

describe("PIN prompt", () => {
  it("returns what was typed without echoing it, with backspace, Ctrl+U and arrow keys handled", async () => {
    const terminal = new FakeTerminal();
    const pin = readHidden("PIN: ", terminal, terminal);
    terminal.type("99");
    terminal.type("\u0015");
    terminal.type("12\u007f3");
    terminal.type("\u001b[D4567\r");
    await expect(pin).resolves.toBe("134567");
    expect(terminal.written).toBe("PIN: \n");
    expect(terminal.modes).toEqual([true, false]);
    expect(terminal.listenerCount("data")).toBe(0);
  });

  it("cancels on Ctrl+C and restores the terminal", async () => {
    const terminal = new FakeTerminal();
    const pin = readHidden("PIN: ", terminal, terminal);
    terminal.type("12\u0003");
    await expect(pin).rejects.toMatchObject({
      code: "INPUT_INVALID_ARGUMENT",
      message: "Cancelled at the PIN prompt; nothing was done.",
    });
    expect(terminal.modes).toEqual([true, false]);
  });

  it("never reads a PIN from a pipe", async () => {
    const pipe = new FakeTerminal(false);
    await expect(readHidden("PIN: ", pipe, pipe)).rejects.toMatchObject({ code: "APPROVAL_HUMAN_REQUIRED" });
    expect(pipe.written).toBe("");
    expect(pipe.modes).toEqual([]);
  });
});
