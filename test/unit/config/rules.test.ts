// Every cross-key rule, each shown failing on its own (one problem, at the key to change, with its code) and
// a complete configuration with every feature on that passes them all.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashOperatorPin, validateConfigText } from "../../../src/config/index.ts";
import { MINIMAL, SECRET, tempDir, testEnv } from "./helpers.ts";

const PIN_HASH = hashOperatorPin("246810", { ln: 14 });

const POLICY = `
    - id: small
      max_order_quantity: 10
      max_order_notional: 1000
      allowed_symbols: [AAPL]`;

/** Live trading switched on completely; cases remove or break one part. */
const LIVE = `
order_preview:
  enabled: true
  account_modes: [paper, live]
live_trading:
  enabled: true
  allowed_accounts: [U1234567]
  risk_policy_id: small
  paper_to_live_checklist_acknowledged: true
  policies:${POLICY}`;

const REMOTE = `
remote_mcp:
  enabled: true
  resource: https://gateway.example.com/mcp
  issuer: https://auth.example.com/
  jwks_url: https://auth.example.com/.well-known/jwks.json
  allowed_scopes: [ibkr:health:read]`;

function check(text: string, env = testEnv()) {
  return validateConfigText(`${MINIMAL}${text}\n`, env).map((p) => [p.path, p.code]);
}

describe("feature flags and their safety flags", () => {
  it.each([
    [
      "paper on without its safety flag",
      "order_preview: {enabled: true}\npaper_trading: {enabled: true, allowed_accounts: [DU1234567]}",
      [["safety.paper_trading_enabled", "CONFIG_INVALID"]],
    ],
    [
      "paper safety flag without paper",
      "safety: {paper_trading_enabled: true}",
      [["paper_trading.enabled", "CONFIG_INVALID"]],
    ],
    [
      "live on without its safety flag",
      LIVE,
      [["safety.live_trading_enabled", "CONFIG_LIVE_TRADING_FORBIDDEN"]],
    ],
    [
      "live safety flag without live",
      "safety: {live_trading_enabled: true}",
      [["live_trading.enabled", "CONFIG_LIVE_TRADING_FORBIDDEN"]],
    ],
    [
      "remote on without its safety flag",
      REMOTE,
      [["safety.remote_mcp_enabled", "CONFIG_REMOTE_MCP_FORBIDDEN"]],
    ],
    [
      "remote safety flag without remote",
      "safety: {remote_mcp_enabled: true}",
      [["remote_mcp.enabled", "CONFIG_REMOTE_MCP_FORBIDDEN"]],
    ],
    [
      "sidecar on without its safety flag",
      `${REMOTE}\nsafety: {remote_mcp_enabled: true}\nsidecar: {enabled: true, remote_url: wss://gateway.example.com/relay}`,
      [["safety.sidecar_enabled", "CONFIG_SIDECAR_FORBIDDEN"]],
    ],
    [
      "sidecar safety flag without sidecar",
      "safety: {sidecar_enabled: true}",
      [["sidecar.enabled", "CONFIG_SIDECAR_FORBIDDEN"]],
    ],
  ])("%s", (_name, text, expected) => {
    expect(check(text)).toEqual(expected);
  });

  it("explains the pairing in the problem", () => {
    expect(validateConfigText(`${MINIMAL}safety: {live_trading_enabled: true}\n`, testEnv())).toEqual([
      {
        path: "live_trading.enabled",
        problem:
          "must be true when safety.live_trading_enabled is true: the feature flag and its safety flag must agree",
        code: "CONFIG_LIVE_TRADING_FORBIDDEN",
      },
    ]);
  });

  it("always refuses generic write tools and direct broker OAuth", () => {
    expect(check("safety: {write_tools_enabled: true, direct_broker_oauth_enabled: true}")).toEqual([
      ["safety.direct_broker_oauth_enabled", "CONFIG_INVALID"],
      ["safety.write_tools_enabled", "CONFIG_WRITE_TOOLS_FORBIDDEN"],
    ]);
  });
});

