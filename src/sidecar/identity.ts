// The relay identity of one profile: an Ed25519 key pair made on first use with node:crypto. The private key
// lives in the profile directory as a PKCS#8 PEM file, 0600 in a 0700 directory, with the checks and the
// create-once rule of the audit secret (src/config/private-file.ts); it never leaves this process as text.
// The sidecar signs its relay messages with it, and so does the remote gateway (a profile of backend relay),
// so each end can check the other against the key it paired with.
//
// What people compare is the fingerprint: the first 160 bits of SHA-256 over the raw 32-byte public key, in
// base32, as eight groups of four ("7KQF-3M9X-..."). Both ends print it from the same bytes; the audit log
// keeps the full SHA-256 (public_key_sha256). Ids are derived from the same digest, so a sidecar id names one
// key and cannot be claimed by another.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { join } from "node:path";
import type { ConfigPaths } from "../config/paths.ts";
import {
  ensurePrivateFile,
  type PrivateFileKind,
  privateFileError,
  readPrivateFile,
} from "../config/private-file.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { publicKeyFromRaw, rawPublicKey } from "./protocol/signing.ts";

/** File name of the private key inside the profile directory. */
export const IDENTITY_FILE = "relay-identity.pem";

export interface RelayIdentity {
  /** Absolute path of the private key file. */
  readonly path: string;
  /** For signing relay messages only; never exported. */
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The raw 32-byte public key, base64url (the JWK "x"), as the wire and the store carry it. */
  readonly publicKeyRaw: string;
  /** Lowercase hex SHA-256 of the raw public key (audit public_key_sha256). */
  readonly publicKeySha256: string;
  /** What people compare: XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX. */
  readonly fingerprint: string;
  /** sidecar-<uuid from the key>: this profile's id when it acts as a sidecar. */
  readonly sidecarId: string;
  /** remote-<uuid from the key>: this profile's id when it acts as the remote gateway. */
  readonly remoteInstanceId: string;
}

const IDENTITY_KIND: PrivateFileKind = {
  title: "The relay identity key",
  problemPath: "sidecar",
  problemName: "the relay identity key file",
  widePermissionsAction: (path) =>
    `Run \`chmod 600 ${path}\`. If someone else may have copied it, treat the key as lost: revoke its pairings, delete the file and pair again.`,
  notAFileAction:
    "Move it away; a new key is made on the next run (then pair again, since the fingerprint changes).",
};

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function digestOf(publicKeyRaw: string): Buffer {
  return createHash("sha256").update(Buffer.from(publicKeyRaw, "base64url")).digest();
}

/** The fingerprint people compare, of a raw base64url Ed25519 public key. */
export function fingerprintOf(publicKeyRaw: string): string {
  const text = base32(digestOf(publicKeyRaw).subarray(0, 20));
  return (text.match(/.{4}/g) ?? []).join("-");
}

/** Lowercase hex SHA-256 of a raw base64url public key. */
export function publicKeySha256(publicKeyRaw: string): string {
  return digestOf(publicKeyRaw).toString("hex");
}

/** A fingerprint as typed (any case, spaces, dashes) in the canonical form, or undefined if it is not one. */
export function normalizeFingerprint(text: string): string | undefined {
  const compact = text.toUpperCase().replace(/[\s-]/g, "");
  if (!/^[A-Z2-7]{32}$/.test(compact)) return undefined;
  return (compact.match(/.{4}/g) ?? []).join("-");
}

/** An RFC 9562 version-8 UUID made of the first 16 bytes of the key's digest: stable for one key. */
function keyUuid(publicKeyRaw: string): string {
  const bytes = Buffer.from(digestOf(publicKeyRaw).subarray(0, 16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The sidecar id a raw public key stands for (what a claim or a hello must name). */
export function sidecarIdOf(publicKeyRaw: string): string {
  return `sidecar-${keyUuid(publicKeyRaw)}`;
}

/** The remote instance id a raw public key stands for. */
export function remoteInstanceIdOf(publicKeyRaw: string): string {
  return `remote-${keyUuid(publicKeyRaw)}`;
}

/** The public key of a raw base64url text, or undefined when it is not an Ed25519 public key. */
export function parsePublicKey(publicKeyRaw: unknown): KeyObject | undefined {
  return typeof publicKeyRaw === "string" ? publicKeyFromRaw(publicKeyRaw) : undefined;
}

export function identityPath(paths: Pick<ConfigPaths, "profileDir">): string {
  return join(paths.profileDir, IDENTITY_FILE);
}

function ed25519PrivateKey(pem: string): KeyObject | undefined {
  try {
    const key = createPrivateKey({ key: pem, format: "pem" });
    return key.asymmetricKeyType === "ed25519" ? key : undefined;
  } catch {
    return undefined;
  }
}

function fromPem(path: string, pem: string): RelayIdentity {
  const privateKey = ed25519PrivateKey(pem);
  if (privateKey === undefined) {
    throw privateFileError(
      IDENTITY_KIND,
      path,
      "is not an Ed25519 private key",
      "Restore it from your backup of the state directory, or move it away and pair again.",
    );
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyRaw = rawPublicKey(publicKey);
  return {
    path,
    privateKey,
    publicKey,
    publicKeyRaw,
    publicKeySha256: publicKeySha256(publicKeyRaw),
    fingerprint: fingerprintOf(publicKeyRaw),
    sidecarId: sidecarIdOf(publicKeyRaw),
    remoteInstanceId: remoteInstanceIdOf(publicKeyRaw),
  };
}

function newPem(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  return privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}

/** The profile's relay identity, made on first use. */
export function loadOrCreateIdentity(paths: Pick<ConfigPaths, "profileDir">): RelayIdentity {
  const path = identityPath(paths);
  return fromPem(path, ensurePrivateFile(path, IDENTITY_KIND, newPem));
}

/** The profile's relay identity if it was made already, without making one (status views). */
export function readIdentity(paths: Pick<ConfigPaths, "profileDir">): RelayIdentity | undefined {
  const path = identityPath(paths);
  try {
    return fromPem(path, readPrivateFile(path, IDENTITY_KIND));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Refuses a public key text that is not an Ed25519 key (the shape the wire and the store accept). */
export function requirePublicKey(publicKeyRaw: unknown, what: string): string {
  if (parsePublicKey(publicKeyRaw) === undefined) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `${what} is not an Ed25519 public key (32 bytes, base64url).`,
      details: { field: what },
    });
  }
  return publicKeyRaw as string;
}
