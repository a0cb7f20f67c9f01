// The simulator's clock. Tests pass a manual clock shared with the client (virtual time); the HTTPS server
// runs on real time shifted by an offset, so the control API can jump it forward (to the close, past the
// nightly reset) while it keeps ticking. The offset is the only thing such a clock knows, which is what lets
// a persisted simulator share its moved time with every process of the profile.
import type { Clock } from "../core/clock.ts";

export interface SimClock extends Clock {
  advance(ms: number): void;
}

/** Real time plus an offset that can be read and replaced (a persisted simulator stores it). */
export interface OffsetClock extends SimClock {
  offset(): number;
  setOffset(ms: number): void;
}

export function isSimClock(clock: Clock): clock is SimClock {
  return typeof (clock as Partial<SimClock>).advance === "function";
}

export function isOffsetClock(clock: Clock): clock is OffsetClock {
  return typeof (clock as Partial<OffsetClock>).setOffset === "function";
}

/** Real time, started at `startAt` (default: now), movable forward with advance(). */
export function createOffsetClock(startAt?: number, now: () => number = Date.now): OffsetClock {
  let offset = startAt === undefined ? 0 : startAt - now();
  return {
    now: () => now() + offset,
    advance: (ms) => {
      offset += ms;
    },
    offset: () => offset,
    setOffset: (ms) => {
      offset = ms;
    },
  };
}
