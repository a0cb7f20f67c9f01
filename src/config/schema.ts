// The configuration file's schema: every key, its type, bounds, default and a one-line description (the
// descriptions double as editor hover text in the published JSON Schema). Keys with a default are declared
// required here because validation runs after defaults are filled in; the published schema drops those
// `required` entries so that a short file stays valid in an editor (see json-schema.ts).
//
// Cross-key rules (a feature flag and its safety flag, live needs a policy, ...) live in rules.ts; checks
// that need the outside world (environment variables, files) live in environment.ts.
import { type Static, type TProperties, type TSchema, Type } from "typebox";
import { SCOPE_NAMES, TIERS } from "../../generated/scopes.gen.ts";

import {
  ACCOUNT_ID_PATTERN,
  APPROVAL_TTL_BOUNDS,
  ASSET_CLASSES,
  BACKENDS,
  type Backend,
  BIND_PATTERN,
  CURRENCY_PATTERN,
  DEFAULT_PROFILES,
  ENV_NAME_PATTERN,
  JWT_ALGORITHMS,
  KEY_ID_PATTERN,
  LIVE_MIN_RETENTION_DAYS,
  POLICY_ID_PATTERN,
  POSITIVE_DECIMAL_PATTERN,
  PROFILE_PATTERN,
  READ_SCOPES,
  SCANNER_CODE_PATTERN,
  SCENARIO_PATTERN,
  SYMBOL_PATTERN,
} from "./constants.ts";

export type { Backend };
export {
  APPROVAL_TTL_BOUNDS,
  ASSET_CLASSES,
  BACKENDS,
  DEFAULT_PROFILES,
  ENV_NAME_PATTERN,
  JWT_ALGORITHMS,
  LIVE_MIN_RETENTION_DAYS,
  PROFILE_PATTERN,
  READ_SCOPES,
};

const DEFAULT_SCANNERS = ["HOT_BY_VOLUME", "MOST_ACTIVE", "TOP_PERC_GAIN", "TOP_PERC_LOSE"];

function section<P extends TProperties>(description: string, properties: P) {
  return Type.Object(properties, { additionalProperties: false, default: {}, description });
}

function flag(description: string) {
  return Type.Boolean({ default: false, description });
}

function seconds(description: string, defaultValue: number, minimum: number, maximum: number) {
  return Type.Integer({ default: defaultValue, minimum, maximum, description });
}

function envName(description: string) {
  return Type.String({ pattern: ENV_NAME_PATTERN, description });
}

function url(description: string, defaultValue?: string) {
  const options = { format: "uri", maxLength: 2048, description };
  return Type.String(defaultValue === undefined ? options : { ...options, default: defaultValue });
}

function list<T extends TSchema>(items: T, description: string, defaultValue: unknown[] = []) {
  return Type.Array(items, { default: defaultValue, uniqueItems: true, maxItems: 500, description });
}

const decimal = (description: string) =>
  Type.Union(
    [Type.Number({ exclusiveMinimum: 0, maximum: 1e15 }), Type.String({ pattern: POSITIVE_DECIMAL_PATTERN })],
    {
      description: `${description} A positive number or decimal string such as "1000.50".`,
    },
  );

const accountId = Type.String({
  pattern: ACCOUNT_ID_PATTERN,
  description: "Broker account id, e.g. DU1234567.",
});
const scopeName = Type.Enum(SCOPE_NAMES, { description: "A scope from the scope catalogue." });
const assetClass = Type.Enum(ASSET_CLASSES, { description: "An asset class." });

