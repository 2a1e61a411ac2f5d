import { describe, expect, it } from 'vitest';
import { nextInWindow, parseWindow, planTimes } from '../src/social/schedule/posting-window.js';

const MIN = 60_000;
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('planTimes and nextInWindow', () => {
  const cases: {
    name: string;
    start: string;
    count: number;
    spacing: number;
    window: string;
    tz: string;
    want: string[];
  }[] = [
    {
      // The clocks go forward at 01:00 GMT on 29 March 2026: Sunday's 07:00 opening is 06:00 UTC.
      name: 'London, spring forward: the next morning opens at 07:00 BST',
      start: '2026-03-28T21:00:00Z',
      count: 3,
      spacing: 90,
      window: '07:00-22:00',
      tz: 'Europe/London',
      want: ['2026-03-28T21:00:00.000Z', '2026-03-29T06:00:00.000Z', '2026-03-29T07:30:00.000Z'],
    },
    {
      // 21:00 UTC on 24 October is 22:00 BST, the window's end; Sunday (back on GMT) opens at 07:00 UTC.
      name: 'London, fall back: 22:00 BST is outside; the next morning opens at 07:00 GMT',
      start: '2026-10-24T21:00:00Z',
      count: 3,
      spacing: 90,
      window: '07:00-22:00',
      tz: 'Europe/London',
      want: ['2026-10-25T07:00:00.000Z', '2026-10-25T08:30:00.000Z', '2026-10-25T10:00:00.000Z'],
    },
    {
      // 01:00 does not exist on 29 March in London: the window opens when the clocks reach it (02:00 BST).
      name: 'London, a window that starts in the skipped hour',
      start: '2026-03-29T00:30:00Z',
      count: 3,
      spacing: 60,
      window: '01:00-03:00',
      tz: 'Europe/London',
      want: ['2026-03-29T01:00:00.000Z', '2026-03-30T00:00:00.000Z', '2026-03-30T01:00:00.000Z'],
    },
    {
      name: 'a window across midnight (22:00-02:00)',
      start: '2026-06-01T21:00:00Z',
      count: 4,
      spacing: 90,
      window: '22:00-02:00',
      tz: 'UTC',
      want: [
        '2026-06-01T22:00:00.000Z',
        '2026-06-01T23:30:00.000Z',
        '2026-06-02T01:00:00.000Z',
        '2026-06-02T22:00:00.000Z',
      ],
    },
    {
      name: '00:00-24:00 posts at any hour, across midnight too',
      start: '2026-06-01T23:30:00Z',
      count: 3,
      spacing: 20,
      window: '00:00-24:00',
      tz: 'UTC',
      want: ['2026-06-01T23:30:00.000Z', '2026-06-01T23:50:00.000Z', '2026-06-02T00:10:00.000Z'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(iso(planTimes(new Date(c.start), c.count, c.spacing * MIN, parseWindow(c.window), c.tz))).toEqual(c.want);
    });
  }

  it('the end of a window across midnight is exclusive, its start inclusive', () => {
    const window = parseWindow('22:00-02:00');
    expect(nextInWindow(new Date('2026-06-01T01:59:00Z'), window, 'UTC').toISOString()).toBe(
      '2026-06-01T01:59:00.000Z',
    );
    expect(nextInWindow(new Date('2026-06-01T02:00:00Z'), window, 'UTC').toISOString()).toBe(
      '2026-06-01T22:00:00.000Z',
    );
    expect(nextInWindow(new Date('2026-06-01T22:00:00Z'), window, 'UTC').toISOString()).toBe(
      '2026-06-01T22:00:00.000Z',
    );
  });

  it('00:00-24:00 is the whole day', () => {
    expect(parseWindow('00:00-24:00')).toEqual({ startMinute: 0, endMinute: 1440 });
    const at = new Date('2026-10-25T01:30:00Z');
    expect(nextInWindow(at, parseWindow('00:00-24:00'), 'Europe/London')).toEqual(at);
  });
});
