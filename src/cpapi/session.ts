// Session status, keep-alive and (only when configured) starting the brokerage session. Results are written
// to the shared book, so every process sharing the gateway refuses broker-backed calls while the session is
// gone instead of serving stale state. Only one process tickles at a time (the keep-alive lease).
import { CPAPI_OPERATIONS } from "../../generated/cpapi/operations.gen.ts";
import type { Clock } from "../core/clock.ts";
import { GatewayError, isGatewayError } from "../core/gateway-error.ts";
import type { Coordination } from "./coordination.ts";
import { errorOnlyMessage } from "./errors.ts";
import {
  notRunning,
  type Observed,
  type SessionBook,
  type SessionContext,
  type SessionStatus,
  stateFromAuthStatus,
  toStatus,
  type Unreachable,
  unauthenticated,
} from "./session-state.ts";
import type { ClientTransport, LogFn } from "./transport.ts";

export interface SessionControl {
  /** Asks /iserver/auth/status and records the answer. */
  status(): Promise<SessionStatus>;
  /** Tickles the gateway (POST /tickle) and records the answer; starts the brokerage session when allowed. */
  keepAlive(): Promise<SessionStatus>;
  startKeepAlive(): void;
  stopKeepAlive(): void;
  /**
   * POST /iserver/auth/ssodh/init. Needs `allowSessionInit`. `compete: true` takes the session away from TWS
   * or the mobile app, so it is sent only when the operator passes it here; nothing else ever sets it.
   */
  init(options?: { compete?: boolean }): Promise<SessionStatus>;
  /** The last recorded state (any process), without asking the broker. */
  lastKnown(): SessionStatus | null;
}

export interface SessionOptions {
  transport: ClientTransport;
  book: SessionBook;
  coordination: Coordination;
  context: SessionContext;
  clock: Clock;
  log: LogFn;
  keepAliveIntervalMs: number;
}

export const KEEPALIVE_LEASE = "keepalive";

function unreachableOf(error: GatewayError): Unreachable {
  const failure = error.details?.failure;
  if (failure === "connection_refused" || failure === "dns") return "refused";
  if (failure === "tls") return "tls";
  if (failure === "timeout") return "timeout";
  if (typeof error.details?.http_status === "number") return "server_error";
  return "other";
}

export function createSessionControl(options: SessionOptions): SessionControl {
  const { transport, book, coordination, context, clock, log } = options;
  let timer: NodeJS.Timeout | null = null;
  let ticking = false;

  function record(observed: Observed): SessionStatus {
    const now = clock.now();
    book.record(observed, now);
    return toStatus(observed, context, now);
  }

  /** Session errors are states, not failures; anything else (rate limit, bad answer) propagates. */
  function fromError(error: unknown): SessionStatus {
    if (!isGatewayError(error)) throw error;
    if (error.code === "BROKER_SESSION_REQUIRED") return record(unauthenticated(book.wasAuthenticated()));
    if (error.code === "BROKER_BACKEND_UNAVAILABLE" && error.details?.failure !== "aborted") {
      return record(notRunning(unreachableOf(error)));
    }
    throw error;
  }

  function fromAuthBody(body: unknown): SessionStatus {
    if (errorOnlyMessage(body) !== null) return record(unauthenticated(book.wasAuthenticated()));
    return record(stateFromAuthStatus(body as Record<string, unknown>));
  }

  async function status(): Promise<SessionStatus> {
    try {
      const reply = await transport.call<unknown>(CPAPI_OPERATIONS.getAuthStatus, {});
      return fromAuthBody(reply.body);
    } catch (error) {
      return fromError(error);
    }
  }

  async function init(initOptions: { compete?: boolean } = {}): Promise<SessionStatus> {
    if (!context.allowSessionInit) {
      throw new GatewayError("BROKER_SESSION_REQUIRED", {
        message: "Starting the brokerage session from the gateway is turned off.",
        userAction: `Log in at ${context.loginUrl} in a browser, or set \`broker.allow_session_init: true\` to let \`ibkr-agent session renew\` start it.`,
        details: { reason: "session_init_disabled" },
      });
    }
    const compete = initOptions.compete === true;
    if (compete) log("warn", "ssodh/init with compete:true requested by the operator", {});
    try {
      const reply = await transport.call<unknown>(CPAPI_OPERATIONS.initBrokerageSession, {
        body: { publish: true, compete },
      });
      // A 200 with authenticated:false is a failed init (lost the compete, or the bridge is down).
      return fromAuthBody(reply.body);
    } catch (error) {
      return fromError(error);
    }
  }

  async function keepAlive(): Promise<SessionStatus> {
    let current: SessionStatus;
    try {
      const reply = await transport.call<unknown>(CPAPI_OPERATIONS.postTickle, {});
      const body = reply.body as {
        collission?: unknown;
        iserver?: { authStatus?: Record<string, unknown> };
      } | null;
      if (errorOnlyMessage(body) !== null || body?.iserver?.authStatus === undefined) {
        // {"error":"no session"} or {"error":"failed to process request"}: the keep-alive failed.
        current = record(unauthenticated(book.wasAuthenticated()));
      } else {
        // `collission` (sic) is the broker's spelling.
        current = record(stateFromAuthStatus(body.iserver.authStatus, body.collission === true));
      }
    } catch (error) {
      current = fromError(error);
    }
    if (current.state === "sso_only" && context.allowSessionInit) {
      log("info", "brokerage session not connected; starting it (compete: false)", {});
      return init({ compete: false });
    }
    return current;
  }

  async function tick(): Promise<void> {
    if (ticking) return;
    ticking = true;
    try {
      const now = clock.now();
      // Whoever holds the lease tickles for everyone; the others read the shared state it records.
      if (
        !coordination.tryLease(KEEPALIVE_LEASE, coordination.instanceId, options.keepAliveIntervalMs * 2, now)
      ) {
        return;
      }
      const result = await keepAlive();
      if (result.state !== "authenticated") {
        log("warn", "keep-alive: session not authenticated", { state: result.state });
      }
    } catch (error) {
      log("warn", "keep-alive failed", { code: isGatewayError(error) ? error.code : "unknown" });
    } finally {
      ticking = false;
    }
  }

  function schedule(): void {
    timer = setTimeout(() => {
      void tick().finally(() => {
        if (timer !== null) schedule();
      });
    }, options.keepAliveIntervalMs);
    timer.unref();
  }

  return {
    status,
    keepAlive,
    init,
    startKeepAlive() {
      if (timer !== null) return;
      schedule();
      void tick();
    },
    stopKeepAlive() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      coordination.releaseLease(KEEPALIVE_LEASE, coordination.instanceId);
    },
    lastKnown() {
      const shared = book.read();
      return shared === null ? null : toStatus(shared, context, shared.checkedAt);
    },
  };
}
