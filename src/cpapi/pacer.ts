// The pacing queue. Every upstream request waits here until the shared coordination file says it may go:
// the global 10 req/s, the endpoint's own limit from the contract, its concurrency limit, the order-in-flight
// lock and the 429 back-off. Requests are never refused for pacing, only delayed; the only refusals are the
// back-off (the broker already said stop) and the caller's own abort signal.
import type { CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";
import type { Clock } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { uuidv7 } from "../core/ids.ts";
import {
  type ConcurrencyRule,
  type Coordination,
  type DispatchRequest,
  type FinishOutcome,
  ORDER_LOCK_LEASE,
  type RateRule,
} from "./coordination.ts";

export type PacingProfile = "cpapi" | "bench";

/** CP Gateway users get 10 requests per second across all endpoints. */
export const GLOBAL_LIMIT = { limit: 10, windowMs: 1_000 } as const;

export interface PacingRules {
  readonly rates: readonly RateRule[];
  readonly concurrency: ConcurrencyRule | null;
}

/** The limits one request of `operation` is subject to. The global bucket comes first so the queue stays FIFO. */
export function pacingRules(operation: CpapiOperationSpec, profile: PacingProfile): PacingRules {
  if (profile === "bench") return { rates: [], concurrency: null };
  const rates: RateRule[] = [{ key: "global", ...GLOBAL_LIMIT }];
  const pacing = operation.pacing;
  // Keyed by path template: GET and POST /tickle share one budget, as the broker counts the endpoint.
  if (pacing !== null && "rate" in pacing) {
    rates.push({
      key: `endpoint:${operation.path}`,
      limit: pacing.rate,
      windowMs: pacing.per_seconds * 1_000,
    });
  }
  const concurrency =
    pacing !== null && "concurrent" in pacing
      ? { key: `concurrent:${operation.path}`, limit: pacing.concurrent }
      : null;
  return { rates, concurrency };
}

export interface Permit {
  readonly id: string;
  /** True when this request is the single probe allowed after a 429 back-off. */
  readonly probe: boolean;
  release(outcome: FinishOutcome): void;
}

export interface AcquireOptions {
  readonly rules: PacingRules;
  readonly lockToken?: string | null;
  readonly signal?: AbortSignal;
  /** Re-evaluated at dispatch time; an error rejects the request without sending it (e.g. session lost). */
  readonly check?: () => GatewayError | null;
}

export interface Pacer {
  acquire(options: AcquireOptions): Promise<Permit>;
  /** Takes the order-in-flight lock and waits until every other in-flight request has finished. */
  lock(options?: { signal?: AbortSignal }): Promise<string>;
  unlock(token: string): void;
  /** Number of requests waiting in this process. */
  pending(): number;
  close(): void;
}

export interface PacerOptions {
  coordination: Coordination;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  /** How long an in-flight row survives a crashed process. */
  inflightTtlMs: number;
  /** How often to look again when what blocks us belongs to another process. */
  pollMs?: number;
  lockTtlMs?: number;
  /** Give up waiting for the order-in-flight lock after this long. */
  lockWaitMs?: number;
  /**
   * A request whose own endpoint window (e.g. scanner params, once per 15 minutes) opens later than this is
   * answered with BROKER_RATE_LIMITED and the time to come back, instead of hanging its caller that long.
   */
  maxQueueWaitMs?: number;
}

interface Entry {
  readonly request: DispatchRequest;
  readonly options: AcquireOptions;
  readonly resolve: (permit: Permit) => void;
  readonly reject: (error: unknown) => void;
  done: boolean;
}

export function rateLimitedError(retryAfterMs: number, penaltyEndsAt: number): GatewayError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1_000));
  return new GatewayError("BROKER_RATE_LIMITED", {
    message: `The broker is pacing this client (HTTP 429); no request is sent to it for ${seconds} s.`,
    details: {
      retry_after_seconds: seconds,
      penalty_ends_at: new Date(penaltyEndsAt).toISOString(),
    },
  });
}

