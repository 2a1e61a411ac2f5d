import type { Queue } from 'bullmq';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { freePort } from '../io/managed-redis.js';
import { createSendLedger, type SendLedger } from '../io/send-ledger.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { resumeSend } from '../jobs/list-send.js';
import { PAUSED_RECHECK_MS } from '../jobs/send.job.js';
import type { Config } from '../src/config.js';
import { cliEnv, testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { runCli } from './helpers/run-cli.js';
import { seedList } from './helpers/seed-list.js';

const redis = useTestRedis('send-pause');
const NOW = new Date();
/** Small batches, so that a list of 60 is three batches running at once. */
const BATCH_SIZE = 20;

/** The send queue's delayed batch jobs (the worker's expire-pending schedule waits there too). */
const delayedBatches = async (ctx: { queues: { send: Queue } }) =>
  (await ctx.queues.send.getDelayed()).filter((job) => job.name === 'batch');

const refusal = (responseCode: number, text: string) => Object.assign(new Error(text), { responseCode });

/**
 * A real smtp-server (plain, AUTH allowed without TLS, the password "right") that parses what it
 * receives and counts the messages per address in their To header.
 */
async function smtpServer(options: Partial<SMTPServerOptions> = {}) {
  const delivered = new Map<string, number>();
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onAuth: (auth, _session, callback) =>
      auth.password === 'right'
        ? callback(null, { user: auth.username })
        : callback(refusal(535, 'Authentication credentials invalid')),
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
          const address = to?.value[0]?.address ?? '?';
          delivered.set(address, (delivered.get(address) ?? 0) + 1);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
    ...options,
  });
  server.on('error', () => {});
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    delivered,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** A store with this week's issue and `count` subscribers, and a list send of them started as the CLI starts one. */
async function listSending(config: Config, count: number, rate = 0) {
  const ctx = testContext(redis.url, config);
  const week = await seedList(ctx.redis, config, count, 'reader', NOW);
  const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
  const subscribers = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
  const emails = await subscribers.activeEmails();
  await ledger.start(week, emails, { batchSize: BATCH_SIZE, rate, now: NOW });
  await ctx.store.markIssueSent(week, NOW);
  const batches = Math.ceil(emails.length / BATCH_SIZE);
  await ctx.queues.send.addBulk(
    Array.from({ length: batches }, (_, batch) => ({
      name: 'batch',
      data: { week, batch, batchSize: BATCH_SIZE },
      opts: { jobId: `batch-${week}-${batch}` },
    })),
  );
  return { ctx, week, ledger, subscribers, emails };
}

const states = async (ledger: SendLedger, week: string) =>
  Object.values(await ledger.entries(week)).reduce<Record<string, number>>((counts, entry) => {
    counts[entry.state] = (counts[entry.state] ?? 0) + 1;
    return counts;
  }, {});

const paused = (ledger: SendLedger, week: string) =>
  waitFor('the send paused', async () => {
    const record = await ledger.get(week);
    return record?.status === 'paused' ? record : null;
  });

