// OpenAI function tools from the registry, for applications that hand tool definitions to the OpenAI API
// themselves (the Responses API and the older Chat Completions API take the same function, shaped a little
// differently). The parameters are the tool's input JSON Schema as the registry has it.
//
// Strict mode (constrained decoding to the schema) accepts only a subset of JSON Schema: every property
// listed in `required`, `additionalProperties: false` on every object, and a short list of keywords. A tool
// whose schema is outside that subset would make OpenAI refuse the whole request, so it is exported with
// `strict: false` and the reasons are available from openAiStrictness. Rewriting optional arguments into
// required nullable ones (OpenAI's suggested workaround) is not done: the model would then send nulls, which
// the gateway's own input validation rightly refuses.
import { TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";

export type JsonSchemaObject = Record<string, unknown>;

/** A function tool of the Responses API (`tools` of `responses.create`). */
export interface OpenAiResponsesTool {
  readonly type: "function";
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonSchemaObject;
  readonly strict: boolean;
}

/** A function tool of the Chat Completions API (`tools` of `chat.completions.create`). */
export interface OpenAiChatTool {
  readonly type: "function";
  readonly function: {
    readonly name: string;
    readonly description: string;
    readonly parameters: JsonSchemaObject;
    readonly strict: boolean;
  };
}

export interface Strictness {
  readonly strict: boolean;
  /** Why strict mode is off, one line each; empty when it is on. */
  readonly reasons: readonly string[];
}

// The keywords OpenAI's structured-outputs guide lists as supported in strict mode, minus the ones our
// schemas never use (kept short on purpose: anything unknown makes the tool non-strict, never a failed call).
const STRICT_KEYWORDS = new Set([
  "type",
  "description",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "anyOf",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minItems",
  "maxItems",
]);
const STRICT_FORMATS = new Set([
  "date-time",
  "time",
  "date",
  "duration",
  "email",
  "hostname",
  "ipv4",
  "ipv6",
  "uuid",
]);

function isObject(value: unknown): value is JsonSchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function strictProblems(schema: JsonSchemaObject, path: string, out: Set<string>): void {
  const where = path === "" ? "" : ` (at ${path})`;
  for (const key of Object.keys(schema)) {
    if (!STRICT_KEYWORDS.has(key)) out.add(`keyword "${key}" is not supported in strict mode${where}`);
  }
  if (typeof schema.format === "string" && !STRICT_FORMATS.has(schema.format)) {
    out.add(`format "${schema.format}" is not supported in strict mode${where}`);
  }
  const properties = isObject(schema.properties) ? schema.properties : undefined;
  if (schema.type === "object" || properties !== undefined) {
    if (schema.additionalProperties !== false) {
      out.add(`an object without additionalProperties: false${where}`);
    }
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    for (const [name, property] of Object.entries(properties ?? {})) {
      const at = path === "" ? name : `${path}.${name}`;
      if (!required.has(name))
        out.add(`optional argument "${at}" (strict mode needs every argument required)`);
      if (isObject(property)) strictProblems(property, at, out);
    }
  }
  if (isObject(schema.items)) strictProblems(schema.items, `${path}[]`, out);
  if (Array.isArray(schema.anyOf)) {
    schema.anyOf.forEach((branch, index) => {
      if (isObject(branch)) strictProblems(branch, `${path}anyOf[${index}]`, out);
    });
  }
}

/** Whether a tool's input schema qualifies for OpenAI strict mode, and if not, why. */
export function openAiStrictness(name: ToolName): Strictness {
  const schema = TOOLS[name].inputSchema as JsonSchemaObject;
  const problems = new Set<string>();
  if (schema.type !== "object") problems.add("the top level is not type: object");
  strictProblems(schema, "", problems);
  return { strict: problems.size === 0, reasons: [...problems] };
}

/** A copy the caller may change without touching the registry's frozen-in-spirit `as const` schema. */
function parameters(name: ToolName): JsonSchemaObject {
  return structuredClone(TOOLS[name].inputSchema) as JsonSchemaObject;
}

export function openAiResponsesTool(name: ToolName): OpenAiResponsesTool {
  const tool = TOOLS[name];
  return {
    type: "function",
    name: tool.name,
    description: tool.description,
    parameters: parameters(name),
    // Always explicit: the Responses API treats a missing strict as true.
    strict: openAiStrictness(name).strict,
  };
}

export function openAiChatTool(name: ToolName): OpenAiChatTool {
  const tool = TOOLS[name];
  return {
    type: "function",
    function: {
      name: tool.name,
      description: tool.description,
      parameters: parameters(name),
      strict: openAiStrictness(name).strict,
    },
  };
}
