// The request pipeline of the simulated Client Portal Gateway, in the order the real one applies its rules:
// is anything listening, pacing (and the penalty box), the SSO session (401 without it), the brokerage
// session for /iserver endpoints ("no bridge"), the /accounts pre-flights, then the endpoint itself. Every
// operation of the contracts has a route: the table is typed against the generated operation ids. A
// persisted simulator first takes in what other processes saved, and runs every request that changes the
// shared state as one transaction (see persistence.ts).
import {
  CPAPI_OPERATIONS,
  type CpapiOperationId,
  type CpapiOperationSpec,
} from "../../generated/cpapi/operations.gen.ts";
import { garbledAnswer } from "./garble.ts";
import { ACCOUNT_ROUTES } from "./routes/accounts.ts";
import { CONTRACT_ROUTES } from "./routes/contracts.ts";
import { MARKETDATA_ROUTES } from "./routes/marketdata.ts";
import { ORDER_ROUTES } from "./routes/orders.ts";
import { PORTFOLIO_ROUTES } from "./routes/portfolio.ts";
import { RESEARCH_ROUTES } from "./routes/research.ts";
import { SESSION_ROUTES } from "./routes/session.ts";
import { badRequest, fail, type Route, type SimResponse } from "./routes/types.ts";
import { recordRequest, SharedStateUnavailable, type SimulatorState } from "./state.ts";

export const API_PREFIX = "/v1/api";

const ROUTES: Record<CpapiOperationId, Route> = {
  ...SESSION_ROUTES,
  ...ACCOUNT_ROUTES,
  ...PORTFOLIO_ROUTES,
  ...MARKETDATA_ROUTES,
  ...CONTRACT_ROUTES,
  ...ORDER_ROUTES,
  ...RESEARCH_ROUTES,
};

interface CompiledRoute {
  readonly operation: CpapiOperationSpec;
  readonly pattern: RegExp;
  readonly route: Route;
}

