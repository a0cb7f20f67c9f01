// `ibkr-agent tools export --format openai|openai-chat|anthropic|mcp`: tool definitions for agent frameworks
// that take them directly rather than over MCP. By default the tools the configured scopes allow, exactly
// what the MCP servers list (gateway.tools()); --scopes names another set, --all takes every tool. The
// conversion itself lives in src/tools-export; this module only picks the tools and prints or writes them.
// On a terminal without --json or --out it prints a summary, because hundreds of lines of JSON schema help
// nobody reading a screen; piped or with --json it prints the JSON array.
import { writeFileSync } from "node:fs";
import type { Argv, CommandModule } from "yargs";
import { isScopeName, type ScopeName } from "../../../generated/scopes.gen.ts";
import { TOOL_NAMES, TOOLS, type ToolName } from "../../../generated/tools/registry.gen.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import {
  FORMAT_DESCRIPTIONS,
  TOOL_EXPORT_FORMATS,
  type ToolExportFormat,
} from "../../tools-export/formats.ts";
import { openCliGateway } from "../open-gateway.ts";
import type { Output } from "../output.ts";
import { renderTable } from "../render/table.ts";

interface ExportArgs {
  readonly format: ToolExportFormat;
  readonly scopes?: string;
  readonly all?: boolean;
  readonly out?: string;
  readonly config?: string;
}

interface Selection {
  readonly names: ToolName[];
  /** Where the set came from, for the summary: the configuration, --scopes, or --all. */
  readonly source: "configuration" | "--scopes" | "--all";
  /** The scopes the set was filtered by; null for --all. */
  readonly scopes: readonly ScopeName[] | null;
}

function parseScopes(text: string): ScopeName[] {
  const words = text
    .split(/[\s,]+/)
    .map((word) => word.trim())
    .filter((word) => word !== "");
  if (words.length === 0) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "--scopes names no scope.",
      userAction: "List scopes separated by commas, e.g. --scopes ibkr:health:read,ibkr:accounts:read.",
      details: { field: "scopes" },
    });
  }
  const unknown = words.filter((word) => !isScopeName(word));
  if (unknown.length > 0) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `--scopes names scopes that do not exist: ${unknown.join(", ")}.`,
      userAction:
        "Use scope names from docs/reference/scopes.md (ibkr-agent tools list shows each tool's scope).",
      details: { field: "scopes", unknown },
    });
  }
  return [...new Set(words as ScopeName[])].sort();
}

/** The tools to export, filtered the way the MCP servers filter tools/list (scopes and what the config offers). */
async function select(args: ExportArgs): Promise<Selection> {
  if (args.all) return { names: [...TOOL_NAMES], source: "--all", scopes: null };
  const scopes = args.scopes !== undefined ? parseScopes(args.scopes) : undefined;
  const gateway = await openCliGateway(args.config !== undefined ? { config: args.config } : {});
  try {
    if (scopes === undefined) {
      return { names: gateway.tools(), source: "configuration", scopes: [...gateway.localScopes].sort() };
    }
    return { names: gateway.dispatcher.toolsFor(new Set(scopes)), source: "--scopes", scopes };
  } finally {
    await gateway.close();
  }
}

function write(file: string, tools: readonly unknown[]): void {
  try {
    writeFileSync(file, `${JSON.stringify(tools, null, 2)}\n`);
  } catch (error) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `Cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? "write failed"}.`,
      userAction: "Name a file in a directory that exists and that you may write to.",
      details: { field: "out" },
      cause: error,
    });
  }
}

function summary(
  output: Output,
  format: ToolExportFormat,
  selection: Selection,
  strict: (name: ToolName) => boolean,
): void {
  const openai = format === "openai" || format === "openai-chat";
  const from =
    selection.scopes === null
      ? "every tool in the registry (--all)"
      : `${selection.scopes.join(", ")} (${selection.source === "--scopes" ? "--scopes" : "auth.enabled_scopes"})`;
  output.text(`${FORMAT_DESCRIPTIONS[format]}: ${selection.names.length} tools`);
  output.text(`Scopes: ${from}\n`);
  if (selection.names.length === 0) {
    output.text("These scopes grant no tool; nothing to export.");
    return;
  }
  const rows = selection.names.map((name) => ({
    name,
    tier: TOOLS[name].tier,
    scope: TOOLS[name].scope,
    strict: strict(name),
  }));
  output.text(
    renderTable(rows, [
      { header: "TOOL", value: (row) => row.name },
      { header: "TIER", value: (row) => row.tier },
      { header: "SCOPE", value: (row) => row.scope },
      ...(openai
        ? [{ header: "STRICT", value: (row: (typeof rows)[number]) => (row.strict ? "yes" : "no") }]
        : []),
    ]),
  );
  const loose = rows.filter((row) => !row.strict).length;
  if (openai && loose > 0) {
    output.text(
      `\n${loose} of ${rows.length} tools are exported with strict: false: they have optional arguments or` +
        " schema keywords outside OpenAI's strict subset (docs/provider-compatibility.md).",
    );
  }
  output.text(`\nThe definitions: add --json (or pipe the output), or write them with --out FILE.`);
}

async function run(args: ExportArgs, output: Output): Promise<void> {
  const selection = await select(args);
  // The converters load the MCP SDK (for the mcp format); only this command needs them.
  const { exportTools, openAiStrictness } = await import("../../tools-export/index.ts");
  const tools = exportTools(args.format, selection.names);
  if (args.out !== undefined) {
    write(args.out, tools);
    if (output.json) {
      output.data({ format: args.format, out: args.out, count: tools.length, tools: selection.names });
    } else {
      output.text(`Wrote ${tools.length} tools to ${args.out} (${FORMAT_DESCRIPTIONS[args.format]}).`);
    }
    return;
  }
  if (output.json || !process.stdout.isTTY) {
    output.data(tools);
    return;
  }
  summary(output, args.format, selection, (name) => openAiStrictness(name).strict);
}

export function toolsExportModule(output: () => Output): CommandModule<object, ExportArgs> {
  return {
    command: "export",
    describe: "Export tool definitions for OpenAI, Anthropic or MCP agent frameworks",
    builder: (y: Argv) =>
      y
        .option("format", {
          type: "string",
          choices: TOOL_EXPORT_FORMATS,
          demandOption: true,
          describe:
            "openai (Responses API function tools), openai-chat (Chat Completions), anthropic (Messages API), mcp (as tools/list returns them)",
        })
        .option("scopes", {
          type: "string",
          describe:
            "Comma-separated scopes to export the tools of (default: the configured auth.enabled_scopes)",
        })
        .option("all", {
          type: "boolean",
          describe: "Export every tool in the registry, whatever the scopes",
        })
        .option("out", {
          type: "string",
          describe: "Write the JSON array to this file instead of stdout",
        })
        .conflicts("scopes", "all")
        .example("$0 tools export --format openai --json", "The configured tools as OpenAI function tools")
        .example(
          "$0 tools export --format anthropic --scopes ibkr:health:read,ibkr:accounts:read --out tools.json",
          "Anthropic tool definitions for two scopes, written to a file",
        )
        .example(
          "$0 tools export --format mcp --all",
          "Every tool as an MCP client would list it",
        ) as Argv<ExportArgs>,
    handler: (argv) => run(argv, output()),
  };
}
