// The trading day an instant counts toward (live limits' daily counters): the New York date, rolled to the
// next weekday after 20:00 New York and over weekends, across both daylight-saving switches.
import { describe, expect, it } from "vitest";
import { tradingDayOf } from "../../../src/core/trading-day.ts";

const at = (iso: string) => Date.parse(iso);

describe("tradingDayOf", () => {
  it("is the New York date during the day and the next weekday from 20:00 New York", () => {
    expect(tradingDayOf(at("2026-12-01T15:00:00Z"))).toBe("2026-12-01"); // Tue 10:00 EST
    expect(tradingDayOf(at("2026-12-02T00:59:59Z"))).toBe("2026-12-01"); // Tue 19:59:59 EST
    expect(tradingDayOf(at("2026-12-02T01:00:00Z"))).toBe("2026-12-02"); // Tue 20:00 EST
    expect(tradingDayOf(at("2026-12-05T01:00:00Z"))).toBe("2026-12-07"); // Fri 20:00 EST -> Mon
    expect(tradingDayOf(at("2026-12-05T18:00:00Z"))).toBe("2026-12-07"); // Sat
    expect(tradingDayOf(at("2026-12-07T04:30:00Z"))).toBe("2026-12-07"); // Sun 23:30 EST
  });

  it("follows New York's offset across the daylight-saving switches", () => {
    // Summer time (EDT, UTC-4): 20:00 New York is 00:00 UTC.
    expect(tradingDayOf(at("2026-07-14T23:59:59Z"))).toBe("2026-07-14");
    expect(tradingDayOf(at("2026-07-15T00:00:00Z"))).toBe("2026-07-15");
    // Monday 2026-03-09, the first weekday of EDT, and Monday 2026-11-02, the first of EST.
    expect(tradingDayOf(at("2026-03-09T23:59:00Z"))).toBe("2026-03-09"); // 19:59 EDT
    expect(tradingDayOf(at("2026-03-10T00:00:00Z"))).toBe("2026-03-10"); // 20:00 EDT
    expect(tradingDayOf(at("2026-11-03T00:30:00Z"))).toBe("2026-11-02"); // 19:30 EST
    expect(tradingDayOf(at("2026-11-03T01:00:00Z"))).toBe("2026-11-03"); // 20:00 EST
  });

  it("answers each instant on its own, whatever was asked before", () => {
    // The answer is remembered per UTC hour: alternating between hours must not mix them up.
    const evening = at("2026-12-02T01:10:00Z");
    const afternoon = at("2026-12-01T20:10:00Z");
    for (let i = 0; i < 3; i += 1) {
      expect(tradingDayOf(evening)).toBe("2026-12-02");
      expect(tradingDayOf(afternoon)).toBe("2026-12-01");
      expect(tradingDayOf(evening + 1_000)).toBe("2026-12-02");
    }
  });
});
