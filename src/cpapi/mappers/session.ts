// Session health for ibkr_backend_status, ibkr_session_requirements and ibkr_session_renew, from what the
// broker said: whether the gateway answered, the tickle (SSO session, ssoExpires in ms, the misspelled
// `collission`) and the brokerage auth status. Session problems are data here, not errors. The tickle's
// `session` id and the user id are never copied out.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { cap, cappedText, compact, isRecord, text, UNTRUSTED_TEXT_CAP, type WireRecord } from "./common.ts";

export type BackendStatusResult = Omit<ToolOutput<"ibkr_backend_status">, "source">;
export type SessionRequirementsResult = Omit<ToolOutput<"ibkr_session_requirements">, "source">;
export type SessionRenewResult = Omit<ToolOutput<"ibkr_session_renew">, "source">;
export type BackendState = BackendStatusResult["state"];

export interface SessionProbe {
  /** False when the gateway did not answer at all (connection refused, TLS failure, timeout). */
  readonly gatewayReachable: boolean;
  /** HTTP status of the tickle when the gateway answered; 401 means nobody is logged in. */
  readonly tickleStatus?: number;
  /** The tickle body (getTickle / postTickle) when it answered. */
  readonly tickle?: unknown;
  /**
   * /iserver/auth/status body (or the initBrokerageSession answer after a renew), when read. It is fresher
   * than the tickle's iserver.authStatus and wins over it.
   */
  readonly authStatus?: unknown;
}

interface Reading {
  readonly state: BackendState;
  readonly gatewayReachable: boolean;
  readonly loggedIn: boolean;
  readonly authenticated: boolean;
  readonly connected: boolean;
  readonly competing: boolean;
  readonly expiresInSeconds?: number;
  readonly serverVersion?: string;
  readonly brokerMessage?: string;
}

function authOf(probe: SessionProbe, tickle: WireRecord | undefined): WireRecord | undefined {
  if (isRecord(probe.authStatus)) return probe.authStatus;
  const iserver = tickle?.iserver;
  return isRecord(iserver) && isRecord(iserver.authStatus) ? iserver.authStatus : undefined;
}

/** One reading of the session from the probe; every tool of this file derives from it. */
export function readSession(probe: SessionProbe): Reading {
  if (!probe.gatewayReachable) {
    return {
      state: "gateway_unreachable",
      gatewayReachable: false,
      loggedIn: false,
      authenticated: false,
      connected: false,
      competing: false,
    };
  }
  const tickle = isRecord(probe.tickle) ? probe.tickle : undefined;
  const tickleError = text(tickle?.error);
  const auth = authOf(probe, tickle);
  const authenticated = auth?.authenticated === true;
  const connected = auth?.connected === true;
  const competing = auth?.competing === true || tickle?.collission === true || tickle?.collision === true;
  // 401 or {"error":"no session"} mean no SSO login; a brokerage session that says authenticated implies one.
  const loggedIn =
    authenticated || (probe.tickleStatus !== 401 && tickle !== undefined && tickleError === undefined);
  let state: BackendState;
  if (!loggedIn) state = "login_required";
  else if (competing) state = "competing";
  else if (authenticated && connected) state = "ready";
  else state = "brokerage_session_required";
  const expires =
    typeof tickle?.ssoExpires === "number" ? Math.max(0, Math.floor(tickle.ssoExpires / 1000)) : undefined;
  const serverInfo = isRecord(auth?.serverInfo) ? auth.serverInfo : undefined;
  const message = text(auth?.message) ?? text(auth?.fail) ?? tickleError;
  return compact({
    state,
    gatewayReachable: true,
    loggedIn,
    authenticated,
    connected,
    competing,
    expiresInSeconds: loggedIn ? expires : undefined,
    serverVersion: cappedText(serverInfo?.serverVersion, 200),
    brokerMessage: message === undefined ? undefined : cap(message, UNTRUSTED_TEXT_CAP),
  });
}

/** ibkr_backend_status from a SessionProbe (getTickle and getAuthStatus). */
export function mapBackendStatus(probe: SessionProbe, ctx: { readonly nowMs: number }): BackendStatusResult {
  const r = readSession(probe);
  return compact({
    state: r.state,
    gateway_reachable: r.gatewayReachable,
    logged_in: r.loggedIn,
    brokerage_authenticated: r.authenticated,
    brokerage_connected: r.connected,
    competing: r.competing,
    session_expires_in_seconds: r.expiresInSeconds,
    server_version: r.serverVersion,
    broker_message: r.brokerMessage,
    checked_at: toRfc3339(ctx.nowMs),
  });
}

export interface RequirementsContext {
  readonly nowMs: number;
  /** Where the user logs in (the gateway's own page), for the instructions. */
  readonly loginUrl?: string;
}

type Step = SessionRequirementsResult["steps"][number];

function stepsFor(state: BackendState, loginUrl: string | undefined): Step[] {
  const where = loginUrl === undefined ? "the Client Portal Gateway's login page" : loginUrl;
  const login: Step = {
    action: "browser_login",
    instruction: `Open ${where} in a browser on the machine where the gateway runs and log in to IBKR. The gateway never logs in for you.`,
  };
  const renew: Step = {
    action: "renew_session",
    instruction:
      "Reopen the brokerage session with `ibkr-agent session renew`; if it stays closed, log in again in the browser.",
  };
  switch (state) {
    case "ready":
      return [];
    case "gateway_unreachable":
      return [
        {
          action: "start_gateway",
          instruction:
            "Start the Client Portal Gateway so it listens at the address in the configuration (broker.base_url).",
        },
        login,
      ];
    case "login_required":
      return [login];
    case "brokerage_session_required":
      return [renew];
    case "competing":
      return [
        {
          action: "close_competing_session",
          instruction:
            "Log out of TWS, IBKR Mobile or any other IBKR platform that uses the same username; only one can hold the trading session.",
        },
        renew,
      ];
  }
}

/** ibkr_session_requirements from a SessionProbe: the steps the user must take, in order. */
export function mapSessionRequirements(
  probe: SessionProbe,
  ctx: RequirementsContext,
): SessionRequirementsResult {
  const r = readSession(probe);
  return {
    ready: r.state === "ready",
    state: r.state,
    steps: stepsFor(r.state, ctx.loginUrl),
    checked_at: toRfc3339(ctx.nowMs),
  };
}

/**
 * ibkr_session_renew from the probe taken after the keep-alive (postTickle) and, when it ran,
 * initBrokerageSession / getAuthStatus. An initBrokerageSession answer of 200 with authenticated false is a
 * failed renew. The workflow turns login_required into BROKER_SESSION_REQUIRED as the tool contract says.
 */
export function mapSessionRenew(probe: SessionProbe, ctx: { readonly nowMs: number }): SessionRenewResult {
  const r = readSession(probe);
  return compact({
    renewed: r.state === "ready",
    state: r.state,
    brokerage_authenticated: r.authenticated,
    competing: r.competing,
    session_expires_in_seconds: r.expiresInSeconds,
    renewed_at: toRfc3339(ctx.nowMs),
  });
}
