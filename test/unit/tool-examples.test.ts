// Every tool's documented example is accepted by its input schema (with the ahead-of-time check the gateway
// runs, with TypeBox's compiled validator, and with ajv, as strict MCP clients validate), a wrong type is
// rejected, and the ahead-of-time checks agree with TypeBox's compiler on every value tried.
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { inputCheck, outputCheck } from "../../generated/tools/checks.gen.ts";
import { TOOL_NAMES, TOOLS } from "../../generated/tools/registry.gen.ts";
import { inputValidator, outputValidator } from "../../generated/tools/validators.gen.ts";

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

  it("has ahead-of-time checks that agree with TypeBox's compiler", async () => {
    const input = await inputCheck(name);
    const output = await outputCheck(name);
    const example = tool.examples[0] ?? {};
    const property = Object.keys(schema.properties)[0];
    const inputs: unknown[] = [
      ...tool.examples,
      {},
      null,
      [],
      "text",
      { ...example, not_an_argument: true },
      ...(property === undefined
        ? []
        : [{ ...example, [property]: wrongValue(schema.properties[property] ?? {}) }]),
    ];
    for (const value of inputs)
      expect(input(value), JSON.stringify(value)).toBe(inputValidator(name).Check(value));
    const outputs: unknown[] = [
      {},
      null,
      { source: { backend: "simulator", simulated: true } },
      { extra: 1 },
    ];
    for (const value of outputs)
      expect(output(value), JSON.stringify(value)).toBe(outputValidator(name).Check(value));
    for (const example of tool.examples) expect(input(example)).toBe(true);
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