describe("orders", () => {
  const paper = "safety: {paper_trading_enabled: true}\n";
  it.each([
    [
      "paper without an account",
      `${paper}order_preview: {enabled: true}\npaper_trading: {enabled: true}`,
      [["paper_trading.allowed_accounts", "CONFIG_INVALID"]],
    ],
    [
      "paper without previews",
      `${paper}paper_trading: {enabled: true, allowed_accounts: [DU1234567]}`,
      [["order_preview.enabled", "CONFIG_INVALID"]],
    ],
    [
      "live with nothing but its flags",
      "safety: {live_trading_enabled: true}\nlive_trading: {enabled: true}",
      [
        ["live_trading.allowed_accounts", "CONFIG_LIVE_TRADING_FORBIDDEN"],
        ["live_trading.paper_to_live_checklist_acknowledged", "CONFIG_LIVE_TRADING_FORBIDDEN"],
        ["live_trading.risk_policy_id", "CONFIG_LIVE_TRADING_FORBIDDEN"],
        ["order_preview.account_modes", "CONFIG_LIVE_TRADING_FORBIDDEN"],
        ["order_preview.enabled", "CONFIG_INVALID"],
      ],
    ],
    [
      "a risk policy id that names no policy",
      `live_trading:\n  risk_policy_id: missing\n  policies:${POLICY}`,
      [["live_trading.risk_policy_id", "CONFIG_LIVE_TRADING_FORBIDDEN"]],
    ],
    ["live with both flags and every part", `safety: {live_trading_enabled: true}\n${LIVE}`, []],
    [
      "two policies with one id",
      `live_trading:\n  policies:${POLICY}${POLICY}`,
      [["live_trading.policies[1].id", "CONFIG_LIVE_TRADING_FORBIDDEN"]],
    ],
    [
      "an order-frequency limit without its window",
      `live_trading:\n  policies:${POLICY}\n      max_orders_per_window: 5`,
      [["live_trading.policies[0].window_seconds", "CONFIG_LIVE_TRADING_FORBIDDEN"]],
    ],
    [
      "a window without its order-frequency limit",
      `live_trading:\n  policies:${POLICY}\n      window_seconds: 300`,
      [["live_trading.policies[0].max_orders_per_window", "CONFIG_LIVE_TRADING_FORBIDDEN"]],
    ],
    [
      "an account on both allowlists",
      "paper_trading: {allowed_accounts: [DU1, U2]}\nlive_trading: {allowed_accounts: [U3, U2]}",
      [["live_trading.allowed_accounts[1]", "CONFIG_INVALID"]],
    ],
  ])("%s", (_name, text, expected) => {
    expect(check(text)).toEqual(expected);
  });

  it("needs at least 2555 days of audit retention for live trading", () => {
    const text = `safety: {live_trading_enabled: true}\n${LIVE}`;
    expect(
      validateConfigText(`audit: {secret_env: AUDIT_SECRET, retention_days: 2554}\n${text}`, testEnv()),
    ).toEqual([
      {
        path: "audit.retention_days",
        problem: "must be at least 2555 when live trading is enabled",
        code: "CONFIG_LIVE_TRADING_FORBIDDEN",
      },
    ]);
    expect(validateConfigText(`audit: {secret_env: AUDIT_SECRET, retention_days: 365}\n`, testEnv())).toEqual(
      [],
    );
  });
});

