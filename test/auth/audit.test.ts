// Authentication outcomes in the audit log: successes with their hashed identity, denials coalesced per
// client address hash and error code per minute, with the held-back count reported, never lost.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthAuditor, type Denial } from "../../src/auth/index.ts";
import { createManualClock } from "../../src/core/clock.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { tempDir } from "../support/mcp-http.ts";

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = tempDir("ibkr-auth-audit-");
  dirs.push(dir);
  const clock = createManualClock(Date.UTC(2026, 0, 5, 12, 0, 0));
  const store = openStore({
    path: join(dir, "state.sqlite"),
    secrets: { auditSecret: "a".repeat(40) },
    clock,
  });
  stores.push(store);
  const auditor = createAuthAuditor({ store, clock });
  const denied = () =>
    [...store.exportEvents()]
      .filter((event) => event.event_type === "auth_denied")
      .map((event) => [
        event.error_code,
        event.metadata.client_address_hash,
        event.metadata.suppressed_count,
      ]);
  return { clock, store, auditor, denied };
}

const context = { requestId: "req_1", sessionId: "ses_1" };
const denial = (addressHash: string, code: Denial["code"] = "AUTH_TOKEN_INVALID"): Denial => ({
  code,
  check: "signature",
  httpStatus: 401,
  addressHash,
});

describe("createAuthAuditor", () => {
  it("writes one denial per address hash and code per minute and reports the rest as suppressed_count", () => {
    const { clock, auditor, denied } = setup();
    for (let i = 0; i < 5; i += 1) auditor.denied(context, denial("a".repeat(64)));
    auditor.denied(context, denial("a".repeat(64), "AUTH_TOKEN_EXPIRED"));
    auditor.denied(context, denial("b".repeat(64)));
    expect(denied()).toEqual([
      ["AUTH_TOKEN_INVALID", "a".repeat(64), 0],
      ["AUTH_TOKEN_EXPIRED", "a".repeat(64), 0],
      ["AUTH_TOKEN_INVALID", "b".repeat(64), 0],
    ]);
    clock.advance(60_000);
    auditor.denied(context, denial("a".repeat(64)));
    expect(denied().slice(-1)).toEqual([["AUTH_TOKEN_INVALID", "a".repeat(64), 4]]);
  });

  it("writes the counts still held back when flushed, so none is lost at shutdown", () => {
    const { auditor, denied } = setup();
    for (let i = 0; i < 3; i += 1) auditor.denied(context, denial("c".repeat(64)));
    auditor.flush();
    expect(denied()).toEqual([
      ["AUTH_TOKEN_INVALID", "c".repeat(64), 0],
      ["AUTH_TOKEN_INVALID", "c".repeat(64), 2],
    ]);
  });

  it("records the principal and scopes when the caller is known, anonymous otherwise", () => {
    const { store, auditor } = setup();
    auditor.denied(context, denial("d".repeat(64)));
    auditor.denied(context, {
      ...denial("e".repeat(64), "AUTH_SESSION_MISMATCH"),
      check: "session",
      principal: `oauth:${"f".repeat(64)}`,
      scopes: ["ibkr:health:read"],
    });
    const events = [...store.exportEvents()].map((event) => [
      event.principal,
      event.scopes,
      event.front_door,
    ]);
    expect(events).toEqual([
      ["anonymous", undefined, "mcp_http"],
      [`oauth:${"f".repeat(64)}`, ["ibkr:health:read"], "mcp_http"],
    ]);
  });
});
