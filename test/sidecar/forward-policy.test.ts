// What may cross the relay: ordinary tool arguments pass; anything that looks like a bearer token, a JWT, a
// broker cookie, a credential or a path on someone's disk is refused with its path (never its value), by
// the same screen at both ends; and the sidecar runs only the tiers its configuration accepts.
import { describe, expect, it } from "vitest";
import {
  acceptedTiers,
  assertForwardable,
  assertTierAccepted,
  type ForwardedCall,
  knownScopes,
  screenForwardedCall,
  toolTier,
} from "../../src/sidecar/forward-policy.ts";

const JWT =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIyNDgyODk3NjEwMDEiLCJzY29wZSI6Imlia3IifQ.c2lnbmF0dXJlLWJ5dGVz";

function call(args: Record<string, unknown>, tool = "ibkr_positions_list"): ForwardedCall {
  return { tool, arguments: args, granted_scopes: ["ibkr:positions:read"] };
}

function refusal(c: ForwardedCall, side: "remote" | "sidecar" = "remote") {
  try {
    assertForwardable(c, side);
  } catch (error) {
    return error as { code: string; message: string; details: Record<string, unknown> };
  }
  return undefined;
}

describe("the payload screen", () => {
  it.each([
    ["an account and paging", { account_id: "DU1234567", page: 0 }],
    ["a contract and a period", { conid: "265598", period: "1d", bar: "5min" }],
    ["a symbol with a slash, and a one-segment future", { symbol: "BRK/B", other: "/ES" }],
    ["an order", { account_id: "U1234567", side: "buy", quantity: "10", limit_price: "190.50" }],
    ["an idempotency key with dashes", { idempotency_key: "ord-2026-11-24-0001" }],
    // Caller-chosen keys look opaque by design: 32 hex (a random key) or a long descriptive one.
    ["an idempotency key of 32 hex", { idempotency_key: "0123456789abcdef0123456789abcdef" }],
    ["a long descriptive idempotency key", { idempotency_key: "order-2026-12-01-aapl-buy-10-limit-265-v1" }],
    [
      "a preview id and an audit hash",
      { preview_id: "pv_01JD8X7Q2M3N4P5R6S7T8V9W0X", account_id_hash: "a".repeat(64) },
    ],
    ["a reason in words", { reason: "end of the trading day, see the runbook" }],
  ])("lets %s through", (_name, args) => {
    expect(screenForwardedCall(call(args))).toEqual([]);
    expect(refusal(call(args))).toBeUndefined();
  });

  it.each([
    ["a JWT (an MCP bearer token)", { note: JWT }, "arguments.note", "secret"],
    ["an Authorization value", { note: "Bearer abcdef0123456789abcdef" }, "arguments.note", "secret"],
    ["an opaque token", { memo: "q8ZrT2mXk9vL4pW7sN1bY6cH3jF5dG0aQeRtUyIoPlKj" }, "arguments.memo", "secret"],
    [
      "a broker cookie header",
      { memo: "Cookie: JSESSIONID=abc; x-sess-uuid=0.1" },
      "arguments.memo",
      "secret",
    ],
    ["a session id in hex", { memo: "5f0c1e9a7b3d4c2e8f6a1b0c9d8e7f6a" }, "arguments.memo", "secret"],
    ["a key named like a secret", { password: "hunter2" }, "arguments.password", "secret"],
    // The idempotency key's exemption lifts only the "looks opaque" patterns, never the JWT one.
    ["a JWT as the idempotency key", { idempotency_key: JWT }, "arguments.idempotency_key", "secret"],
    [
      "a hex session id under another key",
      { client_ref: "0123456789abcdef0123456789abcdef" },
      "arguments.client_ref",
      "secret",
    ],
    ["a nested cookie key", { legs: [{ cookie: "x" }] }, "arguments.legs[0].cookie", "secret"],
    ["credentials in a URL", { link: "https://user:pass@example.com/" }, "arguments.link", "secret"],
    ["a private key", { memo: "-----BEGIN PRIVATE KEY-----\nMC4C" }, "arguments.memo", "secret"],
    ["an absolute POSIX path", { memo: "/home/alice/.ibkr-agent/profiles" }, "arguments.memo", "local_path"],
    ["a home-relative path", { memo: "~/notes/orders.txt" }, "arguments.memo", "local_path"],
    ["a macOS home inside text", { memo: "see /Users/alice/Desktop" }, "arguments.memo", "local_path"],
    ["a Windows path", { memo: "C:\\Users\\alice\\key.pem" }, "arguments.memo", "local_path"],
    ["a UNC share", { memo: "\\\\fileserver\\share\\x" }, "arguments.memo", "local_path"],
    ["a file: URL", { memo: "file:///etc/passwd" }, "arguments.memo", "local_path"],
    ["a key that names a file", { config_file: "x.yaml" }, "arguments.config_file", "local_path"],
    ["a key that names a path", { outputPath: "x" }, "arguments.outputPath", "local_path"],
  ])("refuses %s, naming the path only", (_name, args, path, reason) => {
    const c = call(args as Record<string, unknown>);
    expect(screenForwardedCall(c)[0]).toEqual({ path, reason });
    const error = refusal(c);
    expect(error?.code).toBe("SIDECAR_PAYLOAD_REFUSED");
    expect(error?.details.unsafe_key_path).toBe(path);
    expect(error?.details.reason).toBe(reason);
    // The value itself is never repeated.
    const text = JSON.stringify({ message: error?.message, details: error?.details });
    for (const value of Object.values(args)) {
      if (typeof value === "string" && value.length > 3) expect(text).not.toContain(value);
    }
  });

  it("screens the granted scopes and the tool name too", () => {
    const smuggled = { tool: "ibkr_positions_list", arguments: {}, granted_scopes: [`ibkr:read ${JWT}`] };
    expect(screenForwardedCall(smuggled).map((f) => f.path)).toEqual(["granted_scopes[0]"]);
  });

  it("says which end refused", () => {
    const c = call({ note: JWT });
    expect(refusal(c, "remote")?.message).toContain("not forwarded");
    expect(refusal(c, "sidecar")?.message).toContain("sidecar refused");
    expect(refusal(c, "sidecar")?.details.side).toBe("sidecar");
  });

  it("lists every unsafe path in order", () => {
    const c = call({ b: "/etc/hosts", a: JWT, z: { token: "x" } });
    expect(screenForwardedCall(c)).toEqual([
      { path: "arguments.a", reason: "secret" },
      { path: "arguments.b", reason: "local_path" },
      { path: "arguments.z.token", reason: "secret" },
    ]);
  });
});

