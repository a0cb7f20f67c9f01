// Tool registry: contracts/tools/*.yaml -> generated/tools/registry.gen.ts. Pipeline: inline $defs so each
// schema stands alone -> sort keys -> emit every input and output schema `as const` (TypeBox's Static infers
// the argument and result types from them) -> emit the tool table with scope, tier, annotations, operation,
// broker calls, errors, examples and CLI binding -> emit lazily compiled TypeBox validators, shared by every
// front door (compiling on first use keeps `--help` fast).
import type { Contracts, ToolContract } from "../contracts.ts";
import { type GeneratedFile, literal } from "../emit.ts";
import { inlineDefs, sortKeys } from "../schema.ts";

export const TOOLS_OUTPUT = "generated/tools/registry.gen.ts";
export const VALIDATORS_OUTPUT = "generated/tools/validators.gen.ts";

export interface CliFlagSpec {
  property: string;
  flag: string;
  aliases: string[];
  positional: boolean;
}

/** Resolves the CLI flag of every input property: override, else kebab-case of the property name. */
export function cliFlags(tool: ToolContract): CliFlagSpec[] {
  const properties = Object.keys((tool.input.properties ?? {}) as object).sort();
  const positional = tool.cli.positional ?? [];
  return properties.map((property) => ({
    property,
    flag: tool.cli.flags?.[property] ?? property.replaceAll("_", "-"),
    aliases: tool.cli.aliases?.[property] ?? [],
    positional: positional.includes(property),
  }));
}

/** camelCase SDK method name: ibkr_accounts_list -> accountsList. */
export function methodName(tool: string): string {
  return tool.replace(/^ibkr_/, "").replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export function publishedSchema(schema: unknown, defs: Contracts["defs"]): Record<string, unknown> {
  return sortKeys(inlineDefs(schema, defs)) as Record<string, unknown>;
}

export function generateTools(contracts: Contracts): GeneratedFile[] {
  const tools = contracts.tools;
  const operations = [...new Set(tools.map((tool) => tool.operation))].sort();
  const schemaConsts = tools
    .map(
      (tool) => `
const ${tool.name}_input = ${literal(publishedSchema(tool.input, contracts.defs))} as const;
const ${tool.name}_output = ${literal(publishedSchema(tool.output, contracts.defs))} as const;`,
    )
    .join("\n");
  const table = tools
    .map((tool) => {
      const definition = {
        name: tool.name,
        title: tool.title,
        description: tool.description.trim(),
        scope: tool.scope,
        tier: tool.tier,
        annotations: sortKeys(tool.annotations),
        operation: tool.operation,
        broker: tool.broker,
        websocket: tool.websocket ? sortKeys(tool.websocket) : null,
        errors: [...tool.errors].sort(),
        examples: tool.examples.map((example) => sortKeys(example.input)),
        cli: {
          command: tool.cli.command.split(" "),
          positional: tool.cli.positional ?? [],
          guard: tool.cli.guard ?? null,
          flags: cliFlags(tool).map(({ property, flag, aliases }) => ({ property, flag, aliases })),
        },
      };
      const json = literal(definition);
      // The JSON text ends with "\n}"; the two schema constants are spliced in before the closing brace.
      return `  ${tool.name}: ${json.slice(0, -2)},\n  inputSchema: ${tool.name}_input,\n  outputSchema: ${tool.name}_output },`;
    })
    .join("\n");
  const content = `
import type { Static } from "typebox";
import type { ErrorCode } from "../errors.gen.ts";
import type { ScopeName, Tier } from "../scopes.gen.ts";

${schemaConsts}

export const TOOL_NAMES = ${literal(tools.map((tool) => tool.name))} as const;

/** The seed's generic write tools: refused by name with READONLY_WRITE_FORBIDDEN, never declared. */
export const FORBIDDEN_TOOLS = ${literal(Object.fromEntries(contracts.forbiddenTools.map((entry) => [entry.name, entry.use_instead])))} as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export const OPERATION_NAMES = ${literal(operations)} as const;
/** Every workflow function the gateway must implement; its handler map is a Record over this union. */
export type OperationName = (typeof OPERATION_NAMES)[number];

export interface ToolAnnotations {
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
  readonly readOnlyHint: boolean;
}

export interface ToolCliFlag {
  readonly property: string;
  readonly flag: string;
  readonly aliases: readonly string[];
}

export interface ToolCliBinding {
  readonly command: readonly string[];
  readonly positional: readonly string[];
  readonly guard: string | null;
  readonly flags: readonly ToolCliFlag[];
}

export interface ToolDefinition {
  readonly name: ToolName;
  readonly title: string;
  readonly description: string;
  readonly scope: ScopeName;
  readonly tier: Tier;
  readonly annotations: ToolAnnotations;
  readonly operation: OperationName;
  readonly broker: readonly string[];
  readonly websocket: Readonly<Record<string, unknown>> | null;
  readonly errors: readonly ErrorCode[];
  readonly examples: readonly Readonly<Record<string, unknown>>[];
  readonly cli: ToolCliBinding;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly outputSchema: Readonly<Record<string, unknown>>;
}

export const TOOLS = {
${table}
} as const satisfies Record<ToolName, ToolDefinition>;

export type ToolInput<N extends ToolName> = Static<(typeof TOOLS)[N]["inputSchema"]>;
export type ToolOutput<N extends ToolName> = Static<(typeof TOOLS)[N]["outputSchema"]>;

export function isToolName(value: string): value is ToolName {
  return Object.hasOwn(TOOLS, value);
}

`;
  // Full TypeBox validators (with error reports) live in their own module: loading TypeBox's compiler costs
  // about 100 ms. The gateway checks calls with the ahead-of-time checks (checks.gen.ts) and loads this
  // module only to describe what is wrong with a value that failed.
  const validators = `
import { Compile, type Validator } from "typebox/compile";
import { TOOLS, type ToolName } from "./registry.gen.ts";

const compiled = new Map<string, Validator>();

function compile(key: string, schema: Readonly<Record<string, unknown>>): Validator {
  let validator = compiled.get(key);
  if (validator === undefined) {
    // biome-ignore lint/suspicious/noExplicitAny: TypeBox accepts any JSON Schema object here.
    validator = Compile(schema as any) as unknown as Validator;
    compiled.set(key, validator);
  }
  return validator;
}

/** The compiled validator of a tool's input schema (compiled once per process, on first use). */
export function inputValidator(name: ToolName): Validator {
  return compile(\`\${name}:input\`, TOOLS[name].inputSchema);
}

/** The compiled validator of a tool's output schema (compiled once per process, on first use). */
export function outputValidator(name: ToolName): Validator {
  return compile(\`\${name}:output\`, TOOLS[name].outputSchema);
}
`;
  const sources = ["contracts/tools/*.yaml", "contracts/tools/_defs.yaml", "contracts/forbidden-tools.yaml"];
  return [
    { path: TOOLS_OUTPUT, content, generator: "codegen/generators/tools.ts", sources },
    { path: VALIDATORS_OUTPUT, content: validators, generator: "codegen/generators/tools.ts", sources },
  ];
}
