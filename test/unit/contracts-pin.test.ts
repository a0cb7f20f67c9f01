// Pins of the contract surface with literal expectations: the scope table, the exit-code groups, and a sample
// of schemas. A deliberate change edits these literals in the same commit as the contract.
import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, EXIT_CODES, RETIRED_CODES } from "../../generated/errors.gen.ts";
import { SCOPE_NAMES, SCOPE_TIERS } from "../../generated/scopes.gen.ts";
import { TOOL_NAMES, TOOLS } from "../../generated/tools/registry.gen.ts";

describe("scope table", () => {
  it("has the 25 scopes of the seed plus ibkr:safety:engage and ibkr:audit:admin, each with its tier", () => {
    expect(SCOPE_TIERS).toEqual({
      "ibkr:accounts:read": "read",
      "ibkr:approvals:create": "paper",
      "ibkr:audit:admin": "admin",
      "ibkr:audit:export": "read",
      "ibkr:audit:read": "read",
      "ibkr:calendar:read": "read",
      "ibkr:currency:read": "read",
      "ibkr:fundamentals:read": "read",
      "ibkr:health:read": "read",
      "ibkr:marketdata:depth:read": "read",
      "ibkr:marketdata:read": "read",
      "ibkr:news:read": "read",
      "ibkr:options:read": "read",
      "ibkr:orders:live:cancel": "live",
      "ibkr:orders:live:modify": "live",
      "ibkr:orders:live:submit": "live",
      "ibkr:orders:paper:cancel": "paper",
      "ibkr:orders:paper:modify": "paper",
      "ibkr:orders:paper:submit": "paper",
      "ibkr:orders:preview": "preview",
      "ibkr:orders:read": "read",
      "ibkr:portfolio:read": "read",
      "ibkr:positions:read": "read",
      "ibkr:risk:read": "read",
      "ibkr:safety:engage": "admin",
      "ibkr:scanner:read": "read",
      "ibkr:transfers:read": "read",
    });
    expect(SCOPE_NAMES).toHaveLength(27);
  });
});

describe("tools", () => {
  it("has the 45 tools of the seed plus ibkr_kill_switch_engage", () => {
    expect(TOOL_NAMES).toHaveLength(46);
    for (const name of [
      "ibkr_health",
      "ibkr_kill_switch_status",
      "ibkr_orders_history",
      "ibkr_limits_status",
      "ibkr_audit_export",
      "ibkr_bracket_order_preview",
      "ibkr_live_bracket_order_submit",
      "ibkr_approvals_create",
      "ibkr_kill_switch_engage",
    ]) {
      expect(TOOL_NAMES).toContain(name);
    }
  });

  it("pins the account summary input schema", () => {
    expect(TOOLS.ibkr_account_summary.inputSchema).toEqual({
      additionalProperties: false,
      properties: {
        account_id: {
          description:
            "Broker account id exactly as the broker lists it (for example DU1234567 for a paper account). Call ibkr_accounts_list to see the accounts you may use.",
          pattern: "^[A-Za-z0-9]{1,32}$",
          type: "string",
        },
      },
      required: ["account_id"],
      type: "object",
    });
  });

  it("keeps the seed's CLI command names", () => {
    const commands = Object.fromEntries(TOOL_NAMES.map((name) => [name, TOOLS[name].cli.command.join(" ")]));
    expect(commands).toMatchObject({
      ibkr_accounts_list: "accounts list",
      ibkr_account_summary: "account summary",
      ibkr_market_snapshot: "market snapshot",
      ibkr_historical_bars: "market bars",
      ibkr_order_status: "orders status",
      ibkr_order_preview: "orders preview",
      ibkr_approvals_create: "approvals create",
      ibkr_paper_order_submit: "orders submit",
      ibkr_paper_order_cancel: "orders cancel",
      ibkr_live_order_submit: "orders live-submit",
      ibkr_live_order_cancel: "orders live-cancel",
      ibkr_kill_switch_engage: "kill-switch engage",
    });
    expect(TOOLS.ibkr_order_preview.cli.guard).toBe("enable-preview");
    expect(TOOLS.ibkr_paper_order_submit.cli.guard).toBe("enable-paper");
  });

  it("marks money and quantities as decimal strings", () => {
    const properties = TOOLS.ibkr_order_preview.inputSchema.properties;
    expect(properties.quantity.type).toBe("string");
    expect(properties.limit_price.type).toBe("string");
    expect(properties.limit_price.pattern).toBe("^(0|[1-9][0-9]*)(\\.[0-9]+)?$");
  });
});

describe("error catalogue", () => {
  it("keeps the seed's exit-code groups", () => {
    expect(EXIT_CODES).toEqual({
      other: 1,
      input: 2,
      broker_session: 3,
      auth: 4,
      broker_response: 5,
      output_safety: 6,
      config: 7,
    });
    const exit = (code: keyof typeof ERROR_CATALOGUE) => ERROR_CATALOGUE[code].exit;
    expect(exit("INPUT_INVALID_ARGUMENT")).toBe(2);
    expect(exit("MARKET_DATA_STALE")).toBe(2);
    expect(exit("AUDIT_CHAIN_INVALID")).toBe(2);
    expect(exit("BROKER_SESSION_REQUIRED")).toBe(3);
    expect(exit("BROKER_SESSION_COMPETING")).toBe(3);
    expect(exit("BROKER_BACKEND_UNAVAILABLE")).toBe(3);
    expect(exit("AUTH_MISSING_SCOPE")).toBe(4);
    expect(exit("AUTH_TOKEN_EXPIRED")).toBe(4);
    expect(exit("BROKER_RATE_LIMITED")).toBe(5);
    expect(exit("BROKER_QUESTION_UNAPPROVED")).toBe(5);
    expect(exit("OUTPUT_UNSAFE")).toBe(6);
    expect(exit("CONFIG_INVALID")).toBe(7);
    expect(exit("CONFIG_LIVE_TRADING_FORBIDDEN")).toBe(7);
    expect(exit("LIVE_LIMIT_REFUSED")).toBe(1);
    expect(exit("KILL_SWITCH_ENGAGED")).toBe(1);
  });

  it("gives every code a user action", () => {
    const missing = Object.entries(ERROR_CATALOGUE).filter(
      ([, entry]) => entry.userAction.trim().length < 10,
    );
    expect(missing).toEqual([]);
  });

  it("never reuses a retired code", () => {
    expect(RETIRED_CODES.map((entry) => entry.code)).toEqual([
      "AUDIT_READ_FORBIDDEN",
      "AUTH_LOCAL_ONLY_MVP",
      "AUTH_SCOPE_NOT_ALLOWED_IN_MVP",
      "INPUT_AMBIGUOUS_ACCOUNT",
      "LIVE_KILL_SWITCH_CLOSED",
      "PAPER_IDEMPOTENCY_CONFLICT",
    ]);
    for (const entry of RETIRED_CODES) expect(Object.hasOwn(ERROR_CATALOGUE, entry.code)).toBe(false);
  });
});
