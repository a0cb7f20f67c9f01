// Trading sessions and holidays from /trsrv/secdef/schedule. Each venue lists schedules by date in its own
// time zone. IBKR's document: "20000101 stands for any Sat, 20000102 for any Sun, ... 20000107 for any Fri;
// any other date stands for itself", so dated entries are the exceptions (holidays, short days) to the weekly
// template. `tradingtimes` is the whole trading day; the regular (liquid) hours are `sessions` when given,
// else the tradingtimes marked prop LIQUID. "0000"-"0000" is no trading at all.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import { compact, invalid, isRecord, requireArray, text, type WireRecord } from "./common.ts";

export type MarketSessionResult = Omit<ToolOutput<"ibkr_market_session">, "source">;
export type MarketHolidaysResult = Omit<ToolOutput<"ibkr_market_holidays">, "source">;

const OP = "getTradingSchedule";
const DAY_MS = 86_400_000;

/** IBKR documents the schedule as covering up to a month ahead. */
export const SCHEDULE_HORIZON_DAYS = 30;

interface LocalDate {
  readonly y: number;
  readonly m: number;
  readonly d: number;
}

interface Window {
  readonly start: number;
  readonly end: number;
}

interface DayPlan {
  /** Regular (liquid) windows, epoch ms. */
  readonly regular: readonly Window[];
  /** Every trading window of the day (regular plus extended), epoch ms. */
  readonly trading: readonly Window[];
}

interface Venue {
  readonly exchange: string;
  readonly timeZone: string;
  /** Entries by "YYYYMMDD" (template dates included). */
  readonly byDate: ReadonlyMap<string, WireRecord>;
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  } catch {
    throw invalid(OP, "timezone");
  }
}

/** Wall-clock parts of an instant in a zone. */
function wallClock(fmt: Intl.DateTimeFormat, ms: number): { date: LocalDate; minutes: number } {
  const parts: Record<string, number> = {};
  for (const p of fmt.formatToParts(new Date(ms))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return {
    date: { y: parts.year ?? 0, m: parts.month ?? 0, d: parts.day ?? 0 },
    minutes: (parts.hour ?? 0) * 60 + (parts.minute ?? 0),
  };
}

/** The instant at which the zone's clock shows `minutes` after midnight on `date` (DST-aware). */
function instantOf(fmt: Intl.DateTimeFormat, date: LocalDate, minutes: number): number {
  const wall = Date.UTC(date.y, date.m - 1, date.d) + minutes * 60_000;
  let guess = wall;
  for (let i = 0; i < 3; i += 1) {
    const seen = wallClock(fmt, guess);
    const seenWall = Date.UTC(seen.date.y, seen.date.m - 1, seen.date.d) + seen.minutes * 60_000;
    const diff = wall - seenWall;
    if (diff === 0) break;
    guess += diff;
  }
  return guess;
}

function addDays(date: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d) + days * DAY_MS);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

function key(date: LocalDate): string {
  return `${date.y}${String(date.m).padStart(2, "0")}${String(date.d).padStart(2, "0")}`;
}

function iso(date: LocalDate): string {
  return `${date.y}-${String(date.m).padStart(2, "0")}-${String(date.d).padStart(2, "0")}`;
}

/** 0 = Sunday ... 6 = Saturday. */
function weekday(date: LocalDate): number {
  return new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
}

/** The template entry for a weekday: 20000101 Saturday, 20000102 Sunday, ..., 20000107 Friday. */
function templateKey(date: LocalDate): string {
  const dow = weekday(date);
  return `2000010${dow === 6 ? 1 : dow + 2}`;
}

function isTemplateKey(k: string): boolean {
  return /^2000010[1-7]$/.test(k);
}

function hhmm(value: unknown): number | undefined {
  const t = text(value);
  const m = t === undefined ? null : /^([0-9]{2}):?([0-9]{2})$/.exec(t);
  if (m === null) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h > 24 || min > 59 ? undefined : h * 60 + min;
}

function windowsOf(list: unknown, date: LocalDate, fmt: Intl.DateTimeFormat, onlyLiquid: boolean): Window[] {
  if (!Array.isArray(list)) return [];
  const out: Window[] = [];
  for (const entry of list) {
    if (!isRecord(entry)) continue;
    if (onlyLiquid && text(entry.prop)?.toUpperCase() !== "LIQUID") continue;
    const open = hhmm(entry.openingTime ?? entry.opening);
    const close = hhmm(entry.closingTime ?? entry.closing);
    if (open === undefined || close === undefined) throw invalid(OP, "tradingtimes");
    if (open === close) continue; // "0000"-"0000": no trading
    const start = instantOf(fmt, date, open);
    // A closing time at or before the opening time is on the next day (overnight sessions).
    const end = close > open ? instantOf(fmt, date, close) : instantOf(fmt, addDays(date, 1), close);
    out.push({ start, end });
  }
  return out.sort((a, b) => a.start - b.start);
}

