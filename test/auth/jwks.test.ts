// The JWKS client refuses anything but https before it fetches a byte.
import { describe, expect, it } from "vitest";
import { createJwks } from "../../src/auth/index.ts";

describe("createJwks", () => {
  it("refuses a key set URL that is not https", () => {
    expect(() =>
      createJwks({
        url: "http://auth.example.com/jwks",
        timeoutMs: 1000,
        cacheMs: 1000,
        cooldownMs: 0,
        maxBytes: 1024,
      }),
    ).toThrow("the JWKS URL must use https");
  });
});
