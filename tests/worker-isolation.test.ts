import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, type Queue, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../io/managed-redis.js';
import { createStore } from '../io/store.js';
import { buildWeekIssue } from '../jobs/build-week-issue.js';
import { CpuPoolClosedError, createCpuPool } from '../jobs/cpu-pool.js';
import { queueTestSends } from '../jobs/issue-operations.js';
import { toJobError } from '../jobs/job-error.js';
import { newsletterJob } from '../jobs/newsletter.job.js';
import { type RunningWorker, startWorker } from '../jobs/run-worker.js';
import type { Config } from '../src/config.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { type cpuTasks, NEVER_ENDS } from './helpers/cpu-test-tasks.js';
import { silent, testConfig, testContext, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';
import { type SmtpSink, startSmtpSink } from './helpers/smtp-sink.js';

const redis = useTestRedis('isolation');
const TEST_TASKS = new URL('./helpers/cpu-test-tasks.ts', import.meta.url);
const templatesDir = join(ROOT, 'templates');

function worker(config: Config, extra: { cpuTaskModules?: URL[] } = {}): Promise<RunningWorker> {
  return startWorker({ config, redisUrl: redis.url, logger: silent, templatesDir, ...extra });
}

/** The job once it has failed for good (read after its state says so, to see its final reason). */
async function failedJob(queue: Queue, id: string): Promise<Job> {
  await waitFor(`${id} failed`, async () => (await queue.getJobState(id)) === 'failed');
  return await waitFor(`${id} read`, () => queue.getJob(id));
}

/** A small article of our own, as an ingest job's JSON input. */
function smallArticle(i: number): string {
  return JSON.stringify({
    title: `Council approves plan ${i}`,
    url: `https://news.example.com/isolation/${i}`,
    body: [
      `The council in Exampleton approved plan number ${i} on Tuesday after a long debate about the cost of repairs.`,
      `Officials said work on plan ${i} would start in the spring and take about ${(i % 12) + 2} months to finish.`,
      `“We have waited long enough for this,” said councillor Dana Whitfield, who proposed plan ${i}.`,
    ],
  });
}

/**
 * A 4.5 MB HTML page of some 30,000 paragraphs (under the 5 MB MAX_INPUT_BYTES): its parse
 * alone takes seconds of CPU however linear the parser, far past the 0.8 s limit set below.
 */
function pathologicalPage(): string {
  const sentence =
    'The council in Exampleton approved the harbour plan on Tuesday after a long debate about the cost. ';
  const paragraph = `<p>${sentence.repeat(3)}</p>`;
  const count = Math.floor(4_500_000 / paragraph.length);
  return `<html><head><title>A very long page</title></head><body><article><h1>A very long page</h1>${paragraph.repeat(count)}</article></body></html>`;
}

describe('CPU work runs off the worker’s event loop (real redis-server, real SMTP sink)', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.close();
  });

  it('a pathological article times out alone: normal articles, their posts and a test send go through meanwhile', {
    timeout: 60_000,
  }, async () => {
    const now = new Date();
    const config = testConfig({
      JOB_TIMEOUT_MS: '800',
      // Shorter than the bad job runs: had the event loop been blocked, its lock would have
      // expired and the stall check would have handed the job to a worker again.
      JOB_LOCK_MS: '1000',
      JOB_STALLED_INTERVAL_MS: '500',
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    });
    const ctx = testContext(redis.url, config);
    // An issue for the test send, stored beforehand (built on this thread, no worker).
    const week = isoWeekOf(now, config.TZ);
    const example = parseArticle(smallArticle(0), { receivedAt: now });
    await ctx.store.saveArticle({ ...example, publishedAt: now.toISOString() });
    await buildWeekIssue({ store: ctx.store, config, templatesDir }, week, now);

    const running = await worker(config);
    const stalled: string[] = [];
    const renewed = new Set<string>();
    const renewalFailures: string[] = [];
    for (const w of running.workers) {
      w.on('stalled', (jobId) => stalled.push(jobId));
      w.on('locksRenewed', ({ jobIds }) => {
        for (const id of jobIds) renewed.add(id);
      });
      w.on('lockRenewalFailed', (jobIds) => renewalFailures.push(...jobIds));
    }
    try {
      const receivedAt = now.toISOString();
      await ctx.queues.ingest.add(
        'ingest',
        { input: pathologicalPage(), format: 'html', source: 'pathological.html', receivedAt },
        { jobId: 'pathological' },
      );
      await waitFor('the pathological parse running in a thread', async () => running.cpuStats().busy > 0);

      const start = performance.now();
      const seconds = () => (performance.now() - start) / 1000;
      const normal = [1, 2, 3];
      for (const i of normal) {
        await ctx.queues.ingest.add(
          'ingest',
          { input: smallArticle(i), format: 'json', source: `small-${i}.json`, receivedAt },
          { jobId: `small-${i}` },
        );
      }
      const to = `isolation-${Date.now()}@example.org`;
      await queueTestSends(ctx, week, [to], templatesDir);

      await waitFor('the test message at the sink', async () => sink.received.get(to) === 1, 10_000);
      const mailSeconds = seconds();
      const ids = await Promise.all(
        normal.map(async (i) => {
          const job = await waitFor(`small-${i} stored`, async () => {
            const j = await ctx.queues.ingest.getJob(`small-${i}`);
            return j?.returnvalue?.articleId ? j : null;
          });
          return job.returnvalue.articleId as string;
        }),
      );
      for (const id of ids) await waitFor(`posts of ${id}`, () => ctx.store.getSocial(id), 10_000);
      const postsSeconds = seconds();
      console.log(
        `beside the pathological parse: test send in ${mailSeconds.toFixed(1)} s, posts in ${postsSeconds.toFixed(1)} s`,
      );
      // Each within seconds of being queued, while the bad parse runs (alone about 3 s for the posts
      // of every network; the whole suite on a 2-core machine has taken 10): not stuck behind it,
      // which would take JOB_ATTEMPTS timeouts and their backoff.
      expect(mailSeconds).toBeLessThan(10);
      expect(postsSeconds).toBeLessThan(20);
      for (const id of ids) expect((await ctx.store.getSocial(id))?.posts.length).toBeGreaterThan(2);

      const bad = await failedJob(ctx.queues.ingest, 'pathological');
      expect(bad.failedReason).toBe('E_JOB_TIMEOUT: parsing pathological.html ran longer than 800 ms');
      expect(bad.attemptsMade).toBe(1);
      expect(bad.attemptsStarted).toBe(1);
      expect(stalled).toEqual([]);
      expect(renewalFailures).toEqual([]);
      expect(renewed.has('pathological')).toBe(true);
      // Its thread was stopped; the pool replaces it when next needed.
      expect(running.cpuStats().busy).toBe(0);
      expect(await ctx.store.countArticles()).toBe(1 + normal.length);
    } finally {
      await running.close();
      await ctx.close();
    }
  });

  it('worker close() with a job mid-thread finishes promptly; the job goes back to the queue unspent', async () => {
    const config = testConfig({ JOB_TIMEOUT_MS: '60000' });
    const ctx = testContext(redis.url, config);
    const running = await worker(config, { cpuTaskModules: [TEST_TASKS] });
    try {
      await ctx.queues.ingest.add(
        'ingest',
        {
          input: `${NEVER_ENDS}\n\nIts parse never ends.`,
          source: 'endless.txt',
          receivedAt: new Date().toISOString(),
        },
        { jobId: 'endless' },
      );
      await waitFor('the endless parse running in a thread', async () => running.cpuStats().busy > 0);
      const start = performance.now();
      await running.close();
      expect(performance.now() - start).toBeLessThan(5_000);
      expect(running.cpuStats()).toMatchObject({ threads: 0, busy: 0 });
      const job = await ctx.queues.ingest.getJob('endless');
      expect(await job?.getState()).toBe('waiting');
      expect(job?.attemptsMade).toBe(0);
      expect(job?.failedReason).toBeUndefined();
    } finally {
      await running.close();
      await ctx.close();
    }
  });

  it('an unexpected error in the newsletter render fails the job for good with E_INTERNAL', async () => {
    const now = new Date();
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    const example = parseArticle(smallArticle(7), { receivedAt: now });
    await ctx.store.saveArticle({ ...example, publishedAt: now.toISOString() });
    const week = isoWeekOf(now, config.TZ);
    const running = await worker(config, { cpuTaskModules: [TEST_TASKS] });
    try {
      await ctx.queues.newsletter.add('newsletter', { week }, { jobId: 'render-bug' });
      const job = await failedJob(ctx.queues.newsletter, 'render-bug');
      expect(job.failedReason).toBe(
        `E_INTERNAL: rendering the ${week} issue failed: TypeError: Cannot read properties of undefined (reading 'title')`,
      );
      expect(job.attemptsMade).toBe(1);
      expect(await ctx.store.getIssue(week)).toBeNull();
    } finally {
      await running.close();
      await ctx.close();
    }
  });

  it('a newsletter job whose store is unreachable fails with E_REDIS_UNAVAILABLE, and is retried', async () => {
    // A real client on a port nothing listens on, failing each command at once.
    const dead = new Redis({ port: await freePort(), lazyConnect: true, enableOfflineQueue: false });
    dead.on('error', () => {});
    const pool = createCpuPool({ size: 1, timeoutMs: 10_000 });
    const config = testConfig();
    try {
      const run = newsletterJob({
        store: createStore(dead, config.REDIS_PREFIX),
        config,
        templatesDir,
        now: () => new Date(),
        cpu: pool,
      });
      const error = await run({ data: { week: '2026-W48' }, timestamp: Date.now() } as never).catch((e) => e);
      expect(isDispatchError(error, 'E_REDIS_UNAVAILABLE')).toBe(true);
      expect((error as DispatchError).transient).toBe(true);
      const jobError = toJobError(error);
      expect(jobError).not.toBeInstanceOf(UnrecoverableError);
      expect(jobError.message).toMatch(/^E_REDIS_UNAVAILABLE: building the 2026-W48 issue: /);
    } finally {
      dead.disconnect();
      await pool.close();
    }
  });
});

