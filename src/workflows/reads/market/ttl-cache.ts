// A small bounded cache with a time to live, for broker facts that do not change within the hour
// (contract details, trading schedules). Per process: nothing here is shared or persisted.
import type { Clock } from "../../../core/clock.ts";

export interface TtlCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
}

export function createTtlCache<V>(clock: Clock, ttlMs: number, maxEntries: number): TtlCache<V> {
  const entries = new Map<string, { value: V; storedAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (clock.now() - entry.storedAt < ttlMs) return entry.value;
      entries.delete(key);
      return undefined;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, { value, storedAt: clock.now() });
      // Map iteration follows insertion order, so the first key is the one stored longest ago.
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}
