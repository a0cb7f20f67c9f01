// Fixed-window limits on a manual clock: exact Retry-After, refunds, and bounded memory.
import { describe, expect, it } from "vitest";
import { createRateLimiter } from "../../src/auth/index.ts";
import { createManualClock } from "../../src/core/clock.ts";

describe("createRateLimiter", () => {
  it("allows limit requests per window and tells how long to wait after that", () => {
    const clock = createManualClock(1_000_000);
    const limiter = createRateLimiter({ limit: 2, windowMs: 60_000, clock });
    expect([limiter.take("a"), limiter.take("a")]).toEqual([{ ok: true }, { ok: true }]);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 60 });
    expect(limiter.take("b")).toEqual({ ok: true });
    clock.advance(59_500);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 1 });
    clock.advance(500);
    expect(limiter.take("a")).toEqual({ ok: true });
  });

  it("gives a request back on refund, within the same window only", () => {
    const clock = createManualClock(0);
    const limiter = createRateLimiter({ limit: 1, windowMs: 1_000, clock });
    expect(limiter.take("a")).toEqual({ ok: true });
    limiter.refund("a");
    expect(limiter.take("a")).toEqual({ ok: true });
    expect(limiter.take("a").ok).toBe(false);
  });

  it("drops the oldest key at capacity instead of refusing new clients", () => {
    const clock = createManualClock(0);
    const limiter = createRateLimiter({ limit: 1, windowMs: 60_000, clock, maxKeys: 2 });
    limiter.take("a");
    limiter.take("b");
    limiter.take("c");
    // "a" was forgotten, so it starts over; "c" is remembered.
    expect(limiter.take("a")).toEqual({ ok: true });
    expect(limiter.take("c").ok).toBe(false);
  });
});