describe("broker", () => {
  it.each([
    [
      "an http base URL",
      "broker: {base_url: 'http://localhost:5000/v1/api'}",
      [["broker.base_url", "CONFIG_INVALID"]],
    ],
    [
      "a base URL with credentials",
      "broker: {base_url: 'https://user:pw@localhost:5000/v1/api'}",
      [["broker.base_url", "CONFIG_INVALID"]],
    ],
    [
      "a base URL with a query",
      "broker: {base_url: 'https://localhost:5000/v1/api?x=1'}",
      [["broker.base_url", "CONFIG_INVALID"]],
    ],
    [
      "the TLS bypass for a remote host",
      "broker: {base_url: 'https://gateway.example.com/v1/api', allow_insecure_tls_for_localhost: true}",
      [["broker.allow_insecure_tls_for_localhost", "CONFIG_TLS_BYPASS_NON_LOCALHOST"]],
    ],
    [
      "the TLS bypass for a wider loopback address",
      "broker: {base_url: 'https://127.0.0.2:5000/v1/api', allow_insecure_tls_for_localhost: true}",
      [["broker.allow_insecure_tls_for_localhost", "CONFIG_TLS_BYPASS_NON_LOCALHOST"]],
    ],
    [
      "the TLS bypass for [::1]",
      "broker: {base_url: 'https://[::1]:5000/v1/api', allow_insecure_tls_for_localhost: true}",
      [],
    ],
    ["the TLS bypass for localhost", "broker: {allow_insecure_tls_for_localhost: true}", []],
    [
      "session compete without session init",
      "broker: {allow_session_compete: true}",
      [["broker.allow_session_compete", "CONFIG_INVALID"]],
    ],
    [
      "session compete with session init",
      "broker: {allow_session_compete: true, allow_session_init: true}",
      [],
    ],
    [
      "the simulator's profile name for the real gateway",
      "broker: {backend: client_portal_gateway, profile: simulator}",
      [["broker.profile", "CONFIG_INVALID"]],
    ],
    [
      "the real gateway's profile name for the simulator",
      "broker: {backend: simulator, profile: client-portal}",
      [["broker.profile", "CONFIG_INVALID"]],
    ],
    ["an own profile name", "broker: {backend: client_portal_gateway, profile: paper-login}", []],
  ])("%s", (_name, text, expected) => {
    expect(check(text)).toEqual(expected);
  });

  it("needs the pinned CA file to exist (real gateway only)", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    const text = (name: string) => `${MINIMAL}broker: {backend: client_portal_gateway, ca_file: ${name}}\n`;
    expect(validateConfigText(text("ca.pem"), testEnv(), { file: join(dir, "config.yaml") })).toEqual([]);
    expect(
      validateConfigText(text("missing.pem"), testEnv(), { file: join(dir, "config.yaml") }).map(
        (p) => p.path,
      ),
    ).toEqual(["broker.ca_file"]);
  });
});

describe("approvals and the operator PIN", () => {
  it.each([
    [
      "a minimum above the maximum",
      "approvals: {min_ttl_seconds: 600, max_ttl_seconds: 300}",
      [["approvals.min_ttl_seconds", "CONFIG_INVALID"]],
    ],
    [
      "a default outside the bounds",
      "approvals: {min_ttl_seconds: 60, max_ttl_seconds: 600, default_ttl_seconds: 900}",
      [["approvals.default_ttl_seconds", "CONFIG_INVALID"]],
    ],
    [
      "human approval without a PIN",
      "approvals: {require_human: true}",
      [["operator.pin_hash", "CONFIG_INVALID"]],
    ],
    [
      "a PIN hash that is not one",
      "operator: {pin_hash: '$scrypt$ln=2,r=8,p=1$c2FsdA$a2V5'}",
      [["operator.pin_hash", "CONFIG_INVALID"]],
    ],
    [
      "human approval with a PIN",
      `approvals: {require_human: true}\noperator: {pin_hash: '${PIN_HASH}'}`,
      [],
    ],
  ])("%s", (_name, text, expected) => {
    expect(check(text)).toEqual(expected);
  });
});