describe("the tier policy", () => {
  it("accepts read and preview by default and refuses paper with the key to change", () => {
    const accepted = ["read", "preview"];
    expect(assertTierAccepted("ibkr_positions_list", accepted)).toBe("read");
    expect(assertTierAccepted("ibkr_order_preview", accepted)).toBe("preview");
    let error:
      | { code: string; message: string; userAction: string; details: Record<string, unknown> }
      | undefined;
    try {
      assertTierAccepted("ibkr_paper_order_submit", accepted);
    } catch (thrown) {
      error = thrown as typeof error;
    }
    expect(error?.code).toBe("SIDECAR_TIER_REFUSED");
    expect(error?.message).toBe(
      "The sidecar does not run paper tools over the relay (it accepts read, preview); ibkr_paper_order_submit was not run.",
    );
    expect(error?.userAction).toContain("sidecar.accepted_tiers");
    expect(error?.userAction).toContain("paper_trading");
    expect(error?.details).toEqual({ tier: "paper", accepted_tiers: ["read", "preview"] });
  });

  it("accepts paper and live only when listed", () => {
    expect(assertTierAccepted("ibkr_paper_order_submit", ["read", "paper"])).toBe("paper");
    expect(() => assertTierAccepted("ibkr_live_order_submit", ["read", "paper"])).toThrow(/live tools/);
    expect(assertTierAccepted("ibkr_live_order_submit", ["live"])).toBe("live");
  });

  it("refuses a name that is no tool", () => {
    expect(() => assertTierAccepted("ibkr_shell", ["read"])).toThrow(
      expect.objectContaining({ code: "INPUT_UNKNOWN_TOOL" }),
    );
    expect(toolTier("ibkr_shell")).toBeUndefined();
  });

  it("reads the accepted tiers of a config in catalogue order, and keeps only catalogue scopes", () => {
    expect(acceptedTiers({ accepted_tiers: ["paper", "read"] })).toEqual(["read", "paper"]);
    expect(knownScopes(["ibkr:positions:read", "admin:*"])).toEqual(["ibkr:positions:read"]);
  });
});
