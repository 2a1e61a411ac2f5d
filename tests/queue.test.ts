import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import twitter from 'twitter-text';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../io/managed-redis.js';
import { enqueueArticles } from '../jobs/enqueue-articles.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';
import { hasSharedData, SAMPLE_ARTICLE } from './helpers/shared-data.js';

const redis = useTestRedis('queue');
const tmp = redis.tmp;

/** `count` small article files of our own, each with its own URL (so its own id). */
function writeArticles(dir: string, count: number): string {
  const folder = mkdtempSync(join(tmp, `${dir}-`));
  for (let i = 0; i < count; i++) {
    const body = [
      `The council in Exampleton approved plan number ${i} on Tuesday after a long debate about the cost of repairs.`,
      `Officials said work on plan ${i} would start in the spring and take about ${(i % 12) + 2} months to finish.`,
      `“We have waited long enough for this,” said councillor Dana Whitfield, who proposed plan ${i}.`,
    ];
    writeFileSync(
      join(folder, `a${i}.json`),
      JSON.stringify({ title: `Council approves plan ${i}`, body, url: `https://news.example.com/${dir}/${i}` }),
    );
  }
  return folder;
}

const sample = hasSharedData ? SAMPLE_ARTICLE : join(ROOT, 'examples/harbour-ferry-returns.txt');

