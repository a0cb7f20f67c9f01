// Table-driven: each case changes one contract fragment and names the problem the generator must report.
import { describe, expect, it } from "vitest";
import { loadContracts } from "../../codegen/contracts.ts";
import { validateContracts } from "../../codegen/validate.ts";
import { MINIMAL, sources } from "../support/contract-fixtures.ts";

const HEALTH = "contracts/tools/health.yaml";
const health = MINIMAL[HEALTH] as string;

function problems(overrides: Record<string, string>): string[] {
  return validateContracts(loadContracts(sources(overrides))).errors.map((error) => error.message);
}

describe("contract validation", () => {
  it("accepts the minimal contracts", () => {
    expect(problems({})).toEqual([]);
  });

  const cases: { name: string; overrides: Record<string, string>; want: string }[] = [
    {
      name: "a tool whose scope is undeclared",
      overrides: { [HEALTH]: health.replace('scope: "ibkr:health:read"', 'scope: "ibkr:nope:read"') },
      want: 'contracts/tools/health.yaml: tools.ibkr_health.scope: "ibkr:nope:read" is not declared in contracts/scopes.yaml',
    },
    {
      name: "a tool error that is not in the catalogue",
      overrides: { [HEALTH]: health.replace("errors: [INPUT_INVALID_ARGUMENT]", "errors: [NOPE_CODE]") },
      want: 'contracts/tools/health.yaml: tools.ibkr_health.errors: "NOPE_CODE" is not declared in contracts/errors.yaml',
    },
    {
      name: "a tool whose tier differs from its scope's",
      overrides: { [HEALTH]: health.replace("tier: read", "tier: paper") },
      want: 'contracts/tools/health.yaml: tools.ibkr_health.tier: is "paper" but scope ibkr:health:read has tier "read"',
    },
    {
      name: "a tool name breaking the MCP naming rule",
      overrides: { [HEALTH]: health.replace("name: ibkr_health", "name: Health-Check") },
      want: "contracts/tools/health.yaml: tools.Health-Check: name must match /^ibkr_[a-z0-9_]+$/ and have at most 64 characters (MCP tool-name rule)",
    },
    {
      name: "a forbidden generic write tool",
      overrides: { [HEALTH]: health.replace("name: ibkr_health", "name: ibkr_order_submit") },
      want: "contracts/tools/health.yaml: tools.ibkr_order_submit: is a forbidden generic write tool (contracts/forbidden-tools.yaml)",
    },
    {
      name: "a duplicate tool",
      overrides: { "contracts/tools/more.yaml": health },
      want: "contracts/tools/health.yaml: tools.ibkr_health: is declared twice",
    },
    {
      name: "a refusal reason whose unquoted text held a comma",
      overrides: {
        "contracts/errors.yaml": (MINIMAL["contracts/errors.yaml"] as string).replace(
          "refusal_reasons: []",
          "refusal_reasons:\n  - { code: NOPE_REASON, parent: INTERNAL_ERROR, message: Refused., user_action: Add a limit, stop or trail. }",
        ),
      },
      want: "contracts/errors.yaml: refusal_reasons.NOPE_REASON: has unknown keys stop or trail. (quote text that holds a comma)",
    },
    {
      name: "an error without a user action",
      overrides: {
        "contracts/errors.yaml": (MINIMAL["contracts/errors.yaml"] as string).replace(
          "user_action: Report it., ",
          "",
        ),
      },
      want: "contracts/errors.yaml: errors.INTERNAL_ERROR.user_action: is missing: every error needs an action the user can take",
    },
    {
      name: "an error code used by no tool and not allowed by name",
      overrides: {
        "contracts/errors.yaml": (MINIMAL["contracts/errors.yaml"] as string).replace(
          "not_tool_errors: [INTERNAL_ERROR]",
          "not_tool_errors: []",
        ),
      },
      want: "contracts/errors.yaml: errors.INTERNAL_ERROR: is declared by no tool; declare it on a tool or list it in not_tool_errors",
    },
    {
      name: "an input without additionalProperties: false",
      overrides: {
        [HEALTH]: health.replace("properties: {}, additionalProperties: false", "properties: {}"),
      },
      want: "contracts/tools/health.yaml: tools.ibkr_health.input: must set additionalProperties: false",
    },
    {
      name: "an input property without a description",
      overrides: {
        [HEALTH]: health.replace(
          "properties: {}, additionalProperties",
          "properties: { limit: { type: integer } }, additionalProperties",
        ),
      },
      want: "contracts/tools/health.yaml: tools.ibkr_health.input/properties/limit: needs a description",
    },
    {
      name: "money as a number",
      overrides: {
        [HEALTH]: health.replace(
          "properties: {}, additionalProperties",
          "properties: { limit_price: { type: number, description: Price. } }, additionalProperties",
        ),
      },
      want: "contracts/tools/health.yaml: tools.ibkr_health.input/properties/limit_price: is money or a quantity: use a decimal string ($defs/Decimal)",
    },
    {
      name: "a type union",
      overrides: {
        [HEALTH]: health.replace(
          "status: { type: string, enum: [ok] }",
          "status: { type: [string, integer] }",
        ),
      },
      want: "contracts/tools/health.yaml: tools.ibkr_health.output/properties/status: uses a type union; declare one type",
    },
    {
      name: "a keyword that draft-07 and 2020-12 read differently",
      overrides: {
        [HEALTH]: health.replace(
          "status: { type: string, enum: [ok] }",
          "status: { type: array, prefixItems: [{ type: string }] }",
        ),
      },
      want: 'contracts/tools/health.yaml: tools.ibkr_health.output/properties/status: uses "prefixItems", which draft-07 and 2020-12 read differently',
    },
    {
      name: "a reference to an undefined $def",
      overrides: {
        [HEALTH]: health.replace("status: { type: string, enum: [ok] }", 'status: { $ref: "#/$defs/Nope" }'),
      },
      want: 'contracts/tools/health.yaml: tools.ibkr_health.output: $ref "#/$defs/Nope" names no definition in contracts/tools/_defs.yaml',
    },
    {
      name: "an example that does not validate",
      overrides: {
        [HEALTH]: health.replace("examples: [{ input: {} }]", "examples: [{ input: { extra: 1 } }]"),
      },
      want: "contracts/tools/health.yaml: tools.ibkr_health.examples[0].input: does not validate",
    },
    {
      name: "a broker call that is not a CPAPI operation",
      overrides: {
        [HEALTH]: health.replace(
          "operation: reads.health",
          "operation: reads.health\n    broker: [getNothing]",
        ),
      },
      want: 'contracts/tools/health.yaml: tools.ibkr_health.broker: "getNothing" is not an operationId in contracts/cpapi',
    },
    {
      name: "a CPAPI operation without stability",
      overrides: {
        "contracts/cpapi/session.yaml": (MINIMAL["contracts/cpapi/session.yaml"] as string).replace(
          "      x-ibkr-stability: documented\n",
          "",
        ),
      },
      want: "contracts/cpapi/session.yaml: paths./tickle.get.x-ibkr-stability: must be one of documented, undocumented",
    },
    {
      name: "malformed pacing",
      overrides: {
        "contracts/cpapi/session.yaml": (MINIMAL["contracts/cpapi/session.yaml"] as string).replace(
          "{ rate: 1, per_seconds: 1 }",
          "{ rate: 0 }",
        ),
      },
      want: "contracts/cpapi/session.yaml: paths./tickle.get.x-ibkr-pacing: must be {rate, per_seconds} or {concurrent} with positive numbers",
    },
    {
      name: "an unknown question policy",
      overrides: {
        "contracts/questions.yaml": (MINIMAL["contracts/questions.yaml"] as string).replace(
          "policy: require_approval",
          "policy: maybe",
        ),
      },
      want: "contracts/questions.yaml: questions.o163.policy: must be one of confirm, refuse, require_approval",
    },
  ];

  for (const { name, overrides, want } of cases) {
    it(`reports ${name}`, () => {
      const found = problems(overrides);
      expect(
        found.some((message) => message.startsWith(want)),
        `got:\n${found.join("\n")}`,
      ).toBe(true);
    });
  }
});
