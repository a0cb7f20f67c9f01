// Front-door bindings: contracts/tools/*.yaml -> generated/bindings/{sdk,cli}.gen.ts. The SDK binding is one
// typed method per tool over a caller supplied by the gateway; the CLI binding is one yargs command module per
// tool that turns flags and positionals into the tool's argument object and nothing more (validation, scopes
// and gates happen once, in the dispatcher).
import type { Contracts, ToolContract } from "../contracts.ts";
import { type GeneratedFile, literal } from "../emit.ts";
import { cliFlags, methodName, publishedSchema } from "./tools.ts";

export const SDK_BINDINGS_OUTPUT = "generated/bindings/sdk.gen.ts";
export const CLI_BINDINGS_OUTPUT = "generated/bindings/cli.gen.ts";

function firstSentence(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, " ");
  const end = trimmed.search(/\.(\s|$)/);
  return end === -1 ? trimmed : trimmed.slice(0, end + 1);
}

function jsdoc(text: string): string {
  return text.replaceAll("*/", "* /");
}

function hasRequiredInput(tool: ToolContract): boolean {
  return Array.isArray(tool.input.required) && tool.input.required.length > 0;
}

export function generateSdkBindings(contracts: Contracts): GeneratedFile[] {
  const members = contracts.tools.map((tool) => {
    const optional = hasRequiredInput(tool) ? "" : "?";
    return `  /** ${jsdoc(firstSentence(tool.description))} Tool ${tool.name}, scope ${tool.scope}. */
  ${methodName(tool.name)}(input${optional}: ToolInput<"${tool.name}">): Promise<ToolOutput<"${tool.name}">>;`;
  });
  const bindings = contracts.tools.map((tool) => {
    const fallback = hasRequiredInput(tool) ? "" : ` = {} as ToolInput<"${tool.name}">`;
    return `    ${methodName(tool.name)}: (input${fallback}) => call("${tool.name}", input),`;
  });
  const content = `
import type { ToolInput, ToolName, ToolOutput } from "../tools/registry.gen.ts";

/** Calls one tool through the gateway's dispatcher (validation, scopes, gates, audit). */
export type ToolCaller = <N extends ToolName>(name: N, input: ToolInput<N>) => Promise<ToolOutput<N>>;

/** One typed method per tool. */
export interface ToolMethods {
${members.join("\n")}
}

export const TOOL_METHOD_NAMES = ${literal(Object.fromEntries(contracts.tools.map((tool) => [methodName(tool.name), tool.name])))} as const;

export function bindToolMethods(call: ToolCaller): ToolMethods {
  return {
${bindings.join("\n")}
  };
}
`;
  return [
    {
      path: SDK_BINDINGS_OUTPUT,
      content,
      generator: "codegen/generators/bindings.ts",
      sources: ["contracts/tools/*.yaml"],
    },
  ];
}

function yargsType(schema: Record<string, unknown>): string {
  switch (schema.type) {
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array":
      return "array";
    default:
      return "string";
  }
}

function optionText(tool: ToolContract, contracts: Contracts): string[] {
  const input = publishedSchema(tool.input, contracts.defs);
  const properties = (input.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((input.required ?? []) as string[]);
  const lines: string[] = [];
  for (const flag of cliFlags(tool)) {
    const schema = properties[flag.property] ?? {};
    let describe = String(schema.description ?? "").replace(/\s+/g, " ");
    if (schema.default !== undefined) describe += ` (default: ${JSON.stringify(schema.default)})`;
    const options: Record<string, unknown> = { type: yargsType(schema), describe };
    if (Array.isArray(schema.enum)) options.choices = schema.enum;
    if (flag.aliases.length > 0) options.alias = flag.aliases;
    if (flag.positional) {
      lines.push(`.positional(${JSON.stringify(flag.flag)}, ${JSON.stringify(options)})`);
    } else {
      if (required.has(flag.property)) options.demandOption = true;
      lines.push(`.option(${JSON.stringify(flag.flag)}, ${JSON.stringify(options)})`);
    }
  }
  if (tool.cli.guard) {
    lines.push(
      `.option(${JSON.stringify(tool.cli.guard)}, ${JSON.stringify({ type: "boolean", describe: `Required: confirms you mean to run ${tool.cli.command}.` })})`,
    );
  }
  return lines;
}

export function generateCliBindings(contracts: Contracts): GeneratedFile[] {
  const commands = contracts.tools.map((tool) => {
    const words = tool.cli.command.split(" ");
    const required = new Set((tool.input.required ?? []) as string[]);
    const positionals = (tool.cli.positional ?? [])
      .map((name) => {
        const flag = cliFlags(tool).find((f) => f.property === name)?.flag ?? name;
        return required.has(name) ? `<${flag}>` : `[${flag}]`;
      })
      .join(" ");
    const leaf = [words[words.length - 1], positionals].filter(Boolean).join(" ");
    const mapping = cliFlags(tool).map(({ property, flag }) => [flag, property]);
    return `  {
    tool: "${tool.name}",
    path: ${JSON.stringify(words)},
    module: (run) => ({
      command: ${JSON.stringify(leaf)},
      describe: ${JSON.stringify(firstSentence(tool.description))},
      builder: (yargs) => yargs${optionText(tool, contracts).join("")},
      handler: (argv) => run("${tool.name}", toolArguments(argv, ${JSON.stringify(Object.fromEntries(mapping))}), argv),
    }),
  },`;
  });
  const content = `
import type { Argv, CommandModule } from "yargs";
import type { ToolName } from "../tools/registry.gen.ts";

export type ParsedArgs = Record<string, unknown>;

/** Runs one tool from the CLI; supplied by src/cli, which owns dispatch and rendering. */
export type ToolCommandRunner = (tool: ToolName, args: Record<string, unknown>, argv: ParsedArgs) => Promise<void>;

export interface ToolCommand {
  readonly tool: ToolName;
  /** Command words, e.g. ["account", "summary"]; the last word is the leaf command. */
  readonly path: readonly string[];
  readonly module: (run: ToolCommandRunner) => CommandModule<object, ParsedArgs>;
}

/** Copies the flags a user gave into the tool's argument object, renaming flags to property names. */
export function toolArguments(argv: ParsedArgs, flagToProperty: Record<string, string>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [flag, property] of Object.entries(flagToProperty)) {
    const value = argv[flag];
    if (value !== undefined) args[property] = value;
  }
  return args;
}

export const TOOL_COMMANDS: readonly ToolCommand[] = [
${commands.join("\n")}
];

export type { Argv };
`;
  return [
    {
      path: CLI_BINDINGS_OUTPUT,
      content,
      generator: "codegen/generators/bindings.ts",
      sources: ["contracts/tools/*.yaml"],
    },
  ];
}
