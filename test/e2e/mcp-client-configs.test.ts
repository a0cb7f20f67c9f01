// Every client configuration under docs/mcp-clients/ works as written: each file is read, the server command
// is taken out of it, turned into this checkout's way of running `ibkr-agent` by the rule the docs state,
// started through the MCP SDK's Client over stdio, and asked for its tools.
//
// The rule (docs/mcp-clients/README.md): the command `ibkr-agent` is the installed package's bin; from a
// checkout it is `node <checkout>/src/cli/bin.ts` with Node 24, so `ibkr-agent ARGS` becomes
// `node <checkout>/src/cli/bin.ts ARGS`. The checkout template's `<checkout>` placeholder becomes this
// checkout. Nothing else is changed.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../support/run.ts";

const DIR = join(ROOT, "docs/mcp-clients");
const BIN = join(ROOT, "src/cli/bin.ts");
const home = mkdtempSync(join(tmpdir(), "ibkr-mcp-configs-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface ServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
  type?: string;
}

/** The ibkr-agent server entry of a client file: the mcpServers map (JSON clients) or list (Continue). */
function serverEntry(file: string): ServerEntry {
  const text = readFileSync(join(DIR, file), "utf8");
  const doc = (file.endsWith(".json") ? JSON.parse(text) : parse(text)) as {
    mcpServers: Record<string, ServerEntry> | (ServerEntry & { name: string })[];
  };
  const servers = doc.mcpServers;
  const entry = Array.isArray(servers)
    ? servers.find((server) => server.name === "ibkr-agent")
    : servers["ibkr-agent"];
  if (entry === undefined) throw new Error(`${file} has no ibkr-agent server`);
  return entry;
}

/** The documented, mechanical substitution from an installed package to this checkout. */
function forCheckout(entry: ServerEntry): { command: string; args: string[] } {
  const fill = (value: string) => value.replaceAll("<checkout>", ROOT);
  if (entry.command === "ibkr-agent") return { command: process.execPath, args: [BIN, ...entry.args] };
  return { command: fill(entry.command), args: entry.args.map(fill) };
}

const CONFIG_FILES = readdirSync(DIR)
  .filter((file) => file.endsWith(".json") || file.endsWith(".yaml"))
  .sort();

describe("docs/mcp-clients", () => {
  it("has one configuration file per client, each shown verbatim on its page", () => {
    expect(CONFIG_FILES).toEqual([
      "checkout.json",
      "claude-desktop.json",
      "continue.yaml",
      "cursor.json",
      "inspector.json",
    ]);
    const pages: Record<string, string> = {
      "checkout.json": "README.md",
      "claude-desktop.json": "claude-desktop.md",
      "continue.yaml": "continue.md",
      "cursor.json": "cursor.md",
      "inspector.json": "inspector.md",
    };
    for (const [file, page] of Object.entries(pages)) {
      const text = readFileSync(join(DIR, page), "utf8");
      expect(text, page).toContain(readFileSync(join(DIR, file), "utf8"));
      expect(text, page).toContain(`(${file})`);
    }
  });

  it("holds no absolute paths, home directories or secrets", () => {
    for (const file of CONFIG_FILES) {
      const entry = serverEntry(file);
      for (const value of [entry.command, ...entry.args, ...Object.values(entry.env ?? {})]) {
        expect(value, file).not.toMatch(/^(\/|~|[A-Za-z]:\\)/);
        expect(value, file).not.toMatch(/secret|token|password/i);
      }
      expect(entry.env, file).toBeUndefined();
    }
  });

  it.each(CONFIG_FILES.filter((file) => file !== "checkout.json"))(
    "%s runs `ibkr-agent mcp serve --transport stdio`",
    (file) => {
      expect(serverEntry(file)).toMatchObject({
        command: "ibkr-agent",
        args: ["mcp", "serve", "--transport", "stdio"],
      });
    },
  );

  it.each(CONFIG_FILES)(
    "%s starts a server that an MCP client can list and call",
    async (file) => {
      const { command, args } = forCheckout(serverEntry(file));
      const transport = new StdioClientTransport({
        command,
        args,
        // As a client would: its own small environment, not the test's, plus the state root.
        env: { IBKR_AGENT_HOME: home },
        cwd: tmpdir(),
        stderr: "pipe",
      });
      const client = new Client({ name: `config-test ${file}`, version: "1.0.0" });
      await client.connect(transport);
      try {
        const { tools } = await client.listTools();
        expect(tools).toHaveLength(34);
        expect(tools.map((tool) => tool.name)).toContain("ibkr_accounts_list");
        const health = await client.callTool({ name: "ibkr_health", arguments: {} });
        expect(health.structuredContent).toMatchObject({
          status: "ok",
          source: { backend: "simulator", simulated: true },
        });
      } finally {
        await client.close();
      }
    },
    60_000,
  );
});
