// `ibkr-agent tools list|show`: what the gateway offers, straight from the generated registry.
import type { Argv } from "yargs";
import { CPAPI_OPERATIONS } from "../../../generated/cpapi/operations.gen.ts";
import { ERROR_CODES, REFUSAL_REASON_CODES } from "../../../generated/errors.gen.ts";
import { SCOPE_NAMES } from "../../../generated/scopes.gen.ts";
import { isToolName, TOOL_NAMES, TOOLS } from "../../../generated/tools/registry.gen.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import type { Output } from "../output.ts";
import { renderTable } from "../render/table.ts";
import { toolsExportModule } from "./tools-export.ts";

export function contractSummary() {
  return {
    tools: TOOL_NAMES.length,
    scopes: SCOPE_NAMES.length,
    error_codes: ERROR_CODES.length,
    refusal_reasons: REFUSAL_REASON_CODES.length,
    cpapi_operations: Object.keys(CPAPI_OPERATIONS).length,
  };
}

function listTools(output: Output): void {
  const rows = TOOL_NAMES.map((name) => TOOLS[name]);
  if (output.json) {
    output.data({
      summary: contractSummary(),
      tools: rows.map((tool) => ({
        name: tool.name,
        title: tool.title,
        scope: tool.scope,
        tier: tool.tier,
        command: `ibkr-agent ${tool.cli.command.join(" ")}`,
      })),
    });
    return;
  }
  output.text(
    renderTable(rows, [
      { header: "TOOL", value: (tool) => tool.name },
      { header: "TIER", value: (tool) => tool.tier },
      { header: "SCOPE", value: (tool) => tool.scope },
      { header: "COMMAND", value: (tool) => `ibkr-agent ${tool.cli.command.join(" ")}` },
    ]),
  );
  const s = contractSummary();
  output.text(
    `\n${s.tools} tools, ${s.scopes} scopes, ${s.error_codes} error codes (+${s.refusal_reasons} refusal reasons), ${s.cpapi_operations} CPAPI operations.`,
  );
  output.text("Details of one tool: ibkr-agent tools show <name>");
}

function showTool(output: Output, name: string): void {
  if (!isToolName(name)) {
    throw new GatewayError("INPUT_UNKNOWN_TOOL", {
      message: `No tool is named "${name}".`,
      details: { tool: name },
    });
  }
  const tool = TOOLS[name];
  if (output.json) {
    output.data(tool);
    return;
  }
  const properties = (tool.inputSchema.properties ?? {}) as Record<
    string,
    { description?: string; type?: string }
  >;
  const required = new Set<string>("required" in tool.inputSchema ? tool.inputSchema.required : []);
  output.text(`${tool.name}: ${tool.title}\n\n${tool.description}\n`);
  output.text(`Scope:   ${tool.scope} (${tool.tier})`);
  output.text(
    `Command: ibkr-agent ${tool.cli.command.join(" ")}${tool.cli.guard ? ` --${tool.cli.guard}` : ""}`,
  );
  output.text(`Errors:  ${tool.errors.join(", ")}\n`);
  const flags = tool.cli.flags.map((flag) => ({ ...flag, schema: properties[flag.property] ?? {} }));
  if (flags.length > 0) {
    output.text(
      renderTable(flags, [
        { header: "ARGUMENT", value: (f) => f.property },
        {
          header: "FLAG",
          value: (f) =>
            (tool.cli.positional as readonly string[]).includes(f.property) ? `<${f.flag}>` : `--${f.flag}`,
        },
        { header: "TYPE", value: (f) => String(f.schema.type ?? "") },
        { header: "REQUIRED", value: (f) => (required.has(f.property) ? "yes" : "no") },
      ]),
    );
  }
}

export function toolsCommand(yargs: Argv, output: () => Output): Argv {
  return yargs.command("tools", "List tools, how to call them, export their definitions", (tools) =>
    tools
      .command(
        "list",
        "List every tool with its scope, tier and CLI command",
        (y) => y,
        () => listTools(output()),
      )
      .command(
        "show <name>",
        "Show one tool's description, scope, arguments and errors",
        (y) =>
          y.positional("name", {
            type: "string",
            demandOption: true,
            describe: "Tool name, e.g. ibkr_accounts_list",
          }),
        (argv) => showTool(output(), String(argv.name)),
      )
      .command(toolsExportModule(output))
      .demandCommand(1, "Name a tools subcommand: list, show or export."),
  );
}
