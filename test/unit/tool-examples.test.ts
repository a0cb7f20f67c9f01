// Every tool's documented example is accepted by its input schema (with the runtime TypeBox validator and
// with ajv, as strict MCP clients validate), and a wrong type is rejected.
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { TOOL_NAMES, TOOLS } from "../../generated/tools/registry.gen.ts";
import { inputValidator } from "../../generated/tools/validators.gen.ts";

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);

/** A value of the wrong JSON type for a property schema. */
function wrongValue(schema: { type?: string }): unknown {
  return schema.type === "string" ? 12345 : "not-the-right-type";
}

describe.each(TOOL_NAMES)("%s", (name) => {
  const tool = TOOLS[name];
  const schema = tool.inputSchema as { properties: Record<string, { type?: string }> };

  it("accepts its documented examples", () => {
    expect(tool.examples.length).toBeGreaterThan(0);
    const validate = ajv.compile(tool.inputSchema);
    for (const example of tool.examples) {
      expect(inputValidator(name).Check(example)).toBe(true);
      expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it("rejects an unknown argument and a wrong type", () => {
    const example = tool.examples[0] ?? {};
    expect(inputValidator(name).Check({ ...example, not_an_argument: true })).toBe(false);
    const property = Object.keys(schema.properties)[0];
    if (property === undefined) return; // a tool without arguments has no type to get wrong
    const wrong = { ...example, [property]: wrongValue(schema.properties[property] ?? {}) };
    expect(inputValidator(name).Check(wrong)).toBe(false);
    expect(ajv.validate(tool.inputSchema, wrong)).toBe(false);
  });
});
