// The gateway's pacing, as the broker enforces it: 10 requests per second through the Client Portal Gateway,
// the per-endpoint limits of the contracts (x-ibkr-pacing), five concurrent history requests. A violation
// answers 429 and puts the caller in the penalty box, where every request is refused until it ends
// (10 minutes by default; IBKR's documents say 10 or 15). The `bench` profile lifts everything.
import type { CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";

export interface PacingSettings {
  readonly enabled: boolean;
  readonly globalPerSecond: number;
  readonly penaltyMs: number;
}

export const DEFAULT_PACING: PacingSettings = { enabled: true, globalPerSecond: 10, penaltyMs: 10 * 60_000 };

export type PacingVerdict =
  | { readonly ok: true; readonly release: () => void }
  | {
      readonly ok: false;
      readonly reason: "global" | "endpoint" | "concurrency" | "penalty_box";
      readonly penaltyEndsAt: number;
    };

export interface SimPacer {
  admit(operation: CpapiOperationSpec, source: string, now: number): PacingVerdict;
  /** Puts a source ("*": every source) in the penalty box from `now` (rate-limited scenario, control API). */
  penalise(source: string, now: number, ms?: number): void;
  penaltyEndsAt(source: string): number | null;
  clear(): void;
  settings: PacingSettings;
}

/** Endpoints that share one limit: the tickle is limited per path, whatever the method. */
function limitKey(operation: CpapiOperationSpec): string {
  return operation.path;
}

export function createSimPacer(initial: PacingSettings = DEFAULT_PACING): SimPacer {
  const recent = new Map<string, number[]>();
  const endpointRecent = new Map<string, number[]>();
  const concurrent = new Map<string, number>();
  const penalty = new Map<string, number>();

  function within(list: number[] | undefined, now: number, windowMs: number): number[] {
    const kept = (list ?? []).filter((t) => t > now - windowMs);
    return kept;
  }

  const pacer: SimPacer = {
    settings: initial,
    admit(operation, source, now) {
      const noop = () => {};
      if (!pacer.settings.enabled) return { ok: true, release: noop };
      // "*" boxes every caller (the rate-limited scenario starts that way).
      for (const key of [source, "*"]) {
        const boxedUntil = penalty.get(key);
        if (boxedUntil === undefined) continue;
        if (now < boxedUntil) return { ok: false, reason: "penalty_box", penaltyEndsAt: boxedUntil };
        penalty.delete(key);
      }
      const refuse = (reason: "global" | "endpoint" | "concurrency") => {
        const ends = now + pacer.settings.penaltyMs;
        penalty.set(source, ends);
        return { ok: false as const, reason, penaltyEndsAt: ends };
      };
      const global = within(recent.get(source), now, 1_000);
      if (global.length >= pacer.settings.globalPerSecond) return refuse("global");
      const rule = operation.pacing;
      const endpointKey = `${source} ${limitKey(operation)}`;
      let endpoint: number[] | null = null;
      if (rule !== null && "rate" in rule) {
        endpoint = within(endpointRecent.get(endpointKey), now, rule.per_seconds * 1_000);
        if (endpoint.length >= rule.rate) return refuse("endpoint");
      }
      if (rule !== null && "concurrent" in rule && (concurrent.get(endpointKey) ?? 0) >= rule.concurrent) {
        return refuse("concurrency");
      }
      global.push(now);
      recent.set(source, global);
      if (endpoint !== null) {
        endpoint.push(now);
        endpointRecent.set(endpointKey, endpoint);
      }
      if (rule !== null && "concurrent" in rule) {
        concurrent.set(endpointKey, (concurrent.get(endpointKey) ?? 0) + 1);
        let released = false;
        return {
          ok: true,
          release: () => {
            if (released) return;
            released = true;
            concurrent.set(endpointKey, Math.max(0, (concurrent.get(endpointKey) ?? 1) - 1));
          },
        };
      }
      return { ok: true, release: noop };
    },
    penalise(source, now, ms) {
      penalty.set(source, now + (ms ?? pacer.settings.penaltyMs));
    },
    penaltyEndsAt: (source) => penalty.get(source) ?? null,
    clear() {
      recent.clear();
      endpointRecent.clear();
      concurrent.clear();
      penalty.clear();
    },
  };
  return pacer;
}
