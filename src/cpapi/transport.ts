// The CpapiTransport behind the generated client: every generated function ends here. One call is a small
// pipeline - build the URL, coalesce identical reads, check the session, run the pre-flights the contract
// asks for, wait for pacing, send, map the answer to the catalogue, validate it against the contract, and
// smooth the broker's cold-start quirks (empty first snapshot, empty first order list).
import type { Dispatcher } from "undici";
import type {
  CpapiCallInput,
  CpapiCallOptions,
  CpapiReply,
  CpapiTransport,
} from "../../generated/cpapi/client.gen.ts";
import { CPAPI_OPERATIONS, type CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";
import type { Clock } from "../core/clock.ts";
import { GatewayError, isGatewayError } from "../core/gateway-error.ts";
import type { Coordination, FinishOutcome } from "./coordination.ts";
import {
  backendUnavailable,
  brokerMessageOf,
  classifyBrokerAnswer,
  classifyTransportFailure,
  errorOnlyMessage,
  ORDER_WRITE_OPERATIONS,
  outcomeUncertain,
  type SessionObservation,
} from "./errors.ts";
import { exchange, type HttpReply } from "./http.ts";
import { type Pacer, type PacingProfile, pacingRules, rateLimitedError } from "./pacer.ts";
import {
  gateError,
  type PreflightKind,
  SESSION_OPERATIONS,
  type SessionBook,
  type SessionContext,
  stateBlocks,
  unauthenticated,
} from "./session-state.ts";
import { buildUrl } from "./url.ts";
import { validateResponse } from "./validation.ts";

export type LogFn = (
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface TransportCallOptions extends CpapiCallOptions {
  /** The order-in-flight lock this call runs under (only the lock holder may talk to the broker). */
  readonly lockToken?: string | null;
}

/** A broker answer plus whether it came from the simulator (header `x-ibkr-simulator: 1`). */
export interface ClientReply<T> extends CpapiReply<T> {
  readonly simulated: boolean;
}

export interface ClientTransport extends CpapiTransport {
  call<T>(
    operation: CpapiOperationSpec,
    input: CpapiCallInput,
    options?: TransportCallOptions,
  ): Promise<ClientReply<T>>;
}

export interface TransportOptions {
  readonly base: URL;
  readonly dispatcher: Dispatcher;
  readonly pacer: Pacer;
  readonly coordination: Coordination;
  readonly book: SessionBook;
  readonly sessionContext: SessionContext;
  readonly profile: PacingProfile;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: LogFn;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly maxResponseBytes: number;
  /** A bad session state older than this is checked again before calls are refused. */
  readonly sessionRecheckMs: number;
  readonly snapshotTries: number;
  readonly snapshotRetryMs: number;
  /** Asks the broker for the session state again (set by the session module). */
  refreshSession?: () => Promise<unknown>;
  /** Every reply: whether the simulator sent it, and the simulator's clock then (header x-ibkr-simulator-time). */
  onReply?: (simulated: boolean, simulatorTime: number | undefined) => void;
}

/** The simulator's clock in a reply's headers (epoch ms), when it is there and well-formed. */
function simulatorTimeOf(headers: Readonly<Record<string, string | undefined>>): number | undefined {
  const value = headers["x-ibkr-simulator-time"];
  return value !== undefined && /^[0-9]{1,15}$/.test(value) ? Number(value) : undefined;
}

/** True when the reply came from the simulator (header `x-ibkr-simulator: 1`); works on any CpapiReply. */
export function replySimulated(reply: CpapiReply<unknown>): boolean {
  return reply.headers["x-ibkr-simulator"] === "1";
}

/** 2xx {"error": ...} bodies these operations get back as data: their callers interpret them. */
const ERROR_BODY_PASSTHROUGH: ReadonlySet<string> = new Set([
  ...SESSION_OPERATIONS,
  "placeOrders",
  "modifyOrder",
  "replyToQuestion",
]);
const PREFLIGHT_MESSAGE = /please query \/?(iserver\/)?accounts first/i;
/** Snapshot keys that carry no market data: their presence alone is the empty pre-flight answer. */
const SNAPSHOT_META = new Set(["conid", "conidEx", "server_id", "_updated", "6119", "6508", "6509", "topic"]);

function abortedError(): GatewayError {
  return new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
    message: "The broker request was cancelled before it completed.",
    details: { failure: "aborted" },
  });
}

function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** True when every requested conid has a row with at least one market data field. */
export function snapshotComplete(body: unknown, conids: readonly string[]): boolean {
  if (!Array.isArray(body)) return true;
  const withData = new Set<string>();
  for (const row of body) {
    if (row === null || typeof row !== "object") continue;
    const record = row as Record<string, unknown>;
    if (Object.keys(record).some((key) => !SNAPSHOT_META.has(key))) withData.add(String(record.conid));
  }
  return conids.every((conid) => withData.has(conid));
}

