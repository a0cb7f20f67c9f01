// Session endpoints: auth status (GET and POST), tickle (GET and POST, with the misspelled `collission`
// and ssoExpires in milliseconds), ssodh/init, logout and sso/validate.
import type { SimulatorState } from "../state.ts";
import { fail, ok, type Route, SERVER_INFO, type SimRequest, type SimResponse } from "./types.ts";

const MAC = "00:00:5E:00:53:01";
const USER_ID = 123456789;
export const USER_NAME = "simuser01";

function authStatus(state: SimulatorState, now: number): Record<string, unknown> {
  const { brokerage } = state.session.snapshot(now);
  return {
    authenticated: brokerage.authenticated,
    competing: brokerage.competing,
    connected: brokerage.connected,
    message: "",
    MAC,
    serverInfo: SERVER_INFO,
    ...(brokerage.authenticated ? { established: true, hardware_info: `00000000|${MAC}` } : {}),
  };
}

const getAuthStatus: Route = (request, state) => ok({ ...authStatus(state, request.now), fail: "" });

function tickle(request: SimRequest, state: SimulatorState): SimResponse {
  const snapshot = state.session.snapshot(request.now);
  return ok({
    session: sessionToken(state),
    ssoExpires: snapshot.ssoExpiresInMs,
    collission: snapshot.brokerage.competing,
    userId: USER_ID,
    hmds: { error: "no bridge" },
    iserver: { authStatus: authStatus(state, request.now) },
  });
}

/** A stable, obviously fake session id for this seed and brokerage session. */
export function sessionToken(state: SimulatorState): string {
  const hex = (state.seed * 2654435761 + state.epochState.epoch * 40503)
    .toString(16)
    .padStart(8, "0")
    .slice(-8);
  return `${hex}simulated0000000000000000`.slice(0, 32);
}

const initBrokerageSession: Route = (request, state) => {
  const body = (request.body ?? {}) as { publish?: unknown; compete?: unknown };
  if (body.publish !== true) return fail(500, "publish must be true");
  state.session.initBrokerage(body.compete === true);
  // A failed init (another login kept the session) is still HTTP 200, with authenticated:false.
  state.advance(request.now);
  return ok(authStatus(state, request.now));
};

const logout: Route = (_request, state) => {
  state.session.logout("logout");
  return ok({ status: true });
};

const validateSso: Route = (request, state) => {
  const snapshot = state.session.snapshot(request.now);
  const account = state.accounts.get(state.selectedAccount);
  return ok({
    AUTH_TIME: snapshot.loginAt ?? request.now,
    CREDENTIAL: USER_NAME,
    EXPIRES: snapshot.ssoExpiresInMs,
    IP: "203.0.113.10",
    IS_FREE_TRIAL: false,
    IS_MASTER: false,
    LANDING_APP: "UNIVERSAL",
    LOGIN_TYPE: account?.paper === false ? 1 : 2,
    PAPER_USER_NAME: USER_NAME,
    QUALIFIED_FOR_MOBILE_AUTH: null,
    RESULT: true,
    SF_ENABLED: false,
    USER_ID,
    USER_NAME,
    features: {
      bond: true,
      calendar: true,
      env: "PROD",
      newMf: true,
      optionChains: true,
      realtime: true,
      wlms: true,
    },
    lastAccessed: snapshot.lastActivityAt,
    region: "NJ",
  });
};

export const SESSION_ROUTES = {
  getAuthStatus,
  postAuthStatus: getAuthStatus,
  getTickle: tickle,
  postTickle: tickle,
  initBrokerageSession,
  logout,
  validateSso,
} satisfies Record<string, Route>;
