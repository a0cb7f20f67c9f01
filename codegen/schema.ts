// JSON Schema helpers shared by the generators: inlining `#/$defs/` references so every published tool
// schema stands alone, and a canonical key order so generated output never depends on YAML layout.
import type { JsonSchema } from "./contracts.ts";

const DEF_PREFIX = "#/$defs/";

/** Replaces every `{$ref: "#/$defs/Name"}` with a copy of the definition (recursively). */
export function inlineDefs(schema: unknown, defs: Record<string, JsonSchema>, trail: string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((item) => inlineDefs(item, defs, trail));
  if (schema === null || typeof schema !== "object") return schema;
  const object = schema as Record<string, unknown>;
  const ref = object.$ref;
  if (typeof ref === "string") {
    if (!ref.startsWith(DEF_PREFIX)) throw new Error(`$ref "${ref}" must point at #/$defs/<Name>`);
    const name = ref.slice(DEF_PREFIX.length);
    const def = defs[name];
    if (def === undefined) throw new Error(`$ref "${ref}" names no definition in contracts/tools/_defs.yaml`);
    if (trail.includes(name))
      throw new Error(`$ref "${ref}" is recursive (${[...trail, name].join(" -> ")})`);
    const { $ref: _ignored, ...siblings } = object;
    return { ...(inlineDefs(def, defs, [...trail, name]) as object), ...siblings };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) out[key] = inlineDefs(value, defs, trail);
  return out;
}

/** Deep copy with object keys sorted, so the same data always prints the same way. */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => sortKeys(item)) as T;
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out as T;
}

/** Visits every subschema with its JSON pointer-like path. */
export function walkSchema(
  schema: unknown,
  visit: (node: Record<string, unknown>, path: string) => void,
  path = "",
): void {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return;
  const node = schema as Record<string, unknown>;
  visit(node, path);
  const properties = node.properties as Record<string, unknown> | undefined;
  if (properties) {
    for (const [name, child] of Object.entries(properties))
      walkSchema(child, visit, `${path}/properties/${name}`);
  }
  if (node.items) walkSchema(node.items, visit, `${path}/items`);
  if (node.additionalProperties && typeof node.additionalProperties === "object") {
    walkSchema(node.additionalProperties, visit, `${path}/additionalProperties`);
  }
}
