import { describe, expect, it } from 'vitest';
import { isDispatchError } from '../src/errors.js';
import { isoWeekOf, parseIsoWeek, weekRange } from '../src/newsletter/iso-week.js';

describe('isoWeekOf', () => {
  const cases: [string, string, string][] = [
    ['2013-09-13T12:00:00Z', 'UTC', '2013-W37'],
    ['2013-09-15T23:30:00Z', 'UTC', '2013-W37'], // Sunday night in London is still Sunday in UTC
    ['2013-09-15T23:30:00Z', 'Europe/Berlin', '2013-W38'], // ... but already Monday in Berlin
    ['2013-09-16T03:00:00Z', 'America/New_York', '2013-W37'], // ... and still Sunday in New York
    ['2021-01-03T12:00:00Z', 'UTC', '2020-W53'], // early January can belong to last year's week 53
    ['2024-12-30T12:00:00Z', 'UTC', '2025-W01'], // late December can belong to next year's week 1
    ['2026-11-27T09:00:00Z', 'Pacific/Auckland', '2026-W48'],
  ];
  it.each(cases)('%s in %s is %s', (instant, tz, week) => {
    expect(isoWeekOf(new Date(instant), tz)).toBe(week);
  });
});

describe('weekRange', () => {
  const cases: [string, string, string, string][] = [
    ['2013-W37', 'UTC', '2013-09-09T00:00:00.000Z', '2013-09-16T00:00:00.000Z'],
    ['2013-W37', 'Europe/London', '2013-09-08T23:00:00.000Z', '2013-09-15T23:00:00.000Z'],
    // The week the clocks go back in London: 7 days and one hour long.
    ['2026-W43', 'Europe/London', '2026-10-18T23:00:00.000Z', '2026-10-26T00:00:00.000Z'],
    ['2020-W53', 'UTC', '2020-12-28T00:00:00.000Z', '2021-01-04T00:00:00.000Z'],
  ];
  it.each(cases)('%s in %s', (week, tz, start, end) => {
    const range = weekRange(week, tz);
    expect(range.start.toISOString()).toBe(start);
    expect(range.end.toISOString()).toBe(end);
    expect(isoWeekOf(range.start, tz)).toBe(week);
    expect(isoWeekOf(new Date(range.end.getTime() - 1), tz)).toBe(week);
  });

  const bad = ['2013-37', '2013-W00', '2013-W53', '2020-W54', 'W37', ''];
  it.each(bad)('refuses %j with E_WEEK_INVALID', (week) => {
    try {
      parseIsoWeek(week);
      expect.unreachable();
    } catch (error) {
      expect(isDispatchError(error, 'E_WEEK_INVALID')).toBe(true);
    }
  });
});