describe('the CPU thread pool', () => {
  const pool = (options: { size?: number; timeoutMs?: number; maxHeapMb?: number } = {}) =>
    createCpuPool<typeof cpuTasks>({
      size: options.size ?? 1,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxHeapMb: options.maxHeapMb,
      taskModules: [TEST_TASKS],
    });
  /** Runs `use` with a fresh pool, closed afterwards whatever happens. */
  const withPool = async (
    options: Parameters<typeof pool>[0],
    use: (cpu: ReturnType<typeof pool>) => Promise<void>,
  ) => {
    const cpu = pool(options);
    try {
      await use(cpu);
    } finally {
      await cpu.close();
    }
  };

  it('a DispatchError thrown in a thread keeps its class, code, message and transient flag', async () => {
    const cpu = pool();
    try {
      for (const transient of [false, true]) {
        const error = await cpu
          .run('fail', ['E_FEED_INVALID', 'feed.xml line 3: not RSS', transient], { what: 'checking' })
          .catch((e) => e);
        expect(error).toBeInstanceOf(DispatchError);
        expect(error).toMatchObject({ code: 'E_FEED_INVALID', message: 'feed.xml line 3: not RSS', transient });
        expect(error.stack).toContain('cpu-test-tasks');
      }
      // Dispatch's own parse, in its thread: bad input keeps its code too.
      const empty = await cpu.run('parseArticle', ['  \n ', { receivedAt: new Date() }], { what: 'parsing' });
      expect.unreachable(`parsed ${JSON.stringify(empty)}`);
    } catch (error) {
      expect(isDispatchError(error, 'E_INPUT_EMPTY')).toBe(true);
    } finally {
      await cpu.close();
    }
  });

  it('any other error thrown in a thread is E_INTERNAL, for good', async () => {
    await withPool({}, async (cpu) => {
      const error = await cpu.run('throwPlain', [], { what: 'composing posts for a1' }).catch((e) => e);
      expect(isDispatchError(error, 'E_INTERNAL')).toBe(true);
      expect(error.message).toBe('composing posts for a1 failed: TypeError: cannot read properties of undefined');
      expect(error.transient).toBe(false);
    });
  });

  it('past its time limit a task is stopped with E_JOB_TIMEOUT, and a fresh thread serves the next task', async () => {
    await withPool({ size: 1, timeoutMs: 200 }, async (cpu) => {
      const error = await cpu.run('spin', [], { what: 'spinning' }).catch((e) => e);
      expect(isDispatchError(error, 'E_JOB_TIMEOUT')).toBe(true);
      expect(error.message).toBe('spinning ran longer than 200 ms');
      expect(error.transient).toBe(false);
      expect(cpu.stats()).toMatchObject({ threads: 0, busy: 0 });
      expect(await cpu.run('sumBytes', [new Uint8Array([1, 2, 3])], { what: 'summing' })).toMatchObject({ sum: 6 });
      expect(cpu.stats()).toMatchObject({ threads: 1, busy: 0 });
    });
  });

  it('the time limit counts from when a task starts in a thread, not while it waits for one', async () => {
    await withPool({ size: 1, timeoutMs: 1_500 }, async (cpu) => {
      // Each runs 800 ms: the third waits some 1.6 s for the one thread, then runs within its limit.
      const runs = await Promise.all([1, 2, 3].map(() => cpu.run('spin', [800], { what: 'spinning' })));
      expect(runs.every((ms) => ms >= 800)).toBe(true);
    });
  });

  it('a thread out of memory fails only its task, with E_INTERNAL, and is replaced', async () => {
    await withPool({ size: 1, maxHeapMb: 64 }, async (cpu) => {
      const error = await cpu.run('exhaustMemory', [], { what: 'hoarding' }).catch((e) => e);
      expect(isDispatchError(error, 'E_INTERNAL')).toBe(true);
      expect(error.message).toBe('hoarding ran out of memory in its worker thread (limit 64 MB)');
      expect(await cpu.run('sumBytes', [new Uint8Array([4, 5])], { what: 'summing' })).toMatchObject({ sum: 9 });
    });
  });

  it('bytes are transferred to the thread, not copied', async () => {
    await withPool({}, async (cpu) => {
      const bytes = new Uint8Array(5 * 1024 * 1024).fill(1);
      const result = await cpu.run('sumBytes', [bytes], { what: 'summing', transfer: [bytes.buffer] });
      expect(result).toEqual({ length: 5 * 1024 * 1024, sum: 5 * 1024 * 1024, isUint8Array: true });
      expect(bytes.byteLength).toBe(0); // moved: detached here
    });
  });

  it('close(graceMs) lets a running task that ends within the grace finish', async () => {
    const cpu = pool({ size: 1 });
    const running = cpu.run('spin', [300], { what: 'spinning' });
    await waitFor('the task running', async () => cpu.stats().busy === 1);
    await cpu.close(5_000);
    expect(await running).toBeGreaterThanOrEqual(300);
    expect(cpu.stats()).toMatchObject({ threads: 0 });
  });

  it('close() stops a running task and the queued ones with CpuPoolClosedError; later runs are refused', async () => {
    const cpu = pool({ size: 1 });
    const running = cpu.run('spin', [], { what: 'spinning' }).catch((e) => e);
    const queued = cpu.run('spin', [10], { what: 'waiting' }).catch((e) => e);
    await sleep(300);
    await cpu.close();
    expect(await running).toBeInstanceOf(CpuPoolClosedError);
    expect(await queued).toBeInstanceOf(CpuPoolClosedError);
    expect(await cpu.run('spin', [1], { what: 'late' }).catch((e) => e)).toBeInstanceOf(CpuPoolClosedError);
    expect(cpu.stats()).toMatchObject({ threads: 0, queued: 0 });
  });
});
