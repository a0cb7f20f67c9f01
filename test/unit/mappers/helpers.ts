// Shared test helpers of the mapper tests: fixture bodies, output validation against the generated tool
// schemas (with the `source` the workflow adds), and expectations on GatewayErrors.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "vitest";
import type { ToolName } from "../../../generated/tools/registry.gen.ts";
import { outputValidator } from "../../../generated/tools/validators.gen.ts";
import { isGatewayError } from "../../../src/core/gateway-error.ts";

const ROOT = resolve(import.meta.dirname, "../../..");

export const SOURCE = { backend: "simulator", simulated: true } as const;

/** The `body` of fixtures/cpapi/<name>.json, parsed fresh each time (mappers must not depend on sharing). */
export function fixture(name: string): unknown {
  const file = JSON.parse(readFileSync(resolve(ROOT, "fixtures/cpapi", `${name}.json`), "utf8")) as {
    body: unknown;
  };
  return file.body;
}

/** Adds `source` and checks the result against the tool's output schema, printing the errors on failure. */
export function expectValid(tool: ToolName, result: object): void {
  const full = { ...result, source: SOURCE };
  const validator = outputValidator(tool);
  if (!validator.Check(full)) {
    throw new Error(`${tool} output invalid: ${JSON.stringify(validator.Errors(full), null, 2)}`);
  }
}

export function hashAccountId(accountId: string): string {
  return createHash("sha256").update(`test-key:${accountId}`).digest("hex");
}

/** Runs fn, expects a GatewayError with the code (and details subset), and returns it. */
export function expectGatewayError(
  fn: () => unknown,
  code: string,
  details?: Record<string, unknown>,
): { code: string; message: string; details?: Record<string, unknown> } {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isGatewayError(caught), `expected a GatewayError ${code}, got ${String(caught)}`).toBe(true);
  const error = caught as { code: string; message: string; details?: Record<string, unknown> };
  expect(error.code).toBe(code);
  if (details !== undefined) expect(error.details).toMatchObject(details);
  return error;
}

/** A deep copy of a JSON value, to derive hand-written variants of fixtures. */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