function dayPlan(venue: Venue, date: LocalDate, fmt: Intl.DateTimeFormat): DayPlan {
  const entry = venue.byDate.get(key(date)) ?? venue.byDate.get(templateKey(date));
  if (entry === undefined) return { regular: [], trading: [] };
  const trading = windowsOf(entry.tradingtimes ?? entry.tradingTimes, date, fmt, false);
  const sessions = windowsOf(entry.sessions, date, fmt, false);
  const regular =
    sessions.length > 0 ? sessions : windowsOf(entry.tradingtimes ?? entry.tradingTimes, date, fmt, true);
  return { regular, trading: trading.length > 0 ? trading : regular };
}

function venueOf(schedule: unknown, wanted: string): Venue {
  const venues = requireArray(schedule, OP).filter(isRecord);
  const upper = wanted.toUpperCase();
  const match = venues.find((v) => text(v.exchange)?.toUpperCase() === upper);
  if (match === undefined) {
    throw new GatewayError("INPUT_INVALID_CONTRACT", {
      details: { operation_id: OP, field: "exchange", reason: "not_listed_on_exchange" },
    });
  }
  const timeZone = text(match.timezone);
  if (timeZone === undefined) throw invalid(OP, "timezone");
  formatterFor(timeZone);
  const byDate = new Map<string, WireRecord>();
  for (const entry of requireArray(match.schedules, OP, "schedules")) {
    if (!isRecord(entry)) continue;
    const k = text(entry.tradingScheduleDate);
    if (k !== undefined && /^[0-9]{8}$/.test(k)) byDate.set(k, entry);
  }
  return { exchange: upper, timeZone, byDate };
}

function within(windows: readonly Window[], ms: number): boolean {
  return windows.some((w) => ms >= w.start && ms < w.end);
}

/** Inside a regular window at ms (windows that started the day before and run past midnight count). */
function inRegularSession(venue: Venue, fmt: Intl.DateTimeFormat, today: LocalDate, ms: number): boolean {
  const yesterday = dayPlan(venue, addDays(today, -1), fmt);
  return within([...dayPlan(venue, today, fmt).regular, ...yesterday.regular], ms);
}

/**
 * True when any venue of a getTradingSchedule answer is in its regular session at nowMs. The market-data
 * policy asks it before refusing an old quote: old values outside regular hours are expected, not a fault.
 */
export function isRegularSessionOpen(schedule: unknown, nowMs: number): boolean {
  for (const entry of requireArray(schedule, OP).filter(isRecord)) {
    const name = text(entry.exchange);
    if (name === undefined) continue;
    const venue = venueOf(schedule, name);
    const fmt = formatterFor(venue.timeZone);
    if (inRegularSession(venue, fmt, wallClock(fmt, nowMs).date, nowMs)) return true;
  }
  return false;
}

export interface ScheduleContext {
  /** The exchange asked about (a venue of the schedule must carry it). */
  readonly exchange: string;
  /** The symbol whose schedule was read (the reference stock, or the caller's). */
  readonly symbol: string;
  readonly nowMs: number;
}

/** How many days ahead next_regular_open is searched (the weekly template repeats beyond the dated window). */
const NEXT_OPEN_SEARCH_DAYS = 14;

/**
 * ibkr_market_session from getTradingSchedule. Phase at nowMs: regular inside a regular window, extended
 * inside another trading window, closed otherwise (windows that started the day before and run past midnight
 * count). extended_open/close are today's whole trading day when it reaches beyond the regular hours.
 */
