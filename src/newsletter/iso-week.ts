import { DispatchError } from '../errors.js';

/** An ISO 8601 week such as "2013-W37". */
export type IsoWeek = string;

const WEEK = /^(\d{4})-W(\d{2})$/;
const DAY_MS = 86_400_000;

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock fields of `instant` in `timeZone`. */
export function wallClock(
  instant: Date,
  timeZone: string,
): LocalDate & { hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** Milliseconds `timeZone` is ahead of UTC at `instant`. */
function offsetAt(instant: Date, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant of local midnight at the start of a calendar date in `timeZone`. */
function localMidnight(date: LocalDate, timeZone: string): Date {
  return localInstant(date, 0, timeZone);
}

/**
 * The instant a wall clock in `timeZone` shows `minuteOfDay` minutes past midnight of `date`
 * (in a DST gap, the instant just after it).
 */
export function localInstant(date: LocalDate, minuteOfDay: number, timeZone: string): Date {
  const guess = Date.UTC(date.year, date.month - 1, date.day) + minuteOfDay * 60_000;
  let instant = guess - offsetAt(new Date(guess), timeZone);
  // Once more, in case the offset changed between the guess and the answer (a DST change that day).
  instant = guess - offsetAt(new Date(instant), timeZone);
  return new Date(instant);
}

/** ISO week of a calendar date: the week with that date's Thursday decides the year. */
function isoWeekOfDate({ year, month, day }: LocalDate): { year: number; week: number } {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0 ... Sunday 6
  const thursday = new Date(date.getTime() + (3 - weekday) * DAY_MS);
  const weekYear = thursday.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(weekYear, 0, 4));
  const firstMonday = firstThursday.getTime() - ((firstThursday.getUTCDay() + 6) % 7) * DAY_MS;
  return { year: weekYear, week: 1 + Math.round((thursday.getTime() - 3 * DAY_MS - firstMonday) / (7 * DAY_MS)) };
}

/** The ISO week that `instant` falls in, in `timeZone`. */
export function isoWeekOf(instant: Date, timeZone: string): IsoWeek {
  const { year, week } = isoWeekOfDate(wallClock(instant, timeZone));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Checks and splits "2013-W37"; throws E_WEEK_INVALID for anything else or a week the year lacks. */
export function parseIsoWeek(week: string): { year: number; week: number } {
  const match = WEEK.exec(week);
  const year = Number(match?.[1]);
  const number = Number(match?.[2]);
  const weeksInYear = isoWeekOfDate({ year, month: 12, day: 28 }).week;
  if (!match || number < 1 || number > weeksInYear) {
    throw new DispatchError('E_WEEK_INVALID', `not an ISO week: "${week}" (expected the form 2013-W37)`);
  }
  return { year, week: number };
}

/** Monday 00:00 (inclusive) to the next Monday 00:00 (exclusive) of an ISO week, in `timeZone`. */
export function weekRange(week: IsoWeek, timeZone: string): { start: Date; end: Date; days: LocalDate[] } {
  const { year, week: number } = parseIsoWeek(week);
  const jan4 = Date.UTC(year, 0, 4);
  const monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS + (number - 1) * 7 * DAY_MS;
  const days = Array.from({ length: 8 }, (_, i) => {
    const d = new Date(monday + i * DAY_MS);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
  });
  return {
    start: localMidnight(days[0] as LocalDate, timeZone),
    end: localMidnight(days[7] as LocalDate, timeZone),
    days: days.slice(0, 7),
  };
}