const broker = section("Which broker the gateway talks to and how.", {
  backend: Type.Enum(BACKENDS, {
    default: "simulator",
    description:
      "simulator: the built-in simulated Client Portal Gateway (no IBKR account needed). client_portal_gateway: a real Client Portal Gateway you run and log in to yourself. relay: a remote gateway without a broker of its own, which routes each caller's tool calls to the sidecar they paired (docs/sidecar.md).",
  }),
  profile: Type.Optional(
    Type.String({
      pattern: PROFILE_PATTERN,
      description:
        "Name of the state profile ($IBKR_AGENT_HOME/profiles/<name>/). Default: simulator or client-portal, after the backend.",
    }),
  ),
  base_url: url(
    "URL of the Client Portal Gateway API (https, no credentials, query or fragment).",
    "https://localhost:5000/v1/api",
  ),
  allow_insecure_tls_for_localhost: flag(
    "Skip certificate checks for a gateway on this machine (host localhost, 127.0.0.1 or [::1] only).",
  ),
  ca_file: Type.Optional(
    Type.String({
      minLength: 1,
      description: "PEM certificate to trust for the gateway (relative to this file).",
    }),
  ),
  timeouts: section("Network timeouts towards the gateway, in milliseconds.", {
    connect_ms: Type.Integer({
      default: 5000,
      minimum: 100,
      maximum: 120000,
      description: "TCP and TLS connect.",
    }),
    headers_ms: Type.Integer({
      default: 15000,
      minimum: 100,
      maximum: 300000,
      description: "Wait for the response headers.",
    }),
    body_ms: Type.Integer({
      default: 15000,
      minimum: 100,
      maximum: 300000,
      description: "Longest silence while reading a body.",
    }),
  }),
  max_response_bytes: Type.Integer({
    default: 8 * 1024 * 1024,
    minimum: 65536,
    maximum: 256 * 1024 * 1024,
    description: "Largest broker answer accepted.",
  }),
  pacing_profile: Type.Enum(["cpapi", "bench"], {
    default: "cpapi",
    description:
      "cpapi: IBKR's rate limits (10 req/s and the per-endpoint limits). bench: limits lifted on the client and the built-in simulator, for benchmarks only; never against a real gateway.",
  }),
  keep_alive_interval_seconds: seconds(
    "How often the session is tickled to keep it alive (the broker drops idle sessions after a few minutes).",
    60,
    10,
    300,
  ),
  allow_session_init: flag(
    "Let the gateway start the brokerage session (ssodh/init). It never logs in for you.",
  ),
  allow_session_compete: flag(
    "Let the operator take the brokerage session over from TWS or the mobile app (`session renew --compete`). Needs allow_session_init.",
  ),
  coordination_path: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "SQLite file shared by every process using this gateway (pacing, leases). Default: coordination.sqlite in the profile directory.",
    }),
  ),
  simulator: section("The built-in simulator (backend simulator).", {
    scenario: Type.String({
      default: "healthy",
      pattern: SCENARIO_PATTERN,
      description: "Scenario to start in, e.g. healthy or competing-session.",
    }),
    seed: Type.Integer({
      default: 1,
      minimum: 0,
      maximum: 2147483647,
      description: "Seed of the simulated price path (same seed, same prices).",
    }),
  }),
});

const auth = section("Local permissions.", {
  enabled_scopes: list(
    scopeName,
    "Scopes granted to local callers (CLI, SDK, stdio MCP). Default: every read scope.",
    [...READ_SCOPES],
  ),
});

const safety = section(
  "Independent safety switches. Each must agree with the enabled flag of its section, so one mistyped value cannot turn a feature on.",
  {
    paper_trading_enabled: flag("Must equal paper_trading.enabled."),
    live_trading_enabled: flag("Must equal live_trading.enabled."),
    remote_mcp_enabled: flag("Must equal remote_mcp.enabled."),
    sidecar_enabled: flag("Must equal sidecar.enabled."),
    write_tools_enabled: flag("Generic write tools do not exist; true is always refused."),
    direct_broker_oauth_enabled: flag(
      "Direct OAuth to IBKR is not supported (the gateway uses the Client Portal Gateway); true is always refused.",
    ),
  },
);

