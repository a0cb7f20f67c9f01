// Ahead-of-time validators: TypeBox's own code generator (Code from typebox/compile) turns each tool's input
// and output schema into a standalone check function at generation time, so a running gateway never loads
// TypeBox's compiler - importing it costs about 100 ms, which every CLI command would otherwise pay. The
// generated code refers to "external" values (the RegExps of `pattern`s and the format checkers); they are
// written out as literals here. One module per tool and direction, loaded only when that tool is called.
import { Code } from "typebox/compile";
import type { Contracts } from "../contracts.ts";
import type { GeneratedFile } from "../emit.ts";
import { listOperations } from "./cpapi.ts";
import { publishedSchema } from "./tools.ts";

export const CHECKS_DIR = "generated/tools/checks";

/** Format checkers TypeBox generates calls to, by function name, from typebox/format. */
const FORMAT_FUNCTIONS = new Set([
  "IsDate",
  "IsDateTime",
  "IsEmail",
  "IsUri",
  "IsUuid",
  "IsTime",
  "IsHostname",
]);

function externalLiteral(value: unknown, where: string): { text: string; format?: string } {
  if (value instanceof RegExp) return { text: value.toString() };
  if (typeof value === "function" && FORMAT_FUNCTIONS.has(value.name))
    return { text: value.name, format: value.name };
  throw new Error(
    `${where}: TypeBox needs an external value the generator cannot write out (${String(value)})`,
  );
}

/** The module source of one schema's check: `export function Check(value): boolean`. */
export function checkModule(schema: Record<string, unknown>, where: string): string {
  const { Code: code, External } = Code(schema as Parameters<typeof Code>[0]);
  const variables = External.variables as unknown[];
  const literals = variables.map((value, i) => externalLiteral(value, `${where} external ${i}`));
  const formats = [...new Set(literals.flatMap((l) => (l.format ? [l.format] : [])))].sort();
  const body = code
    .split("\n")
    .filter((line) => !line.startsWith("import ") && line !== "// @ts-ignore")
    .join("\n")
    .replace(/let External = \[\]\n/, "")
    .replace(/export function SetExternal\(external\) \{ External = external\.variables \}\n/, "")
    .trim();
  if (/\bSetExternal\b|\bExternal = \[\]/.test(body))
    throw new Error(`${where}: unexpected TypeBox code layout`);
  const imports = [
    ...(/\bGuard\./.test(body) ? ['import { Guard } from "typebox/guard";'] : []),
    ...(/\bHashing\./.test(body) ? ['import { Hashing } from "typebox/system";'] : []),
    ...(/\bCheckContext\b/.test(body) ? ['import { CheckContext } from "typebox/schema";'] : []),
    ...(formats.length > 0 ? [`import { ${formats.join(", ")} } from "typebox/format";`] : []),
  ];
  return `// @ts-nocheck - TypeBox-generated validation code (typebox/compile Code), not hand-written TypeScript.
${imports.join("\n")}

const External = [${literals.map((l) => l.text).join(", ")}];

${body}
`;
}

export const CHECK_INDEX_OUTPUT = "generated/tools/checks.gen.ts";
export const CPAPI_CHECKS_DIR = "generated/cpapi/checks";
export const CPAPI_CHECK_INDEX_OUTPUT = "generated/cpapi/checks.gen.ts";

/** Statuses whose bodies the client validates: the 2xx answers (error bodies are classified, not mapped). */
function validatedStatuses(responses: Record<string, unknown>): string[] {
  return Object.keys(responses)
    .filter((status) => /^2\d\d$/.test(status))
    .sort();
}

