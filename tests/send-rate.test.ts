import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { createSendLedger } from '../io/send-ledger.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { seedList } from './helpers/seed-list.js';

const redis = useTestRedis('send-rate');
const RATE = 400;
/**
 * How far over the rate any one second may go: the limiter books slots exactly 1/N s apart, but a
 * caller whose event loop lags (other test files run beside this one) wakes late and its grants
 * bunch. A fixed window lets 2N through, far above this.
 */
const TOLERANCE = 1.1;

/** The most instants (ms) in any one-second window [t, t + 1000), wherever it starts. */
function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; first < sorted.length; first++) {
    while (last < sorted.length && (sorted[last] as number) - (sorted[first] as number) < 1000) last++;
    most = Math.max(most, last - first);
  }
  return most;
}

/** `callers` loops that each take a grant from `throttle` and note its time, for `ms`. */
async function grantTimes(throttle: () => Promise<void>, callers: number, ms: number): Promise<number[]> {
  const times: number[] = [];
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < end) {
        await throttle();
        times.push(Date.now());
      }
    }),
  );
  return times;
}

/** The limiter Dispatch had before: a counter per clock second (kept here to show what it let through). */
function fixedWindowThrottle(client: Redis, prefix: string, rate: number) {
  return async () => {
    for (;;) {
      const second = Math.floor(Date.now() / 1000);
      const bucket = `${prefix}:rate:${second}`;
      const [[, count]] = (await client.multi().incr(bucket).expire(bucket, 5).exec()) as [[unknown, number]];
      if (count <= rate) return;
      await sleep(1000 - (Date.now() % 1000) + 5);
    }
  };
}

describe('the send rate limit (real redis-server)', () => {
  it(`${RATE}/s shared by 16 callers on two connections: at most about ${RATE} in any one second`, async () => {
    const a = new Redis(redis.url);
    const b = new Redis(redis.url);
    try {
      const { REDIS_PREFIX } = testConfig();
      const ledgers = [createSendLedger(a, REDIS_PREFIX), createSendLedger(b, REDIS_PREFIX)];
      let turn = 0;
      const times = await grantTimes(
        () => (ledgers[turn++ % 2] as (typeof ledgers)[0]).throttle('2026-W48', RATE),
        16,
        3000,
      );
      const busiest = busiestSecond(times);
      console.log(`sliding-window limiter at ${RATE}/s: busiest second ${busiest} grants (${times.length} in 3 s)`);
      expect(busiest).toBeLessThanOrEqual(RATE * TOLERANCE);
      // The callers asked for far more: the limit, not the demand, set the pace.
      expect(busiest).toBeGreaterThanOrEqual(RATE * 0.8);

      // The fixed one-second window it replaces, started mid-second: a second's worth at once, and
      // another at the next clock second.
      while (Date.now() % 1000 < 400 || Date.now() % 1000 > 600) await sleep(5);
      const old = busiestSecond(await grantTimes(fixedWindowThrottle(a, `${REDIS_PREFIX}-old`, RATE), 16, 2000));
      console.log(`fixed-window limiter at ${RATE}/s: busiest second ${old} grants`);
      expect(old).toBeGreaterThan(RATE * TOLERANCE);
    } finally {
      await a.quit();
      await b.quit();
    }
  });

  it('rate 0 costs nothing: not a single Redis command', async () => {
    // A client that was never connected and may not queue: any command would fail.
    const offline = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false });
    try {
      const ledger = createSendLedger(offline, 'none');
      await expect(ledger.throttle('2026-W48', 0)).resolves.toBeUndefined();
      await expect(ledger.status('2026-W48')).rejects.toThrow();
    } finally {
      offline.disconnect();
    }
  });

  it(`a 2,000-recipient list send at ${RATE}/s with two workers: at most about ${RATE} arrive in any one second`, {
    timeout: 60_000,
  }, async () => {
    const arrivals: number[] = [];
    const received = new Map<string, number>();
    const sink = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          arrivals.push(Date.now());
          for (const r of session.envelope.rcptTo) received.set(r.address, (received.get(r.address) ?? 0) + 1);
          callback();
        });
      },
    });
    await new Promise<void>((done) => sink.listen(0, '127.0.0.1', () => done()));
    const port = (sink.server.address() as { port: number }).port;
    const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${port}`, WORKER_CONCURRENCY: '4' });
    const ctx = testContext(redis.url, config);
    const now = new Date();
    const week = await seedList(ctx.redis, config, 2000, 'reader', now);
    const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
    const emails = await createSubscriberStore(ctx.redis, config.REDIS_PREFIX).activeEmails();
    const workers = await Promise.all([testWorker(redis.url, config), testWorker(redis.url, config)]);
    try {
      await ledger.start(week, emails, { batchSize: 100, rate: RATE, now });
      await ctx.queues.send.addBulk(
        Array.from({ length: 20 }, (_, batch) => ({
          name: 'batch',
          data: { week, batch, batchSize: 100 },
          opts: { jobId: `batch-${week}-${batch}` },
        })),
      );
      await waitFor('the send done', async () => (await ledger.get(week))?.status === 'done', 30_000);
      const busiest = busiestSecond(arrivals);
      const seconds = (Math.max(...arrivals) - Math.min(...arrivals)) / 1000;
      console.log(
        `list send at ${RATE}/s, 2 workers: busiest second ${busiest} messages at the sink; 2,000 in ${seconds.toFixed(2)} s (${(2000 / seconds).toFixed(0)}/s on average)`,
      );
      expect(received.size).toBe(2000);
      expect([...received.values()].every((n) => n === 1)).toBe(true);
      expect(busiest).toBeLessThanOrEqual(RATE * TOLERANCE);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await ctx.close();
      await new Promise<void>((done) => sink.close(() => done()));
    }
  });
});
