// Bottom-layer utilities: exact decimals from every broker spelling, time-ordered ids, a movable clock.
import { describe, expect, it } from "vitest";
import { createManualClock, toRfc3339 } from "../../../src/core/clock.ts";
import {
  add,
  canonical,
  compare,
  isDecimalString,
  multiply,
  parseWireDecimal,
} from "../../../src/core/decimal.ts";
import { isUuid, prefixedId, uuidv7 } from "../../../src/core/ids.ts";

describe("decimal", () => {
  it.each([
    ["199.55", "199.55"],
    ["1,300", "1300"],
    ["C199.50", "199.5"],
    ["H12.1", "12.1"],
    ["5.2M", "5200000"],
    ["83.9K", "83900"],
    [199.5, "199.5"],
    ["-0.00", "0"],
    ["", null],
    ["N/A", null],
    [null, null],
    [Number.NaN, null],
  ])("parses wire value %j as %j", (wire, want) => {
    expect(parseWireDecimal(wire)).toBe(want);
  });

  it("computes without floating-point drift", () => {
    expect(add("0.1", "0.2")).toBe("0.3");
    expect(multiply("199.57", "3")).toBe("598.71");
    expect(multiply("0.07", "100")).toBe("7");
    expect(compare("10.00", "10")).toBe(0);
    expect(compare("9.99", "10")).toBe(-1);
    expect(canonical("1e3")).toBe("1000");
  });

  it("recognises canonical decimal strings", () => {
    expect(isDecimalString("12.5")).toBe(true);
    expect(isDecimalString("012")).toBe(false);
    expect(isDecimalString("1e5")).toBe(false);
  });
});

describe("ids", () => {
  it("makes RFC 9562 version 7 UUIDs ordered by time", () => {
    const clock = createManualClock(1_700_000_000_000);
    const first = uuidv7(clock);
    clock.advance(1);
    const second = uuidv7(clock);
    expect(isUuid(first)).toBe(true);
    expect(first[14]).toBe("7");
    expect(first.slice(0, 13) < second.slice(0, 13)).toBe(true);
  });

  it("makes prefixed ids that match the contract patterns", () => {
    expect(prefixedId("pv")).toMatch(/^pv_[A-Za-z0-9]{8,40}$/);
    expect(prefixedId("ap")).toMatch(/^ap_[0-9A-Z]{26}$/);
  });
});

describe("clock", () => {
  it("moves only when told and prints RFC 3339", () => {
    const clock = createManualClock(Date.UTC(2026, 10, 24, 14, 30, 0));
    clock.advance(1500);
    expect(toRfc3339(clock.now())).toBe("2026-11-24T14:30:01Z");
  });

  it("formats each instant on its own, whatever was formatted before", () => {
    // The last second is remembered: going back and forth between seconds must not mix them up.
    const base = Date.UTC(2026, 10, 24, 14, 30, 0);
    for (let i = 0; i < 2; i += 1) {
      expect(toRfc3339(base + 999)).toBe("2026-11-24T14:30:00Z");
      expect(toRfc3339(base + 1000)).toBe("2026-11-24T14:30:01Z");
      expect(toRfc3339(base - 1)).toBe("2026-11-24T14:29:59Z");
    }
  });
});
