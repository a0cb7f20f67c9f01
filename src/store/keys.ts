// Audit key material. One secret per generation (key id); HKDF derives independent keys from it so that a
// digest under one purpose (an account hash) can never be replayed as another (a chain link). The secret
// itself never leaves this module: only derived keys are kept, and only a fingerprint is ever stored.
import { createHmac, createSecretKey, hash, hkdfSync, type KeyObject, timingSafeEqual } from "node:crypto";
import { GatewayError } from "../core/gateway-error.ts";
import { canonicalJson } from "./jcs.ts";

/** Minimum audit secret length, as the seed required. */
export const MIN_SECRET_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const SALT = Buffer.from("ibkr-agent-gateway/audit-keys/v1", "utf8");
const ACCOUNT_HASHES_LIMIT = 1024;

export interface KeyGeneration {
  readonly keyId: string;
  // KeyObjects, made once: createHmac with a raw Buffer imports the key again on every call, which costs
  // as much as the HMAC itself on the append path.
  /** Signs chain links, checkpoints, anchors and export manifests. */
  readonly chainKey: KeyObject;
  /** Hashes account ids and other identifiers (input/output hashes, idempotency keys). */
  readonly accountKey: KeyObject;
  /** Hashes OAuth token ids (jti). */
  readonly tokenKey: KeyObject;
  /** Public check value stored in the key registry to catch a wrong secret for a key id. */
  readonly fingerprint: string;
  hashAccountId(accountId: string): string;
  hashTokenId(jti: string): string;
  /** Keyed hash of any identifier (account-hash key), e.g. an idempotency key. */
  hashValue(text: string): string;
  /** Keyed hash of the JCS canonical JSON of a value: input_hash, output_hash, preview_hash, config_hash. */
  hashCanonical(value: unknown): string;
}

export function isValidKeyId(keyId: string): boolean {
  return KEY_ID.test(keyId);
}

/** Derives the keys of one secret generation. The secret must hold at least 32 bytes. */
export function deriveKeys(secret: Buffer | string, keyId: string): KeyGeneration {
  if (!isValidKeyId(keyId)) {
    throw new GatewayError("CONFIG_INVALID", {
      message: "An audit key id must be 1-32 characters of letters, digits, '_', '.' or '-'.",
    });
  }
  const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new GatewayError("CONFIG_SECRET_MISSING", {
      message: `The audit secret for key id ${keyId} is shorter than ${MIN_SECRET_BYTES} bytes.`,
    });
  }
  const derive = (label: string) =>
    createSecretKey(Buffer.from(hkdfSync("sha256", bytes, SALT, `ibkr-agent audit ${label}`, 32)));
  const chainKey = derive("chain");
  const accountKey = derive("account-id");
  const tokenKey = derive("token-id");
  const fingerprint = hmacHex(derive("fingerprint"), `key-fingerprint:${keyId}`);
  bytes.fill(0);
  // One call hashes the same account id several times (its events, its records, the gates); a process
  // sees few accounts, so each keyed hash is computed once (bounded, in case of many).
  const accountHashes = new Map<string, string>();
  return {
    keyId,
    chainKey,
    accountKey,
    tokenKey,
    fingerprint,
    hashAccountId: (accountId) => {
      let hashed = accountHashes.get(accountId);
      if (hashed === undefined) {
        hashed = hmacHex(accountKey, accountId);
        if (accountHashes.size >= ACCOUNT_HASHES_LIMIT) accountHashes.clear();
        accountHashes.set(accountId, hashed);
      }
      return hashed;
    },
    hashTokenId: (jti) => hmacHex(tokenKey, jti),
    hashValue: (text) => hmacHex(accountKey, text),
    hashCanonical: (value) => hmacHex(accountKey, canonicalJson(value)),
  };
}

export function hmacHex(key: KeyObject, message: string): string {
  return createHmac("sha256", key).update(message).digest("hex");
}

export function sha256Hex(data: string | Buffer): string {
  // The one-shot digest: no Hash stream object per call (every append hashes its payload).
  return hash("sha256", data, "hex");
}

/** Constant-time comparison of two lowercase hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
