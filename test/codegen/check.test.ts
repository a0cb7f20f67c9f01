// `codegen:check` on a real copy of the project: clean -> exit 0; a contract edited without regenerating ->
// exit 1 naming the stale files and the exact fix command; a stray file in generated/ is reported too.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, run } from "../support/run.ts";

let copy: string;

function check() {
  return run(process.execPath, [join(ROOT, "codegen/main.ts"), "--check", "--root", copy], {
    timeoutMs: 120_000,
  });
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), "codegen-check-"));
  for (const dir of ["contracts", "generated", "docs/reference"]) {
    cpSync(join(ROOT, dir), join(copy, dir), { recursive: true });
  }
});

afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe("codegen --check", () => {
  it("passes on the committed tree", async () => {
    const result = await check();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("fails with the fix command when a contract changed without regenerating", async () => {
    const scopes = join(copy, "contracts/scopes.yaml");
    const original = readFileSync(scopes, "utf8");
    writeFileSync(scopes, original.replace("Read the positions held in an account.", "Read positions."));
    const result = await check();
    writeFileSync(scopes, original);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("changed generated/scopes.gen.ts");
    expect(result.stderr).toContain("changed docs/reference/scopes.md");
    expect(result.stderr).toContain(
      "Run `npm run codegen` and commit the contracts together with the regenerated files.",
    );
  });

  it("reports a stale file that no generator produces", async () => {
    const stray = join(copy, "generated/old.gen.ts");
    writeFileSync(stray, "export {};\n");
    const result = await check();
    rmSync(stray);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("stale   generated/old.gen.ts");
  });

  it("names the file and key of a broken contract", async () => {
    const errors = join(copy, "contracts/errors.yaml");
    const original = readFileSync(errors, "utf8");
    writeFileSync(
      errors,
      original.replace("    user_action: Fix the argument named in the error", "    hint: Fix"),
    );
    const result = await check();
    writeFileSync(errors, original);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "contracts/errors.yaml: errors.INPUT_INVALID_ARGUMENT.user_action: is missing",
    );
  });
});
