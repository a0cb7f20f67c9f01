// MCP over stdio: a tools/call of a read tool on our server (validation, scope gate, account check, broker
// call, mapping, output validation, secret scan, one chained audit append at synchronous=FULL, text
// rendering) against a bare MCP SDK server whose tool does the same unavoidable work (the same in-process
// simulator request and one FULL-sync INSERT of a same-size row). Both servers are real processes driven
// by the SDK client over stdio, both on the simulator with pacing lifted (bench profile).
// Issue target: at most 1.5x the bare server's median.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { interleave, report } from "./harness.ts";

const ROOT = join(import.meta.dirname, "..");
const SECRET_ENV = "IBKR_AGENT_BENCH_AUDIT_SECRET";

async function connect(args: string[], env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args,
      env: { ...(process.env as Record<string, string>), ...env },
      stderr: "ignore",
    }),
  );
  return client;
}

export async function run(): Promise<boolean> {
  const home = mkdtempSync(join(tmpdir(), "ibkr-mcp-bench-"));
  const config = join(home, "config.yaml");
  writeFileSync(
    config,
    `audit:\n  secret_env: ${SECRET_ENV}\nbroker:\n  backend: simulator\n  pacing_profile: bench\n`,
  );
  const env = { IBKR_AGENT_HOME: home, [SECRET_ENV]: "bench-secret-0123456789abcdef0123456789" };
  const ours = await connect(
    [join(ROOT, "src/cli/bin.ts"), "--config", config, "mcp", "serve", "--transport", "stdio"],
    env,
  );
  const bare = await connect([join(ROOT, "bench/support/bare-mcp-server.ts")], env);
  try {
    const args = { account_id: "DU1234567" };
    const measured = await interleave(
      {
        name: "ibkr-agent mcp: ibkr_account_metadata",
        run: async () => {
          const result = await ours.callTool({ name: "ibkr_account_metadata", arguments: args });
          if (result.isError) throw new Error(JSON.stringify(result.structuredContent));
        },
      },
      { name: "bare MCP SDK server: echo", run: () => bare.callTool({ name: "echo", arguments: {} }) },
      { runs: 300, warmup: 30 },
    );
    return report({
      title: "MCP stdio tools/call of a read tool (issue: at most 1.5x a bare MCP SDK server)",
      ...measured,
      maxRatio: 1.5,
      unit: "ms",
    });
  } finally {
    await ours.close();
    await bare.close();
    rmSync(home, { recursive: true, force: true });
  }
}
