// Contract rules checked before anything is generated. Each rule is a small named function over the model;
// special cases live in the named tables at the top, not in buried conditions. Every finding names the
// contract file and key so the author can go straight to it.
import { Ajv as AjvDraft07 } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { ContractError, type Contracts, type JsonSchema, type ToolContract } from "./contracts.ts";
import { inlineDefs, walkSchema } from "./schema.ts";

/** Our tool names are a strict subset of the MCP rule ([A-Za-z0-9_.-], 1-128). */
const TOOL_NAME = /^ibkr_[a-z0-9_]+$/;
const TOOL_NAME_MAX = 64;
const SCOPE_NAME = /^ibkr:[a-z]+(:[a-z]+)*$/;
const ERROR_CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/;
const OPERATION_NAME = /^[a-z][a-zA-Z]*\.[a-z][a-zA-Z]*$/;
const FLAG_NAME = /^[a-z][a-z0-9-]*$/;
const MCP_MAPPINGS = ["tool_error", "http", "protocol"];
/** Flags every command has; a tool may not claim them for an argument. */
const RESERVED_FLAGS = ["json", "config", "help", "version"];
/** Keywords that draft-07 and 2020-12 validators read differently; MCP clients use either. */
const DIALECT_SPLIT_KEYWORDS = [
  "prefixItems",
  "$dynamicRef",
  "$dynamicAnchor",
  "unevaluatedProperties",
  "unevaluatedItems",
  "dependentSchemas",
  "$defs",
];
/** Property names that carry money or quantities and therefore must be decimal strings. */
const DECIMAL_PROPERTY = /(price|quantity|amount|notional|commission|pnl|margin|equity|qty)$/;
const STABILITY = ["documented", "undocumented"];
const REQUIREMENTS = [
  "brokerage-session",
  "iserver-accounts-preflight",
  "portfolio-accounts-preflight",
  "snapshot-preflight",
];
const QUESTION_POLICIES = ["confirm", "refuse", "require_approval"];
const HTTP_METHODS = ["get", "post", "put", "delete", "patch"];

export interface ValidationReport {
  errors: ContractError[];
}

function createValidators(): { name: string; ajv: AjvDraft07 | Ajv2020 }[] {
  const draft07 = new AjvDraft07({ strict: true, allErrors: true });
  const draft2020 = new Ajv2020({ strict: true, allErrors: true });
  return [
    { name: "draft-07", ajv: draft07 },
    { name: "2020-12", ajv: draft2020 },
  ].map(({ name, ajv }) => {
    addFormats.default(ajv);
    ajv.addKeyword({ keyword: "x-untrusted", schemaType: "boolean" });
    return { name, ajv };
  });
}

export function validateContracts(contracts: Contracts): ValidationReport {
  const errors: ContractError[] = [];
  const fail = (file: string, keyPath: string, problem: string) =>
    errors.push(new ContractError(file, keyPath, problem));
  checkScopes(contracts, fail);
  checkErrors(contracts, fail);
  const operationIds = checkCpapi(contracts, fail);
  checkTools(contracts, operationIds, fail);
  checkUnusedErrors(contracts, fail);
  checkQuestions(contracts, fail);
  checkAuditEvents(contracts, fail);
  return { errors };
}

type Fail = (file: string, keyPath: string, problem: string) => void;

function duplicates<T>(items: T[], key: (item: T) => string): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) twice.add(k);
    seen.add(k);
  }
  return [...twice];
}

function checkScopes(contracts: Contracts, fail: Fail): void {
  const tierNames = contracts.tiers.map((tier) => tier.name);
  for (const name of duplicates(contracts.scopes, (scope) => scope.name)) {
    fail("contracts/scopes.yaml", `scopes.${name}`, "is declared twice");
  }
  for (const scope of contracts.scopes) {
    if (!SCOPE_NAME.test(scope.name))
      fail(scope.file, `scopes.${scope.name}`, `name must match ${SCOPE_NAME}`);
    if (!tierNames.includes(scope.tier)) {
      fail(scope.file, `scopes.${scope.name}.tier`, `"${scope.tier}" is not one of ${tierNames.join(", ")}`);
    }
  }
}