function compile(operation: CpapiOperationSpec, route: Route): CompiledRoute {
  const source = operation.path
    .split("/")
    .map((segment) => (/^\{.+\}$/.test(segment) ? "([^/]+)" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return { operation, pattern: new RegExp(`^${source}$`), route };
}

const COMPILED: readonly CompiledRoute[] = (Object.keys(CPAPI_OPERATIONS) as CpapiOperationId[])
  // Literal paths before templated ones, so /iserver/account/orders never matches {accountId}.
  .map((id) => compile(CPAPI_OPERATIONS[id], ROUTES[id]))
  .sort((a, b) => a.operation.path.split("{").length - b.operation.path.split("{").length);

/** The gateway also answers GET /logout, which is not in IBKR's document. */
const GET_LOGOUT: CompiledRoute = {
  ...compile(CPAPI_OPERATIONS.logout, ROUTES.logout),
  operation: { ...CPAPI_OPERATIONS.logout, method: "GET" },
};
const ALL_ROUTES: readonly CompiledRoute[] = [...COMPILED, GET_LOGOUT];

export function matchRoute(
  method: string,
  path: string,
): { compiled: CompiledRoute; params: Record<string, string> } | null {
  for (const compiled of ALL_ROUTES) {
    if (compiled.operation.method !== method) continue;
    const match = compiled.pattern.exec(path);
    if (match === null) continue;
    const params: Record<string, string> = {};
    compiled.operation.pathParams.forEach((name, i) => {
      params[name] = decodeURIComponent(match[i + 1] ?? "");
    });
    return { compiled, params };
  }
  return null;
}

/** Brokerage-session endpoints the gateway answers with "no bridge" while that session is down. */
function needsBrokerage(operation: CpapiOperationSpec): boolean {
  return operation.requires.includes("brokerage-session");
}

export interface PipelineInput {
  readonly method: string;
  /** Path and query after the origin, e.g. /v1/api/iserver/accounts?x=1. */
  readonly url: URL;
  readonly body: unknown;
  /** Caller identity for pacing (the socket address; "local" in-process). */
  readonly source: string;
}

/** A network error: nothing listens. A lost response: handled in full, but the answer never arrives. */
export type PipelineOutput = SimResponse | { readonly networkError: true } | { readonly lostResponse: true };

/** Operations that change the durable state (sessions, accounts, orders, replies, suppressed questions). */
const WRITES: ReadonlySet<string> = new Set<CpapiOperationId>([
  "placeOrders",
  "replyToQuestion",
  "answerNotification",
  "modifyOrder",
  "cancelOrder",
  "initBrokerageSession",
  "logout",
  "switchAccount",
  "suppressQuestions",
  "resetSuppressedQuestions",
]);

type Matched = NonNullable<ReturnType<typeof matchRoute>>;

/** A read that answers one of the session's first-call quirks, which changes the shared warm-up. */
function warmsUp(state: SimulatorState, operationId: string): boolean {
  const warm = state.warmUp;
  if (operationId === "getLiveOrders") return !warm.liveOrders;
  if (operationId === "getTrades") return !warm.trades;
  if (operationId === "getPartitionedPnl") return warm.pnlCalls < state.scenario.coldPnlRequests;
  return false;
}

/** A one-shot fault is armed for this operation (consuming it changes the shared state). */
function armed(state: SimulatorState, operationId: string): boolean {
  return state.lostResponses.includes(operationId) || state.garbledResponses.includes(operationId);
}

export function handleRequest(state: SimulatorState, input: PipelineInput): PipelineOutput {
  const path = input.url.pathname.startsWith(API_PREFIX) ? input.url.pathname.slice(API_PREFIX.length) : null;
  const matched = path === null ? null : matchRoute(input.method, path);
  const sharing = state.sharing;
  if (sharing === null) return respond(state, input, path, matched);
  try {
    sharing.refresh();
    const operationId = matched?.compiled.operation.operationId;
    if (operationId === undefined) return respond(state, input, path, matched);
    const writes = WRITES.has(operationId);
    // Reads first bring the market up to now (saving what that changed), so a new brokerage session's
    // warm-up is seen below and the answer is computed at the very instant that was saved.
    const now = writes || state.gatewayDown ? undefined : sharing.catchUp();
    if (writes || armed(state, operationId) || warmsUp(state, operationId)) {
      return sharing.write(() => respond(state, input, path, matched));
    }
    return respond(state, input, path, matched, now);
  } catch (error) {
    // Nothing of the request was kept (the transaction rolled back): to the caller, nobody answered.
    if (error instanceof SharedStateUnavailable) return { networkError: true };
    throw error;
  }
}

function respond(
  state: SimulatorState,
  input: PipelineInput,
  path: string | null,
  matched: Matched | null,
  at?: number,
): PipelineOutput {
  if (state.gatewayDown) return { networkError: true };
  const now = at ?? state.clock.now();
  if (matched === null) return { status: 404, text: "Not Found" };
  const { operation, route } = matched.compiled;
  state.advance(now);
  state.sequence += 1;
  const sequence = state.sequence;
  const response = ((): SimResponse => {
    const admitted = state.pacer.admit(operation, input.source, now);
    if (!admitted.ok) return fail(429, "Too many requests");
    const release = admitted.release;
    try {
      state.replies.noteRequest(
        sequence,
        operation.operationId === "replyToQuestion" || operation.operationId === "answerNotification",
      );
      const session = state.session.snapshot(now);
      if (session.sso !== "logged_in") {
        // Right after an explicit logout the tickle still knows the cookie and says so in a 200.
        if (session.endedBy === "logout" && operation.path === "/tickle")
          return { status: 200, body: { error: "no session" } };
        return { status: 401, text: "Access Denied" };
      }
      state.session.touch(now);
      if (needsBrokerage(operation) && !state.session.isBrokerageAuthenticated())
        return badRequest("no bridge");
      const epoch = state.epochState;
      if (operation.requires.includes("iserver-accounts-preflight") && !epoch.accountsQueried) {
        return fail(500, "Please query /accounts first");
      }
      if (operation.requires.includes("portfolio-accounts-preflight") && !epoch.portfolioQueried) {
        return fail(500, "Please query /portfolio/accounts first");
      }
      return route(
        {
          operationId: operation.operationId,
          method: input.method,
          path: path as string,
          params: matched.params,
          query: input.url.searchParams,
          body: input.body,
          now,
          sequence,
          source: input.source,
        },
        state,
      );
    } finally {
      release();
    }
  })();
  const lost = state.lostResponses.indexOf(operation.operationId);
  if (lost !== -1) state.lostResponses.splice(lost, 1);
  // A garble waits for an answer the gateway would have given with 200 (a refusal by pacing, the session
  // or a pre-flight goes out as it is), and a lost answer is never delivered to be garbled.
  const garbled =
    lost === -1 && response.status === 200 ? state.garbledResponses.indexOf(operation.operationId) : -1;
  if (garbled !== -1) state.garbledResponses.splice(garbled, 1);
  recordRequest(state, {
    sequence,
    at: now,
    operationId: operation.operationId,
    method: input.method,
    path: path as string,
    status: response.status,
    ...(lost !== -1 ? { lost: true as const } : {}),
    ...(garbled !== -1 ? { garbled: true as const } : {}),
  });
  if (lost !== -1) return { lostResponse: true };
  return garbled !== -1 ? { status: 200, body: garbledAnswer(operation) } : response;
}
