// The two front doors the refusal table runs through, as an agent and a person meet them:
//   mcp - the MCP SDK's Client over StdioClientTransport, spawning `ibkr-agent mcp serve --transport stdio`
//         (one server process per profile), each refusal an isError tool result;
//   cli - `ibkr-agent <command> ... --json` as a process per call, the command and its flags taken from the
//         tool's generated CLI binding (TOOLS[tool].cli), the refusal on stdout and the exit code from the
//         catalogue's group.
// A door only makes the call and reports what came back; the suite asserts.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { TOOLS, type ToolName } from "../../../generated/tools/registry.gen.ts";
import { cliRun } from "../../support/cli-process.ts";
import { ROOT } from "../../support/run.ts";
import type { Profile } from "./refusal-profile.ts";

export type DoorName = "mcp" | "cli";

export interface DoorAnswer {
  /** The refusal's wire error (code, message, user_action, audit_event_id, ...), absent on success. */
  readonly error: Record<string, unknown> | undefined;
  /** MCP: the result's isError flag. */
  readonly isError?: boolean;
  /** CLI: the process exit code. */
  readonly exitCode?: number | null;
  /** What came back, for failure messages. */
  readonly raw: string;
}

export interface Door {
  readonly name: DoorName;
  call(tool: ToolName, args: Record<string, unknown>): Promise<DoorAnswer>;
  /** Diagnostics the door's processes wrote (stderr), for the no-secrets checks. */
  diagnostics(): string;
  close(): Promise<void>;
}

/**
 * `ibkr-agent` arguments for a tool call: the command words, its guard flag (the caller means it), for a live
 * write the writer MCP uses (client-portal, the broker; the CLI's default would only rehearse), then one flag
 * per argument as the generated binding names it, and --json.
 */
export function cliArgs(tool: ToolName, args: Record<string, unknown>): string[] {
  const binding = TOOLS[tool].cli;
  if (binding.positional.length > 0) throw new Error(`${tool}: positional arguments are not mapped here`);
  const argv: string[] = [...binding.command];
  if (binding.guard !== null) argv.push(`--${binding.guard}`);
  if (TOOLS[tool].tier === "live") argv.push("--live-broker", "client-portal");
  for (const [property, value] of Object.entries(args)) {
    const flag = binding.flags.find((f) => f.property === property)?.flag;
    if (flag === undefined) throw new Error(`${tool} has no CLI flag for ${property}`);
    for (const item of Array.isArray(value) ? value : [value]) argv.push(`--${flag}`, String(item));
  }
  return [...argv, "--json"];
}

export async function mcpDoor(profile: Profile): Promise<Door> {
  let stderr = "";
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [`${ROOT}/src/cli/bin.ts`, "mcp", "serve", "--transport", "stdio"],
    cwd: ROOT,
    env: profile.env as Record<string, string>,
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: "orders-refusals-e2e", version: "1.0.0" });
  await client.connect(transport);
  return {
    name: "mcp",
    async call(tool, args) {
      const result = await client.callTool({ name: tool, arguments: args });
      const structured = (result.structuredContent ?? {}) as Record<string, unknown>;
      return {
        error: structured.error as Record<string, unknown> | undefined,
        isError: result.isError === true,
        raw: JSON.stringify(result),
      };
    },
    diagnostics: () => stderr,
    close: () => client.close(),
  };
}

export function cliDoor(profile: Profile): Door {
  let stderr = "";
  return {
    name: "cli",
    async call(tool, args) {
      const run = await cliRun(cliArgs(tool, args), profile.env);
      stderr += run.stderr;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(run.stdout) as Record<string, unknown>;
      } catch {
        // Not JSON: the assertions on the code report the raw output.
      }
      return {
        error: body.error as Record<string, unknown> | undefined,
        exitCode: run.code,
        raw: `exit ${run.code} (signal ${run.signal})\n${run.stdout}\n${run.stderr}`,
      };
    },
    diagnostics: () => stderr,
    close: async () => undefined,
  };
}
