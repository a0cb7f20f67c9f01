// `tools export` formats against each provider's published shape: every tool in every format validates
// against a small JSON Schema written from the provider's documentation (test/provider-compat/formats/), its
// parameters compile as JSON Schema 2020-12 and accept the tool's contract examples, OpenAI's strict flag is
// only set where the schema really is inside strict mode's subset, the MCP form passes the MCP SDK's own
// Tool schema, and one tool per format is pinned literally.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ListToolsResultSchema, ToolSchema } from "@modelcontextprotocol/sdk/types.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { TOOL_NAMES, TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
import {
  exportTools,
  openAiStrictness,
  TOOL_EXPORT_FORMATS,
  type ToolExportFormat,
} from "../../src/tools-export/index.ts";
import { ROOT } from "../support/run.ts";

const FORMAT_SCHEMAS: Record<ToolExportFormat, string> = {
  openai: "openai-responses-tool.schema.json",
  "openai-chat": "openai-chat-tool.schema.json",
  anthropic: "anthropic-tool.schema.json",
  mcp: "mcp-tool.schema.json",
};

function ajv() {
  const instance = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(instance);
  return instance;
}

function formatValidator(format: ToolExportFormat) {
  const file = join(ROOT, "test/provider-compat/formats", FORMAT_SCHEMAS[format]);
  return ajv().compile(JSON.parse(readFileSync(file, "utf8")));
}

/** The input schema inside one exported definition, whatever the format calls it. */
function inputOf(format: ToolExportFormat, tool: Record<string, unknown>): Record<string, unknown> {
  switch (format) {
    case "openai":
      return tool.parameters as Record<string, unknown>;
    case "openai-chat":
      return (tool.function as { parameters: Record<string, unknown> }).parameters;
    case "anthropic":
      return tool.input_schema as Record<string, unknown>;
    case "mcp":
      return tool.inputSchema as Record<string, unknown>;
  }
}

function nameOf(format: ToolExportFormat, tool: Record<string, unknown>): string {
  return format === "openai-chat" ? (tool.function as { name: string }).name : (tool.name as string);
}

describe.each(TOOL_EXPORT_FORMATS)("tools export --format %s", (format) => {
  const exported = exportTools(format, TOOL_NAMES) as unknown as Record<string, unknown>[];

  it("matches the provider's published tool shape for every tool", () => {
    const validate = formatValidator(format);
    const failures = exported
      .filter((tool) => !validate(tool))
      .map((tool) => `${nameOf(format, tool)}: ${JSON.stringify(validate.errors)}`);
    expect(failures).toEqual([]);
    expect(exported).toHaveLength(46);
  });

  it("refuses what the provider would refuse: a bad name, a non-object input schema, an unknown field", () => {
    const validate = formatValidator(format);
    const [tool] = exportTools(format, ["ibkr_health"]) as unknown as Record<string, unknown>[];
    const renamed = structuredClone(tool) as Record<string, unknown>;
    if (format === "openai-chat") (renamed.function as Record<string, unknown>).name = "ibkr health";
    else renamed.name = "ibkr health";
    const notObject = structuredClone(tool) as Record<string, unknown>;
    inputOf(format, notObject).type = "array";
    expect([validate(tool), validate(renamed), validate(notObject), validate({ ...tool, extra: 1 })]).toEqual(
      [true, false, false, false],
    );
  });

  it("keeps the registry's names and order, each within the provider's name pattern", () => {
    expect(exported.map((tool) => nameOf(format, tool))).toEqual([...TOOL_NAMES]);
  });

  it("gives every tool an input schema with type object at the top that compiles and accepts its examples", () => {
    for (const [index, tool] of exported.entries()) {
      const name = TOOL_NAMES[index] as ToolName;
      const schema = inputOf(format, tool);
      expect(schema.type).toBe("object");
      const validate = ajv().compile(schema);
      for (const example of TOOLS[name].examples) {
        expect(validate(example), `${name} ${JSON.stringify(example)}`).toBe(true);
      }
      // The export is the contract's schema, not a rewrite of it.
      expect(schema).toEqual(TOOLS[name].inputSchema);
    }
  });
});