function checkErrors(contracts: Contracts, fail: Fail): void {
  const file = "contracts/errors.yaml";
  const all = [...contracts.errors.map((e) => e.code), ...contracts.refusalReasons.map((r) => r.code)];
  for (const code of duplicates(all, (c) => c)) fail(file, code, "is declared twice");
  const retired = new Set(contracts.retired.map((r) => r.code));
  for (const error of contracts.errors) {
    const at = `errors.${error.code}`;
    if (!ERROR_CODE.test(error.code)) fail(file, at, `code must match ${ERROR_CODE}`);
    if (retired.has(error.code)) fail(file, at, "is retired and may not be used again");
    if (!(error.group in contracts.exitCodes))
      fail(file, `${at}.group`, `"${error.group}" is not in exit_codes`);
    if (typeof error.message !== "string" || error.message.trim() === "")
      fail(file, `${at}.message`, "is missing");
    if (typeof error.user_action !== "string" || error.user_action.trim() === "") {
      fail(file, `${at}.user_action`, "is missing: every error needs an action the user can take");
    }
    if (typeof error.retryable !== "boolean") fail(file, `${at}.retryable`, "must be true or false");
    if (!Number.isInteger(error.http) || error.http < 400 || error.http > 599) {
      fail(file, `${at}.http`, "must be an HTTP error status (400-599)");
    }
    if (!MCP_MAPPINGS.includes(error.mcp))
      fail(file, `${at}.mcp`, `must be one of ${MCP_MAPPINGS.join(", ")}`);
  }
  const codes = new Set(contracts.errors.map((e) => e.code));
  for (const reason of contracts.refusalReasons) {
    const at = `refusal_reasons.${reason.code}`;
    if (!codes.has(reason.parent)) fail(file, `${at}.parent`, `"${reason.parent}" is not a declared error`);
    if (!reason.user_action) fail(file, `${at}.user_action`, "is missing");
    // A comma in an unquoted flow mapping silently splits the text into a stray key; refuse any such key.
    const extra = Object.keys(reason).filter(
      (key) => !["code", "parent", "message", "user_action", "file"].includes(key),
    );
    if (extra.length > 0)
      fail(file, at, `has unknown keys ${extra.join(", ")} (quote text that holds a comma)`);
    if (retired.has(reason.code)) fail(file, at, "is retired and may not be used again");
  }
  for (const [list, entries] of [
    ["not_tool_errors", contracts.notToolErrors],
    ["every_tool_errors", contracts.everyToolErrors],
  ] as const) {
    for (const code of entries) {
      if (!codes.has(code)) fail(file, `${list}.${code}`, "is not a declared error");
    }
  }
  for (const entry of contracts.retired) {
    if (entry.replaced_by && !codes.has(entry.replaced_by)) {
      fail(file, `retired.${entry.code}.replaced_by`, `"${entry.replaced_by}" is not a declared error`);
    }
  }
}

function checkCpapi(contracts: Contracts, fail: Fail): Set<string> {
  const operationIds = new Set<string>();
  const schemaNames = new Map<string, string>();
  const routes = new Map<string, string>();
  for (const { file, document } of contracts.cpapi) {
    if (document.openapi !== "3.1.0") fail(file, "openapi", 'must be "3.1.0"');
    const schemas = ((document.components as Record<string, unknown> | undefined)?.schemas ?? {}) as Record<
      string,
      unknown
    >;
    for (const name of Object.keys(schemas)) {
      const other = schemaNames.get(name);
      if (other) fail(file, `components.schemas.${name}`, `is also declared in ${other}`);
      schemaNames.set(name, file);
    }
    const paths = (document.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!HTTP_METHODS.includes(method)) continue;
        const at = `paths.${path}.${method}`;
        const route = `${method.toUpperCase()} ${path}`;
        if (routes.has(route)) fail(file, at, `is also declared in ${routes.get(route)}`);
        routes.set(route, file);
        const id = operation.operationId;
        if (typeof id !== "string") {
          fail(file, `${at}.operationId`, "is missing");
          continue;
        }
        if (operationIds.has(id)) fail(file, `${at}.operationId`, `"${id}" is used twice`);
        operationIds.add(id);
        if (!STABILITY.includes(operation["x-ibkr-stability"] as string)) {
          fail(file, `${at}.x-ibkr-stability`, `must be one of ${STABILITY.join(", ")}`);
        }
        const requires = operation["x-ibkr-requires"];
        if (!Array.isArray(requires) || requires.some((r) => !REQUIREMENTS.includes(r as string))) {
          fail(file, `${at}.x-ibkr-requires`, `must be a list of ${REQUIREMENTS.join(", ")}`);
        }
        const pacing = operation["x-ibkr-pacing"] as Record<string, unknown> | undefined;
        if (pacing !== undefined && !isPacing(pacing)) {
          fail(
            file,
            `${at}.x-ibkr-pacing`,
            "must be {rate, per_seconds} or {concurrent} with positive numbers",
          );
        }
      }
    }
  }
  return operationIds;
}