function cpapiCheckIndex(contracts: Contracts): string {
  const entries = listOperations(contracts)
    .sort((a, b) => a.operationId.localeCompare(b.operationId))
    .flatMap((op) =>
      validatedStatuses(op.responses).map(
        (status) =>
          `  "${op.operationId}:${status}": () => import("./checks/${op.operationId}.${status}.gen.ts"),`,
      ),
    )
    .join("\n");
  return `
/** Returns true when a broker answer matches the contract; generated ahead of time from the response schema. */
export type ResponseCheck = (value: unknown) => boolean;

// One module per operation and status, imported when the client first sees that answer.
const LOADERS: Readonly<Record<string, () => Promise<{ Check: ResponseCheck }>>> = {
${entries}
};

const loaded = new Map<string, ResponseCheck>();

/** The check of an operation's response schema for a status, or null when the contract declares none. */
export async function responseCheck(operationId: string, status: number): Promise<ResponseCheck | null> {
  const key = \`\${operationId}:\${status}\`;
  const cached = loaded.get(key);
  if (cached !== undefined) return cached;
  const loader = LOADERS[key];
  if (loader === undefined) return null;
  const check = (await loader()).Check;
  loaded.set(key, check);
  return check;
}
`;
}

function checkIndex(contracts: Contracts): string {
  const entries = [...contracts.tools]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(
      (tool) =>
        `  ${tool.name}: {\n    input: () => import("./checks/${tool.name}.input.gen.ts"),\n    output: () => import("./checks/${tool.name}.output.gen.ts"),\n  },`,
    )
    .join("\n");
  return `
import type { ToolName } from "./registry.gen.ts";

/** Returns true when a value matches the schema; generated ahead of time, no TypeBox compiler at run time. */
export type Check = (value: unknown) => boolean;

type Loader = () => Promise<{ Check: Check }>;

// Each tool's checks are a module of their own, imported on the tool's first call.
const LOADERS: Record<ToolName, { readonly input: Loader; readonly output: Loader }> = {
${entries}
};

const loaded = new Map<string, Check>();

async function load(name: ToolName, direction: "input" | "output"): Promise<Check> {
  const key = \`\${name}:\${direction}\`;
  let check = loaded.get(key);
  if (check === undefined) {
    check = (await LOADERS[name][direction]()).Check;
    loaded.set(key, check);
  }
  return check;
}

/** The check of a tool's input schema. */
export function inputCheck(name: ToolName): Promise<Check> {
  return load(name, "input");
}

/** The check of a tool's output schema. */
export function outputCheck(name: ToolName): Promise<Check> {
  return load(name, "output");
}
`;
}

export function generateChecks(contracts: Contracts): GeneratedFile[] {
  const files: GeneratedFile[] = [
    {
      path: CHECK_INDEX_OUTPUT,
      content: checkIndex(contracts),
      generator: "codegen/generators/checks.ts",
      sources: ["contracts/tools/*.yaml"],
    },
    {
      path: CPAPI_CHECK_INDEX_OUTPUT,
      content: cpapiCheckIndex(contracts),
      generator: "codegen/generators/checks.ts",
      sources: ["contracts/cpapi/*.yaml"],
    },
  ];
  for (const op of listOperations(contracts)) {
    for (const status of validatedStatuses(op.responses)) {
      files.push({
        path: `${CPAPI_CHECKS_DIR}/${op.operationId}.${status}.gen.ts`,
        content: checkModule(op.responses[status] as Record<string, unknown>, `${op.operationId} ${status}`),
        generator: "codegen/generators/checks.ts",
        sources: ["contracts/cpapi/*.yaml"],
      });
    }
  }
  for (const tool of contracts.tools) {
    for (const [direction, schema] of [
      ["input", tool.input],
      ["output", tool.output],
    ] as const) {
      files.push({
        path: `${CHECKS_DIR}/${tool.name}.${direction}.gen.ts`,
        content: checkModule(publishedSchema(schema, contracts.defs), `${tool.name} ${direction}`),
        generator: "codegen/generators/checks.ts",
        sources: ["contracts/tools/*.yaml", "contracts/tools/_defs.yaml"],
      });
    }
  }
  return files;
}