export function mapMarketSession(schedule: unknown, ctx: ScheduleContext): MarketSessionResult {
  const venue = venueOf(schedule, ctx.exchange);
  const fmt = formatterFor(venue.timeZone);
  const today = wallClock(fmt, ctx.nowMs).date;
  const plan = dayPlan(venue, today, fmt);
  const yesterday = dayPlan(venue, addDays(today, -1), fmt);
  const regularNow = inRegularSession(venue, fmt, today, ctx.nowMs);
  const tradingNow = within([...plan.trading, ...yesterday.trading], ctx.nowMs);
  const phase = regularNow ? "regular" : tradingNow ? "extended" : "closed";

  const firstRegular = plan.regular[0];
  const lastRegular = plan.regular[plan.regular.length - 1];
  const tradingStart = plan.trading[0]?.start;
  const tradingEnd = plan.trading.reduce<number | undefined>(
    (max, w) => (max === undefined || w.end > max ? w.end : max),
    undefined,
  );
  const extendsBeyond =
    tradingStart !== undefined &&
    tradingEnd !== undefined &&
    (firstRegular === undefined || tradingStart < firstRegular.start || tradingEnd > (lastRegular?.end ?? 0));

  let nextOpen: number | undefined;
  for (let i = 0; i <= NEXT_OPEN_SEARCH_DAYS && nextOpen === undefined; i += 1) {
    const day = i === 0 ? plan : dayPlan(venue, addDays(today, i), fmt);
    nextOpen = day.regular.find((w) => w.start > ctx.nowMs)?.start;
  }

  return compact({
    exchange: venue.exchange,
    symbol: ctx.symbol,
    time_zone: venue.timeZone.slice(0, 64),
    date: iso(today),
    phase,
    regular_open: firstRegular === undefined ? undefined : toRfc3339(firstRegular.start),
    regular_close: lastRegular === undefined ? undefined : toRfc3339(lastRegular.end),
    extended_open: extendsBeyond && tradingStart !== undefined ? toRfc3339(tradingStart) : undefined,
    extended_close: extendsBeyond && tradingEnd !== undefined ? toRfc3339(tradingEnd) : undefined,
    next_regular_open: nextOpen === undefined ? undefined : toRfc3339(nextOpen),
    checked_at: toRfc3339(ctx.nowMs),
  });
}

export interface HolidaysContext extends ScheduleContext {
  /** Days ahead the schedule is taken to cover; defaults to SCHEDULE_HORIZON_DAYS. */
  readonly horizonDays?: number;
}

type HolidayDay = MarketHolidaysResult["days"][number];

/**
 * ibkr_market_holidays from getTradingSchedule: the dated entries from today on that fall on a weekday and
 * differ from that weekday's template: no regular session (closed), a later regular open (late_open) or an
 * earlier regular close (early_close). covers_from is today at the exchange; covers_until is today plus the
 * horizon, or the last dated entry when that is later.
 */
export function mapMarketHolidays(schedule: unknown, ctx: HolidaysContext): MarketHolidaysResult {
  const venue = venueOf(schedule, ctx.exchange);
  const fmt = formatterFor(venue.timeZone);
  const today = wallClock(fmt, ctx.nowMs).date;
  const todayKey = key(today);
  let until = key(addDays(today, ctx.horizonDays ?? SCHEDULE_HORIZON_DAYS));
  const days: HolidayDay[] = [];
  for (const k of [...venue.byDate.keys()].sort()) {
    if (isTemplateKey(k) || k < todayKey) continue;
    if (k > until) until = k;
    const date: LocalDate = { y: Number(k.slice(0, 4)), m: Number(k.slice(4, 6)), d: Number(k.slice(6, 8)) };
    const dow = weekday(date);
    if (dow === 0 || dow === 6) continue;
    const actual = dayPlan(venue, date, fmt);
    const template = venue.byDate.get(templateKey(date));
    if (template === undefined) continue;
    const usual = dayPlan({ ...venue, byDate: new Map([[templateKey(date), template]]) }, date, fmt);
    if (usual.regular.length === 0) continue; // the exchange never trades on this weekday
    const open = actual.regular[0]?.start;
    const close = actual.regular[actual.regular.length - 1]?.end;
    if (open === undefined || close === undefined) {
      days.push({ date: iso(date), kind: "closed" });
      continue;
    }
    const usualOpen = usual.regular[0]?.start ?? open;
    const usualClose = usual.regular[usual.regular.length - 1]?.end ?? close;
    const kind = close < usualClose ? "early_close" : open > usualOpen ? "late_open" : undefined;
    if (kind !== undefined) {
      days.push({ date: iso(date), kind, regular_open: toRfc3339(open), regular_close: toRfc3339(close) });
    }
  }
  const untilDate = `${until.slice(0, 4)}-${until.slice(4, 6)}-${until.slice(6, 8)}`;
  return {
    exchange: venue.exchange,
    symbol: ctx.symbol,
    time_zone: venue.timeZone.slice(0, 64),
    covers_from: iso(today),
    covers_until: untilDate,
    days,
  };
}
