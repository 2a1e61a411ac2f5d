import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { connectRedis } from '../io/redis-connection.js';
import { createSendLedger } from '../io/send-ledger.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { BATCH_SIZE, batchJobId, pauseSend, resumeSend, startListSend } from '../jobs/list-send.js';
import { queuePrefix } from '../jobs/queues.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { cliEnv, testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT, runCli } from './helpers/run-cli.js';
import { seedList } from './helpers/seed-list.js';
import { type SmtpSink, startSmtpSink } from './helpers/smtp-sink.js';

const redis = useTestRedis('send-resume');

const NOW = new Date();
const WEEK = isoWeekOf(NOW, 'UTC');

async function listReady(count: number, smtpPort: number) {
  const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}` });
  const ctx = testContext(redis.url, config);
  await seedList(ctx.redis, config, count, 'reader', NOW);
  return {
    config,
    ctx,
    env: cliEnv(redis.url, config),
    ledger: createSendLedger(ctx.redis, config.REDIS_PREFIX),
    subscribers: createSubscriberStore(ctx.redis, config.REDIS_PREFIX),
  };
}

function expectEveryoneOnce(smtp: SmtpSink, count: number) {
  expect(smtp.received.size).toBe(count);
  expect([...smtp.received.entries()].filter(([, n]) => n !== 1)).toEqual([]);
}

describe('a list send cut off while it was starting', () => {
  it('after the ledger started, with 2 of 5 batches queued and the issue not frozen: a second dispatch send finishes it, everyone once', {
    timeout: 60_000,
  }, async () => {
    const smtp = await startSmtpSink();
    const { config, ctx, env, ledger, subscribers } = await listReady(450, smtp.port);
    const worker = await testWorker(redis.url, config);
    try {
      // What a `dispatch send` killed between ledger.start and its last addBulk leaves.
      expect(
        await ledger.start(WEEK, await subscribers.activeEmails(), { batchSize: BATCH_SIZE, rate: 0, now: NOW }),
      ).toBe(true);
      await ctx.queues.send.addBulk(
        [0, 1].map((batch) => ({
          name: 'batch',
          data: { week: WEEK, batch, batchSize: BATCH_SIZE },
          opts: { jobId: batchJobId(WEEK, batch) },
        })),
      );
      await waitFor('the 2 queued batches done', async () => (await ledger.get(WEEK))?.batchesDone === 2);
      await sleep(300);
      expect((await ledger.get(WEEK))?.status).toBe('sending');
      expect(smtp.received.size).toBe(200);
      expect((await ctx.store.getIssue(WEEK))?.sentAt).toBeFalsy();

      const result = await runCli(['send', '--week', WEEK, '--wait'], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(
        `${WEEK}: already started; resuming: re-queued 3 batch(es) (3 added, 0 retried, 0 promoted), 0 still queued, 2 done`,
      );
      expect(result.stdout).toContain(
        `${WEEK}: done, 450 sent, 0 failed, 0 skipped (unsubscribed meanwhile), 0 remaining of 450`,
      );
      expectEveryoneOnce(smtp, 450);
      expect((await ctx.store.getIssue(WEEK))?.sentAt).toBe(
        new Date((await ledger.get(WEEK))?.createdAt ?? 0).toISOString(),
      );

      // Done: running it again (or resuming it) sends nothing and queues nothing.
      const jobs = await ctx.queues.send.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed');
      const again = await runCli(['send', '--week', WEEK], { env });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^already done, nothing new sent: .*: done, 450 sent/);
      const resumed = await runCli(['send', '--resume', WEEK], { env });
      expect(resumed.code).not.toBe(0);
      expect(resumed.stderr).toContain(`E_NOT_FOUND: no send of ${WEEK} in progress`);
      await sleep(300);
      expect(smtp.total()).toBe(450);
      expect(await ctx.queues.send.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed')).toBe(
        jobs,
      );
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('dispatch send SIGKILLed once its send exists: running it again finishes it, everyone once', {
    timeout: 60_000,
  }, async () => {
    const smtp = await startSmtpSink();
    const { config, ctx, env, ledger } = await listReady(1500, smtp.port);
    const worker = await testWorker(redis.url, config);
    try {
      const child = spawn(process.execPath, [join(ROOT, 'bin/dispatch.js'), 'send', '--week', WEEK], {
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((done) => child.once('exit', done));
      // Killed as soon as the send exists: where it was (freezing, queuing, done queuing) varies, the outcome must not.
      await waitFor('the send started', async () => (await ledger.get(WEEK)) !== null, 30_000);
      child.kill('SIGKILL');
      await exited;
      const result = await runCli(['send', '--week', WEEK, '--wait'], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^${WEEK}: already started; resuming: re-queued \\d+ batch\\(es\\)`));
      expect(result.stdout).toContain(`${WEEK}: done, 1500 sent, 0 failed`);
      expectEveryoneOnce(smtp, 1500);
      expect((await ctx.store.getIssue(WEEK))?.sentAt).toBeTruthy();
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('two starts at once: one starts it, the other finishes the same send; everyone once', async () => {
    const smtp = await startSmtpSink();
    const { config, ctx, ledger } = await listReady(500, smtp.port);
    const worker = await testWorker(redis.url, config);
    try {
      const reports = await Promise.all([1, 2].map(() => startListSend(ctx, { week: WEEK, rate: 0, now: NOW })));
      expect(reports.map((r) => r.outcome).sort()).toEqual(['resumed', 'started']);
      await waitFor('done', async () => (await ledger.get(WEEK))?.status === 'done', 30_000);
      expectEveryoneOnce(smtp, 500);
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });
});

