// The schema's findings as a person reads them: unknown keys at any depth with their full path (and the
// key probably meant), wrong types and ranges with the bound, broken YAML by line - and never the value.
import { describe, expect, it } from "vitest";
import { validateConfigText } from "../../../src/config/index.ts";
import { MINIMAL, testEnv } from "./helpers.ts";

function problems(text: string) {
  return validateConfigText(`${MINIMAL}${text}\n`, testEnv());
}

describe("unknown keys", () => {
  it("are refused with their path at every depth", () => {
    const text = `brokr: {}
broker:
  bakend: simulator
  timeouts:
    connect_ms: 1000
    read_ms: 1000
live_trading:
  policies:
    - id: one
      max_order_quantity: 1
      max_order_notional: 100
      allowed_symbols: [AAPL]
      max_qty: 5
`;
    expect(problems(text)).toEqual([
      { path: "broker.bakend", problem: "unknown key; did you mean `backend`?", code: "CONFIG_INVALID" },
      { path: "broker.timeouts.read_ms", problem: "unknown key", code: "CONFIG_INVALID" },
      { path: "brokr", problem: "unknown key; did you mean `broker`?", code: "CONFIG_INVALID" },
      { path: "live_trading.policies[0].max_qty", problem: "unknown key", code: "CONFIG_INVALID" },
    ]);
  });

  it("name the new key for a seed key", () => {
    const text = `remote_mcp:
  bind_address: 127.0.0.1:8080
  rate_limit_max_requests: 10
audit:
  secret_env: AUDIT_SECRET
  sqlite_path: audit.sqlite
safety:
  remote_public_mcp_enabled: false
gateway: {mode: local}
`;
    expect(validateConfigText(text, testEnv()).map((p) => [p.path, p.problem])).toEqual([
      ["audit.sqlite_path", "unknown key; this seed key is now `audit.database_path`"],
      [
        "gateway",
        "unknown key (a seed key that is gone: the mode follows from the command you run; the HTTP address is remote_mcp.bind)",
      ],
      ["remote_mcp.bind_address", "unknown key; this seed key is now `remote_mcp.bind`"],
      [
        "remote_mcp.rate_limit_max_requests",
        "unknown key; this seed key is now `remote_mcp.rate_limit.max_requests`",
      ],
      ["safety.remote_public_mcp_enabled", "unknown key; this seed key is now `safety.remote_mcp_enabled`"],
    ]);
  });

  it("quote an odd key safely in its path", () => {
    expect(problems('broker:\n  "base url": x').map((p) => p.path)).toEqual(['broker["base url"]']);
  });
});

describe("values", () => {
  it("are checked for type, range, form and membership, with the bound in the message", () => {
    const text = `broker:
  backend: fake
  keep_alive_interval_seconds: 5
  allow_session_init: "yes"
auth:
  enabled_scopes: [ibkr:accounts:read, ibkr:accounts:write]
order_preview:
  max_order_notional: -5
paper_trading:
  allowed_accounts: [DU-1]
live_trading:
  policies:
    - id: one
      max_order_quantity: 1
      max_order_notional: 100
      allowed_symbols: []
      price_collar_bps: 9000
`;
    expect(problems(text)).toEqual([
      {
        path: "auth.enabled_scopes[1]",
        problem:
          "is not a known scope (the scopes are listed in docs/reference/scopes.md and by `ibkr-agent tools list`)",
        code: "AUTH_SCOPE_UNKNOWN",
      },
      { path: "broker.allow_session_init", problem: "must be true or false", code: "CONFIG_INVALID" },
      {
        path: "broker.backend",
        problem:
          "must be one of: simulator, client_portal_gateway, relay (the seed's `fake` backend is now `simulator`)",
        code: "CONFIG_INVALID",
      },
      { path: "broker.keep_alive_interval_seconds", problem: "must be >= 10", code: "CONFIG_INVALID" },
      {
        path: "live_trading.policies[0].allowed_symbols",
        problem: "must list at least 1 item(s)",
        code: "CONFIG_INVALID",
      },
      {
        path: "live_trading.policies[0].price_collar_bps",
        problem: "must be <= 5000",
        code: "CONFIG_INVALID",
      },
      {
        path: "order_preview.max_order_notional",
        problem: 'must be a positive number or decimal string such as "1000.50"',
        code: "CONFIG_INVALID",
      },
      {
        path: "paper_trading.allowed_accounts[0]",
        problem: "does not have the expected form (pattern ^[A-Za-z0-9]{1,32}$)",
        code: "CONFIG_INVALID",
      },
    ]);
  });

  it("report a missing required key of a list item", () => {
    expect(problems("live_trading:\n  policies:\n    - {id: one, allowed_symbols: [AAPL]}")).toEqual([
      {
        path: "live_trading.policies[0]",
        problem:
          "is missing `live_trading.policies[0].max_order_quantity`, `live_trading.policies[0].max_order_notional`",
        code: "CONFIG_INVALID",
      },
    ]);
  });

  it("still run the cross-key rules on the rest of the file", () => {
    const found = problems("broker: {keep_alive_interval_seconds: 1}\nsafety: {live_trading_enabled: true}");
    expect(found.map((p) => p.path)).toEqual(["broker.keep_alive_interval_seconds", "live_trading.enabled"]);
  });

  it("refuse an environment variable name that is not one", () => {
    expect(validateConfigText("audit:\n  secret_env: my-secret\n", testEnv())).toEqual([
      {
        path: "audit.secret_env",
        problem:
          "must name an environment variable (capital letters, digits and _), never hold the secret itself",
        code: "CONFIG_INVALID",
      },
    ]);
  });

  it("never repeat a value from the file", () => {
    const marker = "Zq9-unique-value";
    const text = `broker: {backend: ${marker}, profile: ${marker}, base_url: ${marker}}\npaper_trading: {allowed_accounts: [${marker}]}\nlogging: {level: ${marker}}`;
    const found = problems(text);
    expect(found.length).toBe(5);
    expect(JSON.stringify(found)).not.toContain(marker);
  });
});

describe("the file as a whole", () => {
  it("reports YAML syntax errors by line and column, without quoting the text", () => {
    const found = validateConfigText("audit:\n  secret_env: AUDIT_SECRET\nbroker: [unclosed\n", testEnv());
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]?.path).toBe("");
    expect(found[0]?.problem).toMatch(/^is not valid YAML at line \d+, column \d+: /);
    expect(JSON.stringify(found)).not.toContain("unclosed");
  });

  it("refuses a key written twice", () => {
    expect(validateConfigText("audit:\n  secret_env: A\n  secret_env: B\n", testEnv())).toEqual([
      { path: "", problem: "is not valid YAML at line 3, column 3: duplicate key", code: "CONFIG_INVALID" },
    ]);
  });

  it("refuses a file that is not a mapping", () => {
    expect(validateConfigText("- broker\n", testEnv())).toEqual([
      {
        path: "",
        problem: "must be a mapping of sections such as broker:, auth:, audit:",
        code: "CONFIG_INVALID",
      },
    ]);
  });

  it("treats an empty file as all defaults, which still lacks the audit secret", () => {
    expect(validateConfigText("", testEnv()).map((p) => p.path)).toEqual(["audit.secret_env"]);
  });
});
