// The configuration's constants - backends, profile names, enumerations, limits - without the schema itself:
// the schema is built with TypeBox, whose type builder costs about 100 ms to load, and the safe default mode
// (no config file) needs these values but never the schema.
import { SCOPE_NAMES, SCOPE_TIERS, type ScopeName } from "../../generated/scopes.gen.ts";

export const ENV_NAME_PATTERN = "^[A-Z][A-Z0-9_]{0,127}$";
export const ACCOUNT_ID_PATTERN = "^[A-Za-z0-9]{1,32}$";
export const PROFILE_PATTERN = "^[a-z0-9][a-z0-9-]{0,39}$";
export const KEY_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$";
export const POLICY_ID_PATTERN = "^[a-z0-9][a-z0-9_.-]{0,63}$";
export const SYMBOL_PATTERN = "^[A-Za-z0-9 .\\-/]{1,32}$";
export const SCANNER_CODE_PATTERN = "^[A-Z0-9_]{1,64}$";
export const CURRENCY_PATTERN = "^[A-Z]{3}$";
export const POSITIVE_DECIMAL_PATTERN = "^(?:[1-9][0-9]*(?:\\.[0-9]+)?|0\\.[0-9]*[1-9][0-9]*)$";
export const BIND_PATTERN = "^(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$";
export const SCENARIO_PATTERN = "^[a-z0-9][a-z0-9-]{0,63}$";

/**
 * simulator and client_portal_gateway talk to a broker from this machine; relay is the remote gateway's
 * backend, which holds no broker session and routes each call to the caller's paired sidecar.
 */
export const BACKENDS = ["simulator", "client_portal_gateway", "relay"] as const;
export type Backend = (typeof BACKENDS)[number];

/** Profile name used when `broker.profile` is not set: each backend keeps its state apart. */
export const DEFAULT_PROFILES: Record<Backend, string> = {
  simulator: "simulator",
  client_portal_gateway: "client-portal",
  relay: "relay",
};

/** Mirrors `AssetClass` in contracts/tools/_defs.yaml (a test keeps the two equal). */
export const ASSET_CLASSES = [
  "stock",
  "etf",
  "option",
  "future",
  "forex",
  "index",
  "bond",
  "fund",
  "crypto",
  "other",
] as const;

/** Asymmetric JWS algorithms only: a shared-key algorithm would let anyone holding the key mint tokens. */
export const JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
] as const;

/** The approval TTL range the approvals tool contract accepts (ttl_seconds 30..3600). */
export const APPROVAL_TTL_BOUNDS = { min: 30, max: 3600 } as const;
/** The seed's floor for keeping audit events when live trading is on (about seven years). */
export const LIVE_MIN_RETENTION_DAYS = 2555;

/** Default local scopes: every scope of the read tier, nothing that prepares or sends an order. */
export const READ_SCOPES: readonly ScopeName[] = SCOPE_NAMES.filter((scope) => SCOPE_TIERS[scope] === "read");
