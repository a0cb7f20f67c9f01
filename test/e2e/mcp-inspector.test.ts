// A second, independent MCP client: @modelcontextprotocol/inspector in CLI mode, spawned as a process with
// exactly the command lines docs/mcp-clients/inspector.md gives. The inspector starts stdio servers with a
// minimal environment, so $IBKR_AGENT_HOME is handed over with its -e flag.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, run } from "../support/run.ts";

const scratch = mkdtempSync(join(tmpdir(), "ibkr-mcp-inspector-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const home = join(scratch, "home");

// An `ibkr-agent` on the PATH as an installed package would put it there, made by the docs' rule for a
// checkout (`ibkr-agent ARGS` is `node <checkout>/src/cli/bin.ts ARGS`), so the installed-package command
// lines of docs/mcp-clients/inspector.md run as written.
const shimDir = join(scratch, "bin");
mkdirSync(shimDir);
writeFileSync(
  join(shimDir, "ibkr-agent"),
  `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, "src/cli/bin.ts"))} "$@"\n`,
);
chmodSync(join(shimDir, "ibkr-agent"), 0o755);

/** npx as a user runs it in the checkout; node_modules/.bin first so `node` is the pinned Node 24. */
function inspector(args: readonly string[]) {
  const path = [shimDir, join(ROOT, "node_modules/.bin"), process.env.PATH ?? ""].join(delimiter);
  return run("npx", ["@modelcontextprotocol/inspector", "--cli", "-e", `IBKR_AGENT_HOME=${home}`, ...args], {
    env: { ...process.env, PATH: path },
    timeoutMs: 90_000,
  });
}

function toolNames(stdout: string): string[] {
  return (JSON.parse(stdout) as { tools: { name: string }[] }).tools.map((tool) => tool.name);
}

describe("the MCP inspector CLI against `ibkr-agent mcp serve`", () => {
  it("lists the tools (--method tools/list)", async () => {
    const result = await inspector(["node", "src/cli/bin.ts", "mcp", "serve", "--method", "tools/list"]);
    expect(result.code, result.stderr).toBe(0);
    const { tools } = JSON.parse(result.stdout) as { tools: { name: string; outputSchema?: object }[] };
    expect(tools).toHaveLength(34);
    expect(tools.map((tool) => tool.name)).toContain("ibkr_health");
    expect(tools.map((tool) => tool.name)).not.toContain("ibkr_order_preview");
  }, 120_000);

  it("calls ibkr_health (--method tools/call --tool-name ibkr_health)", async () => {
    const result = await inspector([
      "node",
      "src/cli/bin.ts",
      "mcp",
      "serve",
      "--method",
      "tools/call",
      "--tool-name",
      "ibkr_health",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const call = JSON.parse(result.stdout) as {
      content: { type: string; text: string }[];
      structuredContent: Record<string, unknown>;
      isError?: boolean;
    };
    expect(call.isError).toBeFalsy();
    expect(call.structuredContent).toMatchObject({
      status: "ok",
      audit_writable: true,
      source: { backend: "simulator", simulated: true },
    });
    expect(call.content[0]?.text).toContain("SIMULATED DATA from the built-in simulator");
  }, 120_000);

  it("lists the tools of an installed `ibkr-agent` and of docs/mcp-clients/inspector.json", async () => {
    const direct = await inspector(["ibkr-agent", "mcp", "serve", "--method", "tools/list"]);
    expect(direct.code, direct.stderr).toBe(0);
    expect(toolNames(direct.stdout)).toHaveLength(34);
    const fromFile = await inspector([
      "--config",
      "docs/mcp-clients/inspector.json",
      "--server",
      "ibkr-agent",
      "--method",
      "tools/list",
    ]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(toolNames(fromFile.stdout)).toEqual(toolNames(direct.stdout));
  }, 180_000);
});
