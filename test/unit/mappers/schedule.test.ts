import { describe, expect, it } from "vitest";
import {
  isRegularSessionOpen,
  mapMarketHolidays,
  mapMarketSession,
} from "../../../src/cpapi/mappers/index.ts";
import { clone, expectGatewayError, expectValid, fixture } from "./helpers.ts";

const closed = (date: string) => ({
  clearingCycleEndTime: "0000",
  tradingScheduleDate: date,
  sessions: [],
  tradingtimes: [{ openingTime: "0000", closingTime: "0000", cancelDayOrders: "Y" }] as TradingTime[],
});
interface TradingTime {
  openingTime: string;
  closingTime: string;
  cancelDayOrders: string;
  prop?: string;
}

const weekday = (date: string, regularClose = "1600", extendedClose = "2000") => ({
  clearingCycleEndTime: "2000",
  tradingScheduleDate: date,
  sessions: [],
  tradingtimes: [
    { openingTime: "0400", closingTime: "0930", cancelDayOrders: "N" },
    { openingTime: "0930", closingTime: regularClose, cancelDayOrders: "Y", prop: "LIQUID" },
    { openingTime: regularClose, closingTime: extendedClose, cancelDayOrders: "Y" },
  ] as TradingTime[],
});

/**
 * NASDAQ in IBKR's documented convention: 20000101 is any Saturday, 20000102 any Sunday, 20000103-20000107
 * Monday to Friday; dated entries override the weekday (Thanksgiving, the day after, Christmas).
 */
const NASDAQ = [
  {
    id: "p102082",
    tradeVenueId: "v13133",
    exchange: "NASDAQ",
    description: "NASDAQ",
    timezone: "America/New_York",
    schedules: [
      closed("20000101"),
      closed("20000102"),
      weekday("20000103"),
      weekday("20000104"),
      weekday("20000105"),
      weekday("20000106"),
      weekday("20000107"),
      closed("20251127"),
      weekday("20251128", "1300", "1700"),
      closed("20251225"),
    ],
  },
];

const CTX = { exchange: "NASDAQ", symbol: "AAPL" };

describe("mapMarketSession", () => {
  it("reports the regular session with today's hours in UTC", () => {
    const result = mapMarketSession(NASDAQ, { ...CTX, nowMs: Date.UTC(2025, 11, 16, 19, 35) });
    expectValid("ibkr_market_session", result);
    expect(result).toEqual({
      exchange: "NASDAQ",
      symbol: "AAPL",
      time_zone: "America/New_York",
      date: "2025-12-16",
      phase: "regular",
      regular_open: "2025-12-16T14:30:00Z",
      regular_close: "2025-12-16T21:00:00Z",
      extended_open: "2025-12-16T09:00:00Z",
      extended_close: "2025-12-17T01:00:00Z",
      next_regular_open: "2025-12-17T14:30:00Z",
      checked_at: "2025-12-16T19:35:00Z",
    });
  });

  it("reports after-hours as extended and follows daylight saving time", () => {
    expect(mapMarketSession(NASDAQ, { ...CTX, nowMs: Date.UTC(2025, 11, 16, 22, 0) }).phase).toBe("extended");
    const summer = mapMarketSession(NASDAQ, { ...CTX, nowMs: Date.UTC(2026, 6, 1, 12, 0) });
    expect(summer).toMatchObject({
      phase: "extended",
      regular_open: "2026-07-01T13:30:00Z",
      regular_close: "2026-07-01T20:00:00Z",
    });
  });

  it("is closed on a Saturday and points at Monday's open", () => {
    const result = mapMarketSession(NASDAQ, { ...CTX, nowMs: Date.UTC(2025, 11, 20, 15, 0) });
    expectValid("ibkr_market_session", result);
    expect(result).toEqual({
      exchange: "NASDAQ",
      symbol: "AAPL",
      time_zone: "America/New_York",
      date: "2025-12-20",
      phase: "closed",
      next_regular_open: "2025-12-22T14:30:00Z",
      checked_at: "2025-12-20T15:00:00Z",
    });
  });

  it("skips a holiday when looking for the next open, and uses the exchange's date", () => {
    // 2025-12-25T03:00Z is still Christmas Eve (22:00) in New York.
    const result = mapMarketSession(NASDAQ, { ...CTX, nowMs: Date.UTC(2025, 11, 25, 3, 0) });
    expect(result).toMatchObject({
      date: "2025-12-24",
      phase: "closed",
      next_regular_open: "2025-12-26T14:30:00Z",
    });
  });

  it("takes the regular hours from sessions when the whole trading day is one window", () => {
    const venue = clone(NASDAQ);
    for (const entry of venue[0]?.schedules ?? []) {
      if (entry.tradingScheduleDate !== "20000103") continue;
      Object.assign(entry, {
        sessions: [{ openingTime: "0930", closingTime: "1600", prop: "LIQUID" }],
        tradingtimes: [{ openingTime: "0400", closingTime: "2000", cancelDayOrders: "Y" }],
      });
    }
    const monday = mapMarketSession(venue, { ...CTX, nowMs: Date.UTC(2025, 11, 22, 12, 0) });
    expect(monday).toMatchObject({
      phase: "extended",
      regular_open: "2025-12-22T14:30:00Z",
      regular_close: "2025-12-22T21:00:00Z",
      extended_open: "2025-12-22T09:00:00Z",
      extended_close: "2025-12-23T01:00:00Z",
    });
  });

  it("refuses an exchange the schedule does not list", () => {
    expectGatewayError(
      () => mapMarketSession(NASDAQ, { ...CTX, exchange: "LSE", nowMs: 0 }),
      "INPUT_INVALID_CONTRACT",
    );
  });

  it("maps the simulator fixture to a valid result", () => {
    // The fixture's weekday templates follow a Sunday-first reading (20000107 closed), not IBKR's documented
    // Saturday-first one; only the shape is checked here.
    const result = mapMarketSession(fixture("getTradingSchedule.aapl"), {
      ...CTX,
      nowMs: Date.UTC(2025, 11, 16, 19, 35),
    });
    expectValid("ibkr_market_session", result);
  });
});

