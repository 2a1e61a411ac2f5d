import { type LocalDate, localInstant, wallClock } from '../../newsletter/iso-week.js';

/** The hours posts may go out, as minutes of the local day: [start, end). */
export interface PostingWindow {
  startMinute: number;
  endMinute: number;
}

const DAY_MS = 86_400_000;

/** `07:00-22:00` as minutes of the day; an end at or before the start runs past midnight. */
export function parseWindow(window: string): PostingWindow {
  const [start, end] = window.split('-').map((part) => {
    const [h, m] = part.split(':').map(Number);
    return (h as number) * 60 + (m as number);
  }) as [number, number];
  return { startMinute: start, endMinute: end };
}

function inside(minute: number, window: PostingWindow): boolean {
  const { startMinute: start, endMinute: end } = window;
  if (end - start >= 1440 || start === end) return true;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

function nextDay(date: LocalDate): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day) + DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** `at` when it falls inside the window (in `timeZone`), else the window's next opening. */
export function nextInWindow(at: Date, window: PostingWindow, timeZone: string): Date {
  const clock = wallClock(at, timeZone);
  if (inside(clock.hour * 60 + clock.minute, window)) return at;
  const today: LocalDate = { year: clock.year, month: clock.month, day: clock.day };
  const opening = localInstant(today, window.startMinute, timeZone);
  return opening.getTime() > at.getTime() ? opening : localInstant(nextDay(today), window.startMinute, timeZone);
}

/**
 * When each of `count` posts goes out: the first at `start` (or the window's next opening), each
 * next one `spacingMs` after the one before, moved on to the next opening when that falls outside.
 */
export function planTimes(
  start: Date,
  count: number,
  spacingMs: number,
  window: PostingWindow,
  timeZone: string,
): Date[] {
  const times: Date[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    at = nextInWindow(i === 0 ? at : new Date(at.getTime() + spacingMs), window, timeZone);
    times.push(at);
  }
  return times;
}
