// The CPAPI client of one Client Portal Gateway: validated options, one undici Agent (or an injected
// dispatcher), the shared coordination file, the pacer, the transport for the generated functions, the
// session control and the lock-guarded order writes.
import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import { CPAPI_OPERATIONS } from "../../generated/cpapi/operations.gen.ts";
import type { components } from "../../generated/cpapi/types.gen.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { type BackoffPolicy, type Coordination, openCoordination } from "./coordination.ts";
import { createPacer, type Pacer, type PacingProfile } from "./pacer.ts";
import { type ReplyChainOptions, type ReplyChainResult, walkReplyChain } from "./replies.ts";
import { createSessionControl, type SessionControl } from "./session.ts";
import { createSessionBook } from "./session-state.ts";
import { createGatewayAgent, resolveTls, type TlsSettings } from "./tls.ts";
import { type ClientTransport, createTransport, type LogFn } from "./transport.ts";
import { DEFAULT_BASE_URL, hostPort, parseBaseUrl } from "./url.ts";

export type OrderRequest = components["schemas"]["OrderRequest"];

export interface CpapiClientOptions {
  /** Default https://localhost:5000/v1/api. */
  baseUrl?: string;
  /** An injected dispatcher (tests, the in-process simulator); otherwise one Agent is built. */
  dispatcher?: Dispatcher;
  caFile?: string;
  caPem?: string;
  allowInsecureTlsForLocalhost?: boolean;
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  /** Largest response body accepted (default 8 MiB: scanner params are large). */
  maxResponseBytes?: number;
  /** `cpapi`: the broker's real limits (default). `bench`: limits lifted, for benchmarks against a simulator. */
  pacingProfile?: PacingProfile;
  /** SQLite file shared by every process using this gateway; default in-memory (this process only). */
  coordinationPath?: string;
  /** 429 back-off: penalty box length (default 10 min) and first probe (default 60 s). */
  backoff?: { penaltyMs?: number; firstProbeMs?: number };
  /** Added to each pacing window to absorb clock jitter (default 25 ms). */
  pacingMarginMs?: number;
  /** Longest wait for a rarely allowed endpoint before answering BROKER_RATE_LIMITED instead (default 60 s). */
  maxQueueWaitMs?: number;
  keepAliveIntervalMs?: number;
  /** Lets keep-alive and `session.init()` call ssodh/init (default off). */
  allowSessionInit?: boolean;
  /** A bad session state older than this is re-checked before calls are refused (default 5 s). */
  sessionRecheckMs?: number;
  /** Snapshot pre-flight: total tries (default 3) and the wait between them (default 500 ms). */
  snapshot?: { tries?: number; retryMs?: number };
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  log?: LogFn;
}

export interface SubmitOrdersInput extends Omit<ReplyChainOptions, "lockToken"> {
  readonly accountId: string;
  readonly orders: readonly OrderRequest[];
}

export interface ModifyOrderInput extends Omit<ReplyChainOptions, "lockToken"> {
  readonly accountId: string;
  readonly orderId: number;
  /** The full order with the changed values (CPAPI modify takes a single object). */
  readonly order: OrderRequest;
}

export interface CpapiClient {
  /** Pass to the generated functions of generated/cpapi/client.gen.ts. */
  readonly transport: ClientTransport;
  readonly session: SessionControl;
  readonly orders: {
    /** placeOrders plus the reply chain, under the order-in-flight lock. */
    submit(input: SubmitOrdersInput): Promise<ReplyChainResult>;
    /** modifyOrder plus the reply chain, under the order-in-flight lock. */
    modify(input: ModifyOrderInput): Promise<ReplyChainResult>;
  };
  /** Leases shared by the processes (e.g. "reconciler"): true when this client holds it afterwards. */
  readonly leases: {
    acquire(name: string, ttlMs: number): boolean;
    release(name: string): void;
  };
  /** POST /iserver/account under the order-in-flight lock (multi-account logins). */
  switchAccount(accountId: string): Promise<void>;
  /** True/false once a reply was seen (header x-ibkr-simulator: 1), undefined before. */
  simulated(): boolean | undefined;
  /**
   * Now on the broker's clock: this client's clock, shifted onto the simulator's when the broker is the
   * simulator and said what time it is there (it may run at another time: `ibkr-agent simulator --time`).
   * Quote ages and the trading session are judged on it, so a simulated market is never old or closed
   * just because the simulator was started for another time of day.
   */
  marketNow(): number;
  /** TLS mode in use: system roots, a pinned CA, or the localhost bypass (injected dispatchers report "injected"). */
  tlsMode(): TlsSettings["mode"] | "injected";
  readonly baseUrl: string;
  close(): Promise<void>;
}

