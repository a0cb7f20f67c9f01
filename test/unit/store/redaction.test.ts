import { describe, expect, it } from "vitest";
import { findRawAccountIds, findSecrets, redact } from "../../../src/store/index.ts";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXZhbHVl";
const FAKE_HASHES: Record<string, string> = {
  U1234567: `111111111111${"0".repeat(52)}`,
  DU1111111: `222222222222${"0".repeat(52)}`,
  U2222222: `333333333333${"0".repeat(52)}`,
};
const hashAccountId = (id: string) => FAKE_HASHES[id] ?? "f".repeat(64);

describe("redact", () => {
  it("walks nested objects and lists and scrubs keys, token-looking values and account ids", () => {
    const input = {
      details: {
        headers: [
          { name: "Authorization", value: "Bearer abcdefghijklmnop" },
          { name: "Set-Cookie", value: "Set-Cookie: JSESSIONID=abc123; Path=/" },
        ],
        nested: { deeper: { session_token: "xyz", note: `token is ${JWT} ok` } },
        account_id: "U1234567",
        accounts: ["DU1111111", "U2222222"],
        message: "Order for account U7654321 rejected",
        request_id: "req_0190f5c2-1234-7abc-8def-0123456789ab",
        token_id_hash: "c".repeat(64),
        api_key_hash: "not-a-digest",
        blob: `${"Z".repeat(20)}1234567890${"y".repeat(20)}`,
        hex: "deadbeef".repeat(5),
        url: "https://user:pass@example.com/cb?code=abc123&state=ok",
        cookies: ["a", "b"],
        count: 3,
        ok: true,
        none: null,
      },
    };
    const snapshot = JSON.stringify(input);
    const result = redact(input, { path: "metadata", hashAccountId });
    expect(result.value).toEqual({
      details: {
        headers: [
          { name: "Authorization", value: "[REDACTED:bearer]" },
          { name: "Set-Cookie", value: "[REDACTED:cookie_header]" },
        ],
        nested: { deeper: { session_token: "[REDACTED]", note: "token is [REDACTED:jwt] ok" } },
        account_id: "[ACCOUNT:111111111111]",
        accounts: ["[ACCOUNT:222222222222]", "[ACCOUNT:333333333333]"],
        message: "Order for account [ACCOUNT] rejected",
        request_id: "req_0190f5c2-1234-7abc-8def-0123456789ab",
        token_id_hash: "c".repeat(64),
        api_key_hash: "[REDACTED]",
        blob: "[REDACTED:long_base64]",
        hex: "[REDACTED:long_hex]",
        url: "[REDACTED:url_credentials]example.com/cb[REDACTED:query_secret]&state=ok",
        cookies: "[REDACTED]",
        count: 3,
        ok: true,
        none: null,
      },
    });
    expect(result.redactions).toEqual([
      { field_path: "metadata.details.headers[0].value", reason: "sensitive_value:bearer" },
      { field_path: "metadata.details.headers[1].value", reason: "sensitive_value:cookie_header" },
      { field_path: "metadata.details.nested.deeper.session_token", reason: "sensitive_key" },
      { field_path: "metadata.details.nested.deeper.note", reason: "sensitive_value:jwt" },
      { field_path: "metadata.details.account_id", reason: "account_id" },
      { field_path: "metadata.details.accounts[0]", reason: "account_id" },
      { field_path: "metadata.details.accounts[1]", reason: "account_id" },
      { field_path: "metadata.details.message", reason: "sensitive_value:account_id_value" },
      { field_path: "metadata.details.api_key_hash", reason: "sensitive_key" },
      { field_path: "metadata.details.blob", reason: "sensitive_value:long_base64" },
      { field_path: "metadata.details.hex", reason: "sensitive_value:long_hex" },
      { field_path: "metadata.details.url", reason: "sensitive_value:url_credentials" },
      { field_path: "metadata.details.url", reason: "sensitive_value:query_secret" },
      { field_path: "metadata.details.cookies", reason: "sensitive_key" },
    ]);
    expect(JSON.stringify(input)).toBe(snapshot);
  });

  it("marks account ids without a hasher, scrubs account ids used as keys, and never keeps a private key", () => {
    const result = redact({
      "U1234567.Core": { dpl: 1 },
      acct: 1234567,
      pem: "-----BEGIN RSA PRIVATE KEY-----\nMIIB",
      raw: Buffer.from("secret bytes"),
    });
    expect(result.value).toEqual({
      "[ACCOUNT].Core": { dpl: 1 },
      acct: "[ACCOUNT]",
      pem: "[REDACTED:private_key_block]\nMIIB",
      raw: "[REDACTED]",
    });
    expect(result.redactions).toEqual([
      { field_path: "[ACCOUNT].Core", reason: "sensitive_value" },
      { field_path: "acct", reason: "account_id" },
      { field_path: "pem", reason: "sensitive_value:private_key_block" },
      { field_path: "raw", reason: "sensitive_value" },
    ]);
  });

  it("truncates long strings and deep nesting", () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 10; i += 1) deep = { level: deep };
    const long = "ab ".repeat(2000);
    const result = redact({ deep, long, reason: "x ".repeat(300) }, { maxCharsByKey: { reason: 10 } });
    const value = result.value as { deep: unknown; long: string; reason: string };
    expect(value.long).toBe(`${long.slice(0, 4096)}...[TRUNCATED]`);
    expect(value.reason).toBe("x x x x x ...[TRUNCATED]");
    expect(JSON.stringify(value.deep)).toBe(
      '{"level":{"level":{"level":{"level":{"level":{"level":{"level":"[TRUNCATED]"}}}}}}}',
    );
    expect(result.redactions).toEqual([
      { field_path: "deep.level.level.level.level.level.level.level", reason: "too_deep" },
      { field_path: "long", reason: "too_long" },
      { field_path: "reason", reason: "too_long" },
    ]);
  });

  it("leaves ordinary values alone", () => {
    const value = { symbol: "AAPL", conid: 265598, side: "BUY", price: "199.50", note: "basic" };
    expect(redact(value)).toEqual({ value, redactions: [] });
  });
});