describe('a list send that pauses itself', () => {
  it('535 at AUTH: pauses with 0 failed, naming E_SMTP_AUTH; with the right password and a resume, everyone gets it once', async () => {
    const smtp = await smtpServer();
    const bad = testConfig({ SMTP_URL: `smtp://dispatch:wrong@127.0.0.1:${smtp.port}` });
    const { ctx, week, ledger, subscribers, emails } = await listSending(bad, 60);
    let worker = await testWorker(redis.url, bad);
    try {
      const record = await paused(ledger, week);
      expect(record.pausedReason).toMatch(
        /^E_SMTP_AUTH: the SMTP server at 127\.0\.0\.1:\d+ refused the login \(AUTH PLAIN\): 535 Authentication credentials invalid/,
      );
      expect(record.pausedAt).toBeTruthy();
      // Every batch waits out the pause, delayed, without spending an attempt.
      const delayed = await waitFor('3 batches delayed', async () => {
        const jobs = await delayedBatches(ctx);
        return jobs.length === 3 ? jobs : null;
      });
      expect(delayed.map((job) => job.attemptsMade)).toEqual([0, 0, 0]);
      expect(Math.min(...delayed.map((job) => job.delay))).toBeGreaterThan(PAUSED_RECHECK_MS - 2000);
      expect(await ctx.queues.send.getFailedCount()).toBe(0);
      const after = await ledger.get(week);
      expect({ sent: after?.sent, failed: after?.failed }).toEqual({ sent: 0, failed: 0 });
      // Nobody failed or left in "sending": all of them are pending again.
      expect(await states(ledger, week)).toEqual({});
      expect(smtp.delivered.size).toBe(0);
      expect((await subscribers.activeEmails()).length).toBe(60);

      await worker.close();
      const good = { ...bad, SMTP_URL: `smtp://dispatch:right@127.0.0.1:${smtp.port}` };
      worker = await testWorker(redis.url, good);
      await resumeSend(ctx, week);
      expect((await ledger.get(week))?.pausedReason).toBeNull();
      await waitFor('the send done', async () => (await ledger.get(week))?.status === 'done');
      expect(await ledger.get(week)).toMatchObject({ sent: 60, failed: 0, skipped: 0, possibleDuplicates: 0 });
      expect([...smtp.delivered.keys()].sort()).toEqual([...emails].sort());
      expect([...smtp.delivered.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('dispatch send --wait on a server refusing the login: one E_SEND_PAUSED line with the reason, exit 2, in seconds', async () => {
    const smtp = await smtpServer();
    const bad = testConfig({ SMTP_URL: `smtp://dispatch:wrong@127.0.0.1:${smtp.port}` });
    const ctx = testContext(redis.url, bad);
    const week = await seedList(ctx.redis, bad, 30, 'reader', NOW);
    const worker = await testWorker(redis.url, bad);
    try {
      const started = Date.now();
      const result = await runCli(['send', '--week', week, '--wait'], { env: cliEnv(redis.url, bad) });
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^dispatch: E_SEND_PAUSED: ${week}: paused, 0 sent, 0 failed, .*paused by itself: E_SMTP_AUTH: .*535.*npx dispatch send --resume ${week}`,
        ),
      );
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(smtp.delivered.size).toBe(0);
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('552 at DATA: pauses with E_SMTP_MESSAGE_REFUSED, 0 failed, and the other batches stop too', async () => {
    let tries = 0;
    const smtp = await smtpServer({
      onData(stream, _session, callback) {
        tries++;
        stream.resume();
        stream.on('end', () => callback(refusal(552, 'Message exceeds fixed maximum message size')));
      },
    });
    const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
    const { ctx, week, ledger } = await listSending(config, 60);
    const worker = await testWorker(redis.url, config);
    try {
      const record = await paused(ledger, week);
      expect(record.pausedReason).toBe(
        'E_SMTP_MESSAGE_REFUSED: the SMTP server refused the message itself (DATA): 552 Message exceeds fixed maximum message size',
      );
      await waitFor('3 batches delayed', async () => (await delayedBatches(ctx)).length === 3);
      expect(await ledger.get(week)).toMatchObject({ sent: 0, failed: 0 });
      expect(await states(ledger, week)).toEqual({});
      // At most the first group of each batch (5 messages) went out before all of them stopped.
      expect(tries).toBeGreaterThan(0);
      expect(tries).toBeLessThanOrEqual(3 * 5);
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('550 at RCPT for one address: only that one fails, and it is bounced for later sends', async () => {
    const refused = 'reader7@example.org';
    const smtp = await smtpServer({
      onRcptTo: (address, _session, callback) =>
        address.address === refused ? callback(refusal(550, '5.1.1 No such user here')) : callback(),
    });
    const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
    const { ctx, week, ledger, subscribers } = await listSending(config, 60);
    const worker = await testWorker(redis.url, config);
    try {
      await waitFor('the send done', async () => (await ledger.get(week))?.status === 'done');
      expect(await ledger.get(week)).toMatchObject({ sent: 59, failed: 1, pausedReason: null });
      expect((await ledger.entry(week, refused))?.reply).toBe(
        'the SMTP server refused the message: 550 5.1.1 No such user here',
      );
      expect(smtp.delivered.size).toBe(59);
      expect(smtp.delivered.has(refused)).toBe(false);
      expect([...smtp.delivered.values()].every((n) => n === 1)).toBe(true);

      const bounced = await subscribers.get(refused);
      expect(bounced).toMatchObject({ status: 'bounced', bounceReason: expect.stringContaining('550 5.1.1') });
      expect(bounced?.bouncedAt).toBeTruthy();
      // A hard bounce of this issue, counted once against it (the list's health reads it).
      expect(await subscribers.issueEvents(week)).toEqual({ bounced: 1, softBounced: 0, complained: 0 });
      const active = await subscribers.activeEmails();
      expect(active).toHaveLength(59);
      expect(active).not.toContain(refused);
      // A re-import keeps it bounced.
      const report = await subscribers.importSubscribers([{ email: refused, name: 'Again', fields: {} }], NOW);
      expect(report.stillSuppressed).toBe(1);
      expect((await subscribers.get(refused))?.status).toBe('bounced');
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it.each([
    ['451 at RCPT to everyone', 451, /; last: E_SMTP_TEMPORARY: the SMTP server answered 451 Not today$/],
    ['550 at RCPT to everyone', 550, /; last: E_SMTP_REJECTED: the SMTP server refused the message: 550 Not today$/],
  ])('SEND_MAX_ERRORS=3, %s: pauses after about 3 failed messages', async (_, code, last) => {
    let tries = 0;
    const smtp = await smtpServer({
      onRcptTo: (_a, _s, callback) => {
        tries++;
        callback(refusal(code, 'Not today'));
      },
    });
    const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SEND_MAX_ERRORS: '3' });
    const { ctx, week, ledger } = await listSending(config, 60);
    const worker = await testWorker(redis.url, config);
    try {
      const record = await paused(ledger, week);
      expect(record.pausedReason).toMatch(/^SEND_MAX_ERRORS: \d+ failed messages in a row; last: /);
      expect(record.pausedReason).toMatch(last);
      expect(Number(/(\d+) failed/.exec(record.pausedReason ?? '')?.[1])).toBeGreaterThanOrEqual(3);
      await waitFor('3 batches delayed', async () => (await delayedBatches(ctx)).length === 3);
      // Only the groups in flight when it tripped (up to 5 messages in each of 3 batches) were tried.
      expect(tries).toBeGreaterThanOrEqual(3);
      expect(tries).toBeLessThanOrEqual(3 * 5);
      const failed = (await ledger.get(week))?.failed;
      if (code === 550) {
        expect(failed).toBe(tries);
        expect(await states(ledger, week)).toEqual({ failed: tries });
      } else {
        expect(failed).toBe(0);
        expect(await states(ledger, week)).toEqual({});
      }
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('SEND_MAX_ERRORS counts in a row: a delivered message in between resets it', async () => {
    // One batch, one refused address at the head of each group of 5: never 3 failures in a row.
    const smtp = await smtpServer({
      onRcptTo: (address, _s, callback) =>
        Number(/\d+/.exec(address.address)?.[0]) % 5 === 0 ? callback(refusal(550, 'No such user')) : callback(),
    });
    const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SEND_MAX_ERRORS: '2' });
    const ctx = testContext(redis.url, config);
    const week = await seedList(ctx.redis, config, 20, 'reader', NOW);
    const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
    const emails = await createSubscriberStore(ctx.redis, config.REDIS_PREFIX).activeEmails();
    await ledger.start(week, emails, { batchSize: 100, rate: 0, now: NOW });
    await ctx.queues.send.add('batch', { week, batch: 0, batchSize: 100 }, { jobId: `batch-${week}-0` });
    const worker = await testWorker(redis.url, config);
    try {
      await waitFor('the send done', async () => (await ledger.get(week))?.status === 'done');
      expect(await ledger.get(week)).toMatchObject({ sent: 16, failed: 4, pausedReason: null });
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('a server that refuses connections past the retries pauses the send instead of failing the batches', async () => {
    const port = await freePort();
    const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${port}`, JOB_ATTEMPTS: '2', SEND_MAX_ERRORS: '1000' });
    const { ctx, week, ledger } = await listSending(config, 40);
    const worker = await testWorker(redis.url, config);
    try {
      const record = await paused(ledger, week);
      expect(record.pausedReason).toBe(
        `E_SMTP_UNREACHABLE: cannot connect to the SMTP server at 127.0.0.1:${port} (ECONNREFUSED): is it running? (SMTP_URL)`,
      );
      const delayed = await waitFor('2 batches delayed', async () => {
        const jobs = await delayedBatches(ctx);
        return jobs.length === 2 && jobs.every((job) => job.delay > 2000) ? jobs : null;
      });
      // The retry was spent (by one batch at least); the last attempt paused the send rather than failing.
      expect(Math.max(...delayed.map((job) => job.attemptsMade))).toBe(1);
      expect(await ctx.queues.send.getFailedCount()).toBe(0);
      expect(await states(ledger, week)).toEqual({});
    } finally {
      await worker.close();
      await ctx.close();
    }
  });
});

describe('a test send (one message) that the server refuses for the whole send', () => {
  it('fails for good at once with its code and the server’s words; nothing pauses', async () => {
    const smtp = await smtpServer();
    const config = testConfig({ SMTP_URL: `smtp://dispatch:wrong@127.0.0.1:${smtp.port}` });
    const ctx = testContext(redis.url, config);
    const week = await seedList(ctx.redis, config, 0, 'reader', NOW);
    const worker = await testWorker(redis.url, config);
    try {
      const job = await ctx.queues.send.add('send', { week, to: 'ana@example.org', token: `${week}.test.0123456789` });
      const failed = await waitFor('the test send failed', async () => {
        const state = await ctx.queues.send.getJobState(job.id as string);
        return state === 'failed' ? await ctx.queues.send.getJob(job.id as string) : null;
      });
      expect(failed.failedReason).toMatch(
        /^E_SMTP_AUTH: the SMTP server at 127\.0\.0\.1:\d+ refused the login \(AUTH PLAIN\): 535 Authentication credentials invalid/,
      );
      expect(failed.attemptsMade).toBe(1);
      expect(await createSendLedger(ctx.redis, config.REDIS_PREFIX).get(week)).toBeNull();
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });
});
