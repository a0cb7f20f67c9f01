// Snapshot tests: contracts -> generated/tests/*.gen.test.ts. The tests pin the public surface (tool names per
// scope, every schema, every error code with its exit code and HTTP status) against snapshot files committed
// under generated/tests/__snapshots__/. Codegen writes only the tests; the snapshots change only when a person
// runs `npx vitest run -u` and commits the result, so a contract change is always a visible diff in review.
import type { Contracts } from "../contracts.ts";
import type { GeneratedFile } from "../emit.ts";

const GENERATOR = "codegen/generators/tests.ts";

export function generateTests(_contracts: Contracts): GeneratedFile[] {
  const sources = ["contracts/tools/*.yaml", "contracts/scopes.yaml", "contracts/errors.yaml"];
  return [
    {
      path: "generated/tests/surface.gen.test.ts",
      generator: GENERATOR,
      sources,
      content: `
import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, REFUSAL_REASONS, RETIRED_CODES } from "../errors.gen.ts";
import { SCOPE_NAMES, SCOPE_TIERS } from "../scopes.gen.ts";
import { TOOL_NAMES, TOOLS } from "../tools/registry.gen.ts";

const pretty = (value: unknown) => \`\${JSON.stringify(value, null, 2)}\\n\`;

describe("generated public surface", () => {
  it("pins tool names per scope", async () => {
    const byScope: Record<string, { tier: string; tools: string[] }> = {};
    for (const scope of SCOPE_NAMES) byScope[scope] = { tier: SCOPE_TIERS[scope], tools: [] };
    for (const name of TOOL_NAMES) byScope[TOOLS[name].scope]?.tools.push(name);
    await expect(pretty(byScope)).toMatchFileSnapshot("./__snapshots__/tools-by-scope.json");
  });

  it("pins every tool's input and output schema", async () => {
    const schemas = Object.fromEntries(
      TOOL_NAMES.map((name) => [name, { input: TOOLS[name].inputSchema, output: TOOLS[name].outputSchema }]),
    );
    await expect(pretty(schemas)).toMatchFileSnapshot("./__snapshots__/tool-schemas.json");
  });

  it("pins error codes, exit codes, HTTP statuses and MCP mappings", async () => {
    const errors = Object.fromEntries(
      Object.entries(ERROR_CATALOGUE).map(([code, entry]) => [
        code,
        { exit: entry.exit, http: entry.http, mcp: entry.mcp, retryable: entry.retryable },
      ]),
    );
    await expect(
      pretty({ errors, refusal_reasons: Object.keys(REFUSAL_REASONS), retired: RETIRED_CODES.map((r) => r.code) }),
    ).toMatchFileSnapshot("./__snapshots__/errors.json");
  });

  it("pins CLI command paths and MCP annotations", async () => {
    const surface = Object.fromEntries(
      TOOL_NAMES.map((name) => [name, { cli: TOOLS[name].cli.command.join(" "), annotations: TOOLS[name].annotations }]),
    );
    await expect(pretty(surface)).toMatchFileSnapshot("./__snapshots__/cli-and-annotations.json");
  });
});
`,
    },
  ];
}
