// The logger never writes secrets, whatever a caller hands it.
import { describe, expect, it } from "vitest";
import { createLogger, scrubForLog } from "../../../src/core/logger.ts";

describe("logger", () => {
  it("scrubs secret keys and secret-looking values at any depth", () => {
    expect(
      scrubForLog({
        authorization: "Bearer abcdefghijklmnop",
        nested: { cookie: "x=1", list: ["token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"] },
        note: "ok",
      }),
    ).toEqual({
      authorization: "[REDACTED]",
      nested: { cookie: "[REDACTED]", list: ["token [REDACTED]"] },
      note: "ok",
    });
  });

  it("never writes an account id, in values or in free text", () => {
    expect(scrubForLog({ account: "DU1234567", message: "order for U7654321 refused", count: 5 })).toEqual({
      account: "[ACCOUNT]",
      message: "order for [ACCOUNT] refused",
      count: 5,
    });
  });

  it("writes JSON lines with bound fields, filtered by level", () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      format: "json",
      write: (l) => lines.push(l),
      now: () => 0,
    }).child({
      request_id: "req-1",
    });
    log.debug("hidden");
    log.warn("session expired", { secret_env: "IBKR_AUDIT_HMAC_SECRET" });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        time: "1970-01-01T00:00:00.000Z",
        level: "warn",
        message: "session expired",
        request_id: "req-1",
        secret_env: "[REDACTED]",
      },
    ]);
  });

  it("writes short human lines", () => {
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l) }).info("keep-alive ok", { state: "authenticated" });
    expect(lines).toEqual(["ibkr-agent info: keep-alive ok (state=authenticated)\n"]);
  });
});