const DEFAULTS = {
  connectMs: 5_000,
  headersMs: 15_000,
  bodyMs: 15_000,
  maxResponseBytes: 8 * 1024 * 1024,
  keepAliveIntervalMs: 60_000,
  sessionRecheckMs: 5_000,
  penaltyMs: 10 * 60_000,
  firstProbeMs: 60_000,
} as const;

const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,64}$/;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new GatewayError("CONFIG_INVALID", {
      message: `The broker client option ${name} must be a positive number.`,
      details: { key: name },
    });
  }
  return value;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const noLog: LogFn = () => {};

export function createCpapiClient(options: CpapiClientOptions = {}): CpapiClient {
  const injected = options.dispatcher !== undefined;
  const base = parseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL, { allowHttp: injected });
  const tls = resolveTls(base, options);
  const timeouts = {
    connectMs: positive("timeouts.connectMs", options.timeouts?.connectMs, DEFAULTS.connectMs),
    headersMs: positive("timeouts.headersMs", options.timeouts?.headersMs, DEFAULTS.headersMs),
    bodyMs: positive("timeouts.bodyMs", options.timeouts?.bodyMs, DEFAULTS.bodyMs),
  };
  const maxResponseBytes = positive("maxResponseBytes", options.maxResponseBytes, DEFAULTS.maxResponseBytes);
  const keepAliveIntervalMs = positive(
    "keepAliveIntervalMs",
    options.keepAliveIntervalMs,
    DEFAULTS.keepAliveIntervalMs,
  );
  const profile = options.pacingProfile ?? "cpapi";
  if (profile !== "cpapi" && profile !== "bench") {
    throw new GatewayError("CONFIG_INVALID", {
      message: "The pacing profile must be cpapi or bench.",
      details: { key: "pacingProfile" },
    });
  }
  const backoff: BackoffPolicy = {
    penaltyMs: positive("backoff.penaltyMs", options.backoff?.penaltyMs, DEFAULTS.penaltyMs),
    firstProbeMs: positive("backoff.firstProbeMs", options.backoff?.firstProbeMs, DEFAULTS.firstProbeMs),
  };
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const log = options.log ?? noLog;
  const where = hostPort(base);
  const context = {
    where,
    loginUrl: `${base.origin}/`,
    allowSessionInit: options.allowSessionInit === true,
  };

  const dispatcher = options.dispatcher ?? createGatewayAgent(tls, timeouts);
  const coordination: Coordination = openCoordination({
    path: options.coordinationPath,
    instanceId: `cpapi_${randomUUID()}`,
    marginMs: options.pacingMarginMs,
    backoff,
  });
  const pacer: Pacer = createPacer({
    coordination,
    clock,
    sleep,
    inflightTtlMs: timeouts.connectMs + timeouts.headersMs + timeouts.bodyMs + 10_000,
    maxQueueWaitMs: positive("maxQueueWaitMs", options.maxQueueWaitMs, 60_000),
  });
  const book = createSessionBook(coordination);
  let simulated: boolean | undefined;
  // The simulator's clock minus ours, from its latest reply; 0 for a real Client Portal Gateway.
  let simulatorOffsetMs = 0;
  const transportOptions = {
    base,
    dispatcher,
    pacer,
    coordination,
    book,
    sessionContext: context,
    profile,
    clock,
    sleep,
    log,
    headersTimeoutMs: timeouts.headersMs,
    bodyTimeoutMs: timeouts.bodyMs,
    maxResponseBytes,
    sessionRecheckMs: positive("sessionRecheckMs", options.sessionRecheckMs, DEFAULTS.sessionRecheckMs),
    snapshotTries: Math.max(1, Math.floor(options.snapshot?.tries ?? 3)),
    snapshotRetryMs: positive("snapshot.retryMs", options.snapshot?.retryMs, 500),
    refreshSession: undefined as (() => Promise<unknown>) | undefined,
    onReply: (flag: boolean, simulatorTime: number | undefined) => {
      simulated = flag;
      simulatorOffsetMs = flag && simulatorTime !== undefined ? simulatorTime - clock.now() : 0;
    },
  };
  const transport = createTransport(transportOptions);
  const session = createSessionControl({
    transport,
    book,
    coordination,
    context,
    clock,
    log,
    keepAliveIntervalMs,
  });
  transportOptions.refreshSession = () => session.status();

  async function underLock<T>(
    signal: AbortSignal | undefined,
    fn: (token: string) => Promise<T>,
  ): Promise<T> {
    const token = await pacer.lock({ signal });
    try {
      return await fn(token);
    } finally {
      pacer.unlock(token);
    }
  }

  function checkAccount(accountId: string): void {
    if (!ACCOUNT_ID.test(accountId)) {
      throw new GatewayError("INPUT_INVALID_ARGUMENT", {
        message: "The account id must be 1-64 letters, digits, dots, dashes or underscores.",
        details: { field: "accountId" },
      });
    }
  }

  let closed = false;
  return {
    transport,
    session,
    baseUrl: base.href,
    orders: {
      submit: (input) =>
        underLock(input.signal, (lockToken) =>
          walkReplyChain(
            transport,
            CPAPI_OPERATIONS.placeOrders,
            () =>
              transport.call(
                CPAPI_OPERATIONS.placeOrders,
                { path: { accountId: input.accountId }, body: { orders: input.orders } },
                { lockToken, signal: input.signal },
              ),
            { ...input, lockToken },
          ),
        ),
      modify: (input) =>
        underLock(input.signal, (lockToken) =>
          walkReplyChain(
            transport,
            CPAPI_OPERATIONS.modifyOrder,
            () =>
              transport.call(
                CPAPI_OPERATIONS.modifyOrder,
                { path: { accountId: input.accountId, orderId: input.orderId }, body: input.order },
                { lockToken, signal: input.signal },
              ),
            { ...input, lockToken },
          ),
        ),
    },
    leases: {
      acquire: (name, ttlMs) =>
        coordination.tryLease(`app:${name}`, coordination.instanceId, ttlMs, clock.now()),
      release: (name) => coordination.releaseLease(`app:${name}`, coordination.instanceId),
    },
    async switchAccount(accountId) {
      checkAccount(accountId);
      await underLock(undefined, async (lockToken) => {
        const reply = await transport.call<{ set?: unknown }>(
          CPAPI_OPERATIONS.switchAccount,
          { body: { acctId: accountId } },
          { lockToken },
        );
        if (reply.body?.set !== true) {
          throw new GatewayError("INPUT_UNAUTHORIZED_ACCOUNT", {
            message: "The broker did not select that account.",
            details: { operation_id: "switchAccount" },
          });
        }
      });
    },
    simulated: () => simulated,
    marketNow: () => clock.now() + simulatorOffsetMs,
    tlsMode: () => (injected ? "injected" : tls.mode),
    async close() {
      if (closed) return;
      closed = true;
      session.stopKeepAlive();
      pacer.close();
      coordination.close();
      if (!injected) await dispatcher.close();
    },
  };
}