describe("mapMarketHolidays", () => {
  it("lists closed and shortened weekdays in the covered window", () => {
    const result = mapMarketHolidays(NASDAQ, { ...CTX, nowMs: Date.UTC(2025, 10, 20, 15, 0) });
    expectValid("ibkr_market_holidays", result);
    expect(result).toEqual({
      exchange: "NASDAQ",
      symbol: "AAPL",
      time_zone: "America/New_York",
      covers_from: "2025-11-20",
      covers_until: "2025-12-25",
      days: [
        { date: "2025-11-27", kind: "closed" },
        {
          date: "2025-11-28",
          kind: "early_close",
          regular_open: "2025-11-28T14:30:00Z",
          regular_close: "2025-11-28T18:00:00Z",
        },
        { date: "2025-12-25", kind: "closed" },
      ],
    });
  });

  it("leaves out past dates and covers the horizon when no later exception exists", () => {
    const result = mapMarketHolidays(NASDAQ, {
      ...CTX,
      nowMs: Date.UTC(2025, 11, 26, 15, 0),
      horizonDays: 14,
    });
    expectValid("ibkr_market_holidays", result);
    expect(result).toMatchObject({ covers_from: "2025-12-26", covers_until: "2026-01-09", days: [] });
  });

  it("reports a late open", () => {
    const venue = clone(NASDAQ);
    venue[0]?.schedules.push({
      ...weekday("20251208"),
      tradingtimes: [
        { openingTime: "0400", closingTime: "1100", cancelDayOrders: "N" },
        { openingTime: "1100", closingTime: "1600", cancelDayOrders: "Y", prop: "LIQUID" },
      ],
    });
    const result = mapMarketHolidays(venue, { ...CTX, nowMs: Date.UTC(2025, 11, 1, 15, 0) });
    expect(result.days[0]).toEqual({
      date: "2025-12-08",
      kind: "late_open",
      regular_open: "2025-12-08T16:00:00Z",
      regular_close: "2025-12-08T21:00:00Z",
    });
  });

  it("maps the simulator fixture's Christmas entry", () => {
    const result = mapMarketHolidays(fixture("getTradingSchedule.aapl"), {
      ...CTX,
      nowMs: Date.UTC(2025, 11, 16, 19, 35),
    });
    expectValid("ibkr_market_holidays", result);
    expect(result.days).toEqual([{ date: "2025-12-25", kind: "closed" }]);
  });
});

describe("isRegularSessionOpen", () => {
  it("is true only inside a venue's regular hours, not in extended hours, on weekends or holidays", () => {
    expect(isRegularSessionOpen(NASDAQ, Date.UTC(2025, 11, 16, 19, 35))).toBe(true);
    expect(isRegularSessionOpen(NASDAQ, Date.UTC(2025, 11, 16, 13, 0))).toBe(false);
    expect(isRegularSessionOpen(NASDAQ, Date.UTC(2025, 11, 16, 22, 0))).toBe(false);
    expect(isRegularSessionOpen(NASDAQ, Date.UTC(2025, 11, 20, 15, 0))).toBe(false);
    expect(isRegularSessionOpen(NASDAQ, Date.UTC(2025, 11, 25, 15, 0))).toBe(false);
    // The early close of the day after Thanksgiving (13:00 New York).
    expect(isRegularSessionOpen(NASDAQ, Date.UTC(2025, 10, 28, 17, 30))).toBe(true);
    expect(isRegularSessionOpen(NASDAQ, Date.UTC(2025, 10, 28, 18, 30))).toBe(false);
  });

  it("is true when any venue of the answer is in its regular session", () => {
    const london = {
      ...NASDAQ[0],
      exchange: "LSE",
      timezone: "Europe/London",
      schedules: [
        closed("20000101"),
        closed("20000102"),
        ...[3, 4, 5, 6, 7].map((d) => ({
          ...weekday(`2000010${d}`),
          tradingtimes: [{ openingTime: "0800", closingTime: "1630", cancelDayOrders: "Y", prop: "LIQUID" }],
        })),
      ],
    };
    // 10:00 in London is 05:00 in New York: only the London venue trades.
    expect(isRegularSessionOpen([NASDAQ[0], london], Date.UTC(2025, 11, 16, 10, 0))).toBe(true);
    expect(isRegularSessionOpen(NASDAQ, Date.UTC(2025, 11, 16, 10, 0))).toBe(false);
    expect(isRegularSessionOpen([], Date.UTC(2025, 11, 16, 19, 35))).toBe(false);
  });

  it("refuses an answer that is not a list of venues", () => {
    expectGatewayError(() => isRegularSessionOpen({ error: "x" }, 0), "BROKER_RESPONSE_INVALID", {
      operation_id: "getTradingSchedule",
    });
  });
});
