// A sweep over the front doors, then a scan of everything the gateway wrote and printed: the audit store
// (the SQLite file and its WAL, byte for byte), the diagnostics on stderr (debug level, JSON), and every
// output. Raw account ids must never reach the store or the logs; the broker's session id, the user name and
// the audit secret must never appear anywhere; outputs must carry no secret-looking material.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanSecrets } from "../../src/gateway/secret-scan.ts";
import { cli, ROOT } from "../support/run.ts";

const SECRET_ENV = "IBKR_AGENT_LEAK_AUDIT_SECRET";
const SECRET = "leak-scan-secret-0123456789abcdef-DO-NOT-PRINT";
const ACCOUNT = "DU1234567";
/** What the simulator's /tickle hands out as the session for seed 1 (a gateway session id stand-in). */
const SESSION_FRAGMENT = "simulated0000";
const USER_NAME = "simuser01";

let home: string;
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];
const logs: string[] = [];

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "ibkr-leak-"));
  const config = join(home, "config.yaml");
  writeFileSync(config, `audit:\n  secret_env: ${SECRET_ENV}\nlogging:\n  level: debug\n  format: json\n`);
  env = { IBKR_AGENT_HOME: join(home, "state"), IBKR_AGENT_CONFIG: config, [SECRET_ENV]: SECRET };
  const commands = [
    ["accounts", "list", "--json"],
    ["account", "metadata", "--account", ACCOUNT, "--json"],
    ["account", "summary", "--account", ACCOUNT, "--json"],
    ["positions", "list", "--account", ACCOUNT, "--json"],
    ["backend", "status", "--json"],
    ["session", "requirements", "--json"],
    ["account", "metadata", "--account", "U0000000", "--json"],
    ["health"],
  ];
  for (const args of commands) {
    const result = await cli(args, env);
    outputs.push(result.stdout);
    logs.push(result.stderr);
  }
  const client = new Client({ name: "leak-scan", version: "1" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(ROOT, "src/cli/bin.ts"), "mcp", "serve", "--transport", "stdio"],
    env: { ...(process.env as Record<string, string>), ...(env as Record<string, string>) },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  await client.connect(transport);
  for (const [name, args] of [
    ["ibkr_accounts_list", {}],
    ["ibkr_account_metadata", { account_id: ACCOUNT }],
    ["ibkr_account_metadata", { account_id: "U0000000" }],
    ["ibkr_backend_status", {}],
  ] as const) {
    const result = await client.callTool({ name, arguments: args });
    outputs.push(JSON.stringify(result));
  }
  await client.close();
}, 240_000);

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("after a sweep of the front doors", () => {
  it("wrote an audit store, logs and outputs to scan", () => {
    const stored = filesUnder(join(home, "state")).filter(
      (f) => /\.(db|sqlite)(-wal)?$/.test(f) || f.includes("state"),
    );
    expect(stored.length).toBeGreaterThan(0);
    expect(outputs.join("").length).toBeGreaterThan(1_000);
    expect(logs.join("")).toContain('"message":"tool call"');
  });

  it("keeps raw account ids, the session id, the user name and the audit secret out of every stored file", () => {
    for (const file of filesUnder(join(home, "state"))) {
      const bytes = readFileSync(file).toString("latin1");
      expect(bytes.includes(ACCOUNT), file).toBe(false);
      expect(bytes.includes("U0000000"), file).toBe(false);
      expect(bytes.includes(SESSION_FRAGMENT), file).toBe(false);
      expect(bytes.includes(USER_NAME), file).toBe(false);
      expect(bytes.includes(SECRET), file).toBe(false);
    }
  });

  it("keeps them out of the logs too", () => {
    const text = logs.join("\n");
    expect(text.includes(ACCOUNT)).toBe(false);
    expect(text.includes("U0000000")).toBe(false);
    expect(text.includes(SESSION_FRAGMENT)).toBe(false);
    expect(text.includes(SECRET)).toBe(false);
  });

  it("prints no secret-looking material in any output", () => {
    for (const output of outputs) {
      expect(output.includes(SECRET)).toBe(false);
      expect(output.includes(SESSION_FRAGMENT)).toBe(false);
      const parsed = output.trim().startsWith("{") ? (JSON.parse(output) as unknown) : output;
      expect(scanSecrets(parsed)).toEqual([]);
    }
  });
});
