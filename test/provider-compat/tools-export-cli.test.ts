// `ibkr-agent tools export` as a process: piped it prints the JSON array, on a terminal a summary, with --out
// it writes a file. By default it exports what the MCP server would list for the configured scopes (checked
// against `mcp serve --describe`), --scopes filters the same way (what the configuration offers included),
// --all takes every tool; mistakes exit 2 with a stable code.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOOL_NAMES, type ToolName } from "../../generated/tools/registry.gen.ts";
import { hashOperatorPin } from "../../src/config/pin.ts";
import { exportTools } from "../../src/tools-export/index.ts";
import { answer, cliRun, ok } from "../support/cli-process.ts";
import { cliInTerminal } from "../support/terminal.ts";

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ibkr-tools-export-"));
  env = { ...process.env, IBKR_AGENT_HOME: join(dir, "home") };
  delete env.IBKR_AGENT_CONFIG;
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const names = (tools: unknown) => (tools as { name: string }[]).map((tool) => tool.name);

describe("ibkr-agent tools export", () => {
  it("piped, prints the JSON array of the tools the MCP server would list for the configured scopes", async () => {
    const [exported, described] = await Promise.all([
      cliRun(["tools", "export", "--format", "openai"], env),
      cliRun(["mcp", "serve", "--describe", "--json"], env),
    ]);
    const tools = ok(exported) as unknown as Record<string, unknown>[];
    const listed = (ok(described).tools as { name: ToolName }[]).map((tool) => tool.name);
    expect(names(tools)).toEqual(listed);
    expect(tools).toEqual(exportTools("openai", listed));
    // The safe default grants read scopes only: no order tool is exported.
    expect(names(tools).some((name) => /order_(preview|submit|cancel|modify)/.test(name))).toBe(false);
  });

  it("--scopes exports what those scopes allow, leaving out what the configuration does not offer", async () => {
    const config = join(dir, "human-approvals.yaml");
    writeFileSync(
      config,
      [
        "audit:",
        "  secret_env: IBKR_AGENT_TEST_AUDIT_SECRET",
        "approvals:",
        "  require_human: true",
        "operator:",
        `  pin_hash: "${hashOperatorPin("246810")}"`,
        "",
      ].join("\n"),
    );
    const run = await cliRun(
      [
        "tools",
        "export",
        "--format",
        "anthropic",
        "--scopes",
        "ibkr:approvals:create, ibkr:orders:paper:submit",
        "--config",
        config,
      ],
      // Its own state directory: the store of another test was written under another audit secret.
      { ...env, IBKR_AGENT_HOME: join(dir, "home-human"), IBKR_AGENT_TEST_AUDIT_SECRET: "a".repeat(64) },
    );
    // ibkr_approvals_create is withheld from agents when a human must approve, as in tools/list.
    expect(names(ok(run))).toEqual(["ibkr_paper_bracket_order_submit", "ibkr_paper_order_submit"]);
  });

  it("--all exports every tool; --out writes the file and says so, as text or as JSON", async () => {
    const file = join(dir, "mcp-tools.json");
    const text = await cliRun(["tools", "export", "--format", "mcp", "--all", "--out", file], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      `Wrote 46 tools to ${file} (MCP tool definitions, as tools/list returns them).\n`,
    );
    const written = JSON.parse(readFileSync(file, "utf8"));
    expect(written).toEqual(exportTools("mcp", TOOL_NAMES));
    const json = ok(
      await cliRun(["tools", "export", "--format", "openai-chat", "--all", "--out", file, "--json"], env),
    );
    expect(json).toEqual({ format: "openai-chat", out: file, count: 46, tools: [...TOOL_NAMES] });
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(exportTools("openai-chat", TOOL_NAMES));
  });

  it("refuses an unknown scope with INPUT_INVALID_ARGUMENT, and --scopes with --all as a usage mistake", async () => {
    const unknown = await cliRun(
      ["tools", "export", "--format", "openai", "--scopes", "ibkr:health:read,ibkr:everything", "--json"],
      env,
    );
    expect(unknown.code).toBe(2);
    expect(answer(unknown)).toEqual({
      error: {
        code: "INPUT_INVALID_ARGUMENT",
        message: "--scopes names scopes that do not exist: ibkr:everything.",
        retryable: false,
        user_action:
          "Use scope names from docs/reference/scopes.md (ibkr-agent tools list shows each tool's scope).",
        audit_event_id: null,
        details: { field: "scopes", unknown: ["ibkr:everything"] },
      },
    });
    const both = await cliRun(
      ["tools", "export", "--format", "openai", "--all", "--scopes", "ibkr:health:read"],
      env,
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("Arguments scopes and all are mutually exclusive");
    const noFormat = await cliRun(["tools", "export"], env);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toContain("Missing required argument: format");
  });

  it("on a terminal prints a summary with OpenAI's strict flag instead of the schemas", async () => {
    const run = await cliInTerminal(
      ["tools", "export", "--format", "openai", "--scopes", "ibkr:health:read,ibkr:audit:read"],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.output).toBe(
      [
        "OpenAI Responses API function tools: 6 tools",
        "Scopes: ibkr:audit:read, ibkr:health:read (--scopes)",
        "",
        "TOOL                       TIER  SCOPE             STRICT",
        "-------------------------  ----  ----------------  ------",
        "ibkr_audit_tail            read  ibkr:audit:read   no",
        "ibkr_backend_status        read  ibkr:health:read  yes",
        "ibkr_health                read  ibkr:health:read  yes",
        "ibkr_kill_switch_status    read  ibkr:health:read  yes",
        "ibkr_session_renew         read  ibkr:health:read  no",
        "ibkr_session_requirements  read  ibkr:health:read  yes",
        "",
        "2 of 6 tools are exported with strict: false: they have optional arguments or schema keywords outside OpenAI's strict subset (docs/provider-compatibility.md).",
        "",
        "The definitions: add --json (or pipe the output), or write them with --out FILE.",
        "",
      ].join("\n"),
    );
  });
});
