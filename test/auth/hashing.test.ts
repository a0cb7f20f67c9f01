// Identifiers of a remote caller are only ever written as keyed hashes, under their own secret when one is
// configured; without it the store's token-id key is used, so token_id_hash is store.hashTokenId(jti).
import { describe, expect, it } from "vitest";
import { createIdentityHasher } from "../../src/auth/index.ts";

describe("createIdentityHasher", () => {
  it("hashes with HMAC under a key derived from the configured secret", () => {
    const one = createIdentityHasher({ secret: Buffer.alloc(32, 1), fallback: () => "fallback" });
    const other = createIdentityHasher({ secret: Buffer.alloc(32, 2), fallback: () => "fallback" });
    expect(one.tokenId("jti-1")).toMatch(/^[0-9a-f]{64}$/);
    expect(one.tokenId("jti-1")).toBe(one.tokenId("jti-1"));
    expect(one.tokenId("jti-1")).not.toBe(other.tokenId("jti-1"));
  });

  it("keeps each kind of identifier apart, and names principals oauth:<hash>", () => {
    const hasher = createIdentityHasher({ secret: Buffer.alloc(32, 1), fallback: () => "fallback" });
    const values = [hasher.tokenId("x"), hasher.clientId("x"), hasher.address("x")];
    expect(new Set(values).size).toBe(3);
    expect(hasher.principal("https://a", "x")).toMatch(/^oauth:[0-9a-f]{64}$/);
    expect(hasher.principal("https://a", "x")).not.toBe(hasher.principal("https://b", "x"));
  });

  it("uses the store's token-id hash without a secret", () => {
    const hasher = createIdentityHasher({ fallback: (text) => `store(${text})` });
    expect(hasher.tokenId("jti-1")).toBe("store(jti-1)");
    expect(hasher.address("127.0.0.1")).toBe("store(address:127.0.0.1)");
  });
});
