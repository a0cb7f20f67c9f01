// Every key of the configuration at its default, as TypeBox's Value.Default derives it from the schema. It is
// written out because loading TypeBox's value module costs about 120 ms, which every CLI command without a
// config file (the safe default) would otherwise pay; a test keeps it equal to Value.Default(ConfigSchema, {}).
// To refresh it after a schema change: node -e 'import("./src/config/schema.ts").then(async (m) => {
//   const { Value } = await import("typebox/value"); console.log(JSON.stringify(Value.Default(m.ConfigSchema, {}), null, 2)) })'
import type { ConfigValues } from "./schema.ts";

export const DEFAULT_VALUES: ConfigValues = {
  broker: {
    backend: "simulator",
    base_url: "https://localhost:5000/v1/api",
    allow_insecure_tls_for_localhost: false,
    timeouts: {
      connect_ms: 5000,
      headers_ms: 15000,
      body_ms: 15000,
    },
    max_response_bytes: 8388608,
    pacing_profile: "cpapi",
    keep_alive_interval_seconds: 60,
    allow_session_init: false,
    allow_session_compete: false,
    simulator: {
      scenario: "healthy",
      seed: 1,
    },
  },
  auth: {
    enabled_scopes: [
      "ibkr:accounts:read",
      "ibkr:audit:export",
      "ibkr:audit:read",
      "ibkr:calendar:read",
      "ibkr:currency:read",
      "ibkr:fundamentals:read",
      "ibkr:health:read",
      "ibkr:marketdata:depth:read",
      "ibkr:marketdata:read",
      "ibkr:news:read",
      "ibkr:options:read",
      "ibkr:orders:read",
      "ibkr:portfolio:read",
      "ibkr:positions:read",
      "ibkr:risk:read",
      "ibkr:scanner:read",
      "ibkr:transfers:read",
    ],
  },
  safety: {
    paper_trading_enabled: false,
    live_trading_enabled: false,
    remote_mcp_enabled: false,
    sidecar_enabled: false,
    write_tools_enabled: false,
    direct_broker_oauth_enabled: false,
  },
  order_preview: {
    enabled: false,
    ttl_seconds: 300,
    account_modes: ["paper"],
    allowed_asset_classes: ["stock", "etf"],
    allow_fractional: false,
    currency: "USD",
  },
  paper_trading: {
    enabled: false,
    allowed_accounts: [],
    writer: "broker",
  },
  approvals: {
    require_human: false,
    default_ttl_seconds: 300,
    min_ttl_seconds: 30,
    max_ttl_seconds: 3600,
  },
  operator: {},
  live_trading: {
    enabled: false,
    allowed_accounts: [],
    paper_to_live_checklist_acknowledged: false,
    writer: "broker",
    policies: [],
  },
  market_data: {
    max_snapshot_age_seconds: 30,
    allow_delayed: false,
    scanner_allowlist: ["HOT_BY_VOLUME", "MOST_ACTIVE", "TOP_PERC_GAIN", "TOP_PERC_LOSE"],
  },
  audit: {
    key_id: "k1",
    previous_secrets: [],
    retention_days: 2555,
  },
  remote_mcp: {
    enabled: false,
    bind: "127.0.0.1:8080",
    audiences: [],
    allowed_scopes: [],
    allowed_algorithms: ["RS256", "ES256"],
    clock_skew_seconds: 60,
    jwks_cache_seconds: 600,
    trusted_proxies: [],
    rate_limit: {
      max_requests: 120,
      window_seconds: 60,
      pre_auth_max_requests: 30,
    },
    max_connections: 64,
    max_header_bytes: 16384,
    max_body_bytes: 1048576,
  },
  sidecar: {
    enabled: false,
    accepted_tiers: ["read"],
    heartbeat_interval_seconds: 15,
    heartbeat_timeout_seconds: 45,
  },
  logging: {
    level: "info",
    format: "human",
  },
  reconciler_interval_seconds: 5,
} as ConfigValues;
