// The US exchange trading day an instant counts toward, for the live limits' trading-day counters. The day
// is the New York calendar date; activity after 20:00 New York (the end of after-hours trading) and on a
// weekend counts toward the next weekday. Exchange holidays are not known here (they need the broker's
// schedule); an order placed on a holiday counts toward that date, which only makes a limit stricter.
const NEW_YORK = new Intl.DateTimeFormat("en-CA", {
  timeZone: "America/New_York",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  hourCycle: "h23",
  weekday: "short",
});

const DAY_MS = 86_400_000;
const AFTER_HOURS_END = 20;

function parts(ms: number): { date: string; hour: number; weekday: string } {
  const map = Object.fromEntries(NEW_YORK.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return {
    date: `${map.year}-${map.month}-${map.day}`,
    hour: Number(map.hour),
    weekday: String(map.weekday),
  };
}

function nextDate(date: string): { date: string; weekday: number } {
  const next = new Date(Date.parse(`${date}T12:00:00Z`) + DAY_MS);
  return { date: next.toISOString().slice(0, 10), weekday: next.getUTCDay() };
}

const HOUR_MS = 3_600_000;
/** The last hour asked about and its answer: every order write asks, and the answer changes hourly at most. */
let cachedHour = Number.NaN;
let cachedDay = "";

/** YYYY-MM-DD of the trading day `ms` belongs to. */
export function tradingDayOf(ms: number): string {
  // New York's offset from UTC is a whole number of hours and changes on an hour boundary, so every instant
  // of one UTC hour has the same New York date, hour and weekday: Intl is asked once per hour.
  const hour = Math.floor(ms / HOUR_MS);
  if (hour !== cachedHour) {
    cachedDay = computeTradingDay(ms);
    cachedHour = hour;
  }
  return cachedDay;
}

function computeTradingDay(ms: number): string {
  const now = parts(ms);
  let date = now.date;
  let weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(now.weekday);
  if (now.hour >= AFTER_HOURS_END) ({ date, weekday } = nextDate(date));
  while (weekday === 0 || weekday === 6) ({ date, weekday } = nextDate(date));
  return date;
}
