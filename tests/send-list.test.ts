import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createSendLedger } from '../io/send-ledger.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { cliEnv, testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT, runCli } from './helpers/run-cli.js';
import { seedList } from './helpers/seed-list.js';
import { startSmtpSink } from './helpers/smtp-sink.js';

const redis = useTestRedis('send-list');

const NOW = new Date();
const WEEK = isoWeekOf(NOW, 'UTC');

const sink = startSmtpSink;

async function listReady(count: number, smtpPort: number) {
  const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, WORKER_CONCURRENCY: '4' });
  const ctx = testContext(redis.url, config);
  await seedList(ctx.redis, config, count, 'reader', NOW);
  const subscribers = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
  const worker = await testWorker(redis.url, config);
  const env = cliEnv(redis.url, config);
  return { config, ctx, worker, subscribers, env, ledger: createSendLedger(ctx.redis, config.REDIS_PREFIX) };
}

describe('dispatch send (a list)', () => {
  it('sends each active subscriber the issue once, records it in the ledger, and sends nothing new the second time', async () => {
    const smtp = await sink();
    const { ctx, worker, subscribers, env, ledger } = await listReady(250, smtp.port);
    try {
      await subscribers.suppress('reader7@example.org', NOW);
      const result = await runCli(['send', '--week', WEEK, '--wait'], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`${WEEK}: queued 249 recipient(s) in 3 batch(es)`);
      expect(result.stdout).toContain(
        `${WEEK}: done, 249 sent, 0 failed, 0 skipped (unsubscribed meanwhile), 0 remaining of 249`,
      );
      expect(smtp.received.size).toBe(249);
      expect([...smtp.received.values()].every((n) => n === 1)).toBe(true);
      expect(smtp.received.has('reader7@example.org')).toBe(false);
      const entries = await ledger.entries(WEEK);
      expect(Object.values(entries).filter((e) => e.state === 'sent' && e.messageId)).toHaveLength(249);
      expect((await ctx.store.getIssue(WEEK))?.sentAt).toBeTruthy();

      const again = await runCli(['send', '--week', WEEK, '--wait'], { env });
      expect(again.stdout).toMatch(/^already done, nothing new sent: .* 249 sent/);
      await sleep(300);
      expect([...smtp.received.values()].reduce((a, b) => a + b, 0)).toBe(249);
      const status = await runCli(['status'], { env });
      expect(status.stdout).toContain(`${WEEK}: done, 249 sent`);
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('--pause stops the send where it is and --resume finishes it, still once each', async () => {
    const smtp = await sink();
    const { ctx, worker, env, ledger } = await listReady(150, smtp.port);
    try {
      const started = await runCli(['send', '--week', WEEK, '--rate', '25/s'], { env });
      expect(started.code, started.stderr).toBe(0);
      await waitFor('some sent', async () => ((await ledger.get(WEEK))?.sent ?? 0) > 10);
      expect((await runCli(['send', '--pause', WEEK], { env })).stdout).toBe(`${WEEK}: paused\n`);
      await sleep(1500);
      const paused = (await ledger.get(WEEK))?.sent ?? 0;
      await sleep(1500);
      expect((await ledger.get(WEEK))?.sent).toBe(paused);
      expect(paused).toBeLessThan(150);
      expect((await runCli(['send', '--resume', WEEK], { env })).stdout).toMatch(
        new RegExp(`^${WEEK}: resumed, re-queued \\d+ batch\\(es\\) \\(0 added, 0 retried, \\d+ promoted\\)`),
      );
      await waitFor('done', async () => (await ledger.get(WEEK))?.status === 'done', 30_000);
      expect(smtp.received.size).toBe(150);
      expect([...smtp.received.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });
});

describe('a list send through a crash', () => {
  it('a worker SIGKILLed mid-send: a new one finishes; everyone gets it, duplicates only among those in flight', {
    timeout: 120_000,
  }, async () => {
    const { spawn } = await import('node:child_process');
    const smtp = await sink();
    const { config, ctx, worker, env, ledger } = await listReady(600, smtp.port);
    await worker.close();
    const workerEnv = {
      ...process.env,
      ...env,
      JOB_LOCK_MS: '1500',
      JOB_STALLED_INTERVAL_MS: '500',
      LOG_LEVEL: 'silent',
    };
    try {
      const started = await runCli(['send', '--week', WEEK, '--rate', '150/s'], { env });
      expect(started.code, started.stderr).toBe(0);
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin/dispatch.js'), 'worker', '--queues', 'send', '--concurrency', '2'],
        { env: workerEnv, stdio: 'ignore' },
      );
      const exited = new Promise((done) => child.once('exit', done));
      await waitFor('a part sent', async () => ((await ledger.get(WEEK))?.sent ?? 0) > 150, 30_000);
      child.kill('SIGKILL');
      await exited;
      const inFlight = Object.values(await ledger.entries(WEEK)).filter((e) => e.state === 'sending').length;
      const second = await testWorker(redis.url, { ...config, JOB_LOCK_MS: 1500, JOB_STALLED_INTERVAL_MS: 500 });
      try {
        await waitFor('send done', async () => (await ledger.get(WEEK))?.status === 'done', 60_000);
      } finally {
        await second.close();
      }
      const record = await ledger.get(WEEK);
      const duplicates = [...smtp.received.values()].filter((n) => n > 1).length;
      console.log(
        `crash: ${inFlight} in flight at the kill, ${record?.possibleDuplicates} counted possible duplicates, ${duplicates} received twice`,
      );
      expect(smtp.received.size).toBe(600);
      expect(record?.sent).toBe(600);
      // At most 2 batches x 5 messages were in flight in the killed worker.
      expect(duplicates).toBeLessThanOrEqual(10);
      expect(record?.possibleDuplicates).toBe(inFlight);
      expect(duplicates).toBeLessThanOrEqual(inFlight);
    } finally {
      await ctx.close();
      await smtp.close();
    }
  });
});
