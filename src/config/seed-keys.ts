// Keys of the Rust seed's YAML and SDK configuration that are spelled differently here or were dropped. An
// unknown key found in this table gets the way forward instead of a bare "unknown key", so a file written
// for the seed can be moved over one message at a time. docs/config.md carries the same table (a test
// checks that every entry is documented).

export interface SeedKey {
  /** The seed's key path (array positions written as []). */
  readonly seed: string;
  /** The key that replaces it, when there is one. */
  readonly replacement?: string;
  /** Why it is gone or what to do instead, when there is no replacement. */
  readonly note?: string;
}

export const SEED_KEYS: readonly SeedKey[] = [
  {
    seed: "broker.fixture_root",
    note: "the built-in simulator replaces fixture folders; see broker.simulator",
  },
  { seed: "audit.sqlite_path", replacement: "audit.database_path" },
  { seed: "audit.hmac_secret_env", replacement: "audit.secret_env" },
  { seed: "audit.live_write_retention_days", replacement: "audit.retention_days" },
  { seed: "audit.export_required_before_purge", note: "a purge always needs a verified export now" },
  { seed: "audit.immutable_live_events", note: "audit events are always append-only now" },
  { seed: "audit.storage", note: "the audit log is always a SQLite file (audit.database_path)" },
  { seed: "live_trading.reconciler_interval_seconds", replacement: "reconciler_interval_seconds" },
  { seed: "remote_mcp.bind_address", replacement: "remote_mcp.bind" },
  {
    seed: "remote_mcp.metadata_url",
    note: "the metadata names remote_mcp.issuer as the authorization server",
  },
  { seed: "remote_mcp.rate_limit_max_requests", replacement: "remote_mcp.rate_limit.max_requests" },
  { seed: "remote_mcp.rate_limit_window_seconds", replacement: "remote_mcp.rate_limit.window_seconds" },
  { seed: "remote_mcp.token_id_hmac_secret", replacement: "remote_mcp.token_id_hmac_secret_env" },
  { seed: "sidecar.remote_relay_url", replacement: "sidecar.remote_url" },
  { seed: "sidecar.local_client_portal_base_url", replacement: "broker.base_url" },
  { seed: "gateway", note: "the mode follows from the command you run; the HTTP address is remote_mcp.bind" },
  { seed: "auth.source", note: "local scopes always come from auth.enabled_scopes" },
  { seed: "safety.read_only", note: "read-only is the default; grant more in auth.enabled_scopes" },
  { seed: "safety.order_preview_enabled", replacement: "order_preview.enabled" },
  { seed: "safety.remote_public_mcp_enabled", replacement: "safety.remote_mcp_enabled" },
  { seed: "order_preview.preview_expiration_seconds", replacement: "order_preview.ttl_seconds" },
  { seed: "market_data_policy", replacement: "market_data" },
  { seed: "enabled_read_scopes", replacement: "auth.enabled_scopes" },
  { seed: "server_mode", note: "the mode follows from the command you run (mcp serve --transport ...)" },
  { seed: "bind_address", replacement: "remote_mcp.bind" },
  { seed: "broker_backend", replacement: "broker.backend" },
  { seed: "client_portal_base_url", replacement: "broker.base_url" },
  {
    seed: "verify_tls",
    note: "verification is always on; use broker.ca_file or allow_insecure_tls_for_localhost",
  },
  { seed: "keepalive_interval_seconds", replacement: "broker.keep_alive_interval_seconds" },
  { seed: "audit_storage", replacement: "audit.database_path" },
  { seed: "audit_account_id_mode", note: "account ids are always stored as keyed hashes" },
  { seed: "audit_retention", replacement: "audit.retention_days" },
];

const BY_PATH: ReadonlyMap<string, SeedKey> = new Map(SEED_KEYS.map((entry) => [entry.seed, entry]));

/** The seed entry for a key path, with array positions ignored (`a.b[2].c` is looked up as `a.b[].c`). */
export function seedKey(path: string): SeedKey | undefined {
  return BY_PATH.get(path.replace(/\[[0-9]+\]/g, "[]"));
}
