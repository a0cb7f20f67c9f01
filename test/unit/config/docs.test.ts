// docs/config.md documents every key of the schema and every seed key that changed, so the reference
// cannot fall behind the code.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchema, SEED_KEYS } from "../../../src/config/index.ts";
import { ROOT } from "../../support/run.ts";

const doc = readFileSync(join(ROOT, "docs/config.md"), "utf8");

interface Node {
  type?: string;
  properties?: Record<string, Node>;
  items?: Node;
}

function leafKeys(node: Node, path = ""): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const here = path === "" ? key : `${path}.${key}`;
    if (child.type === "object") out.push(...leafKeys(child, here));
    else out.push(here);
    if (child.items?.properties) out.push(...leafKeys(child.items, `${here}[]`));
  }
  return out;
}

describe("docs/config.md", () => {
  it("has a row for every key of the schema", () => {
    const keys = leafKeys(configJsonSchema() as Node);
    expect(keys.length).toBeGreaterThan(90);
    // A table row starts with the key; the formatter pads the cell, hence the spaces.
    const rows = new Set([...doc.matchAll(/^\| `([^`]+)` +\|/gm)].map((match) => match[1]));
    expect(keys.filter((key) => !rows.has(key))).toEqual([]);
  });

  it("names every seed key that changed", () => {
    expect(SEED_KEYS.map((entry) => entry.seed).filter((seed) => !doc.includes(`\`${seed}\``))).toEqual([]);
  });

  it("documents the editor schema line and is linked from the docs index", () => {
    expect(doc).toContain("# yaml-language-server: $schema=");
    expect(readFileSync(join(ROOT, "docs/README.md"), "utf8")).toContain("(config.md)");
  });
});
