// The wire of the stdio server, read byte for byte: a raw JSON-RPC exchange with the spawned
// `node src/cli/bin.ts mcp serve --transport stdio`, where every line the server writes to stdout must be a
// JSON-RPC 2.0 message (logs and banners belong on stderr), and closing stdin ends the server cleanly.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/run.ts";

const home = mkdtempSync(join(tmpdir(), "ibkr-mcp-wire-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

type Message = Record<string, unknown>;

describe("the stdio server's stdout", () => {
  it("carries nothing but JSON-RPC messages, and the server exits 0 when stdin closes", async () => {
    const child = spawn(
      process.execPath,
      [join(ROOT, "src/cli/bin.ts"), "mcp", "serve", "--transport", "stdio"],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", IBKR_AGENT_HOME: home },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    const waiting = new Map<number, (message: Message) => void>();
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      buffered += chunk.toString();
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
        try {
          const message = JSON.parse(line) as Message;
          if (typeof message.id === "number") waiting.get(message.id)?.(message);
        } catch {
          // Checked below, over the whole of stdout.
        }
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

    let nextId = 1;
    const request = (method: string, params: Message) =>
      new Promise<Message>((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
      });

    const init = await request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "raw-wire-test", version: "1.0.0" },
    });
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
    const list = await request("tools/list", {});
    const health = await request("tools/call", { name: "ibkr_health", arguments: {} });
    const accounts = await request("tools/call", { name: "ibkr_accounts_list", arguments: {} });
    const forbidden = await request("tools/call", { name: "ibkr_order_submit", arguments: {} });
    const unknown = await request("tools/call", { name: "ibkr_does_not_exist", arguments: {} });
    child.stdin.end();
    expect(await exited).toBe(0);

    expect(init.result).toMatchObject({
      protocolVersion: "2025-06-18",
      serverInfo: { name: "ibkr-agent-gateway", version: "0.1.0" },
    });
    expect((list.result as { tools: unknown[] }).tools).toHaveLength(34);
    expect(health.result).toMatchObject({ structuredContent: { status: "ok" } });
    expect(accounts.result).toMatchObject({ structuredContent: { accounts: [{ account_id: "DU1234567" }] } });
    expect(forbidden.result).toMatchObject({
      isError: true,
      structuredContent: { error: { code: "READONLY_WRITE_FORBIDDEN" } },
    });
    expect(unknown.error).toMatchObject({ code: -32602 });
    expect(unknown.result).toBeUndefined();

    const lines = stdout.split("\n");
    expect(lines.pop()).toBe("");
    const messages = lines.map((line) => JSON.parse(line) as Message);
    for (const message of messages) {
      expect(message.jsonrpc).toBe("2.0");
      expect("result" in message || "error" in message || "method" in message).toBe(true);
    }
    // One response per request, nothing else.
    expect(messages.map((message) => message.id)).toEqual([1, 2, 3, 4, 5, 6]);
    // Diagnostics, if any, went to stderr and carry no account id.
    expect(stderr).not.toContain("DU1234567");
  }, 60_000);
});
