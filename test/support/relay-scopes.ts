// The scopes the relay test setups grant (the remote's allowed scopes, the sidecar's enabled scopes and the
// callers' tokens): reads, previews, approvals and paper submits, so order calls can cross the relay.
export const RELAY_SCOPES = [
  "ibkr:health:read",
  "ibkr:accounts:read",
  "ibkr:portfolio:read",
  "ibkr:positions:read",
  "ibkr:marketdata:read",
  "ibkr:orders:read",
  "ibkr:orders:preview",
  "ibkr:approvals:create",
  "ibkr:orders:paper:submit",
] as const;
