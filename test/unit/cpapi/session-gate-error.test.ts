// The refusal a call gets while the session cannot serve it: one code per session state, so an agent (and
// its user) can tell "log in again, the session expired" from "nobody ever logged in" or "TWS took it".
import { describe, expect, it } from "vitest";
import { gateError, stateFromAuthStatus, unauthenticated } from "../../../src/cpapi/session-state.ts";

const CONTEXT = {
  where: "localhost:5000",
  loginUrl: "https://localhost:5000/",
  allowSessionInit: false,
};

describe("gateError", () => {
  it.each([
    ["a session that had been seen and is gone", unauthenticated(true), "BROKER_SESSION_EXPIRED"],
    ["no session yet", unauthenticated(false), "BROKER_SESSION_REQUIRED"],
    [
      "an SSO-only session",
      stateFromAuthStatus({ authenticated: false, competing: false, connected: true }),
      "BROKER_SESSION_REQUIRED",
    ],
    [
      "another login competing",
      stateFromAuthStatus({ authenticated: false, competing: true, connected: true }),
      "BROKER_SESSION_COMPETING",
    ],
  ])("%s -> %s", (_name, observed, code) => {
    const error = gateError(observed, CONTEXT, Date.UTC(2026, 11, 1, 15));
    expect(error.code).toBe(code);
    expect(error.userAction).toContain("https://localhost:5000/");
    expect(error.details).toMatchObject({ session_state: observed.state });
  });
});
