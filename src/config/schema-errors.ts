// Turns the schema validator's findings into problems a person can act on: an unknown key with the key it
// was probably meant to be (or the seed key's new name), a missing key, a wrong type or an out-of-range
// number. Messages name bounds and allowed words from the schema, never the value found in the file.
import type { TLocalizedValidationError } from "typebox/error";
import { SCOPE_NAMES } from "../../generated/scopes.gen.ts";
import { type ConfigProblem, formatPath, type PathSegment, pointerSegments, problem } from "./problems.ts";
import { ConfigSchema, ENV_NAME_PATTERN, PROFILE_PATTERN } from "./schema.ts";
import { seedKey } from "./seed-keys.ts";

export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  pattern?: string;
  enum?: unknown[];
}

/** The schema node at a key path, or undefined where the path leaves the schema. */
export function schemaAt(segments: readonly PathSegment[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = ConfigSchema as unknown as SchemaNode;
  for (const segment of segments) {
    if (node === undefined) return undefined;
    node = typeof segment === "number" ? node.items : node.properties?.[segment];
  }
  return node;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

/** "unknown key" plus the way forward: the seed key's replacement, or the closest key in the same place. */
export function unknownKeyProblem(parent: readonly PathSegment[], key: string): ConfigProblem {
  const path = formatPath([...parent, key]);
  const seed = seedKey(path);
  if (seed?.replacement !== undefined) {
    return problem(path, `unknown key; this seed key is now \`${seed.replacement}\``);
  }
  if (seed?.note !== undefined) return problem(path, `unknown key (a seed key that is gone: ${seed.note})`);
  const siblings = Object.keys(schemaAt(parent)?.properties ?? {});
  const best = siblings
    .map((name) => ({ name, d: distance(key.toLowerCase(), name) }))
    .filter((candidate) => candidate.d <= Math.max(2, Math.floor(candidate.name.length / 4)))
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))[0];
  return problem(path, best ? `unknown key; did you mean \`${best.name}\`?` : "unknown key");
}

const PATTERN_HINTS: Record<string, string> = {
  [ENV_NAME_PATTERN]:
    "must name an environment variable (capital letters, digits and _), never hold the secret itself",
  [PROFILE_PATTERN]: "must be 1-40 lower-case letters, digits or -, starting with a letter or digit",
};

const TYPE_WORDS: Record<string, string> = {
  object: "a mapping of keys",
  array: "a list",
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
};

function typeWord(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(" or ");
}

function enumProblem(
  path: string,
  allowed: readonly unknown[],
  segments: readonly PathSegment[],
): ConfigProblem {
  if (allowed.length === SCOPE_NAMES.length && allowed.every((v, i) => v === SCOPE_NAMES[i])) {
    return problem(
      path,
      "is not a known scope (the scopes are listed in docs/reference/scopes.md and by `ibkr-agent tools list`)",
      "AUTH_SCOPE_UNKNOWN",
    );
  }
  const hint =
    formatPath(segments) === "broker.backend" ? " (the seed's `fake` backend is now `simulator`)" : "";
  return problem(path, `must be one of: ${allowed.map(String).join(", ")}${hint}`);
}

function describe(error: TLocalizedValidationError, segments: PathSegment[]): ConfigProblem | undefined {
  const path = formatPath(segments);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required": {
      const missing = (params.requiredProperties as string[] | undefined) ?? [];
      const names = missing.map((name) => `\`${formatPath([...segments, name])}\``).join(", ");
      return problem(path, `is missing ${names}`);
    }
    case "type":
      return problem(path, `must be ${typeWord(params.type)}`);
    case "enum":
      return enumProblem(path, (params.allowedValues as unknown[] | undefined) ?? [], segments);
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return problem(path, `must be ${String(params.comparison)} ${String(params.limit)}`);
    case "minItems":
      return problem(path, `must list at least ${String(params.limit)} item(s)`);
    case "maxItems":
      return problem(path, `must list at most ${String(params.limit)} items`);
    case "minLength":
      return problem(path, "must not be empty");
    case "maxLength":
      return problem(path, `must be at most ${String(params.limit)} characters`);
    case "uniqueItems":
      return problem(path, "lists the same item more than once");
    case "format":
      return problem(
        path,
        params.format === "uri" ? "must be an absolute URL" : `must be a valid ${String(params.format)}`,
      );
    case "pattern": {
      const pattern = String(params.pattern);
      return problem(path, PATTERN_HINTS[pattern] ?? `does not have the expected form (pattern ${pattern})`);
    }
    case "anyOf":
      // The only unions in the schema are decimals (number or decimal string).
      return problem(path, 'must be a positive number or decimal string such as "1000.50"');
    default:
      return problem(path, error.message);
  }
}

/** One problem per finding, in the validator's order, with the noise of union branches removed. */
export function schemaProblems(errors: readonly TLocalizedValidationError[], data: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const error of errors) {
    // The branches of a union report separately; the union's own error says it once.
    if (error.schemaPath.includes("/anyOf/")) continue;
    // additionalProperties: false reports each extra key twice; the keyword form carries the key names.
    if (error.keyword === "boolean") continue;
    const segments = pointerSegments(error.instancePath, data);
    if (error.keyword === "additionalProperties") {
      const keys = ((error.params as { additionalProperties?: string[] }).additionalProperties ?? []).map(
        String,
      );
      for (const key of keys) out.push(unknownKeyProblem(segments, key));
      continue;
    }
    const found = describe(error, segments);
    if (found) out.push(found);
  }
  return out;
}
