// The session state machine of the Client Portal Gateway, as pure functions: what the broker's answers mean,
// which calls each state blocks, and the honest message plus the manual step a person must take. Login is
// never automated, so every state but `authenticated` names a human action.
import type { CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";
import { toRfc3339 } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import type { Coordination } from "./coordination.ts";

export type SessionState =
  | "not_running"
  | "no_session"
  | "sso_only"
  | "authenticated"
  | "competing"
  | "expired";

export interface SessionStatus {
  readonly state: SessionState;
  readonly authenticated: boolean;
  readonly competing: boolean;
  readonly connected: boolean;
  /** What is going on, in our words (never the broker's text). */
  readonly message: string;
  /** What a person must do, or null when nothing is needed. */
  readonly manualAction: string | null;
  readonly checkedAt: string;
}

/** Session endpoints: they report the state, so the session gate and the pre-flights never apply to them. */
export const SESSION_OPERATIONS: ReadonlySet<string> = new Set([
  "getAuthStatus",
  "postAuthStatus",
  "getTickle",
  "postTickle",
  "initBrokerageSession",
  "validateSso",
  "logout",
]);

export interface SessionContext {
  /** host:port of the gateway. */
  readonly where: string;
  /** Where a person logs in (the gateway's own page). */
  readonly loginUrl: string;
  readonly allowSessionInit: boolean;
}

/** Why the gateway is unreachable, when it is. */
export type Unreachable = "refused" | "tls" | "timeout" | "server_error" | "other";

export interface Observed {
  readonly state: SessionState;
  readonly authenticated: boolean;
  readonly competing: boolean;
  readonly connected: boolean;
  readonly unreachable?: Unreachable;
}

interface AuthStatusLike {
  authenticated?: unknown;
  competing?: unknown;
  connected?: unknown;
}

/** State from an /iserver/auth/status body (or tickle's iserver.authStatus). */
export function stateFromAuthStatus(auth: AuthStatusLike, collision = false): Observed {
  const authenticated = auth.authenticated === true;
  const competing = auth.competing === true || collision;
  const connected = auth.connected === true;
  if (competing) return { state: "competing", authenticated: false, competing: true, connected };
  if (authenticated && connected) return { state: "authenticated", authenticated, competing, connected };
  return { state: "sso_only", authenticated: false, competing, connected };
}

export function unauthenticated(wasAuthenticated: boolean): Observed {
  return {
    state: wasAuthenticated ? "expired" : "no_session",
    authenticated: false,
    competing: false,
    connected: false,
  };
}

export function notRunning(unreachable: Unreachable): Observed {
  return { state: "not_running", authenticated: false, competing: false, connected: false, unreachable };
}

function describe(
  observed: Observed,
  context: SessionContext,
): { message: string; manualAction: string | null } {
  const { where, loginUrl } = context;
  switch (observed.state) {
    case "authenticated":
      return { message: "The brokerage session is authenticated.", manualAction: null };
    case "sso_only":
      return {
        message:
          "The gateway is logged in, but its brokerage session is not connected (another login, the nightly reset or a network break may have ended it).",
        manualAction: context.allowSessionInit
          ? `Run \`ibkr-agent session renew\` to start the brokerage session, or log in again at ${loginUrl} in a browser on the machine where the gateway runs.`
          : `Log in again at ${loginUrl} in a browser on the machine where the gateway runs (starting the brokerage session from here is off: \`broker.allow_session_init\`).`,
      };
    case "competing":
      return {
        message:
          "Another IBKR platform (TWS, IBKR Mobile or another gateway) holds the brokerage session for this username.",
        manualAction: `Log out of the other platform and log in again at ${loginUrl}, or take the session over with \`ibkr-agent session renew --compete\` (this disconnects the other platform${context.allowSessionInit ? "" : "; needs `broker.allow_session_init: true`"}).`,
      };
    case "no_session":
      return {
        message: `The Client Portal Gateway at ${where} runs, but nobody is logged in.`,
        manualAction: `Open ${loginUrl} in a browser on the machine where the gateway runs and log in; the gateway never logs in for you.`,
      };
    case "expired":
      return {
        message: `The session of the Client Portal Gateway at ${where} ended (idle timeout, the 24-hour limit or the broker's nightly reset).`,
        manualAction: `Log in again at ${loginUrl} in a browser on the machine where the gateway runs.`,
      };
    case "not_running":
      switch (observed.unreachable) {
        case "tls":
          return {
            message: `The TLS certificate of the Client Portal Gateway at ${where} is not trusted.`,
            manualAction:
              "Pin the gateway's certificate with `broker.ca_file`, or for a gateway on this machine set `broker.allow_insecure_tls_for_localhost: true`.",
          };
        case "server_error":
          return {
            message: `The Client Portal Gateway at ${where} runs, but IBKR's servers are not answering it (restart or maintenance).`,
            manualAction: "Wait a few minutes and check again with `ibkr-agent session status`.",
          };
        case "timeout":
          return {
            message: `The Client Portal Gateway at ${where} did not answer in time.`,
            manualAction: `Check that the gateway process at ${where} is healthy (restart it if it hangs), then log in at ${loginUrl}.`,
          };
        default:
          return {
            message: `The Client Portal Gateway is not running at ${where}.`,
            manualAction: `Start the Client Portal Gateway so it listens at ${where}, then log in at ${loginUrl} in a browser.`,
          };
      }
  }
}

export function toStatus(observed: Observed, context: SessionContext, now: number): SessionStatus {
  const { message, manualAction } = describe(observed, context);
  return {
    state: observed.state,
    authenticated: observed.authenticated,
    competing: observed.competing,
    connected: observed.connected,
    message,
    manualAction,
    checkedAt: toRfc3339(now),
  };
}

/** Whether a call of `operation` cannot succeed in `state`. */
export function stateBlocks(state: SessionState, operation: CpapiOperationSpec): boolean {
  if (SESSION_OPERATIONS.has(operation.operationId)) return false;
  switch (state) {
    case "authenticated":
      return false;
    case "sso_only":
    case "competing":
      // The SSO session still serves /portfolio and /trsrv; only brokerage calls need more.
      return operation.requires.includes("brokerage-session");
    default:
      return true;
  }
}

/** The error a blocked call gets, carrying the manual action of the state. */
export function gateError(observed: Observed, context: SessionContext, now: number): GatewayError {
  const status = toStatus(observed, context, now);
  const details = { session_state: status.state, checked_at: status.checkedAt };
  const userAction = status.manualAction ?? undefined;
  switch (status.state) {
    case "competing":
      return new GatewayError("BROKER_SESSION_COMPETING", { userAction, details });
    case "not_running":
      return new GatewayError("BROKER_BACKEND_UNAVAILABLE", { message: status.message, userAction, details });
    case "expired":
      // Once logged in, now not: the daily reset or the 24-hour limit, which a person fixes by logging in.
      return new GatewayError("BROKER_SESSION_EXPIRED", { userAction, details });
    default:
      return new GatewayError("BROKER_SESSION_REQUIRED", { userAction, details });
  }
}

/** The last session state any process observed, kept in the coordination file. */
export interface SharedSession extends Observed {
  readonly checkedAt: number;
}

export type PreflightKind = "iserver" | "portfolio";

export interface SessionBook {
  read(): SharedSession | null;
  /** Records an observation; a state other than authenticated voids the pre-flights it invalidates. */
  record(observed: Observed, now: number): void;
  wasAuthenticated(): boolean;
  preflightDone(kind: PreflightKind): boolean;
  markPreflight(kind: PreflightKind, now: number): void;
  clearPreflight(kind: PreflightKind): void;
}

const SESSION_KEY = "session";
const LAST_AUTHENTICATED_KEY = "last_authenticated_at";
const preflightKey = (kind: PreflightKind) => `preflight:${kind}`;

export function createSessionBook(coordination: Coordination): SessionBook {
  return {
    read: () => coordination.getValue<SharedSession>(SESSION_KEY) ?? null,
    record(observed, now) {
      coordination.transaction(() => {
        coordination.setValue(SESSION_KEY, { ...observed, checkedAt: now } satisfies SharedSession, now);
        if (observed.state === "authenticated") {
          coordination.setValue(LAST_AUTHENTICATED_KEY, now, now);
          return;
        }
        // A brokerage session that is not authenticated has to be pre-flighted again when it comes back;
        // without the SSO session even /portfolio starts over.
        coordination.deleteValue(preflightKey("iserver"));
        if (observed.state !== "sso_only" && observed.state !== "competing") {
          coordination.deleteValue(preflightKey("portfolio"));
        }
      });
    },
    wasAuthenticated: () => coordination.getValue<number>(LAST_AUTHENTICATED_KEY) !== undefined,
    preflightDone: (kind) => coordination.getValue<number>(preflightKey(kind)) !== undefined,
    markPreflight: (kind, now) => coordination.setValue(preflightKey(kind), now, now),
    clearPreflight: (kind) => coordination.deleteValue(preflightKey(kind)),
  };
}