/** True when every object in the schema is closed and lists all its properties as required. */
function closedAndRequired(schema: Record<string, unknown>): boolean {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (schema.type === "object") {
    if (schema.additionalProperties !== false) return false;
    const required = new Set((schema.required as string[] | undefined) ?? []);
    if (Object.keys(properties ?? {}).some((name) => !required.has(name))) return false;
  }
  const children = [
    ...Object.values(properties ?? {}),
    ...(schema.items !== undefined ? [schema.items as Record<string, unknown>] : []),
  ];
  return children.every(closedAndRequired);
}

describe("OpenAI strict mode", () => {
  it("is on exactly for the tools whose schemas are inside strict mode's subset", () => {
    expect(TOOL_NAMES.filter((name) => openAiStrictness(name).strict)).toEqual([
      "ibkr_account_metadata",
      "ibkr_account_summary",
      "ibkr_accounts_list",
      "ibkr_backend_status",
      "ibkr_currency_rate",
      "ibkr_health",
      "ibkr_kill_switch_status",
      "ibkr_limits_status",
      "ibkr_live_bracket_order_submit",
      "ibkr_live_order_cancel",
      "ibkr_live_order_submit",
      "ibkr_market_snapshot",
      "ibkr_news_article",
      "ibkr_option_greeks",
      "ibkr_order_status",
      "ibkr_orders_list",
      "ibkr_paper_bracket_order_submit",
      "ibkr_paper_order_cancel",
      "ibkr_paper_order_submit",
      "ibkr_pnl_daily",
      "ibkr_pnl_realtime",
      "ibkr_portfolio_snapshot",
      "ibkr_session_requirements",
      "ibkr_transfer_history",
    ]);
  });

  it("is never claimed for a schema with an open object or an optional argument", () => {
    for (const [tool, chat] of exportTools("openai", TOOL_NAMES).map(
      (tool, i) => [tool, exportTools("openai-chat", [TOOL_NAMES[i] as ToolName])[0]] as const,
    )) {
      expect(chat?.function.strict).toBe(tool.strict);
      if (tool.strict) expect(closedAndRequired(tool.parameters), tool.name).toBe(true);
    }
  });

  it("says why it is off", () => {
    expect(openAiStrictness("ibkr_executions_list")).toEqual({
      strict: false,
      reasons: [
        'optional argument "days" (strict mode needs every argument required)',
        'keyword "default" is not supported in strict mode (at days)',
      ],
    });
    expect(openAiStrictness("ibkr_kill_switch_engage").reasons).toEqual([
      'keyword "maxLength" is not supported in strict mode (at reason)',
      'keyword "minLength" is not supported in strict mode (at reason)',
    ]);
    expect(openAiStrictness("ibkr_health")).toEqual({ strict: true, reasons: [] });
  });
});

describe("the MCP format", () => {
  it("passes the MCP SDK's Tool schema one by one and as a tools/list result", () => {
    const tools = exportTools("mcp", TOOL_NAMES);
    for (const tool of tools) expect(ToolSchema.safeParse(tool).success, tool.name).toBe(true);
    expect(ListToolsResultSchema.safeParse({ tools }).success).toBe(true);
  });

  it("lists every output schema as the result or the gateway's error object", () => {
    for (const tool of exportTools("mcp", TOOL_NAMES)) {
      const output = tool.outputSchema as { type: string; anyOf: Record<string, unknown>[] };
      expect(output.type).toBe("object");
      expect(output.anyOf).toHaveLength(2);
      expect(output.anyOf[1]?.required).toEqual(["error"]);
    }
  });
});

describe("exported definitions", () => {
  it("are copies: changing one changes neither the registry nor the next export", () => {
    const [first] = exportTools("anthropic", ["ibkr_currency_rate"]);
    (first?.input_schema.properties as Record<string, unknown>).injected = { type: "string" };
    const [again] = exportTools("anthropic", ["ibkr_currency_rate"]);
    expect(Object.keys(again?.input_schema.properties as object)).toEqual(["base", "quote"]);
    expect(Object.keys(TOOLS.ibkr_currency_rate.inputSchema.properties)).toEqual(["base", "quote"]);
  });

  it("follow the order asked for, and an empty selection exports nothing", () => {
    expect(exportTools("openai", ["ibkr_health", "ibkr_accounts_list"]).map((t) => t.name)).toEqual([
      "ibkr_health",
      "ibkr_accounts_list",
    ]);
    expect(exportTools("mcp", [])).toEqual([]);
  });

  it("refuse a name outside the provider's pattern instead of exporting it", () => {
    expect(() => exportTools("openai", ["ibkr health" as ToolName])).toThrow(
      expect.objectContaining({ code: "INTERNAL_ERROR" }),
    );
  });
});