describe('--resume re-queues', () => {
  it('a paused send with a batch failed for good, a batch removed and a batch delayed: resumed, all three go out, everyone once', {
    timeout: 60_000,
  }, async () => {
    const smtp = await startSmtpSink();
    const { config, ctx, env, ledger } = await listReady(300, smtp.port);
    const connection = connectRedis(redis.url, 'worker');
    try {
      const started = await runCli(['send', '--week', WEEK], { env });
      expect(started.stdout).toContain(`${WEEK}: queued 300 recipient(s) in 3 batch(es)`);
      expect((await runCli(['send', '--pause', WEEK], { env })).stdout).toBe(`${WEEK}: paused\n`);
      // Batch 0 taken by hand and failed for good, as after its last attempt; batch 1's job removed.
      const hand = new Worker('send', null, { connection, prefix: queuePrefix(config), autorun: false });
      const job = await hand.getNextJob('by-hand');
      expect(job?.id).toBe(batchJobId(WEEK, 0));
      await job?.moveToFailed(new UnrecoverableError('E_SMTP_UNREACHABLE: by hand'), 'by-hand');
      await hand.close();
      await (await ctx.queues.send.getJob(batchJobId(WEEK, 1)))?.remove();
      expect(await ctx.queues.send.getJobState(batchJobId(WEEK, 0))).toBe('failed');
      expect(await ctx.queues.send.getJobState(batchJobId(WEEK, 1))).toBe('unknown');
      // Batch 2: a worker finds the send paused and moves it to later.
      const worker = await testWorker(redis.url, config);
      try {
        await waitFor(
          'batch 2 delayed by the pause',
          async () => (await ctx.queues.send.getJobState(batchJobId(WEEK, 2))) === 'delayed',
        );
        expect(smtp.received.size).toBe(0);
        const resumed = await runCli(['send', '--resume', WEEK], { env });
        expect(resumed.code, resumed.stderr).toBe(0);
        // Batch 2 is promoted, unless its delay ran out while the command started.
        expect(resumed.stdout).toMatch(
          new RegExp(`^${WEEK}: resumed, re-queued [23] batch\\(es\\) \\(1 added, 1 retried, [01] promoted\\)`),
        );
        await waitFor('done', async () => (await ledger.get(WEEK))?.status === 'done', 30_000);
        expectEveryoneOnce(smtp, 300);
      } finally {
        await worker.close();
      }
    } finally {
      await connection.quit();
      await ctx.close();
      await smtp.close();
    }
  });

  it('promotes the delayed batches of a paused send at once, and leaves other jobs alone', async () => {
    const smtp = await startSmtpSink();
    const { config, ctx, ledger } = await listReady(200, smtp.port);
    try {
      const report = await startListSend(ctx, { week: WEEK, rate: 0, now: NOW });
      expect(report.outcome).toBe('started');
      await pauseSend(ctx, WEEK);
      // Another week's batch, delayed: not this send's to promote.
      await ctx.queues.send.add(
        'batch',
        { week: '2001-W01', batch: 0, batchSize: BATCH_SIZE },
        { jobId: batchJobId('2001-W01', 0), delay: 60_000 },
      );
      const worker = await testWorker(redis.url, config);
      try {
        await waitFor('both batches delayed by the pause', async () => {
          const states = await Promise.all([0, 1].map((b) => ctx.queues.send.getJobState(batchJobId(WEEK, b))));
          return states.every((s) => s === 'delayed');
        });
        const resumed = await resumeSend(ctx, WEEK);
        expect(resumed.requeued).toEqual({ added: 0, retried: 0, promoted: 2, queued: 0, done: 0 });
        // Promoted: they go now, not when their pause delay runs out.
        for (const b of [0, 1]) {
          expect(['waiting', 'active', 'completed']).toContain(await ctx.queues.send.getJobState(batchJobId(WEEK, b)));
        }
        await waitFor('done', async () => (await ledger.get(WEEK))?.status === 'done', 30_000);
        expectEveryoneOnce(smtp, 200);
        expect(await ctx.queues.send.getJobState(batchJobId('2001-W01', 0))).toBe('delayed');
      } finally {
        await worker.close();
      }
    } finally {
      await ctx.close();
      await smtp.close();
    }
  });
});
