// The commented starter file `ibkr-agent config init` writes. It turns nothing on: it spells out the safe
// defaults so a new user sees which keys exist and what each switch guards, and shows the riskier blocks
// (live trading, remote MCP) as comments to be read before they are enabled.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { READ_SCOPES } from "./constants.ts";

/** The environment variable the starter names for the audit secret. */
export const STARTER_AUDIT_SECRET_ENV = "IBKR_AGENT_AUDIT_SECRET";

/** docs/config.schema.json of this installation (sources or the built package), when it can be found. */
export function installedSchemaPath(): string | undefined {
  for (const candidate of ["../../docs/config.schema.json", "../../../docs/config.schema.json"]) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

export function starterConfig(options: { schemaRef: string }): string {
  const scopes = READ_SCOPES.map((scope) => `    - ${scope}`).join("\n");
  return `# yaml-language-server: $schema=${options.schemaRef}
#
# Configuration of ibkr-agent. Keys left out take their defaults (docs/config.md lists them all;
# \`ibkr-agent config show\` prints the effective values). Check this file with \`ibkr-agent config validate\`.
#
# Secrets never go in this file. A key ending in _env names the environment variable that holds the secret.

broker:
  # simulator: the built-in simulated gateway, no IBKR account needed (simulated data is labelled as such).
  # client_portal_gateway: the Client Portal Gateway you run and log in to yourself in a browser.
  backend: simulator
  # State is kept per profile ($IBKR_AGENT_HOME/profiles/<profile>/); the default follows the backend
  # (simulator or client-portal), so simulated and real orders never share a database.
  # profile: client-portal
  # Where the Client Portal Gateway listens (backend client_portal_gateway).
  base_url: https://localhost:5000/v1/api
  # The Client Portal Gateway has a self-signed certificate. Pin it (preferred) ...
  # ca_file: ./client-portal-gateway.pem
  # ... or skip the check, accepted only for localhost, 127.0.0.1 and [::1].
  allow_insecure_tls_for_localhost: false
  # Let the gateway start the brokerage session after you logged in (it never logs in for you), and let
  # the operator take the session over from TWS or the mobile app.
  allow_session_init: false
  allow_session_compete: false
  keep_alive_interval_seconds: 60
  simulator:
    scenario: healthy
    seed: 1

auth:
  # What local callers (CLI, SDK, MCP over stdio) may do. These are the read scopes; add
  # ibkr:orders:preview, the paper scopes or others deliberately.
  enabled_scopes:
${scopes}

# Independent switches: a feature runs only when its own enabled flag and the matching flag here are both
# true. Generic write tools and direct broker OAuth do not exist; setting those flags is always refused.
safety:
  paper_trading_enabled: false
  live_trading_enabled: false
  remote_mcp_enabled: false
  sidecar_enabled: false

# Previews are the first step of every order; nothing reaches the broker from a preview.
order_preview:
  enabled: false
  ttl_seconds: 300
  account_modes: [paper] # add live for live trading
  allowed_asset_classes: [stock, etf]

# Paper orders go only to accounts listed here that the broker also reports as paper accounts.
paper_trading:
  enabled: false
  allowed_accounts: [] # for example [DU1234567]

approvals:
  # true: only a person at a terminal with the operator PIN can approve (set it: ibkr-agent config set-pin).
  require_human: false
  default_ttl_seconds: 300

market_data:
  max_snapshot_age_seconds: 30
  allow_delayed: false
  scanner_allowlist: [HOT_BY_VOLUME, MOST_ACTIVE, TOP_PERC_GAIN, TOP_PERC_LOSE]

audit:
  # The environment variable holding the audit secret, at least 32 random bytes, for example:
  #   export ${STARTER_AUDIT_SECRET_ENV}="$(openssl rand -hex 32)"
  # Keep a copy: the audit log cannot be verified without it.
  secret_env: ${STARTER_AUDIT_SECRET_ENV}
  key_id: k1
  retention_days: 2555

# Live trading. Read docs/config.md and the operator runbook before enabling it; it also needs
# safety.live_trading_enabled, order_preview.enabled with account_modes [paper, live] and a policy.
# live_trading:
#   enabled: true
#   allowed_accounts: [U1234567]
#   risk_policy_id: small-orders
#   paper_to_live_checklist_acknowledged: true
#   writer: broker # or local_candidate (rehearse: every gate, nothing sent) or refusing
#   policies:
#     - id: small-orders
#       currency: USD
#       max_order_quantity: 10
#       max_order_notional: 1000
#       max_orders_per_window: 5
#       window_seconds: 300
#       max_orders_per_session: 20
#       max_session_notional: 5000
#       price_collar_bps: 500
#       max_quote_age_seconds: 30
#       allowed_symbols: [AAPL]
#       allowed_asset_classes: [stock]

# MCP over HTTP for remote agents, as an OAuth resource server. Also needs safety.remote_mcp_enabled.
# remote_mcp:
#   enabled: true
#   bind: 127.0.0.1:8080
#   resource: https://gateway.example.com/mcp
#   issuer: https://auth.example.com/
#   jwks_url: https://auth.example.com/.well-known/jwks.json
#   allowed_scopes: [ibkr:health:read, ibkr:accounts:read, ibkr:portfolio:read]
#   trusted_proxies: []

logging:
  level: info
  format: human
`;
}
