// Bearer tokens come from the Authorization header only (RFC 6750 §2.1); a token in the URL is refused.
import { describe, expect, it } from "vitest";
import { extractBearer } from "../../src/auth/index.ts";

const none = new URLSearchParams();

describe("extractBearer", () => {
  it("takes the token of a Bearer header, in any case of the scheme", () => {
    expect(extractBearer("Bearer abc.def-ghi_jkl", none)).toEqual({
      kind: "token",
      token: "abc.def-ghi_jkl",
    });
    expect(extractBearer("bearer abc", none)).toEqual({ kind: "token", token: "abc" });
    expect(extractBearer("BEARER  abc== ", none)).toEqual({ kind: "token", token: "abc==" });
  });

  it("reports a missing header or an empty one as missing", () => {
    expect(extractBearer(undefined, none)).toEqual({ kind: "missing" });
    expect(extractBearer("", none)).toEqual({ kind: "missing" });
  });

  it("refuses other schemes, two tokens, characters outside b64token, two headers and huge tokens", () => {
    for (const header of [
      "Basic dXNlcjpwYXNz",
      "Bearer",
      "Bearer a b",
      'Bearer a"b',
      "Bearer ä",
      `Bearer ${"a".repeat(12_289)}`,
    ]) {
      expect(extractBearer(header, none)).toEqual({ kind: "malformed" });
    }
    expect(extractBearer(["Bearer a", "Bearer b"], none)).toEqual({ kind: "malformed" });
  });

  it("refuses a request with access_token in the query string, even next to a valid header", () => {
    expect(extractBearer("Bearer abc", new URLSearchParams("access_token=abc"))).toEqual({
      kind: "in_query",
    });
    expect(extractBearer(undefined, new URLSearchParams("x=1&ACCESS_TOKEN=abc"))).toEqual({
      kind: "in_query",
    });
    expect(extractBearer("Bearer abc", new URLSearchParams("token=abc"))).toEqual({
      kind: "token",
      token: "abc",
    });
  });
});
