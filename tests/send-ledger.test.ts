import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendLedger, type LedgerEntry } from '../io/send-ledger.js';
import { startTestRedis, testConfig } from './helpers/queue-harness.js';

let server: Awaited<ReturnType<typeof startTestRedis>>;
let redis: Redis;
beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  await redis.quit();
  await server.cleanup();
});

const at = '2026-11-27T09:00:00.000Z';
const entry = (state: LedgerEntry['state']): LedgerEntry => ({ state, at });
type Step = LedgerEntry['state'] | null;

describe('send ledger marks (real redis-server)', () => {
  it.each<[string, Step[], boolean[], LedgerEntry['state'] | null, Record<string, number>]>([
    ['pending -> sending -> sent', ['sending', 'sent'], [true, true], 'sent', { sent: 1 }],
    [
      'sent twice (a reply lost, the mark repeated) counts once',
      ['sending', 'sent', 'sent'],
      [true, true, false],
      'sent',
      { sent: 1 },
    ],
    [
      'a sent message is never put back to pending',
      ['sending', 'sent', null],
      [true, true, false],
      'sent',
      { sent: 1 },
    ],
    ['sending, then back to pending (a 4xx)', ['sending', null], [true, true], null, {}],
    [
      'sending left by a crash, sending again: a possible duplicate',
      ['sending', 'sending', 'sent'],
      [true, true, true],
      'sent',
      { sent: 1, possibleDuplicates: 1 },
    ],
    [
      'failed stays failed',
      ['sending', 'failed', 'sending', 'sent'],
      [true, true, false, false],
      'failed',
      { failed: 1 },
    ],
    ['skipped stays skipped', ['skipped', 'sending'], [true, false], 'skipped', { skipped: 1 }],
  ])('%s', async (_, steps, applied, final, counters) => {
    const config = testConfig();
    const ledger = createSendLedger(redis, config.REDIS_PREFIX);
    const now = new Date(at);
    await ledger.start('2026-W48', ['reader@example.org'], { batchSize: 100, rate: 0, now });
    const results: boolean[] = [];
    for (const step of steps) results.push(await ledger.mark('2026-W48', 'reader@example.org', step && entry(step)));
    expect(results).toEqual(applied);
    expect((await ledger.entry('2026-W48', 'reader@example.org'))?.state ?? null).toBe(final);
    const record = await ledger.get('2026-W48');
    expect({
      sent: record?.sent,
      failed: record?.failed,
      skipped: record?.skipped,
      possibleDuplicates: record?.possibleDuplicates,
    }).toEqual({ sent: 0, failed: 0, skipped: 0, possibleDuplicates: 0, ...counters });
  });

  it('markAll applies several marks in one call and says which took', async () => {
    const ledger = createSendLedger(redis, testConfig().REDIS_PREFIX);
    await ledger.start('2026-W48', ['a@example.org', 'b@example.org'], { batchSize: 100, rate: 0, now: new Date(at) });
    await ledger.mark('2026-W48', 'a@example.org', entry('sent'));
    expect(
      await ledger.markAll('2026-W48', [
        { email: 'a@example.org', entry: entry('sending') },
        { email: 'b@example.org', entry: entry('sending') },
      ]),
    ).toEqual([false, true]);
    expect(await ledger.entriesOf('2026-W48', ['a@example.org', 'b@example.org', 'c@example.org'])).toEqual([
      entry('sent'),
      entry('sending'),
      null,
    ]);
  });
});

describe('a send that pauses itself (real redis-server)', () => {
  const week = '2026-W48';
  const ready = async () => {
    const ledger = createSendLedger(redis, testConfig().REDIS_PREFIX);
    const emails = ['a@example.org', 'b@example.org', 'c@example.org', 'd@example.org'];
    await ledger.start(week, emails, { batchSize: 100, rate: 0, now: new Date(at) });
    return ledger;
  };

  it('counts failed messages in a row: a failure or a return to pending adds one, a delivery resets it', async () => {
    const ledger = await ready();
    const counts: number[] = [];
    for (const [email, step] of [
      ['a@example.org', 'failed'],
      ['b@example.org', null],
      ['b@example.org', 'sent'],
      ['c@example.org', null],
      ['c@example.org', null],
      ['d@example.org', 'failed'],
      // Already failed: not applied, not counted again.
      ['d@example.org', 'failed'],
    ] as const) {
      counts.push((await ledger.settle(week, email, step && entry(step))).errorsInARow);
    }
    expect(counts).toEqual([1, 2, 0, 1, 2, 3, 3]);
  });

  it('pause: only a sending send, the first reason kept; sending again clears the reason and the count', async () => {
    const ledger = await ready();
    await ledger.settle(week, 'a@example.org', entry('failed'));
    expect(await ledger.pause(week, 'E_SMTP_AUTH: the SMTP server refused the login', new Date(at))).toBe(true);
    expect(await ledger.pause(week, 'E_SMTP_TLS: a second reason', new Date())).toBe(false);
    expect(await ledger.get(week)).toMatchObject({
      status: 'paused',
      pausedReason: 'E_SMTP_AUTH: the SMTP server refused the login',
      pausedAt: at,
    });
    expect(await ledger.setStatus(week, 'sending')).toBe(true);
    expect(await ledger.get(week)).toMatchObject({ status: 'sending', pausedReason: null, pausedAt: null });
    expect((await ledger.settle(week, 'b@example.org', null)).errorsInARow).toBe(1);
    // Paused by hand: no reason.
    expect(await ledger.setStatus(week, 'paused')).toBe(true);
    expect(await ledger.get(week)).toMatchObject({ status: 'paused', pausedReason: null });
    expect(await ledger.pause(week, 'E_SMTP_TLS: not while paused by hand', new Date())).toBe(false);
    expect(await ledger.setStatus('2026-W01', 'sending')).toBe(false);
  });
});