function isPacing(pacing: Record<string, unknown>): boolean {
  const positive = (v: unknown) => typeof v === "number" && v > 0;
  const keys = Object.keys(pacing).sort().join(",");
  if (keys === "per_seconds,rate") return positive(pacing.rate) && positive(pacing.per_seconds);
  if (keys === "concurrent") return positive(pacing.concurrent);
  return false;
}

function checkTools(contracts: Contracts, operationIds: Set<string>, fail: Fail): void {
  const scopeTier = new Map(contracts.scopes.map((scope) => [scope.name, scope.tier]));
  const codes = new Set(contracts.errors.map((e) => e.code));
  const validators = createValidators();
  for (const name of duplicates(contracts.tools, (tool) => tool.name)) {
    const tool = contracts.tools.find((t) => t.name === name) as ToolContract;
    fail(tool.file, `tools.${name}`, "is declared twice");
  }
  const commands = new Map<string, string>();
  const forbidden = new Set(contracts.forbiddenTools.map((entry) => entry.name));
  for (const tool of contracts.tools) {
    const at = `tools.${tool.name}`;
    const f = (key: string, problem: string) => fail(tool.file, key ? `${at}.${key}` : at, problem);
    if (!TOOL_NAME.test(tool.name) || tool.name.length > TOOL_NAME_MAX) {
      f("", `name must match ${TOOL_NAME} and have at most ${TOOL_NAME_MAX} characters (MCP tool-name rule)`);
    }
    if (forbidden.has(tool.name)) f("", "is a forbidden generic write tool (contracts/forbidden-tools.yaml)");
    for (const key of ["title", "description"] as const) {
      if (typeof tool[key] !== "string" || tool[key].trim() === "") f(key, "is missing");
    }
    const tier = scopeTier.get(tool.scope);
    if (tier === undefined) f("scope", `"${tool.scope}" is not declared in contracts/scopes.yaml`);
    else if (tier !== tool.tier) f("tier", `is "${tool.tier}" but scope ${tool.scope} has tier "${tier}"`);
    const hints = tool.annotations ?? {};
    for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
      if (typeof hints[hint] !== "boolean") f(`annotations.${hint}`, "must be true or false");
    }
    if (typeof tool.operation !== "string" || !OPERATION_NAME.test(tool.operation)) {
      f("operation", `must match ${OPERATION_NAME} (workflow.function)`);
    }
    for (const id of tool.broker) {
      if (!operationIds.has(id)) f("broker", `"${id}" is not an operationId in contracts/cpapi`);
    }
    for (const code of tool.errors) {
      if (!codes.has(code)) f("errors", `"${code}" is not declared in contracts/errors.yaml`);
    }
    checkToolSchemas(tool, contracts.defs, validators, f);
    checkCli(tool, commands, f);
  }
}

function checkToolSchemas(
  tool: ToolContract,
  defs: Record<string, JsonSchema>,
  validators: ReturnType<typeof createValidators>,
  f: (key: string, problem: string) => void,
): void {
  const compiled: Record<string, unknown> = {};
  for (const part of ["input", "output"] as const) {
    const raw = tool[part];
    if (raw === null || typeof raw !== "object") {
      f(part, "must be a JSON Schema object");
      continue;
    }
    let schema: Record<string, unknown>;
    try {
      schema = inlineDefs(raw, defs) as Record<string, unknown>;
    } catch (error) {
      f(part, (error as Error).message);
      continue;
    }
    if (schema.type !== "object" || typeof schema.properties !== "object") {
      f(part, "must be an object schema with properties");
    }
    if (part === "input" && schema.additionalProperties !== false) {
      f(part, "must set additionalProperties: false");
    }
    walkSchema(schema, (node, path) => {
      for (const keyword of DIALECT_SPLIT_KEYWORDS) {
        if (keyword in node)
          f(`${part}${path}`, `uses "${keyword}", which draft-07 and 2020-12 read differently`);
      }
      if (Array.isArray(node.type)) f(`${part}${path}`, "uses a type union; declare one type");
      const properties = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, property] of Object.entries(properties)) {
        if (part === "input" && typeof property.description !== "string") {
          f(`${part}${path}/properties/${name}`, "needs a description");
        }
        if (DECIMAL_PROPERTY.test(name) && (property.type === "number" || property.type === "integer")) {
          f(
            `${part}${path}/properties/${name}`,
            "is money or a quantity: use a decimal string ($defs/Decimal)",
          );
        }
      }
    });
    for (const { name, ajv } of validators) {
      try {
        compiled[`${part}:${name}`] = ajv.compile(schema);
      } catch (error) {
        f(part, `does not compile as ${name} JSON Schema: ${(error as Error).message}`);
      }
    }
  }
  const validateInput = compiled["input:2020-12"] as
    | (((data: unknown) => boolean) & { errors?: unknown[] | null })
    | undefined;
  if (tool.examples.length === 0) f("examples", "needs at least one example input");
  tool.examples.forEach((example, i) => {
    if (validateInput && !validateInput(example.input)) {
      f(`examples[${i}].input`, `does not validate: ${JSON.stringify(validateInput.errors)}`);
    }
  });
}

