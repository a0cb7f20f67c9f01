// The loopback mode's token: random, compared in constant time, granting the local scopes; and what counts
// as loopback.
import { describe, expect, it } from "vitest";
import { createLocalAuthenticator, isLoopbackHost, randomLocalToken } from "../../src/auth/index.ts";

describe("local authenticator", () => {
  it("accepts exactly its token and grants the local scopes as the local principal", async () => {
    const token = randomLocalToken();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(randomLocalToken()).not.toBe(token);
    const authenticator = createLocalAuthenticator({
      token,
      principal: "local:alice",
      scopes: new Set(["ibkr:health:read"]),
    });
    const accepted = await authenticator.authenticate(token);
    expect(accepted.ok && [accepted.identity.principal, [...accepted.identity.scopes]]).toEqual([
      "local:alice",
      ["ibkr:health:read"],
    ]);
    for (const other of [token.toUpperCase(), `${token}0`, token.slice(1), ""]) {
      expect(await authenticator.authenticate(other)).toEqual({
        ok: false,
        failure: { code: "AUTH_TOKEN_INVALID", check: "local_token" },
      });
    }
  });

  it("refuses a short token", () => {
    expect(() =>
      createLocalAuthenticator({ token: "short", principal: "local:a", scopes: new Set() }),
    ).toThrow("the local token must have at least 32 characters");
  });
});

describe("isLoopbackHost", () => {
  it("knows localhost, 127.0.0.0/8 and ::1, and nothing else", () => {
    for (const host of ["localhost", "LOCALHOST", "127.0.0.1", "127.5.6.7", "::1", "[::1]"]) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of [
      "0.0.0.0",
      "::",
      "192.168.1.2",
      "localhost.evil.example",
      "128.0.0.1",
      "::ffff:127.0.0.1",
    ]) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });
});
