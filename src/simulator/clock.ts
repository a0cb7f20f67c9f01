// The simulator's clock. Tests pass a manual clock shared with the client (virtual time); the HTTPS server
// runs on real time shifted by an offset, so the control API can jump it forward (to the close, past the
// nightly reset) while it keeps ticking.
import type { Clock } from "../core/clock.ts";

export interface SimClock extends Clock {
  advance(ms: number): void;
}

export function isSimClock(clock: Clock): clock is SimClock {
  return typeof (clock as Partial<SimClock>).advance === "function";
}

/** Real time, started at `startAt` (default: now), movable forward with advance(). */
export function createOffsetClock(startAt?: number, now: () => number = Date.now): SimClock {
  let offset = startAt === undefined ? 0 : startAt - now();
  return {
    now: () => now() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}
