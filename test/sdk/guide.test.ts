// Every TypeScript example in docs/sdk.md is type-checked against the SDK and run (except blocks marked
// `no-run`) on the built-in simulator, importing "ibkr-agent-gateway" as a user would (the package's
// `source` export condition points the import at src/ instead of the built dist/).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, run } from "../support/run.ts";

interface Example {
  readonly index: number;
  readonly code: string;
  readonly runs: boolean;
}

const DIR = join(ROOT, "test/.examples/sdk");
const examples: Example[] = [
  ...readFileSync(join(ROOT, "docs/sdk.md"), "utf8").matchAll(/```ts( no-run)?\n([\s\S]*?)```/g),
].map((match, index) => ({ index, code: match[2] as string, runs: match[1] === undefined }));

beforeAll(() => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  for (const example of examples) writeFileSync(join(DIR, `example-${example.index}.ts`), example.code);
  writeFileSync(
    join(DIR, "tsconfig.json"),
    JSON.stringify({
      extends: "../../../tsconfig.json",
      compilerOptions: { customConditions: ["source"], noEmit: true },
      include: ["*.ts"],
    }),
  );
});
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

describe("docs/sdk.md", () => {
  it("has examples, most of them runnable", () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
    expect(examples.filter((e) => e.runs).length).toBeGreaterThanOrEqual(3);
  });

  it("type-checks every example against the SDK", async () => {
    const result = await run(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(DIR, "tsconfig.json")],
      {
        timeoutMs: 120_000,
      },
    );
    expect(result.stdout + result.stderr).toBe("");
    expect(result.code).toBe(0);
  }, 180_000);

  it.each(examples.filter((e) => e.runs).map((e) => [e.index, e] as const))(
    "runs example %i on the simulator",
    async (_i, example) => {
      const home = mkdtempSync(join(tmpdir(), "ibkr-sdk-guide-"));
      try {
        const env = { ...process.env, IBKR_AGENT_HOME: home, IBKR_AGENT_CONFIG: "" };
        const result = await run(
          process.execPath,
          ["--conditions=source", join(DIR, `example-${example.index}.ts`)],
          { env },
        );
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(result.stdout.trim().length).toBeGreaterThan(0);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  );
});