const orderPreview = section(
  "Order previews: the first step of every order. Nothing is sent to the broker.",
  {
    enabled: flag("Allow previews."),
    ttl_seconds: seconds("How long a preview stays usable.", 300, 30, 3600),
    account_modes: Type.Array(Type.Enum(["paper", "live"]), {
      default: ["paper"],
      minItems: 1,
      uniqueItems: true,
      description:
        "Account modes (as the broker reports them) a preview may be made for; live is needed for live trading.",
    }),
    allowed_asset_classes: Type.Array(assetClass, {
      default: ["stock", "etf"],
      minItems: 1,
      uniqueItems: true,
      description: "Asset classes a preview may be made for.",
    }),
    allow_fractional: flag("Allow fractional quantities."),
    max_order_quantity: Type.Optional(decimal("Largest quantity of one previewed order.")),
    max_order_notional: Type.Optional(
      decimal("Largest value (quantity times price) of one previewed order."),
    ),
    currency: Type.String({
      default: "USD",
      pattern: CURRENCY_PATTERN,
      description: "Currency of max_order_notional.",
    }),
  },
);

const paperTrading = section("Orders on paper (simulated-money) accounts.", {
  enabled: flag("Allow paper orders. Needs safety.paper_trading_enabled and order_preview.enabled."),
  allowed_accounts: list(
    accountId,
    "Paper accounts orders may go to; the broker must also report each as paper.",
  ),
  writer: Type.Enum(["broker", "local_candidate"], {
    default: "broker",
    description:
      "broker: send paper orders to the configured backend. local_candidate: run every gate and record the order, but never call the broker (rehearsals).",
  }),
});

const TTL = APPROVAL_TTL_BOUNDS;
const approvals = section("Approvals: the second step of every order.", {
  require_human: flag(
    "Approvals only from a person at a terminal with the operator PIN; agents cannot approve. Needs operator.pin_hash.",
  ),
  default_ttl_seconds: seconds("Approval lifetime when the caller names none.", 300, TTL.min, TTL.max),
  min_ttl_seconds: seconds("Shortest approval lifetime a caller may ask for.", TTL.min, TTL.min, TTL.max),
  max_ttl_seconds: seconds("Longest approval lifetime a caller may ask for.", TTL.max, TTL.min, TTL.max),
});

const operator = section("The person operating the gateway.", {
  pin_hash: Type.Optional(
    Type.String({
      pattern: "^\\$scrypt\\$",
      maxLength: 512,
      description:
        "scrypt hash of the operator PIN, written by `ibkr-agent config set-pin` (never the PIN itself).",
    }),
  ),
});

const livePolicy = Type.Object(
  {
    id: Type.String({
      pattern: POLICY_ID_PATTERN,
      description: "Name of the policy, referenced by risk_policy_id.",
    }),
    enabled: Type.Boolean({ default: true, description: "A disabled policy refuses every order." }),
    currency: Type.String({
      default: "USD",
      pattern: CURRENCY_PATTERN,
      description: "Currency of the notional limits.",
    }),
    max_order_quantity: decimal("Largest quantity of one order."),
    max_order_notional: decimal("Largest value (quantity times limit price) of one order."),
    max_orders_per_window: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10000, description: "Most orders within window_seconds." }),
    ),
    window_seconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86400, description: "Length of the order-frequency window." }),
    ),
    max_orders_per_session: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100000, description: "Most orders per trading session." }),
    ),
    max_session_notional: Type.Optional(decimal("Largest total value of the orders of one trading session.")),
    price_collar_bps: Type.Integer({
      default: 500,
      minimum: 1,
      maximum: 5000,
      description: "Largest distance of the limit price from the current quote, in basis points.",
    }),
    max_quote_age_seconds: Type.Integer({
      default: 30,
      minimum: 1,
      maximum: 600,
      description: "Oldest quote the collar may be checked against.",
    }),
    allowed_symbols: Type.Array(Type.String({ pattern: SYMBOL_PATTERN }), {
      minItems: 1,
      uniqueItems: true,
      maxItems: 1000,
      description: "Symbols this policy lets through.",
    }),
    allowed_asset_classes: Type.Array(assetClass, {
      default: ["stock"],
      minItems: 1,
      uniqueItems: true,
      description: "Asset classes this policy lets through.",
    }),
  },
  { additionalProperties: false, description: "A live limit policy." },
);