describe('the queued pipeline (real redis-server)', () => {
  it('an enqueued article is stored with valid posts, then lands in its week’s issue', async () => {
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    const worker = await testWorker(redis.url, config);
    try {
      const now = new Date('2013-09-13T12:00:00Z');
      const report = await enqueueArticles(ctx, [sample], {}, now);
      expect(report.added).toHaveLength(1);
      const [job] = await ctx.queues.ingest.getJobs(['waiting', 'active', 'completed']);
      const id = String(job?.id).replace(/^article-/, '');
      const social = await waitFor('posts', () => ctx.store.getSocial(id));
      expect(await ctx.store.getArticle(id)).toMatchObject({ id });
      expect(social.posts.length).toBeGreaterThan(4);
      expect(social.posts.every((p) => twitter.parseTweet(p.text).valid)).toBe(true);

      const week = isoWeekOf(now, config.TZ);
      await ctx.queues.newsletter.add('newsletter', { week });
      const issue = await waitFor('issue', () => ctx.store.getIssue(week));
      expect(issue.issue.articleCount).toBe(1);
      expect(issue.html).toContain('<!doctype html>');
      expect(issue.text).toContain('Unsubscribe:');
      expect(await ctx.store.listIssues()).toEqual([week]);
    } finally {
      await worker.close();
      await ctx.close();
    }
  });

  it('the same article enqueued twice: one article, one set of posts', async () => {
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    try {
      const first = await enqueueArticles(ctx, [sample], {});
      const again = await enqueueArticles(ctx, [sample], {}); // still queued: a duplicate
      expect([first.added.length, again.added.length, again.duplicates.length]).toEqual([1, 0, 1]);
      const worker = await testWorker(redis.url, config);
      try {
        await waitFor('social done', async () => (await ctx.queues.social.getJobCounts('completed')).completed === 1);
        const third = await enqueueArticles(ctx, [sample], {}); // now stored: still a duplicate
        expect(third.duplicates).toHaveLength(1);
        await sleep(300);
        expect(await ctx.store.countArticles()).toBe(1);
        expect((await ctx.queues.ingest.getJobCounts('completed')).completed).toBe(1);
        expect((await ctx.queues.social.getJobCounts('completed')).completed).toBe(1);
      } finally {
        await worker.close();
      }
    } finally {
      await ctx.close();
    }
  });

  it('a worker killed with SIGKILL mid-job: a new worker finishes its jobs after the stall check, nothing lost', {
    timeout: 90_000,
  }, async () => {
    const config = testConfig({ WORKER_CONCURRENCY: '2' });
    const ctx = testContext(redis.url, config);
    const count = 150;
    const env = {
      ...process.env,
      REDIS_URL: redis.url,
      REDIS_PREFIX: config.REDIS_PREFIX,
      JOB_LOCK_MS: '1500',
      JOB_STALLED_INTERVAL_MS: '500',
      LOG_LEVEL: 'silent',
    };
    try {
      await enqueueArticles(ctx, [writeArticles('kill', count)], {});
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin/dispatch.js'), 'worker', '--queues', 'ingest,social', '--concurrency', '2'],
        { env, stdio: 'ignore' },
      );
      const exited = new Promise((done) => child.once('exit', done));
      await waitFor('some jobs done', async () => (await ctx.store.countArticles()) >= 10, 30_000);
      const inFlight = (await ctx.queues.ingest.getActive()).map((j) => j.id);
      child.kill('SIGKILL');
      await exited;
      const beforeRestart = await ctx.store.countArticles();
      expect(beforeRestart).toBeLessThan(count);
      expect(inFlight.length).toBeGreaterThan(0);

      const worker = await testWorker(redis.url, { ...config, JOB_LOCK_MS: 1500, JOB_STALLED_INTERVAL_MS: 500 });
      try {
        await waitFor('every article stored', async () => (await ctx.store.countArticles()) === count, 30_000);
        await waitFor(
          'every post composed',
          async () => (await ctx.queues.social.getJobCounts('completed')).completed === count,
          30_000,
        );
        for (const id of inFlight)
          expect(await ctx.store.getArticle((id as string).replace(/^article-/, ''))).not.toBeNull();
        expect((await ctx.queues.ingest.getJobCounts('failed')).failed).toBe(0);
      } finally {
        await worker.close();
      }
    } finally {
      await ctx.close();
    }
  });

  it('Redis stopped for 5 s and restarted under a running worker: it reconnects and finishes the queue', {
    timeout: 150_000,
  }, async () => {
    const dir = mkdtempSync(join(tmp, 'restart-'));
    let server = await startRedisServer({ dir });
    const config = testConfig();
    const ctx = testContext(server.url, config);
    const worker = await testWorker(server.url, config);
    try {
      await enqueueArticles(ctx, [writeArticles('before', 20)], {});
      await waitFor('first batch', async () => (await ctx.store.countArticles()) === 20);
      await server.stop();
      await sleep(5000);
      server = await startRedisServer({ dir, port: server.port });
      await waitFor('command connection back', async () => (await ctx.redis.ping().catch(() => null)) === 'PONG');
      await enqueueArticles(ctx, [writeArticles('after', 20)], {});
      await waitFor('second batch', async () => (await ctx.store.countArticles()) === 40, 30_000);
      await waitFor(
        'all posts',
        async () => (await ctx.queues.social.getJobCounts('completed')).completed === 40,
        30_000,
      );
    } finally {
      await worker.close();
      await ctx.close();
      await server.stop();
    }
  });

  it('a worker closed while its blocking connection waits to reconnect still closes (ioredis#1830)', async () => {
    const worker = await testWorker(redis.url, testConfig());
    const [first] = worker.workers;
    const blocking = await first?.backend.blockingClient;
    if (!blocking) throw new Error('the worker has no blocking connection');
    // What BullMQ's blocking-read watchdog does when the event loop stalls: drop it, to reconnect.
    (blocking as unknown as Redis).disconnect(true);
    await once(blocking as unknown as Redis, 'reconnecting');
    const closed = worker.close().then(() => 'closed');
    expect(await Promise.race([closed, sleep(10_000).then(() => 'still closing after 10 s')])).toBe('closed');
    expect((blocking as unknown as Redis).status).toBe('end');
  });

  it('two workers starting at once: one weekly scheduler, and each scheduled build runs once', async () => {
    const config = testConfig({ NEWSLETTER_CRON: '*/2 * * * * *' });
    const ctx = testContext(redis.url, config);
    await enqueueArticles(ctx, [sample], {}, new Date());
    const [a, b] = await Promise.all([testWorker(redis.url, config), testWorker(redis.url, config)]);
    try {
      expect(await ctx.queues.newsletter.getJobSchedulersCount()).toBe(1);
      await waitFor(
        'two builds',
        async () => ((await ctx.queues.newsletter.getJobCounts('completed')).completed ?? 0) >= 2,
        15_000,
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const builds = await ctx.queues.newsletter.getCompleted();
    const fireTimes = builds.map((j) => j.opts.prevMillis ?? j.timestamp);
    expect(new Set(fireTimes).size).toBe(builds.length);
    const processedBy = new Set(builds.map((j) => j.processedBy));
    expect(processedBy.size).toBeGreaterThanOrEqual(1);
    await ctx.close();
  });
});

describe('the weekly schedule (real redis-server)', () => {
  it('each firing builds the week of its own slot, not the week its job was made in', async () => {
    // BullMQ makes a scheduler's next job as the one before is taken, so a weekly job is stamped a
    // week before its slot: the slot (`prevMillis`) is what names the week.
    const config = testConfig({ NEWSLETTER_CRON: '0 9 * * 5', TZ: 'UTC' });
    const ctx = testContext(redis.url, config);
    const worker = await testWorker(redis.url, config);
    try {
      for (let fired = 1; fired <= 2; fired++) {
        const [next] = await waitFor('the next scheduled job', () => ctx.queues.newsletter.getDelayed());
        await next?.promote();
        await waitFor(
          `firing ${fired}`,
          async () => ((await ctx.queues.newsletter.getJobCounts('completed')).completed ?? 0) >= fired,
        );
      }
    } finally {
      await worker.close();
    }
    const builds = await ctx.queues.newsletter.getCompleted();
    expect(builds).toHaveLength(2);
    const weeks = builds.map((job) => job.returnvalue.week as string);
    for (const job of builds) {
      expect(job.returnvalue.week).toBe(isoWeekOf(new Date(Number(job.opts.prevMillis)), 'UTC'));
    }
    // Seven days apart: two weeks, the later made while the earlier ran.
    expect(new Set(weeks).size).toBe(2);
    await ctx.close();
  });
});

describe('feeds (real redis-server, local HTTP server)', () => {
  let server: Server;
  let base: string;
  const para = (n: number) =>
    `<p>Paragraph ${n} of a full story carried in the feed itself, long enough to stand as an article: the council met, argued about money, and agreed to repair the harbour wall before the winter storms arrive in the bay.</p>`;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const page = (type: string, body: string) => res.writeHead(200, { 'content-type': type }).end(body);
      if (req.url === '/rss.xml') {
        page(
          'application/rss+xml',
          `<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Example</title>
          <item><title>Harbour wall repairs agreed</title><link>${base}/harbour</link><guid>harbour-1</guid><pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate>
          <content:encoded><![CDATA[${para(1)}${para(2)}${para(3)}]]></content:encoded></item>
          <item><title>Market moves to the square</title><link>${base}/market</link><guid>market-1</guid><description>Short teaser.</description></item>
          </channel></rss>`,
        );
      } else if (req.url === '/atom.xml') {
        page(
          'application/atom+xml',
          `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Example</title>
          <entry><title>Ferry timetable changes</title><id>urn:ferry</id><link rel="alternate" href="${base}/ferry"/><updated>2026-11-25T10:00:00Z</updated><summary>Teaser only.</summary></entry>
          </feed>`,
        );
      } else if (req.url === '/bad.xml') {
        page('text/html', '<html><body><p>Not a feed</p></body></html>');
      } else if (['/market', '/ferry'].includes(req.url ?? '')) {
        const title = req.url === '/market' ? 'Market moves to the square' : 'Ferry timetable changes';
        page(
          'text/html',
          `<html><head><title>${title}</title></head><body><article><h1>${title}</h1>${para(1)}${para(2)}</article></body></html>`,
        );
      } else res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('ingests RSS and Atom items exactly once across two polls; a malformed feed is reported, not fatal', async () => {
    // The feeds and their pages are on 127.0.0.1, which the default address policy refuses.
    const config = testConfig({ ALLOW_PRIVATE_URLS: 'true' });
    const ctx = testContext(redis.url, config);
    const worker = await testWorker(redis.url, config);
    try {
      for (const poll of [1, 2]) {
        for (const feed of ['rss.xml', 'atom.xml', 'bad.xml'])
          await ctx.queues.feeds.add('feeds', { url: `${base}/${feed}` });
        await waitFor(`poll ${poll}`, async () => {
          const c = await ctx.queues.feeds.getJobCounts('completed', 'failed');
          return (c.completed ?? 0) + (c.failed ?? 0) === 3 * poll;
        });
      }
      await waitFor('three articles', async () => (await ctx.store.countArticles()) === 3);
      await waitFor('ingest settled', async () => (await ctx.queues.ingest.getJobCounts('completed')).completed === 3);
      const titles = (await ctx.store.articlesBetween(new Date(0), new Date(8.64e15))).map((a) => a.title).sort();
      expect(titles).toEqual(['Ferry timetable changes', 'Harbour wall repairs agreed', 'Market moves to the square']);
      const failed = await ctx.queues.feeds.getFailed();
      expect(failed).toHaveLength(2);
      for (const job of failed) {
        expect(job.failedReason).toMatch(/^E_FEED_INVALID: /);
        expect(job.attemptsMade).toBe(1); // bad input is not retried
      }
      expect(worker.workers.every((w) => w.isRunning())).toBe(true);
    } finally {
      await worker.close();
      await ctx.close();
    }
  });
});

describe('job payloads', () => {
  it('a job with bad data fails at once with E_JOB_PAYLOAD', async () => {
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    const worker = await testWorker(redis.url, config);
    try {
      await ctx.queues.ingest.add('ingest', { nonsense: true }, { jobId: 'bad-payload' });
      await waitFor('failure', async () => (await ctx.queues.ingest.getJob('bad-payload'))?.isFailed());
      const job = await waitFor('the failed job', () => ctx.queues.ingest.getJob('bad-payload'));
      expect(job.failedReason).toMatch(/^E_JOB_PAYLOAD: ingest job: /);
      expect(job.attemptsMade).toBe(1);
    } finally {
      await worker.close();
      await ctx.close();
    }
    expect(readFileSync(join(ROOT, 'package.json'), 'utf8')).toContain('bullmq');
  });
});

describe('job ids', () => {
  it('an article whose id is all digits still gets a job id BullMQ accepts', async () => {
    const { articleJobId } = await import('../jobs/queues.js');
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    try {
      const job = await ctx.queues.social.add(
        'social',
        { articleId: '1234567890123456' },
        { jobId: articleJobId('1234567890123456') },
      );
      expect(job.id).toBe('article-1234567890123456');
    } finally {
      await ctx.close();
    }
  });
});
