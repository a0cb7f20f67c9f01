// The written-out defaults (src/config/default-values.ts, used so the safe default mode never loads
// TypeBox's value module) are exactly what TypeBox derives from the schema.
import { Value } from "typebox/value";
import { describe, expect, it } from "vitest";
import { DEFAULT_VALUES } from "../../../src/config/default-values.ts";
import { ConfigSchema } from "../../../src/config/index.ts";

describe("DEFAULT_VALUES", () => {
  it("equals Value.Default(ConfigSchema, {}) - refresh it with the command in its header after a schema change", () => {
    expect(DEFAULT_VALUES).toEqual(Value.Default(ConfigSchema, {}));
  });
});