function endpointPacedError(waitMs: number): GatewayError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1_000));
  return new GatewayError("BROKER_RATE_LIMITED", {
    message: `The broker allows this call only rarely; the next one may go in ${seconds} s.`,
    userAction: "Retry after the time in the error; the gateway did not send the request.",
    details: { retry_after_seconds: seconds, reason: "endpoint_pacing" },
  });
}

function abortError(): GatewayError {
  return new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
    message: "The broker request was cancelled before it completed.",
    details: { failure: "aborted" },
  });
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createPacer(options: PacerOptions): Pacer {
  const { coordination, clock, sleep } = options;
  const pollMs = options.pollMs ?? 50;
  const lockTtlMs = options.lockTtlMs ?? 120_000;
  const lockWaitMs = options.lockWaitMs ?? 60_000;
  const maxQueueWaitMs = options.maxQueueWaitMs ?? 60_000;
  const queue: Entry[] = [];
  /** In-flight request ids and lock tokens of this process: waiting on them needs no polling. */
  const local = new Set<string>();
  let pumping = false;
  let closed = false;
  const waiters = new Set<() => void>();

  function wake(): void {
    const woken = [...waiters];
    waiters.clear();
    for (const resolve of woken) resolve();
  }

  /** Waits `ms` (Infinity: until woken) or until something in this process changes. */
  async function pause(ms: number): Promise<void> {
    const woken = new Promise<void>((resolve) => {
      waiters.add(resolve);
    });
    if (Number.isFinite(ms)) await Promise.race([sleep(Math.max(1, ms)), woken]);
    else await woken;
    await yieldToIo();
  }

  function permitFor(entry: Entry, probe: boolean): Permit {
    const id = entry.request.id;
    local.add(id);
    let released = false;
    return {
      id,
      probe,
      release(outcome) {
        if (released) return;
        released = true;
        local.delete(id);
        try {
          coordination.finish(id, outcome, clock.now(), probe);
        } catch {
          // Closed or unwritable: the row expires by its TTL, which is all finishing would have done early.
        }
        wake();
      },
    };
  }

  /** One pass over the queue in arrival order; returns when to look again. */
  function pass(): { waitMs: number } {
    const now = clock.now();
    let nextAt = Number.POSITIVE_INFINITY;
    let poll = false;
    coordination.transaction(() => {
      for (let i = 0; i < queue.length; ) {
        const entry = queue[i] as Entry;
        if (entry.done) {
          queue.splice(i, 1);
          continue;
        }
        const problem = entry.options.check?.() ?? null;
        if (problem !== null) {
          entry.done = true;
          queue.splice(i, 1);
          entry.reject(problem);
          continue;
        }
        const lockToken = entry.request.lockToken;
        if (lockToken !== null) coordination.tryLease(ORDER_LOCK_LEASE, lockToken, lockTtlMs, now);
        const decision = coordination.tryDispatch(entry.request, now);
        if (decision.kind === "go") {
          entry.done = true;
          queue.splice(i, 1);
          entry.resolve(permitFor(entry, decision.probe));
          continue;
        }
        if (decision.kind === "refuse") {
          entry.done = true;
          queue.splice(i, 1);
          entry.reject(rateLimitedError(decision.retryAfterMs, decision.penaltyEndsAt));
          continue;
        }
        if (
          decision.blockedBy === "endpoint" &&
          decision.until !== undefined &&
          decision.until - now > maxQueueWaitMs
        ) {
          entry.done = true;
          queue.splice(i, 1);
          entry.reject(endpointPacedError(decision.until - now));
          continue;
        }
        if (decision.until !== undefined) nextAt = Math.min(nextAt, decision.until);
        if (!decision.holders.every((holder) => local.has(holder))) poll = true;
        // Everything needs the global slot, so nothing behind can go either: stopping here keeps the queue
        // first-in, first-out. (A lock wait does not stop the pass: the lock holder's requests must pass.)
        if (decision.blockedBy === "global") break;
        i += 1;
      }
    });
    let waitMs = nextAt - now;
    if (poll) waitMs = Math.min(waitMs, pollMs);
    return { waitMs };
  }

  async function pump(): Promise<void> {
    if (pumping) {
      wake();
      return;
    }
    pumping = true;
    try {
      while (queue.length > 0 && !closed) {
        let waitMs: number;
        try {
          ({ waitMs } = pass());
        } catch (error) {
          const failure = new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
            message: "The broker coordination file could not be read or written.",
            userAction: "Check `broker.coordination_path` (disk full, permissions) and retry.",
            cause: error,
          });
          for (const entry of queue.splice(0)) {
            entry.done = true;
            entry.reject(failure);
          }
          return;
        }
        if (queue.length === 0) break;
        await pause(waitMs);
      }
    } finally {
      pumping = false;
    }
  }

  function acquire(acquireOptions: AcquireOptions): Promise<Permit> {
    if (closed) return Promise.reject(abortError());
    const signal = acquireOptions.signal;
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise<Permit>((resolve, reject) => {
      const entry: Entry = {
        request: {
          id: uuidv7(clock),
          rates: acquireOptions.rules.rates,
          concurrency: acquireOptions.rules.concurrency,
          lockToken: acquireOptions.lockToken ?? null,
          ttlMs: options.inflightTtlMs,
        },
        options: acquireOptions,
        resolve,
        reject,
        done: false,
      };
      signal?.addEventListener(
        "abort",
        () => {
          if (entry.done) return;
          entry.done = true;
          reject(abortError());
          wake();
        },
        { once: true },
      );
      queue.push(entry);
      void pump();
    });
  }

  async function lock(lockOptions: { signal?: AbortSignal } = {}): Promise<string> {
    const token = `lock_${uuidv7(clock)}`;
    const startedAt = clock.now();
    local.add(token);
    const giveUp = (): never => {
      local.delete(token);
      coordination.releaseLease(ORDER_LOCK_LEASE, token);
      wake();
      throw new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
        message: "Another order is being sent through this Client Portal Gateway; this one did not start.",
        userAction: "Retry in a moment; nothing was sent to the broker.",
        details: { failure: "order_lock_busy" },
      });
    };
    // Phase 1: take the lock (new requests of others now wait). Phase 2: let theirs already in flight finish,
    // so nothing else touches the session between our order POST and its replies.
    for (;;) {
      if (lockOptions.signal?.aborted) giveUp();
      const now = clock.now();
      if (coordination.tryLease(ORDER_LOCK_LEASE, token, lockTtlMs, now)) break;
      if (now - startedAt > lockWaitMs) giveUp();
      const holder = coordination.leaseHolder(ORDER_LOCK_LEASE, now);
      await pause(holder !== null && local.has(holder) ? Number.POSITIVE_INFINITY : pollMs);
    }
    for (;;) {
      const now = clock.now();
      const others = coordination.inflightOutside(token, now);
      if (others.length === 0) return token;
      if (now - startedAt > lockWaitMs || lockOptions.signal?.aborted) giveUp();
      await pause(others.every((id) => local.has(id)) ? Number.POSITIVE_INFINITY : pollMs);
    }
  }

  function unlock(token: string): void {
    local.delete(token);
    coordination.releaseLease(ORDER_LOCK_LEASE, token);
    wake();
    if (queue.length > 0) void pump();
  }

  return {
    acquire,
    lock,
    unlock,
    pending: () => queue.filter((e) => !e.done).length,
    close() {
      closed = true;
      for (const entry of queue.splice(0)) {
        if (!entry.done) {
          entry.done = true;
          entry.reject(abortError());
        }
      }
      wake();
    },
  };
}
