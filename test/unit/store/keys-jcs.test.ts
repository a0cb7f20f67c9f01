import { describe, expect, it } from "vitest";
import { isGatewayError } from "../../../src/core/gateway-error.ts";
import { canonicalJson, deriveKeys } from "../../../src/store/index.ts";
import { SECRET_1, SECRET_2 } from "./helpers.ts";

describe("canonicalJson (RFC 8785)", () => {
  it("sorts keys by UTF-16 code units, drops undefined members and writes numbers the ECMAScript way", () => {
    expect(
      canonicalJson({ b: 1, a: [true, null, "x"], "\u00e9": 0, A: undefined, Z: -0, n: 1e21, f: 0.1 }),
    ).toBe('{"Z":0,"a":[true,null,"x"],"b":1,"f":0.1,"n":1e+21,"é":0}');
    expect(canonicalJson('line\nbreak "quoted" \u0001')).toBe('"line\\nbreak \\"quoted\\" \\u0001"');
    expect(canonicalJson(new Date(Date.UTC(2026, 0, 2)))).toBe('"2026-01-02T00:00:00.000Z"');
    expect(() => canonicalJson(Number.NaN)).toThrow();
  });
});

describe("deriveKeys", () => {
  it("derives separate keys per purpose and per secret, deterministically", () => {
    const one = deriveKeys(SECRET_1, "k1");
    const again = deriveKeys(Buffer.from(SECRET_1), "k1");
    const two = deriveKeys(SECRET_2, "k2");
    expect(one.hashAccountId("U1234567")).toBe(again.hashAccountId("U1234567"));
    expect(one.hashAccountId("U1234567")).toMatch(/^[0-9a-f]{64}$/);
    expect(one.hashTokenId("U1234567")).not.toBe(one.hashAccountId("U1234567"));
    expect(two.hashAccountId("U1234567")).not.toBe(one.hashAccountId("U1234567"));
    const material = [one.chainKey, one.accountKey, one.tokenKey].map((key) => key.export().toString("hex"));
    expect(new Set(material).size).toBe(3);
    expect(one.fingerprint).toBe(again.fingerprint);
    expect(one.fingerprint).not.toBe(two.fingerprint);
    expect(one.hashCanonical({ b: 1, a: 2 })).toBe(one.hashCanonical({ a: 2, b: 1 }));
  });

  it("refuses short secrets and malformed key ids", () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
        return "no error";
      } catch (error) {
        return isGatewayError(error) ? error.code : "other";
      }
    };
    expect(codeOf(() => deriveKeys("x".repeat(31), "k1"))).toBe("CONFIG_SECRET_MISSING");
    expect(codeOf(() => deriveKeys("x".repeat(32), "k1"))).toBe("no error");
    expect(codeOf(() => deriveKeys(SECRET_1, "bad id"))).toBe("CONFIG_INVALID");
  });
});
