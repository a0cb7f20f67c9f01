// Exchange time for the simulated US market: New York wall-clock time, trading days (weekends and NYSE
// holidays closed, early closes), the regular and extended sessions, and the nightly 01:00 reset of the
// brokerage session. Everything the simulator does with hours goes through here.

const NEW_YORK = "America/New_York";
// Created on first use: building an ICU formatter costs milliseconds that every CLI start would pay.
let format: Intl.DateTimeFormat | null = null;
const formatter = () =>
  (format ??= new Intl.DateTimeFormat("en-US", {
    timeZone: NEW_YORK,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    weekday: "short",
  }));

export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday ... 6 = Saturday. */
  readonly weekday: number;
  /** YYYYMMDD. */
  readonly date: string;
  /** Minutes since local midnight. */
  readonly minutes: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

// Formatting is the slow part; the order engine asks for the same minute many times.
const cache = new Map<number, WallTime>();

export function newYorkTime(ms: number): WallTime {
  const minuteKey = Math.floor(ms / 60_000);
  const second = Math.floor((ms - minuteKey * 60_000) / 1000);
  let base = cache.get(minuteKey);
  if (base === undefined) {
    const parts: Record<string, string> = {};
    for (const part of formatter().formatToParts(new Date(minuteKey * 60_000))) parts[part.type] = part.value;
    const year = Number(parts.year);
    const month = Number(parts.month);
    const day = Number(parts.day);
    const hour = Number(parts.hour);
    const minute = Number(parts.minute);
    base = {
      year,
      month,
      day,
      hour,
      minute,
      second: 0,
      weekday: WEEKDAYS[parts.weekday ?? "Sun"] ?? 0,
      date: `${year}${String(month).padStart(2, "0")}${String(day).padStart(2, "0")}`,
      minutes: hour * 60 + minute,
    };
    if (cache.size > 50_000) cache.clear();
    cache.set(minuteKey, base);
  }
  return second === 0 ? base : { ...base, second };
}

/** Epoch ms of a New York wall-clock time (date YYYYMMDD, minutes since midnight). */
export function fromNewYork(date: string, minutes: number): number {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(4, 6));
  const day = Number(date.slice(6, 8));
  const guess = Date.UTC(year, month - 1, day, 0, minutes);
  // Two passes settle the offset, including across a daylight-saving change.
  let ms = guess;
  for (let i = 0; i < 2; i += 1) {
    const wall = newYorkTime(ms);
    const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, 0, wall.minutes);
    ms += guess - wallAsUtc;
  }
  return ms;
}

/** NYSE full-day closures (2025-2027). */
const HOLIDAYS = new Set([
  "20250101",
  "20250120",
  "20250217",
  "20250418",
  "20250526",
  "20250619",
  "20250704",
  "20250901",
  "20251127",
  "20251225",
  "20260101",
  "20260119",
  "20260216",
  "20260403",
  "20260525",
  "20260619",
  "20260703",
  "20260907",
  "20261126",
  "20261225",
  "20270101",
  "20270118",
  "20270215",
  "20270326",
  "20270531",
  "20270618",
  "20270705",
  "20270906",
  "20271125",
  "20271224",
]);

/** Days the regular session ends at 13:00. */
const EARLY_CLOSES = new Set(["20250703", "20251128", "20251224", "20261127", "20261224", "20271126"]);

export const PRE_OPEN = 4 * 60;
export const REGULAR_OPEN = 9 * 60 + 30;
export const REGULAR_CLOSE = 16 * 60;
export const POST_CLOSE = 20 * 60;
/** The brokerage (/iserver) session is reset every night at 01:00 New York time. */
export const NIGHTLY_RESET = 60;

export function isHoliday(date: string): boolean {
  return HOLIDAYS.has(date);
}

export function isTradingDay(date: string): boolean {
  const weekday = new Date(
    Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8))),
  ).getUTCDay();
  return weekday !== 0 && weekday !== 6 && !HOLIDAYS.has(date);
}

export function regularClose(date: string): number {
  return EARLY_CLOSES.has(date) ? 13 * 60 : REGULAR_CLOSE;
}

export function postClose(date: string): number {
  return EARLY_CLOSES.has(date) ? 17 * 60 : POST_CLOSE;
}

export type SessionPhase = "closed" | "pre" | "regular" | "post";

export function sessionPhase(ms: number): SessionPhase {
  const wall = newYorkTime(ms);
  if (!isTradingDay(wall.date)) return "closed";
  const m = wall.minutes;
  if (m >= REGULAR_OPEN && m < regularClose(wall.date)) return "regular";
  if (m >= PRE_OPEN && m < REGULAR_OPEN) return "pre";
  if (m >= regularClose(wall.date) && m < postClose(wall.date)) return "post";
  return "closed";
}

/**
 * The first instant at or after `ms` inside a session: the regular one, or with `extended` any of pre-market,
 * regular and after-hours (which follow each other without a gap). Infinity if none within two weeks.
 */
export function nextSessionAt(ms: number, extended: boolean): number {
  let date = newYorkTime(ms).date;
  for (let i = 0; i < 15; i += 1, date = addDays(date, 1)) {
    if (!isTradingDay(date)) continue;
    const opens = fromNewYork(date, extended ? PRE_OPEN : REGULAR_OPEN);
    const closes = fromNewYork(date, extended ? postClose(date) : regularClose(date));
    if (ms < opens) return opens;
    if (ms < closes) return ms;
  }
  return Number.POSITIVE_INFINITY;
}

/** YYYYMMDD plus n calendar days. */
export function addDays(date: string, n: number): string {
  const d = new Date(
    Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)) + n),
  );
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}${String(d.getUTCDate()).padStart(2, "0")}`;
}

/** The trading day at or before `date`. */
export function tradingDayOnOrBefore(date: string): string {
  let d = date;
  while (!isTradingDay(d)) d = addDays(d, -1);
  return d;
}

/** The trading day strictly before `date`. */
export function previousTradingDay(date: string): string {
  return tradingDayOnOrBefore(addDays(date, -1));
}

/** Epoch ms of the last regular close at or before `ms`. */
export function lastCloseAt(ms: number): number {
  const wall = newYorkTime(ms);
  let date = wall.date;
  if (!isTradingDay(date) || wall.minutes < regularClose(date)) date = previousTradingDay(date);
  return fromNewYork(date, regularClose(date));
}

/** Epoch ms of the most recent nightly reset at or before `ms`. */
export function lastNightlyResetAt(ms: number): number {
  const wall = newYorkTime(ms);
  const date = wall.minutes >= NIGHTLY_RESET ? wall.date : addDays(wall.date, -1);
  return fromNewYork(date, NIGHTLY_RESET);
}

/** The third Friday of a month (monthly option expiry), YYYYMMDD. */
export function thirdFriday(year: number, month: number): string {
  const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  const day = 1 + ((5 - first + 7) % 7) + 14;
  return `${year}${String(month).padStart(2, "0")}${String(day).padStart(2, "0")}`;
}