describe("remote MCP and the sidecar", () => {
  const remoteOn = "safety: {remote_mcp_enabled: true}\n";
  it.each([
    [
      "remote without its required keys",
      `${remoteOn}remote_mcp: {enabled: true}`,
      [
        ["remote_mcp.allowed_scopes", "CONFIG_REMOTE_MCP_FORBIDDEN"],
        ["remote_mcp.issuer", "CONFIG_REMOTE_MCP_FORBIDDEN"],
        ["remote_mcp.jwks_url", "CONFIG_REMOTE_MCP_FORBIDDEN"],
        ["remote_mcp.resource", "CONFIG_REMOTE_MCP_FORBIDDEN"],
      ],
    ],
    [
      "keys fetched over http",
      "remote_mcp: {issuer: 'http://auth.example.com/', jwks_url: 'http://auth.example.com/jwks'}",
      [
        ["remote_mcp.issuer", "CONFIG_INVALID"],
        ["remote_mcp.jwks_url", "CONFIG_INVALID"],
      ],
    ],
    ["an http resource on localhost", "remote_mcp: {resource: 'http://127.0.0.1:8080/mcp'}", []],
    [
      "an http resource elsewhere",
      "remote_mcp: {resource: 'http://gateway.example.com/mcp'}",
      [["remote_mcp.resource", "CONFIG_INVALID"]],
    ],
    [
      "a trusted proxy that is no address",
      "remote_mcp: {trusted_proxies: [10.0.0.0/8, proxy.local, '::1', 10.0.0.1/33]}",
      [
        ["remote_mcp.trusted_proxies[1]", "CONFIG_INVALID"],
        ["remote_mcp.trusted_proxies[3]", "CONFIG_INVALID"],
      ],
    ],
    ["a port out of range", "remote_mcp: {bind: '0.0.0.0:70000'}", [["remote_mcp.bind", "CONFIG_INVALID"]]],
    [
      "a sidecar needs no remote MCP of its own",
      "safety: {sidecar_enabled: true}\nsidecar: {enabled: true, remote_url: 'wss://gateway.example.com/relay'}",
      [],
    ],
    [
      "the relay backend without remote MCP or the relay switched on",
      "broker: {backend: relay}",
      [
        ["remote_mcp.enabled", "CONFIG_SIDECAR_FORBIDDEN"],
        ["sidecar.enabled", "CONFIG_SIDECAR_FORBIDDEN"],
      ],
    ],
    [
      "a complete relay gateway",
      `${REMOTE}\nbroker: {backend: relay}\nsafety: {remote_mcp_enabled: true, sidecar_enabled: true}\nsidecar: {enabled: true}`,
      [],
    ],
    [
      "a relay gateway given a sidecar's remote URL",
      `${REMOTE}\nbroker: {backend: relay}\nsafety: {remote_mcp_enabled: true, sidecar_enabled: true}\nsidecar: {enabled: true, remote_url: 'https://other.example.com/relay'}`,
      [["sidecar.remote_url", "CONFIG_SIDECAR_FORBIDDEN"]],
    ],
    [
      "a sidecar accepting paper and live tiers it does not enable",
      "safety: {sidecar_enabled: true}\nsidecar: {enabled: true, remote_url: 'https://gateway.example.com/relay', accepted_tiers: [read, paper, live]}",
      [
        ["sidecar.accepted_tiers", "CONFIG_SIDECAR_FORBIDDEN"],
        ["sidecar.accepted_tiers", "CONFIG_SIDECAR_FORBIDDEN"],
      ],
    ],
    [
      "the sidecar without a remote URL",
      `${REMOTE}\nsafety: {remote_mcp_enabled: true, sidecar_enabled: true}\nsidecar: {enabled: true}`,
      [["sidecar.remote_url", "CONFIG_SIDECAR_FORBIDDEN"]],
    ],
    [
      "a sidecar relay over plain http",
      "sidecar: {remote_url: 'http://gateway.example.com/relay'}",
      [["sidecar.remote_url", "CONFIG_INVALID"]],
    ],
    [
      "a heartbeat interval not below the timeout",
      "sidecar: {heartbeat_interval_seconds: 45, heartbeat_timeout_seconds: 45}",
      [["sidecar.heartbeat_timeout_seconds", "CONFIG_INVALID"]],
    ],
  ])("%s", (_name, text, expected) => {
    expect(check(text)).toEqual(expected);
  });
});