function checkCli(
  tool: ToolContract,
  commands: Map<string, string>,
  f: (key: string, problem: string) => void,
) {
  const cli = tool.cli;
  if (!cli || typeof cli.command !== "string" || cli.command.trim() === "") {
    f("cli.command", "is missing");
    return;
  }
  const other = commands.get(cli.command);
  if (other) f("cli.command", `"${cli.command}" is also the command of ${other}`);
  commands.set(cli.command, tool.name);
  const properties = Object.keys((tool.input?.properties ?? {}) as object);
  for (const name of cli.positional ?? []) {
    if (!properties.includes(name)) f("cli.positional", `"${name}" is not an input property`);
  }
  const flagNames = new Set<string>();
  for (const property of properties) {
    const flag = cli.flags?.[property] ?? property.replaceAll("_", "-");
    if (!FLAG_NAME.test(flag)) f(`cli.flags.${property}`, `"${flag}" is not a valid flag name`);
    if (RESERVED_FLAGS.includes(flag))
      f(`cli.flags.${property}`, `"--${flag}" is reserved for every command`);
    if (flagNames.has(flag)) f(`cli.flags.${property}`, `"--${flag}" is used twice`);
    flagNames.add(flag);
  }
  for (const key of Object.keys(cli.flags ?? {})) {
    if (!properties.includes(key)) f(`cli.flags.${key}`, "is not an input property");
  }
  for (const key of Object.keys(cli.aliases ?? {})) {
    if (!properties.includes(key)) f(`cli.aliases.${key}`, "is not an input property");
  }
  if (cli.guard !== undefined && (!FLAG_NAME.test(cli.guard) || flagNames.has(cli.guard))) {
    f("cli.guard", `"${cli.guard}" must be a flag name distinct from the argument flags`);
  }
}

function checkUnusedErrors(contracts: Contracts, fail: Fail): void {
  const used = new Set(contracts.tools.flatMap((tool) => tool.errors));
  const allowed = new Set(contracts.notToolErrors);
  for (const error of contracts.errors) {
    if (!used.has(error.code) && !allowed.has(error.code)) {
      fail(
        error.file,
        `errors.${error.code}`,
        "is declared by no tool; declare it on a tool or list it in not_tool_errors",
      );
    }
  }
}

function checkQuestions(contracts: Contracts, fail: Fail): void {
  const { file, questions } = contracts.questions;
  for (const id of duplicates(questions, (q) => q.id)) fail(file, `questions.${id}`, "is declared twice");
  for (const question of questions) {
    if (!QUESTION_POLICIES.includes(question.policy)) {
      fail(file, `questions.${question.id}.policy`, `must be one of ${QUESTION_POLICIES.join(", ")}`);
    }
    if (!question.reason) fail(file, `questions.${question.id}.reason`, "is missing");
  }
}

function checkAuditEvents(contracts: Contracts, fail: Fail): void {
  const { file, fields, event_types } = contracts.auditEvents;
  const fieldNames = new Set(fields.map((field) => field.name));
  for (const name of duplicates(fields, (field) => field.name))
    fail(file, `fields.${name}`, "is declared twice");
  for (const name of duplicates(event_types, (type) => type.name)) {
    fail(file, `event_types.${name}`, "is declared twice");
  }
  for (const type of event_types) {
    for (const field of type.fields ?? []) {
      if (!fieldNames.has(field))
        fail(file, `event_types.${type.name}.fields`, `"${field}" is not an envelope field`);
    }
  }
}