const liveTrading = section("Orders on real-money accounts, behind every live gate.", {
  enabled: flag("Allow live orders. Needs safety.live_trading_enabled and the rest of the live checklist."),
  allowed_accounts: list(accountId, "Real-money accounts live orders may go to."),
  risk_policy_id: Type.Optional(
    Type.String({
      pattern: POLICY_ID_PATTERN,
      description: "id of the policy in policies that live orders use.",
    }),
  ),
  paper_to_live_checklist_acknowledged: flag(
    "The operator completed the paper-to-live checklist of the runbook.",
  ),
  writer: Type.Enum(["broker", "local_candidate", "refusing"], {
    default: "broker",
    description:
      "broker: send live orders to the configured backend. local_candidate: run every gate and record the order, but never call the broker (rehearsals). refusing: refuse every live write. The CLI's --live-broker flag picks one per command.",
  }),
  policies: Type.Array(livePolicy, { default: [], maxItems: 50, description: "Live limit policies." }),
});

const marketData = section("Market data policy.", {
  max_snapshot_age_seconds: seconds(
    "Quotes older than this are refused as stale while the market is open.",
    30,
    1,
    3600,
  ),
  allow_delayed: flag("Accept delayed (15-20 minutes) quotes where real-time data is not subscribed."),
  scanner_allowlist: list(
    Type.String({ pattern: SCANNER_CODE_PATTERN }),
    "Scanner codes ibkr_scanner_run may run.",
    DEFAULT_SCANNERS,
  ),
});

const previousSecret = Type.Object(
  {
    key_id: Type.String({ pattern: KEY_ID_PATTERN, description: "Key id of the earlier secret." }),
    secret_env: envName("Environment variable holding that earlier secret."),
  },
  { additionalProperties: false },
);

const audit = section("The tamper-evident audit log.", {
  secret_env: Type.Optional(
    envName(
      "Environment variable holding the audit secret (at least 32 bytes). Required in a config file; without a file a secret is generated in the profile directory.",
    ),
  ),
  key_id: Type.String({
    default: "k1",
    pattern: KEY_ID_PATTERN,
    description: "Key id of the current audit secret.",
  }),
  previous_secrets: Type.Array(previousSecret, {
    default: [],
    maxItems: 20,
    description: "Secrets of earlier key ids, kept after a rotation to verify older events.",
  }),
  retention_days: Type.Integer({
    default: LIVE_MIN_RETENTION_DAYS,
    minimum: 1,
    maximum: 36500,
    description: "Events younger than this are never purged (at least 2555 with live trading).",
  }),
  database_path: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "SQLite file of the audit log and order state. Default: state.sqlite in the profile directory.",
    }),
  ),
});

