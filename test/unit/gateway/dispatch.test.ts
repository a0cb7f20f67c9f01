// The dispatcher's fixed order: name check, validation, scope gate, operation, output check, secret scan,
// exactly one audit record per call. Operations here are small stand-ins; the real workflows are tested
// end to end elsewhere.
import { describe, expect, it } from "vitest";
import type { ScopeName } from "../../../generated/scopes.gen.ts";
import { OPERATION_NAMES, type OperationName } from "../../../generated/tools/registry.gen.ts";
import { createManualClock } from "../../../src/core/clock.ts";
import { GatewayError } from "../../../src/core/gateway-error.ts";
import {
  type CallContext,
  createDispatcher,
  type OperationHandler,
  type OperationHandlers,
  type ToolCallRecord,
} from "../../../src/gateway/dispatch.ts";

const HEALTH_RESULT = {
  status: "ok",
  version: "0.1.0",
  uptime_seconds: 3,
  audit_writable: true,
  enabled_tiers: ["read"],
  warnings: [],
  checked_at: "2026-11-24T14:30:00Z",
  source: { backend: "simulator", simulated: true },
};

function setup(
  overrides: Partial<Record<OperationName, OperationHandler>> = {},
  options: { auditFails?: boolean } = {},
) {
  const records: ToolCallRecord[] = [];
  const calls: string[] = [];
  const operations = Object.fromEntries(
    OPERATION_NAMES.map((name) => [
      name,
      overrides[name] ??
        (async () => {
          calls.push(name);
          throw new GatewayError("INTERNAL_ERROR", { message: `${name} is not wired in this test` });
        }),
    ]),
  ) as OperationHandlers;
  const dispatcher = createDispatcher({
    operations,
    clock: createManualClock(),
    scanSecrets: (value) => (JSON.stringify(value).includes("eyJhbGciOi") ? ["$"] : []),
    auditor: {
      recordToolCall: async (record) => {
        if (options.auditFails) throw new Error("disk full");
        records.push(record);
        return `evt-${records.length}`;
      },
    },
  });
  return { dispatcher, records, calls };
}

function context(scopes: ScopeName[]): CallContext {
  return { frontDoor: "sdk", principal: "tester", scopes: new Set(scopes), requestId: "req-1" };
}

describe("dispatch", () => {
  it("refuses invalid arguments before anything runs, naming the field, and audits the refusal", async () => {
    const { dispatcher, records, calls } = setup();
    const outcome = await dispatcher.dispatch(
      "ibkr_account_summary",
      { account_id: "DU1234567; DROP" },
      context(["ibkr:portfolio:read"]),
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe("INPUT_INVALID_ARGUMENT");
    expect(outcome.error.message).toMatch(/^account_id: /);
    expect(outcome.error.auditEventId).toBe("evt-1");
    expect(calls).toEqual([]);
    expect(records.map((r) => [r.tool, r.decision, r.resultStatus])).toEqual([
      ["ibkr_account_summary", "refuse", "refused"],
    ]);
  });

  it("names unknown arguments", async () => {
    const { dispatcher } = setup();
    const outcome = await dispatcher.dispatch(
      "ibkr_accounts_list",
      { account: "x" },
      context(["ibkr:accounts:read"]),
    );
    expect(!outcome.ok && outcome.error.message).toBe("account: is not an argument of this tool");
  });

  it("denies a missing scope before the operation and audits the denial", async () => {
    const { dispatcher, records, calls } = setup();
    const outcome = await dispatcher.dispatch("ibkr_accounts_list", {}, context(["ibkr:health:read"]));
    expect(!outcome.ok && outcome.error.code).toBe("AUTH_MISSING_SCOPE");
    expect(!outcome.ok && outcome.error.details).toEqual({ required_scope: "ibkr:accounts:read" });
    expect(calls).toEqual([]);
    expect(records[0]?.decision).toBe("deny");
    expect(records[0]?.resultStatus).toBe("denied_scope");
  });

  it("refuses the seed's generic write tools by name, audited", async () => {
    const { dispatcher, records } = setup();
    const outcome = await dispatcher.dispatch("ibkr_order_submit", {}, context(["ibkr:orders:paper:submit"]));
    expect(!outcome.ok && outcome.error.code).toBe("READONLY_WRITE_FORBIDDEN");
    expect(!outcome.ok && outcome.error.message).toContain(
      "ibkr_paper_order_submit or ibkr_live_order_submit",
    );
    expect(records).toHaveLength(1);
  });

  it("reports other unknown names as unknown tools without an audit record", async () => {
    const { dispatcher, records } = setup();
    const outcome = await dispatcher.dispatch("ibkr_nope", {}, context([]));
    expect(!outcome.ok && outcome.error.code).toBe("INPUT_UNKNOWN_TOOL");
    expect(records).toEqual([]);
  });

  it("returns a valid result with its audit event id", async () => {
    const { dispatcher, records } = setup({ "reads.health": async () => HEALTH_RESULT });
    const outcome = await dispatcher.dispatch("ibkr_health", {}, context(["ibkr:health:read"]));
    if (!outcome.ok) throw outcome.error;
    expect(outcome.auditEventId).toBe("evt-1");
    expect(records[0]?.resultStatus).toBe("completed");
  });

  it("withholds a result that breaks the output contract", async () => {
    const { dispatcher } = setup({ "reads.health": async () => ({ ...HEALTH_RESULT, extra: true }) });
    const outcome = await dispatcher.dispatch("ibkr_health", {}, context(["ibkr:health:read"]));
    expect(!outcome.ok && outcome.error.code).toBe("OUTPUT_UNSAFE");
  });

  it("withholds a result carrying secret-looking material", async () => {
    const { dispatcher } = setup({
      "reads.health": async () => ({ ...HEALTH_RESULT, version: "eyJhbGciOiJIUzI1NiJ9" }),
    });
    const outcome = await dispatcher.dispatch("ibkr_health", {}, context(["ibkr:health:read"]));
    expect(!outcome.ok && outcome.error.code).toBe("OUTPUT_UNSAFE");
  });

  it("fails the call when the audit event cannot be written", async () => {
    const { dispatcher } = setup({ "reads.health": async () => HEALTH_RESULT }, { auditFails: true });
    const outcome = await dispatcher.dispatch("ibkr_health", {}, context(["ibkr:health:read"]));
    expect(!outcome.ok && outcome.error.code).toBe("AUDIT_WRITE_FAILED");
  });

  it("lists only the tools a scope set allows", () => {
    const { dispatcher } = setup();
    expect(dispatcher.toolsFor(new Set<ScopeName>(["ibkr:accounts:read"]))).toEqual([
      "ibkr_account_metadata",
      "ibkr_accounts_list",
    ]);
  });
});
