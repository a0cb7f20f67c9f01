import { describe, expect, it } from "vitest";
import {
  mapBackendStatus,
  mapSessionRenew,
  mapSessionRequirements,
  type SessionProbe,
} from "../../../src/cpapi/mappers/index.ts";
import { expectValid, fixture } from "./helpers.ts";

const NOW = { nowMs: Date.UTC(2025, 11, 16, 19, 40) };
const CHECKED = "2025-12-16T19:40:00Z";

const ready: SessionProbe = {
  gatewayReachable: true,
  tickleStatus: 200,
  tickle: fixture("getTickle.authenticated"),
  authStatus: fixture("getAuthStatus.authenticated"),
};

describe("mapBackendStatus", () => {
  it("reports a ready session without copying the session id", () => {
    const result = mapBackendStatus(ready, NOW);
    expectValid("ibkr_backend_status", result);
    expect(result).toEqual({
      state: "ready",
      gateway_reachable: true,
      logged_in: true,
      brokerage_authenticated: true,
      brokerage_connected: true,
      competing: false,
      session_expires_in_seconds: 460,
      server_version: "Build 10.37.1c, Oct 21, 2025 3:52:07 PM",
      checked_at: CHECKED,
    });
    expect(JSON.stringify(result)).not.toContain("simulated0000000");
  });

  it.each<[string, SessionProbe, string, boolean]>([
    ["unreachable", { gatewayReachable: false }, "gateway_unreachable", false],
    ["401", { gatewayReachable: true, tickleStatus: 401 }, "login_required", false],
    [
      "no session",
      { gatewayReachable: true, tickleStatus: 200, tickle: fixture("getTickle.no-session") },
      "login_required",
      false,
    ],
    [
      "brokerage down",
      {
        gatewayReachable: true,
        tickleStatus: 200,
        tickle: fixture("getTickle.not-authenticated"),
        authStatus: fixture("getAuthStatus.not-authenticated"),
      },
      "brokerage_session_required",
      true,
    ],
    [
      "competing",
      {
        gatewayReachable: true,
        tickleStatus: 200,
        tickle: fixture("getTickle.authenticated"),
        authStatus: fixture("getAuthStatus.competing"),
      },
      "competing",
      true,
    ],
    [
      "collision on the tickle",
      {
        gatewayReachable: true,
        tickleStatus: 200,
        tickle: { ...(fixture("getTickle.authenticated") as object), collission: true },
      },
      "competing",
      true,
    ],
  ])("%s -> %s", (_name, probe, state, loggedIn) => {
    const result = mapBackendStatus(probe, NOW);
    expectValid("ibkr_backend_status", result);
    expect(result.state).toBe(state);
    expect(result.logged_in).toBe(loggedIn);
  });

  it("keeps the broker's message as untrusted text", () => {
    const result = mapBackendStatus(
      { gatewayReachable: true, tickleStatus: 200, tickle: fixture("getTickle.no-session") },
      NOW,
    );
    expect(result.broker_message).toBe("no session");
    expect(result).not.toHaveProperty("session_expires_in_seconds");
  });
});

describe("mapSessionRequirements", () => {
  it("has no steps when ready", () => {
    const result = mapSessionRequirements(ready, NOW);
    expectValid("ibkr_session_requirements", result);
    expect(result).toEqual({ ready: true, state: "ready", steps: [], checked_at: CHECKED });
  });

  it("lists what the user must do", () => {
    const unreachable = mapSessionRequirements(
      { gatewayReachable: false },
      { ...NOW, loginUrl: "https://localhost:5000" },
    );
    expectValid("ibkr_session_requirements", unreachable);
    expect(unreachable.steps.map((s) => s.action)).toEqual(["start_gateway", "browser_login"]);
    expect(unreachable.steps[1]?.instruction).toContain("https://localhost:5000");
    const competing = mapSessionRequirements(
      {
        gatewayReachable: true,
        tickleStatus: 200,
        tickle: fixture("getTickle.authenticated"),
        authStatus: fixture("getAuthStatus.competing"),
      },
      NOW,
    );
    expectValid("ibkr_session_requirements", competing);
    expect(competing).toMatchObject({ ready: false, state: "competing" });
    expect(competing.steps.map((s) => s.action)).toEqual(["close_competing_session", "renew_session"]);
  });
});

describe("mapSessionRenew", () => {
  it("reports a renewed session after a successful init", () => {
    const result = mapSessionRenew(
      {
        gatewayReachable: true,
        tickleStatus: 200,
        tickle: fixture("postTickle.authenticated"),
        authStatus: fixture("initBrokerageSession.success"),
      },
      NOW,
    );
    expectValid("ibkr_session_renew", result);
    expect(result).toEqual({
      renewed: true,
      state: "ready",
      brokerage_authenticated: true,
      competing: false,
      session_expires_in_seconds: 399,
      renewed_at: CHECKED,
    });
  });

  it("treats an init answer with authenticated false as a failed renew", () => {
    const result = mapSessionRenew(
      {
        gatewayReachable: true,
        tickleStatus: 200,
        tickle: fixture("postTickle.authenticated"),
        authStatus: fixture("initBrokerageSession.failed"),
      },
      NOW,
    );
    expectValid("ibkr_session_renew", result);
    expect(result).toMatchObject({
      renewed: false,
      state: "competing",
      brokerage_authenticated: false,
      competing: true,
    });
  });
});
