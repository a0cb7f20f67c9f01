// Keyed hashes of the identifiers an authentication touches (token ids, client ids, client addresses and
// subjects): the audit log must correlate them without ever holding them. With
// remote_mcp.token_id_hmac_secret_env they are keyed by that separate secret, so the audit secret's holder
// cannot test guesses against them; without it, by the store's token-id key (HKDF from the audit secret).
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from "node:crypto";

export interface IdentityHasher {
  /** The jti as the audit log's token_id_hash. */
  tokenId(jti: string): string;
  clientId(clientId: string): string;
  /** A client's network address as client_address_hash. */
  address(address: string): string;
  /** oauth:<hex>: the principal of a remote caller (contracts/audit-events.yaml). */
  principal(issuer: string, subject: string): string;
}

const SALT = Buffer.from("ibkr-agent-gateway/token-ids/v1", "utf8");

export function createIdentityHasher(options: {
  /** remote_mcp.token_id_hmac_secret_env's value; at least 32 bytes (checked at config load). */
  readonly secret?: Buffer;
  /** The store's token-id hash, used when no separate secret is configured. */
  readonly fallback: (text: string) => string;
}): IdentityHasher {
  let hash = options.fallback;
  if (options.secret !== undefined) {
    const key: KeyObject = createSecretKey(
      Buffer.from(hkdfSync("sha256", options.secret, SALT, "ibkr-agent remote token ids", 32)),
    );
    hash = (text) => createHmac("sha256", key).update(text).digest("hex");
  }
  // Prefixes keep one kind of identifier from ever matching the hash of another.
  return {
    tokenId: (jti) => hash(jti),
    clientId: (clientId) => hash(`client:${clientId}`),
    address: (address) => hash(`address:${address}`),
    principal: (issuer, subject) => `oauth:${hash(`subject:${issuer}\n${subject}`)}`,
  };
}
