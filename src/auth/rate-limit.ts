// Fixed-window request limits keyed by a string (an address, a principal). Memory is bounded: at capacity
// the oldest key is dropped, which at worst forgets one client's count; it never blocks a new one.
import type { Clock } from "../core/clock.ts";

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

export interface RateLimiter {
  /** Counts one request; refuses when the key's window is used up. */
  take(key: string): RateDecision;
  /** Gives back one request of the current window (the pre-auth limit refunds an authenticated request). */
  refund(key: string): void;
  /** Forgets windows that have ended. */
  prune(): void;
}

export interface RateLimiterOptions {
  readonly limit: number;
  readonly windowMs: number;
  readonly clock: Clock;
  readonly maxKeys?: number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { limit, windowMs, clock } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  const windows = new Map<string, { start: number; count: number }>();
  const current = (key: string, now: number) => {
    const window = windows.get(key);
    return window !== undefined && now < window.start + windowMs ? window : undefined;
  };
  return {
    take(key) {
      const now = clock.now();
      let window = current(key, now);
      if (window === undefined) {
        windows.delete(key);
        if (windows.size >= maxKeys) {
          const oldest = windows.keys().next().value;
          if (oldest !== undefined) windows.delete(oldest);
        }
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      if (window.count >= limit) {
        return {
          ok: false,
          retryAfterSeconds: Math.max(1, Math.ceil((window.start + windowMs - now) / 1000)),
        };
      }
      window.count += 1;
      return { ok: true };
    },
    refund(key) {
      const window = current(key, clock.now());
      if (window !== undefined && window.count > 0) window.count -= 1;
    },
    prune() {
      const now = clock.now();
      for (const [key, window] of windows) if (now >= window.start + windowMs) windows.delete(key);
    },
  };
}