describe("audit and secrets in the environment", () => {
  it("needs a config file to name its audit secret", () => {
    expect(validateConfigText("logging: {level: info}\n", testEnv())).toEqual([
      {
        path: "audit.secret_env",
        problem:
          "is required in a config file: name the environment variable that holds the audit secret (at least 32 bytes)",
        code: "CONFIG_INVALID",
      },
    ]);
  });

  it("reports a named secret that is missing or shorter than 32 bytes, by name only", () => {
    const missing = validateConfigText(MINIMAL, {});
    expect(missing).toEqual([
      {
        path: "audit.secret_env",
        problem: "names AUDIT_SECRET, which is not set in the environment",
        code: "CONFIG_SECRET_MISSING",
      },
    ]);
    const short = validateConfigText(MINIMAL, { AUDIT_SECRET: "x".repeat(31) });
    expect(short).toEqual([
      {
        path: "audit.secret_env",
        problem:
          "names AUDIT_SECRET, which holds fewer than 32 bytes; use at least 32 random bytes (e.g. openssl rand -hex 32)",
        code: "CONFIG_SECRET_MISSING",
      },
    ]);
    expect(JSON.stringify(short)).not.toContain("x".repeat(31));
    expect(validateConfigText(MINIMAL, { AUDIT_SECRET: "x".repeat(32) })).toEqual([]);
  });

  it("checks earlier key ids and the token-id secret", () => {
    const text = `audit:
  secret_env: AUDIT_SECRET
  key_id: k2
  previous_secrets:
    - {key_id: k1, secret_env: OLD_SECRET}
    - {key_id: k2, secret_env: AUDIT_SECRET}
safety: {remote_mcp_enabled: true}
${REMOTE}
  token_id_hmac_secret_env: TOKEN_SECRET
`;
    expect(validateConfigText(text, testEnv({ TOKEN_SECRET: "short" })).map((p) => [p.path, p.code])).toEqual(
      [
        ["audit.previous_secrets[0].secret_env", "CONFIG_SECRET_MISSING"],
        ["audit.previous_secrets[1].key_id", "CONFIG_INVALID"],
        ["audit.previous_secrets[1].secret_env", "CONFIG_INVALID"],
        ["remote_mcp.token_id_hmac_secret_env", "CONFIG_SECRET_MISSING"],
      ],
    );
  });

  it("skips the environment when asked (config show, config init)", () => {
    expect(validateConfigText(MINIMAL, {}, { checkEnvironment: false })).toEqual([]);
  });
});

describe("everything on at once", () => {
  it("passes when every feature is complete", () => {
    const text = `audit:
  secret_env: AUDIT_SECRET
  key_id: k2
  previous_secrets: [{key_id: k1, secret_env: OLD_SECRET}]
broker:
  backend: client_portal_gateway
  allow_insecure_tls_for_localhost: true
  allow_session_init: true
  allow_session_compete: true
auth:
  enabled_scopes: [ibkr:health:read, ibkr:orders:preview, ibkr:orders:paper:submit, ibkr:orders:live:submit]
safety:
  paper_trading_enabled: true
  live_trading_enabled: true
  remote_mcp_enabled: true
  sidecar_enabled: true
paper_trading:
  enabled: true
  allowed_accounts: [DU1234567]
approvals:
  require_human: true
operator:
  pin_hash: '${PIN_HASH}'
${LIVE}
${REMOTE}
  token_id_hmac_secret_env: TOKEN_SECRET
  trusted_proxies: [10.0.0.0/8, '::1']
sidecar:
  enabled: true
  remote_url: wss://gateway.example.com/relay
  accepted_tiers: [read, preview]
`;
    expect(validateConfigText(text, testEnv({ OLD_SECRET: SECRET, TOKEN_SECRET: SECRET }))).toEqual([]);
  });
});

describe("broker.pacing_profile", () => {
  it("refuses the bench profile for a real gateway", () => {
    const problems = validateConfigText(
      "audit:\n  secret_env: X_SECRET\nbroker:\n  backend: client_portal_gateway\n  pacing_profile: bench\n",
      { X_SECRET: "x".repeat(40) },
    );
    expect(problems.map((p) => [p.path, p.problem])).toContainEqual([
      "broker.pacing_profile",
      "bench is only for the built-in simulator (backend simulator)",
    ]);
  });
});