const remoteMcp = section("MCP over Streamable HTTP for remote agents (an OAuth 2.1 resource server).", {
  enabled: flag("Serve remote MCP. Needs safety.remote_mcp_enabled."),
  bind: Type.String({
    default: "127.0.0.1:8080",
    pattern: BIND_PATTERN,
    description: "host:port to listen on ([::1]:8080 for IPv6).",
  }),
  resource: Type.Optional(
    url("This server's resource identifier (its public MCP URL), announced in the metadata."),
  ),
  issuer: Type.Optional(url("The authorization server's issuer (https); tokens must name it exactly.")),
  jwks_url: Type.Optional(url("Where the authorization server publishes its signing keys (https).")),
  audiences: list(
    Type.String({ minLength: 1, maxLength: 2048 }),
    "Accepted token audiences. Default: [resource].",
  ),
  allowed_scopes: list(
    scopeName,
    "Scopes a remote token may be granted (intersected with the token's scopes).",
  ),
  allowed_algorithms: Type.Array(Type.Enum(JWT_ALGORITHMS), {
    default: ["RS256", "ES256"],
    minItems: 1,
    uniqueItems: true,
    description: "Accepted token signature algorithms (asymmetric only).",
  }),
  clock_skew_seconds: seconds("Tolerance on token expiry and not-before.", 60, 0, 300),
  jwks_cache_seconds: seconds("How long fetched signing keys are reused.", 600, 30, 86400),
  token_id_hmac_secret_env: Type.Optional(
    envName(
      "Environment variable with a secret (at least 32 bytes) for hashing token ids. Default: a key derived from the audit secret.",
    ),
  ),
  trusted_proxies: list(
    Type.String({ minLength: 2, maxLength: 64 }),
    "Proxy addresses or CIDR ranges whose X-Forwarded-For is believed.",
  ),
  rate_limit: section("Request rate limits.", {
    max_requests: Type.Integer({
      default: 120,
      minimum: 1,
      maximum: 100000,
      description: "Requests per window per client.",
    }),
    window_seconds: seconds("Length of the rate-limit window.", 60, 1, 3600),
    pre_auth_max_requests: Type.Integer({
      default: 30,
      minimum: 1,
      maximum: 100000,
      description: "Requests per window per network address before a token is checked.",
    }),
  }),
  max_connections: Type.Integer({
    default: 64,
    minimum: 1,
    maximum: 10000,
    description: "Concurrent connections.",
  }),
  max_header_bytes: Type.Integer({
    default: 16384,
    minimum: 1024,
    maximum: 1048576,
    description: "Largest request header block.",
  }),
  max_body_bytes: Type.Integer({
    default: 1048576,
    minimum: 1024,
    maximum: 67108864,
    description: "Largest request body.",
  }),
  subject_claim: Type.String({
    default: "sub",
    pattern: "^[A-Za-z_][A-Za-z0-9_:.-]{0,63}$",
    description: "Token claim that names the caller (sessions and audit principals are bound to it).",
  }),
  allowed_origins: list(
    Type.String({ minLength: 1, maxLength: 256 }),
    "Browser origins allowed to call the server (scheme://host[:port]); requests from any other Origin are refused.",
  ),
  jwks_ca_file: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "PEM CA certificates trusted for the JWKS fetch instead of the system roots (relative to this file).",
    }),
  ),
  jwks_timeout_seconds: seconds("How long one JWKS fetch may take.", 5, 1, 30),
  jwks_cooldown_seconds: seconds(
    "Least time between two JWKS fetches caused by an unknown key id.",
    30,
    0,
    3600,
  ),
  jwks_max_bytes: Type.Integer({
    default: 65536,
    minimum: 1024,
    maximum: 1048576,
    description: "Largest JWKS document accepted.",
  }),
  max_sessions: Type.Integer({
    default: 100,
    minimum: 1,
    maximum: 10000,
    description: "Concurrent MCP sessions.",
  }),
  max_sessions_per_subject: Type.Integer({
    default: 10,
    minimum: 1,
    maximum: 10000,
    description: "Concurrent MCP sessions of one token subject.",
  }),
  session_idle_seconds: seconds("An MCP session without requests for this long ends.", 1800, 10, 86400),
  request_timeout_seconds: seconds("Time a client has to send a complete request.", 30, 1, 600),
  shutdown_grace_seconds: seconds("On shutdown, how long calls in flight may take to finish.", 30, 0, 600),
  tls_cert_file: Type.Optional(
    Type.String({
      minLength: 1,
      description: "PEM certificate chain to serve HTTPS with (relative to this file); needs tls_key_file.",
    }),
  ),
  tls_key_file: Type.Optional(
    Type.String({
      minLength: 1,
      description: "PEM private key of tls_cert_file (relative to this file).",
    }),
  ),
});

