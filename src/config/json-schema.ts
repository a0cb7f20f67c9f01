// The published JSON Schema (docs/config.schema.json), for editors and other tools. It is the TypeBox
// schema itself, minus the `required` entries of keys that have a default: validation fills defaults in
// before it checks, while an editor sees the file as written and must not demand keys that may be left out.
import { ConfigSchema } from "./schema.ts";

type Node = Record<string, unknown>;

function relax(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relax);
  if (node === null || typeof node !== "object") return node;
  const out: Node = {};
  for (const [key, value] of Object.entries(node as Node)) out[key] = relax(value);
  const properties = out.properties as Record<string, Node> | undefined;
  if (Array.isArray(out.required) && properties !== undefined) {
    const required = (out.required as string[]).filter((name) => properties[name]?.default === undefined);
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}

/** The JSON Schema (draft 2020-12) of the configuration file. */
export function configJsonSchema(): Record<string, unknown> {
  const body = relax(JSON.parse(JSON.stringify(ConfigSchema))) as Node;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    description:
      "Configuration of ibkr-agent (the IBKR agent gateway). Generated from src/config/schema.ts; see docs/config.md.",
    ...body,
  };
}

/** The text of docs/config.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
