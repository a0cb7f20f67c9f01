// Minimal, valid contract sources for generator and validator tests. Each test overrides one file with the
// fragment it is about, so a failure points at exactly one rule.
import type { ContractSources } from "../../codegen/contracts.ts";

export const MINIMAL: Record<string, string> = {
  "contracts/scopes.yaml": `
tiers:
  - { name: read, description: Observe. }
  - { name: paper, description: Paper writes. }
scopes:
  - { name: "ibkr:health:read", tier: read, description: Check health. }
`,
  "contracts/errors.yaml": `
exit_codes: { other: 1, input: 2 }
errors:
  - { code: INPUT_INVALID_ARGUMENT, group: input, message: Bad argument., user_action: Fix it., retryable: false, http: 400, mcp: tool_error }
  - { code: INTERNAL_ERROR, group: other, message: Unexpected., user_action: Report it., retryable: false, http: 500, mcp: tool_error }
refusal_reasons: []
not_tool_errors: [INTERNAL_ERROR]
retired: []
`,
  "contracts/tools/_defs.yaml": `
$defs:
  Decimal: { type: string, description: Exact decimal., pattern: "^-?[0-9]+(\\\\.[0-9]+)?$" }
`,
  "contracts/tools/health.yaml": `
tools:
  - name: ibkr_health
    title: Health
    description: Says whether the gateway runs.
    scope: "ibkr:health:read"
    tier: read
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
    operation: reads.health
    input: { type: object, properties: {}, additionalProperties: false }
    output:
      type: object
      properties: { status: { type: string, enum: [ok] } }
      required: [status]
      additionalProperties: false
    errors: [INPUT_INVALID_ARGUMENT]
    examples: [{ input: {} }]
    cli: { command: health }
`,
  "contracts/forbidden-tools.yaml": `
forbidden_tools:
  - { name: ibkr_order_submit, use_instead: ibkr_paper_order_submit }
`,
  "contracts/audit-events.yaml": `
fields:
  - { name: event_id, type: string, required: true, description: Unique id. }
event_types:
  - { name: tool_call, category: tool, description: One per tool call., fields: [event_id] }
enums: { decision: [allow, deny, refuse] }
redaction: { sensitive_key_fragments: [token] }
`,
  "contracts/questions.yaml": `
policies: { confirm: Answer yes., refuse: Answer no., require_approval: Stop for a person. }
questions:
  - { id: o163, gist: Price far from market., policy: require_approval, reason: A person decides. }
`,
  "contracts/cpapi/session.yaml": `
openapi: 3.1.0
info: { title: Session, version: "1" }
paths:
  /tickle:
    get:
      operationId: getTickle
      summary: Keep the session alive.
      x-ibkr-pacing: { rate: 1, per_seconds: 1 }
      x-ibkr-requires: []
      x-ibkr-stability: documented
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Tickle" }
components:
  schemas:
    Tickle:
      type: object
      properties: { session: { type: string } }
`,
};

export function sources(overrides: Record<string, string> = {}): ContractSources {
  return new Map(Object.entries({ ...MINIMAL, ...overrides }));
}
