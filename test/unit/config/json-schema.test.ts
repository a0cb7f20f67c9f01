// The published JSON Schema is generated from the TypeBox schema, committed, fresh, and a real 2020-12
// schema an editor can use: it accepts the starter file and refuses what the loader refuses.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ASSET_CLASSES, configJsonSchema, starterConfig } from "../../../src/config/index.ts";
import { ROOT } from "../../support/run.ts";

const committed = JSON.parse(readFileSync(join(ROOT, "docs/config.schema.json"), "utf8")) as Record<
  string,
  unknown
>;

function compile() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(committed);
}

describe("docs/config.schema.json", () => {
  it("is what the schema generates now", () => {
    expect(
      committed,
      "docs/config.schema.json is stale: run `node src/cli/bin.ts config schema > docs/config.schema.json && npx biome format --write docs/config.schema.json`",
    ).toEqual(configJsonSchema());
  });

  it("is a strict JSON Schema 2020-12 document", () => {
    expect(committed.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(() => compile()).not.toThrow();
  });

  it("accepts the starter file", () => {
    const validate = compile();
    const ok = validate(parse(starterConfig({ schemaRef: "config.schema.json" })));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it("leaves keys with defaults optional, and keeps other required keys", () => {
    const validate = compile();
    expect(validate({})).toBe(true);
    expect(validate({ live_trading: { policies: [{ id: "p" }] } })).toBe(false);
    expect(validate.errors?.map((e) => [e.instancePath, e.keyword])).toEqual([
      ["/live_trading/policies/0", "required"],
      ["/live_trading/policies/0", "required"],
      ["/live_trading/policies/0", "required"],
    ]);
  });

  it("refuses unknown keys and unknown scopes, like the loader", () => {
    const validate = compile();
    expect(validate({ broker: { bakend: "simulator" } })).toBe(false);
    expect(validate.errors?.[0]?.keyword).toBe("additionalProperties");
    expect(validate({ auth: { enabled_scopes: ["ibkr:nope"] } })).toBe(false);
    expect(validate.errors?.[0]?.instancePath).toBe("/auth/enabled_scopes/0");
  });

  it("describes every key for editor hover text", () => {
    const missing: string[] = [];
    const visit = (node: Record<string, unknown>, path: string) => {
      const properties = node.properties as Record<string, Record<string, unknown>> | undefined;
      for (const [key, child] of Object.entries(properties ?? {})) {
        const here = path === "" ? key : `${path}.${key}`;
        if (typeof child.description !== "string") missing.push(here);
        visit(child, here);
        const items = child.items as Record<string, unknown> | undefined;
        if (items?.properties) visit(items, `${here}[]`);
      }
    };
    visit(committed, "");
    expect(missing).toEqual([]);
  });
});

describe("the asset classes", () => {
  it("are those of the tool contracts", () => {
    const defs = parse(readFileSync(join(ROOT, "contracts/tools/_defs.yaml"), "utf8")) as {
      $defs: Record<string, { enum?: string[] }>;
    };
    expect(defs.$defs.AssetClass?.enum).toEqual([...ASSET_CLASSES]);
  });
});
