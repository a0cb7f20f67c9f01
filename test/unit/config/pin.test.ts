// The operator PIN is stored as a salted scrypt hash in PHC form, checked in constant time.
import { describe, expect, it } from "vitest";
import { hashOperatorPin, parsePinHash, verifyOperatorPin } from "../../../src/config/index.ts";

describe("operator PIN hashes", () => {
  const hash = hashOperatorPin("135790", { ln: 14 });

  it("have the documented form and parameters", () => {
    expect(hash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    const parameters = parsePinHash(hash);
    expect([
      parameters?.ln,
      parameters?.r,
      parameters?.p,
      parameters?.salt.length,
      parameters?.key.length,
    ]).toEqual([14, 8, 1, 16, 32]);
  });

  it("verify the right PIN only", () => {
    expect(verifyOperatorPin("135790", hash)).toBe(true);
    expect(verifyOperatorPin("135791", hash)).toBe(false);
    expect(verifyOperatorPin("135790", "not a hash")).toBe(false);
  });

  it("are salted: the same PIN hashes differently each time", () => {
    expect(hashOperatorPin("135790", { ln: 14 })).not.toBe(hash);
  });

  it("refuse weak parameters and short PINs", () => {
    expect(parsePinHash(hash.replace("ln=14", "ln=10"))).toBeUndefined();
    expect(() => hashOperatorPin("12345")).toThrow("The operator PIN must be 6 to 128 characters");
    expect(() => hashOperatorPin(" 123456")).toThrow("without leading or trailing spaces");
  });
});
