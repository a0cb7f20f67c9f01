// Every wire fixture under fixtures/cpapi/ is real-shaped CPAPI JSON that validates against the response
// schema its operation declares for its status, and every operation has at least one fixture.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { CPAPI_OPERATIONS, type CpapiOperationId } from "../../generated/cpapi/operations.gen.ts";
import { ROOT } from "../support/run.ts";

interface Fixture {
  operationId: string;
  status: number;
  body: unknown;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addKeyword("x-untrusted");

const dir = join(ROOT, "fixtures/cpapi");
const files = readdirSync(dir)
  .filter((file) => file.endsWith(".json"))
  .sort();

describe("CPAPI wire fixtures", () => {
  it.each(files)("%s validates against its operation's response schema", (file) => {
    const fixture = JSON.parse(readFileSync(join(dir, file), "utf8")) as Fixture;
    expect(file.startsWith(`${fixture.operationId}.`)).toBe(true);
    const operation = CPAPI_OPERATIONS[fixture.operationId as CpapiOperationId];
    expect(operation, `unknown operation ${fixture.operationId}`).toBeDefined();
    const schema = (operation.responses as Record<string, unknown>)[String(fixture.status)];
    if (schema === undefined) {
      // A response declared without a body (e.g. a 404 of an undocumented endpoint) must have none.
      expect(fixture.body).toBeNull();
      return;
    }
    const validate = ajv.compile(schema as object);
    expect(validate(fixture.body), JSON.stringify(validate.errors)).toBe(true);
  });

  it("covers every operation in the contracts", () => {
    const covered = new Set(files.map((file) => file.split(".")[0]));
    const missing = Object.keys(CPAPI_OPERATIONS).filter((id) => !covered.has(id));
    expect(missing).toEqual([]);
  });

  it("contains no secrets or real-looking session material", () => {
    for (const file of files) {
      const text = readFileSync(join(dir, file), "utf8");
      expect(text, file).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/); // JWT
      expect(text, file).not.toMatch(/(?:api|secret|private)[_-]?key/i);
      expect(text, file).not.toMatch(/Set-Cookie|Bearer\s/i);
    }
  });
});
