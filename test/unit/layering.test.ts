// Imports must follow the layering of design §3: front doors -> gateway -> workflows -> gates -> store/cpapi ->
// core -> generated tables. The table below is the rule; a new folder must be added to it deliberately.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** Layer of a project file, or null for files outside the layered tree. */
function layerOf(path: string): string | null {
  if (path.startsWith("generated/bindings/")) return "generated-bindings";
  if (path.startsWith("generated/tests/")) return "generated-tests";
  if (path.startsWith("generated/")) return "generated";
  const match = /^src\/([^/]+)\//.exec(path);
  return match ? `src/${match[1]}` : null;
}

const DATA = ["generated"];
const BOTTOM = ["src/core", ...DATA];
/** Which layers each layer may import. Every layer may import itself and npm packages. */
const ALLOWED: Record<string, string[]> = {
  generated: [],
  "generated-bindings": DATA,
  "generated-tests": DATA,
  "src/core": DATA,
  "src/config": BOTTOM,
  "src/store": BOTTOM,
  "src/cpapi": ["src/store", ...BOTTOM],
  "src/simulator": ["src/cpapi", ...BOTTOM],
  "src/auth": ["src/store", "src/config", ...BOTTOM],
  "src/gates": ["src/store", "src/cpapi", "src/auth", "src/config", ...BOTTOM],
  "src/workflows": ["src/gates", "src/store", "src/cpapi", "src/auth", "src/config", ...BOTTOM],
  // The relay: identity, pairing, forwarding policy, protocol, the remote hub and the sidecar daemon. It sits
  // below the gateway (which routes a relay backend's calls through it) and uses the operator check of the
  // workflows; the daemon takes the composed gateway as a parameter instead of importing it.
  "src/sidecar": ["src/workflows", "src/store", "src/auth", "src/config", ...BOTTOM],
  "src/gateway": [
    "src/sidecar",
    "src/workflows",
    "src/gates",
    "src/store",
    "src/cpapi",
    "src/simulator",
    "src/auth",
    "src/config",
    ...BOTTOM,
  ],
  "src/mcp": ["src/gateway", "src/sidecar", "src/auth", "src/config", ...BOTTOM],
  // Tool definitions in provider formats, built from what the MCP server lists (one source for both).
  "src/tools-export": ["src/mcp", ...BOTTOM],
  // The SDK is a front door too: it can mount the HTTP MCP handler and export tool definitions.
  "src/sdk": [
    "src/gateway",
    "src/sidecar",
    "src/mcp",
    "src/auth",
    "src/tools-export",
    "src/config",
    "generated-bindings",
    ...BOTTOM,
  ],
  "src/cli": [
    "src/gateway",
    "src/sidecar",
    "src/tools-export",
    "src/mcp",
    "src/simulator",
    "src/config",
    "src/auth",
    "generated-bindings",
    ...BOTTOM,
  ],
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

function relativeImports(path: string): string[] {
  const text = readFileSync(join(ROOT, path), "utf8");
  const specifiers = [
    ...text.matchAll(/(?:import|export)\s[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g),
  ]
    .map((m) => m[1] ?? m[2])
    .filter((s): s is string => s?.startsWith(".") === true);
  return specifiers.map((s) => relative(ROOT, resolve(ROOT, path, "..", s)));
}

describe("layering", () => {
  const files = [...sourceFiles("src"), ...sourceFiles("generated")];

  it("knows the layer of every source folder", () => {
    const unknown = files.map(layerOf).filter((layer) => layer !== null && !(layer in ALLOWED));
    expect([...new Set(unknown)]).toEqual([]);
  });

  it("imports only from allowed layers", () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      if (from === null) continue;
      for (const target of relativeImports(file)) {
        if (target.startsWith("test/")) violations.push(`${file} imports test code ${target}`);
        const to = layerOf(target);
        if (to === null || to === from) continue;
        if (!(ALLOWED[from] ?? []).includes(to))
          violations.push(`${file} (${from}) imports ${target} (${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("would catch a front door imported by a lower layer", () => {
    // Guards the checker itself: a store module importing the CLI must be flagged.
    expect((ALLOWED["src/store"] ?? []).includes("src/cli")).toBe(false);
    expect(layerOf("src/cli/main.ts")).toBe("src/cli");
    expect(layerOf("generated/bindings/cli.gen.ts")).toBe("generated-bindings");
  });
});