export function createTransport(options: TransportOptions): ClientTransport {
  const { base, pacer, coordination, book, clock, log } = options;
  const where = options.sessionContext.where;
  const inflight = new Map<string, Promise<ClientReply<unknown>>>();
  const pendingPreflight = new Map<PreflightKind, Promise<void>>();
  let pendingRefresh: Promise<unknown> | null = null;

  function observe(kind: SessionObservation): void {
    const now = clock.now();
    if (kind === "unauthenticated") book.record(unauthenticated(book.wasAuthenticated()), now);
    else book.record({ state: "sso_only", authenticated: false, competing: false, connected: false }, now);
  }

  /** At dispatch time: refuse without sending when the session went bad after this call was queued. */
  function dispatchCheck(operation: CpapiOperationSpec): GatewayError | null {
    const shared = book.read();
    if (shared === null || !stateBlocks(shared.state, operation)) return null;
    const now = clock.now();
    if (now - shared.checkedAt >= options.sessionRecheckMs) return null;
    return gateError(shared, options.sessionContext, now);
  }

  async function gate(operation: CpapiOperationSpec, lockToken: string | null): Promise<void> {
    let shared = book.read();
    if (shared === null || !stateBlocks(shared.state, operation)) return;
    if (clock.now() - shared.checkedAt >= options.sessionRecheckMs) {
      // Inside the order lock nobody else may talk to the broker, so the call itself is the check.
      if (lockToken !== null || options.refreshSession === undefined) return;
      pendingRefresh ??= options.refreshSession().finally(() => {
        pendingRefresh = null;
      });
      await pendingRefresh;
      shared = book.read();
      if (shared === null || !stateBlocks(shared.state, operation)) return;
    }
    throw gateError(shared, options.sessionContext, clock.now());
  }

  /** One paced upstream request; transport failures and 429 are mapped here. */
  async function upstream(
    operation: CpapiOperationSpec,
    url: URL,
    body: unknown,
    callOptions: TransportCallOptions,
  ): Promise<HttpReply> {
    const lockToken = callOptions.lockToken ?? null;
    const permit = await pacer.acquire({
      rules: pacingRules(operation, options.profile),
      lockToken,
      signal: callOptions.signal,
      check: SESSION_OPERATIONS.has(operation.operationId) ? undefined : () => dispatchCheck(operation),
    });
    let outcome: FinishOutcome = "failed";
    const startedAt = clock.now();
    try {
      const reply = await exchange({
        dispatcher: options.dispatcher,
        url,
        method: operation.method,
        body,
        hasBody: operation.hasBody,
        signal: callOptions.signal,
        headersTimeoutMs: options.headersTimeoutMs,
        bodyTimeoutMs: options.bodyTimeoutMs,
        maxResponseBytes: options.maxResponseBytes,
        operationId: operation.operationId,
      });
      options.onReply?.(reply.headers["x-ibkr-simulator"] === "1", simulatorTimeOf(reply.headers));
      log("debug", "cpapi reply", {
        operation_id: operation.operationId,
        status: reply.status,
        duration_ms: clock.now() - startedAt,
        probe: permit.probe,
      });
      if (reply.status === 429) {
        outcome = "rate_limited";
        permit.release(outcome);
        const now = clock.now();
        const backoff = coordination.backoff();
        log("warn", "cpapi rate limited; backing off", { operation_id: operation.operationId });
        throw rateLimitedError(
          backoff === null ? 60_000 : backoff.probeAt - now,
          backoff?.penaltyEndsAt ?? now + 600_000,
        );
      }
      outcome = "ok";
      return reply;
    } catch (error) {
      if (isGatewayError(error)) {
        if (ORDER_WRITE_OPERATIONS.has(operation.operationId) && error.code === "BROKER_RESPONSE_INVALID") {
          throw outcomeUncertain(operation, { reason: (error.details?.reason as string) ?? "invalid" });
        }
        throw error;
      }
      const failure = classifyTransportFailure(error);
      if (callOptions.signal?.aborted && !failure.maybeSent) throw abortedError();
      if (ORDER_WRITE_OPERATIONS.has(operation.operationId) && failure.maybeSent) {
        throw outcomeUncertain(operation, { failure: failure.failure });
      }
      throw backendUnavailable(failure.failure, where, {
        operation_id: operation.operationId,
        ...(failure.code !== null ? { error_code: failure.code } : {}),
      });
    } finally {
      permit.release(outcome);
    }
  }

  async function preflight(
    kind: PreflightKind,
    lockToken: string | null,
    signal: AbortSignal | undefined,
    force: boolean,
  ): Promise<void> {
    if (!force && book.preflightDone(kind)) return;
    const shared = lockToken === null ? pendingPreflight.get(kind) : undefined;
    if (shared !== undefined) return shared;
    const operation =
      kind === "iserver" ? CPAPI_OPERATIONS.getBrokerageAccounts : CPAPI_OPERATIONS.getPortfolioAccounts;
    const task = (async () => {
      await run(operation, buildUrl(base, operation, undefined, undefined), {}, { lockToken, signal });
    })();
    if (lockToken !== null) return task;
    const cleared = task.finally(() => pendingPreflight.delete(kind));
    pendingPreflight.set(kind, cleared);
    return cleared;
  }

  /** Sends once, answers "Please query /accounts first" with the pre-flight and one retry, maps errors. */
  async function send(
    operation: CpapiOperationSpec,
    url: URL,
    body: unknown,
    callOptions: TransportCallOptions,
    retried = false,
  ): Promise<HttpReply> {
    const reply = await upstream(operation, url, body, callOptions);
    const ok = reply.status >= 200 && reply.status < 300;
    const message = ok ? errorOnlyMessage(reply.body) : brokerMessageOf(reply.body);
    if (ok && message !== null && ERROR_BODY_PASSTHROUGH.has(operation.operationId)) {
      // The caller reads these error objects itself (session states, order rejections).
      if (!PREFLIGHT_MESSAGE.test(message)) return reply;
    } else if (ok && message === null) {
      try {
        await validateResponse(operation, reply.status, reply.body);
      } catch (error) {
        if (ORDER_WRITE_OPERATIONS.has(operation.operationId)) {
          throw outcomeUncertain(operation, { reason: "schema_mismatch" });
        }
        throw error;
      }
      return reply;
    }
    const verdict = classifyBrokerAnswer(operation, reply.status, message);
    if (verdict.kind === "preflight") {
      book.clearPreflight("iserver");
      if (retried) {
        throw new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
          message: `The broker kept asking for the account pre-flight on ${operation.operationId}.`,
          details: { operation_id: operation.operationId, reason: "preflight_repeated" },
        });
      }
      log("info", "cpapi asked for /iserver/accounts; running the pre-flight again", {
        operation_id: operation.operationId,
      });
      await preflight("iserver", callOptions.lockToken ?? null, callOptions.signal, true);
      return send(operation, url, body, callOptions, true);
    }
    if (verdict.observe !== null) observe(verdict.observe);
    throw verdict.error;
  }

  function toClientReply<T>(reply: HttpReply): ClientReply<T> {
    return {
      status: reply.status,
      body: reply.body as T,
      headers: reply.headers,
      simulated: reply.headers["x-ibkr-simulator"] === "1",
    };
  }

  async function run(
    operation: CpapiOperationSpec,
    url: URL,
    input: CpapiCallInput,
    callOptions: TransportCallOptions,
  ): Promise<ClientReply<unknown>> {
    const lockToken = callOptions.lockToken ?? null;
    if (!SESSION_OPERATIONS.has(operation.operationId)) await gate(operation, lockToken);
    if (operation.requires.includes("iserver-accounts-preflight")) {
      await preflight("iserver", lockToken, callOptions.signal, false);
    }
    if (operation.requires.includes("portfolio-accounts-preflight")) {
      await preflight("portfolio", lockToken, callOptions.signal, false);
    }
    let reply = await send(operation, url, input.body, callOptions);
    // Whoever lists the accounts has done the pre-flight, whether or not it was asked as one.
    if (operation.operationId === "getBrokerageAccounts") book.markPreflight("iserver", clock.now());
    if (operation.operationId === "getPortfolioAccounts") book.markPreflight("portfolio", clock.now());
    if (operation.operationId === "getMarketSnapshot") {
      // The first snapshot of a conid only opens the stream; ask again a few times within a bounded wait.
      const conids = String(input.query?.conids ?? "")
        .split(",")
        .map((c) => c.trim())
        .filter((c) => c !== "");
      for (
        let attempt = 1;
        attempt < options.snapshotTries && !snapshotComplete(reply.body, conids);
        attempt++
      ) {
        await options.sleep(options.snapshotRetryMs);
        reply = await send(operation, url, input.body, callOptions);
      }
    }
    if (operation.operationId === "getLiveOrders" && input.query?.force !== true) {
      const body = reply.body as { orders?: unknown; snapshot?: unknown } | null;
      // The first order list of a session can be empty with snapshot:false; the pacer spaces the second ask.
      if (body?.snapshot === false && Array.isArray(body.orders) && body.orders.length === 0) {
        reply = await send(operation, url, input.body, callOptions);
      }
    }
    return toClientReply(reply);
  }

  function call<T>(
    operation: CpapiOperationSpec,
    input: CpapiCallInput,
    callOptions: TransportCallOptions = {},
  ): Promise<ClientReply<T>> {
    let url: URL;
    try {
      url = buildUrl(base, operation, input.path, input.query);
    } catch (error) {
      return Promise.reject(error);
    }
    const lockToken = callOptions.lockToken ?? null;
    if (operation.method !== "GET" || callOptions.fresh === true || lockToken !== null) {
      return run(operation, url, input, callOptions) as Promise<ClientReply<T>>;
    }
    // Identical concurrent reads share one logical call (pre-flights and re-asks included). The shared call
    // runs without any one caller's signal; each caller can still stop waiting on its own.
    const key = `${operation.method} ${url.pathname}${url.search}`;
    let shared = inflight.get(key);
    if (shared === undefined) {
      shared = run(operation, url, input, {}).finally(() => inflight.delete(key));
      inflight.set(key, shared);
    }
    return withSignal(shared, callOptions.signal) as Promise<ClientReply<T>>;
  }

  return { call };
}