describe("redact, called again and again", () => {
  it("scrubs a short secret-looking value every time, however many clean values came before it", () => {
    // Clean short strings are remembered (redaction.ts CLEAN_STRINGS); a value that matches a pattern must
    // never be taken for one of them, and the memo filling up and starting over changes nothing.
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 5000; i += 1)
        expect(redact({ note: `buy ${i}` }).value).toEqual({ note: `buy ${i}` });
      expect(redact({ note: "U1234567" })).toEqual({
        value: { note: "[ACCOUNT]" },
        redactions: [{ field_path: "note", reason: "sensitive_value:account_id_value" }],
      });
      expect(redact({ note: "buy 1" }).redactions).toEqual([]);
    }
  });
});

describe("findRawAccountIds", () => {
  it("finds raw ids under account keys and in text, and accepts hashes and markers", () => {
    expect(
      findRawAccountIds({
        account_id: "U1234567",
        nested: [{ text: "sent to DU7654321" }],
        accounts: ["[ACCOUNT]", "[ACCOUNT:0123456789ab]"],
        account_id_hash: "a".repeat(64),
      }),
    ).toEqual(["account_id", "nested[0].text"]);
  });
});

describe("findSecrets", () => {
  const value = {
    headers: [{ name: "Authorization", value: "Bearer abcdefghijklmnop" }],
    nested: { session_token: "xyz", note: `token ${JWT} and ?code=abc123` },
    account_id: "U1234567",
    message: "Order for account U7654321 rejected",
    token_id_hash: "c".repeat(64),
    request_id: "req_0190f5c2-1234-7abc-8def-0123456789ab",
    "U1234567.Core": { dpl: 1 },
    raw: Buffer.from("secret bytes"),
    list: ["plain", "deadbeef".repeat(5)],
  };

  it("names every secret-looking value once per pattern that matched it, but no account id", () => {
    expect(findSecrets(value)).toEqual([
      "headers[0].value",
      "nested.session_token",
      "nested.note",
      "nested.note",
      "[ACCOUNT].Core",
      "raw",
      "list[1]",
    ]);
    expect(
      findSecrets({ symbol: "AAPL", price: "199.50", order_id: "0190f5c2-1234-7abc-8def-0123456789ab" }),
    ).toEqual([]);
  });

  it("reports exactly the paths redact() gives a secret reason (one walk, two uses)", () => {
    const secretPaths = (input: unknown) =>
      redact(input)
        .redactions.filter(
          (r) =>
            r.reason === "sensitive_key" ||
            (r.reason.startsWith("sensitive_value") && r.reason !== "sensitive_value:account_id_value"),
        )
        .map((r) => r.field_path);
    let deep: unknown = { api_key: "k" };
    for (let i = 0; i < 10; i += 1) deep = { level: deep };
    for (const input of [
      value,
      deep,
      [JWT, { accounts: ["U1234567", { token: 1 }] }],
      `Bearer ${"x".repeat(20)}`,
    ]) {
      expect(findSecrets(input)).toEqual(secretPaths(input));
    }
  });
});