// Literal pins: one tool per format, exactly as an application would paste it into its request.
const CURRENCY_RATE_DESCRIPTION =
  "Returns the broker's exchange rate between two currencies: how many units of quote one unit of base is worth (base USD and quote EUR gives about 0.9). It is an indicative conversion rate for valuing balances, not a tradable price; for a live FX quote use ibkr_market_snapshot on the currency pair's contract. base and quote are ISO 4217 codes, and equal codes give a rate of 1.";
const AUDIT_TAIL_DESCRIPTION =
  "Returns the newest events of the gateway's audit log (limit 1-500, default 100), oldest of them first, after verifying the hash chain of the whole log; if verification fails it returns AUDIT_CHAIN_INVALID and no events, and the user should stop trading and tell the operator. Each event says which tool ran, the decision and outcome, the error code if any and a keyed hash of the account, never the raw account id, the arguments or broker data. Use it to review what agents did recently; use ibkr_audit_export for a redacted export over a time range.";
const AUDIT_TAIL_INPUT = {
  additionalProperties: false,
  properties: {
    limit: {
      description: "Maximum number of items to return.",
      maximum: 500,
      minimum: 1,
      type: "integer",
    },
  },
  required: [],
  type: "object",
};

describe("pins", () => {
  it("openai: ibkr_currency_rate as a Responses API function tool", () => {
    expect(exportTools("openai", ["ibkr_currency_rate"])).toEqual([
      {
        type: "function",
        name: "ibkr_currency_rate",
        description: CURRENCY_RATE_DESCRIPTION,
        parameters: {
          additionalProperties: false,
          properties: {
            base: {
              description: "ISO 4217 currency code, upper case.",
              pattern: "^[A-Z]{3}$",
              type: "string",
            },
            quote: {
              description: "ISO 4217 currency code, upper case.",
              pattern: "^[A-Z]{3}$",
              type: "string",
            },
          },
          required: ["base", "quote"],
          type: "object",
        },
        strict: true,
      },
    ]);
  });

  it("openai-chat: ibkr_audit_tail as a Chat Completions function tool (not strict: limit is optional)", () => {
    expect(exportTools("openai-chat", ["ibkr_audit_tail"])).toEqual([
      {
        type: "function",
        function: {
          name: "ibkr_audit_tail",
          description: AUDIT_TAIL_DESCRIPTION,
          parameters: AUDIT_TAIL_INPUT,
          strict: false,
        },
      },
    ]);
  });

  it("anthropic: ibkr_audit_tail as a Messages API client tool", () => {
    expect(exportTools("anthropic", ["ibkr_audit_tail"])).toEqual([
      { name: "ibkr_audit_tail", description: AUDIT_TAIL_DESCRIPTION, input_schema: AUDIT_TAIL_INPUT },
    ]);
  });

  it("mcp: ibkr_health as tools/list returns it", () => {
    const [tool] = exportTools("mcp", ["ibkr_health"]);
    const { outputSchema, ...rest } = tool as NonNullable<typeof tool>;
    expect(rest).toEqual({
      name: "ibkr_health",
      title: "Gateway health",
      description:
        "Reports whether the gateway itself works: its version, uptime, the broker backend it is configured for, the permission tiers granted to the caller and whether the audit log is writable. It never contacts the broker, so it answers even when the Client Portal Gateway is down. To check the broker connection and the login use ibkr_backend_status; for what the user must do to log in use ibkr_session_requirements.",
      inputSchema: { additionalProperties: false, properties: {}, required: [], type: "object" },
      annotations: {
        title: "Gateway health",
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
        readOnlyHint: true,
      },
    });
    expect(Object.keys(outputSchema ?? {})).toEqual(["type", "anyOf"]);
    const branches = (outputSchema?.anyOf ?? []) as { properties: { error: { required: string[] } } }[];
    const error = branches[1];
    expect(error?.properties.error.required).toEqual([
      "code",
      "message",
      "retryable",
      "user_action",
      "audit_event_id",
    ]);
  });
});