const sidecar = section(
  "The sidecar relay: a remote gateway (broker.backend relay) reaches the Client Portal Gateway on the user's machine through a sidecar running there (docs/sidecar.md).",
  {
    enabled: flag(
      "Turn the relay on: on the remote gateway (backend relay, needs remote_mcp) and on the sidecar (needs remote_url). Needs safety.sidecar_enabled.",
    ),
    remote_url: Type.Optional(
      url(
        "Sidecar: the remote gateway's relay endpoint, e.g. https://gateway.example.com/relay (https or wss; the sidecar connects out, nothing connects in).",
      ),
    ),
    remote_ca_file: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Sidecar: PEM certificate(s) to trust for the remote gateway instead of the system roots (relative to this file).",
      }),
    ),
    accepted_tiers: Type.Array(Type.Enum(TIERS), {
      default: ["read", "preview"],
      minItems: 1,
      uniqueItems: true,
      description:
        "Sidecar: tiers of tools it runs for the remote; paper and live also need paper_trading or live_trading enabled here.",
    }),
    heartbeat_interval_seconds: seconds("How often the sidecar sends a heartbeat.", 15, 1, 600),
    heartbeat_timeout_seconds: seconds(
      "Silence after which the sidecar counts as gone (above the interval).",
      45,
      2,
      3600,
    ),
    request_timeout_seconds: seconds(
      "Remote gateway: how long it waits for the sidecar's answer to a forwarded call; then SIDECAR_UNAVAILABLE (whether it ran is unknown: retry orders with the same idempotency key).",
      30,
      1,
      600,
    ),
    max_message_bytes: Type.Integer({
      default: 1048576,
      minimum: 65536,
      maximum: 16777216,
      description: "Largest relay message either side accepts; a larger one closes the connection.",
    }),
    max_in_flight: Type.Integer({
      default: 16,
      minimum: 1,
      maximum: 256,
      description:
        "Calls in flight per relay session; more fail with SIDECAR_UNAVAILABLE (retryable), on both sides.",
    }),
    max_clock_skew_seconds: seconds(
      "How far a relay message's sent_at may be from this machine's clock before the message is refused.",
      30,
      1,
      300,
    ),
    session_ttl_seconds: seconds(
      "Remote gateway: how long a relay session lasts before the sidecar proves its key again (never past the pairing's expiry).",
      3600,
      60,
      86400,
    ),
    pairing: section("Remote gateway: how sidecars are paired.", {
      code_ttl_seconds: seconds(
        "How long a pairing code can be claimed, and how long a claimed pairing waits for approval.",
        600,
        60,
        3600,
      ),
      max_attempts: Type.Integer({
        default: 5,
        minimum: 1,
        maximum: 20,
        description: "Wrong codes a pending pairing tolerates before it is locked.",
      }),
      ttl_days: Type.Integer({
        default: 90,
        minimum: 1,
        maximum: 730,
        description: "How long an approved pairing lasts; then the sidecar must be paired again.",
      }),
    }),
  },
);

const logging = section("Diagnostics on stderr.", {
  level: Type.Enum(["debug", "info", "warn", "error"], {
    default: "info",
    description: "Lowest level written.",
  }),
  format: Type.Enum(["human", "json"], {
    default: "human",
    description: "human lines or one JSON object per line.",
  }),
});

export const ConfigSchema = Type.Object(
  {
    broker,
    auth,
    safety,
    order_preview: orderPreview,
    paper_trading: paperTrading,
    approvals,
    operator,
    live_trading: liveTrading,
    market_data: marketData,
    audit,
    remote_mcp: remoteMcp,
    sidecar,
    logging,
    reconciler_interval_seconds: seconds(
      "How often open live orders are reconciled with the broker.",
      5,
      1,
      3600,
    ),
  },
  { additionalProperties: false, title: "ibkr-agent configuration" },
);

/** The configuration as written, after defaults (paths not yet resolved). */
export type ConfigValues = Static<typeof ConfigSchema>;

/** The effective configuration: defaults filled in, profile and paths resolved to absolute values. */
export type Config = ConfigValues & {
  readonly broker: ConfigValues["broker"] & { profile: string; coordination_path: string };
  readonly audit: ConfigValues["audit"] & { database_path: string };
};

export type LivePolicy = ConfigValues["live_trading"]["policies"][number];
