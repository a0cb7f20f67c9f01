// From the text of a config file to schema-valid values, or to the complete list of its problems. The stages
// run in order - YAML, literal secrets, schema, cross-key rules, environment - and a later stage never
// repeats a key path an earlier one already reported. When the schema finds problems, the offending keys are
// set aside (their defaults take their place) so the cross-key rules can still report on everything else:
// one run lists every problem.

import { createRequire } from "node:module";
import { Compile } from "typebox/compile";
import type { TLocalizedValidationError } from "typebox/error";
import { Settings } from "typebox/system";
import { Value } from "typebox/value";
import { type EnvironmentContext, environmentProblems } from "./environment.ts";
import { literalSecretProblems } from "./literals.ts";
import { pathResolver } from "./paths.ts";
import { type ConfigProblem, mergeProblems, pointerSegments, problem } from "./problems.ts";
import { ruleProblems } from "./rules.ts";
import { ConfigSchema, type ConfigValues } from "./schema.ts";
import { schemaProblems } from "./schema-errors.ts";

// The YAML parser is loaded on first use: with no config file (the safe default) nothing is parsed, and
// every CLI start-up would otherwise pay for loading it. Parsing is synchronous, so a lazy require it is.
let yamlModule: typeof import("yaml") | null = null;
function yaml(): typeof import("yaml") {
  yamlModule ??= createRequire(import.meta.url)("yaml") as typeof import("yaml");
  return yamlModule;
}

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_REPAIR_ROUNDS = 8;
/** A file is at most 1 MiB and written by the operator; listing everything matters more here than the cap. */
const MAX_SCHEMA_ERRORS = 1000;

// Compiled on first use: commands that never read a config file should not pay for it at start-up.
const compile = () => Compile(ConfigSchema);
let compiled: ReturnType<typeof compile> | undefined;
function validator(): ReturnType<typeof compile> {
  compiled ??= compile();
  return compiled;
}

export interface ParseOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Absolute path of the file the text came from; relative paths inside it are relative to it. */
  readonly file?: string;
  /** Whether the values come from a file (default true): then the audit secret must be named. */
  readonly fromFile?: boolean;
  /** Check the environment variables and files the config names (default true). */
  readonly checkEnvironment?: boolean;
}

export interface ParseResult {
  readonly problems: ConfigProblem[];
  /** The values with defaults filled in; present only when there are no problems. */
  readonly values: ConfigValues | undefined;
}

function words(code: string): string {
  return code.toLowerCase().replaceAll("_", " ");
}

/** YAML syntax problems by line and column; the parser's own message is not used as it quotes the text. */
function yamlStage(text: string): { data: unknown; problems: ConfigProblem[] } {
  const doc = yaml().parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    return {
      data: undefined,
      problems: doc.errors.map((error) => {
        const at = error.linePos?.[0];
        const where = at === undefined ? "" : ` at line ${at.line}, column ${at.col}`;
        return problem("", `is not valid YAML${where}: ${words(error.code)}`);
      }),
    };
  }
  try {
    return { data: doc.toJS({ maxAliasCount: 100 }) ?? {}, problems: [] };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return {
      data: undefined,
      problems: [problem("", `is not valid YAML: ${code ? words(code) : "too many aliases"}`)],
    };
  }
}

/**
 * Every schema error, not just the first few: TypeBox caps the errors it collects with a process-wide
 * setting (8 by default), so the cap is raised for this synchronous call only and put back right after.
 */
function allErrors(value: unknown): TLocalizedValidationError[] {
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: MAX_SCHEMA_ERRORS });
  try {
    return validator().Errors(value);
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}

function withDefaults(data: unknown): unknown {
  return Value.Default(ConfigSchema, structuredClone(data));
}

/**
 * Removes what the schema refused so that defaults stand in for it: the faulty key, or the whole list when
 * one of its items is faulty. Undefined when that does not lead to valid values; the cross-key rules are
 * then skipped.
 */
function repair(data: unknown): ConfigValues | undefined {
  let current = withDefaults(data);
  for (let round = 0; round < MAX_REPAIR_ROUNDS; round++) {
    if (validator().Check(current)) return current;
    for (const error of allErrors(current)) {
      const segments = pointerSegments(error.instancePath, current);
      if (error.keyword === "additionalProperties") {
        const target = resolveNode(current, segments);
        const keys = (error.params as { additionalProperties?: string[] }).additionalProperties ?? [];
        for (const key of keys) if (target !== undefined) delete target[key];
        continue;
      }
      const cut = typeof segments.at(-1) === "number" ? segments.slice(0, -1) : segments;
      const key = cut.at(-1);
      const parent = resolveNode(current, cut.slice(0, -1));
      if (typeof key !== "string" || parent === undefined) return undefined;
      delete parent[key];
    }
    current = withDefaults(current);
  }
  return undefined;
}

function resolveNode(
  root: unknown,
  segments: readonly (string | number)[],
): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const segment of segments) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node !== null && typeof node === "object" && !Array.isArray(node)
    ? (node as Record<string, unknown>)
    : undefined;
}

/** Parses and checks a config text; never throws. */
export function parseConfigText(text: string, options: ParseOptions = {}): ParseResult {
  const env = options.env ?? process.env;
  if (Buffer.byteLength(text, "utf8") > MAX_FILE_BYTES) {
    return { problems: [problem("", "is larger than 1 MiB")], values: undefined };
  }
  const parsed = yamlStage(text);
  if (parsed.problems.length > 0) return { problems: parsed.problems, values: undefined };
  const data = parsed.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return {
      problems: [problem("", "must be a mapping of sections such as broker:, auth:, audit:")],
      values: undefined,
    };
  }
  let problems = literalSecretProblems(data);
  const defaulted = withDefaults(data);
  let values: ConfigValues | undefined;
  if (validator().Check(defaulted)) {
    values = defaulted;
  } else {
    problems = mergeProblems(problems, schemaProblems(allErrors(defaulted), defaulted));
    values = repair(data);
  }
  if (values !== undefined) {
    problems = mergeProblems(problems, ruleProblems(values, { fromFile: options.fromFile ?? true }));
    if (options.checkEnvironment ?? true) {
      const context: EnvironmentContext = { env, resolvePath: pathResolver(options.file, env) };
      problems = mergeProblems(problems, environmentProblems(values, context));
    }
  }
  // By key path, so a section's problems read together; the sort is stable, so stage order stays within a path.
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { problems, values: problems.length === 0 ? values : undefined };
}

/** Every problem of a config text, each as {path, problem, code}; an empty list means it can be used. */
export function validateConfigText(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  options: Omit<ParseOptions, "env"> = {},
): ConfigProblem[] {
  return parseConfigText(text, { ...options, env }).problems;
}
