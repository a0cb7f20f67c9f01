// Time as a dependency. Production code takes a Clock instead of calling Date.now(), so tests and the
// simulator can move time (idle expiry, pacing windows, approval TTLs) without sleeping.
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

/** A clock that moves only when told to. */
export function createManualClock(startMs = Date.UTC(2026, 10, 24, 14, 30, 0)): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

let lastSecond = Number.NaN;
let lastRfc3339 = "";

/** RFC 3339 UTC timestamp with second precision, as tool outputs use. */
export function toRfc3339(ms: number): string {
  // One call stamps its outputs, records and events many times within the same second: format it once.
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastRfc3339 = new Date(second * 1000).toISOString().replace(".000Z", "Z");
    lastSecond = second;
  }
  return lastRfc3339;
}
