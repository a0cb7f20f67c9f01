// The relay identity: an Ed25519 key made once per profile, kept 0600 in a 0700 directory, refused when
// others could read it or it is not a key, and a fingerprint and ids that follow from the public key alone.
import { createHash, generateKeyPairSync, sign, verify } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  fingerprintOf,
  identityPath,
  loadOrCreateIdentity,
  normalizeFingerprint,
  parsePublicKey,
  readIdentity,
  remoteInstanceIdOf,
  sidecarIdOf,
} from "../../src/sidecar/identity.ts";
import { rawPublicKey } from "../../src/sidecar/protocol/signing.ts";
import { tempHome } from "./pairing-support.ts";

function paths() {
  const home = tempHome("ibkr-identity-");
  return { profileDir: join(home, "profiles", "client-portal") };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe("the relay identity", () => {
  it("is made on first use as an Ed25519 PKCS#8 PEM, file 0600 in a 0700 directory", () => {
    const p = paths();
    expect(readIdentity(p)).toBeUndefined();
    const identity = loadOrCreateIdentity(p);
    const file = identityPath(p);
    expect(identity.path).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(p.profileDir).mode & 0o777).toBe(0o700);
    const pem = readFileSync(file, "utf8");
    expect(pem.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
    expect(identity.privateKey.asymmetricKeyType).toBe("ed25519");
    // The key signs, and the public half it reports verifies the signature.
    const message = Buffer.from("relay message");
    const signature = sign(null, message, identity.privateKey);
    expect(verify(null, message, identity.publicKey, signature)).toBe(true);
    expect(identity.publicKeyRaw).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("is the same key, fingerprint and ids on every later load", () => {
    const p = paths();
    const first = loadOrCreateIdentity(p);
    const again = loadOrCreateIdentity(p);
    const read = readIdentity(p);
    expect(again.publicKeyRaw).toBe(first.publicKeyRaw);
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(read?.fingerprint).toBe(first.fingerprint);
    expect(again.sidecarId).toBe(first.sidecarId);
    expect(again.remoteInstanceId).toBe(first.remoteInstanceId);
  });

  it("has a fingerprint of the raw public key: first 160 bits of SHA-256, base32, eight groups", () => {
    const identity = loadOrCreateIdentity(paths());
    expect(identity.fingerprint).toMatch(/^[A-Z2-7]{4}(?:-[A-Z2-7]{4}){7}$/);
    const digest = createHash("sha256").update(Buffer.from(identity.publicKeyRaw, "base64url")).digest();
    expect(identity.publicKeySha256).toBe(digest.toString("hex"));
    // Decoding the base32 gives back the first 20 bytes of the digest.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const bits = [...identity.fingerprint.replaceAll("-", "")]
      .map((c) => alphabet.indexOf(c).toString(2).padStart(5, "0"))
      .join("");
    const bytes = Buffer.from(bits.match(/.{8}/g)?.map((b) => Number.parseInt(b, 2)) ?? []);
    expect(bytes.equals(digest.subarray(0, 20))).toBe(true);
  });

  it("pins the fingerprint and ids of a known key", () => {
    // RFC 8032 test vector 1 public key; expected values computed independently (Python hashlib/base64).
    const raw = Buffer.from(
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
      "hex",
    ).toString("base64url");
    expect(raw).toBe("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    expect(parsePublicKey(raw)).toBeDefined();
    expect(fingerprintOf(raw)).toBe("EH7D-DX5B-KSRG-CYTL-7BKA-I36S-E4NX-X3KL");
    // The first 16 digest bytes as an RFC 9562 version-8 UUID (version and variant bits set).
    expect(sidecarIdOf(raw)).toBe("sidecar-21fe31df-a154-8261-a26b-f854046fd227");
    expect(remoteInstanceIdOf(raw)).toBe("remote-21fe31df-a154-8261-a26b-f854046fd227");
  });

  it("gives two keys two fingerprints and two ids", () => {
    const a = rawPublicKey(generateKeyPairSync("ed25519").publicKey);
    const b = rawPublicKey(generateKeyPairSync("ed25519").publicKey);
    expect(fingerprintOf(a)).not.toBe(fingerprintOf(b));
    expect(sidecarIdOf(a)).not.toBe(sidecarIdOf(b));
  });

  it("reads a typed fingerprint in any case, with spaces or dashes", () => {
    const identity = loadOrCreateIdentity(paths());
    const typed = identity.fingerprint.toLowerCase().replaceAll("-", " ");
    expect(normalizeFingerprint(typed)).toBe(identity.fingerprint);
    expect(normalizeFingerprint(identity.fingerprint.replaceAll("-", ""))).toBe(identity.fingerprint);
    expect(normalizeFingerprint("ABCD-EFGH")).toBeUndefined();
    expect(normalizeFingerprint(`${identity.fingerprint.slice(0, -1)}1`)).toBeUndefined();
  });

  it("is refused when other users may read it, and names the fix", () => {
    const p = paths();
    loadOrCreateIdentity(p);
    chmodSync(identityPath(p), 0o640);
    let message = "";
    try {
      loadOrCreateIdentity(p);
    } catch (error) {
      message = `${(error as Error).message} ${(error as { userAction?: string }).userAction}`;
      expect((error as { code?: string }).code).toBe("CONFIG_INVALID");
    }
    expect(message).toContain("can be read or written by other users");
    expect(message).toContain("chmod 600");
    expect(codeOf(() => readIdentity(p))).toBe("CONFIG_INVALID");
  });

  it("is refused when it is a link or not an Ed25519 key", () => {
    const p = paths();
    mkdirSync(p.profileDir, { recursive: true, mode: 0o700 });
    const elsewhere = join(p.profileDir, "..", "elsewhere.pem");
    const ed = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    writeFileSync(elsewhere, ed, { mode: 0o600 });
    symlinkSync(elsewhere, identityPath(p));
    expect(() => loadOrCreateIdentity(p)).toThrow(/is not a regular file/);

    const q = paths();
    mkdirSync(q.profileDir, { recursive: true, mode: 0o700 });
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    writeFileSync(identityPath(q), ec, { mode: 0o600 });
    expect(() => loadOrCreateIdentity(q)).toThrow(/is not an Ed25519 private key/);
    writeFileSync(identityPath(q), "not a key\n", { mode: 0o600 });
    expect(() => loadOrCreateIdentity(q)).toThrow(/is not an Ed25519 private key/);
  });

  it("never parses something else as a public key", () => {
    expect(parsePublicKey("")).toBeUndefined();
    expect(parsePublicKey(42)).toBeUndefined();
    expect(parsePublicKey("A".repeat(44))).toBeUndefined();
  });
});
