import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../cli/context.js';
import { articleJobId } from '../jobs/queues.js';
import { articleId } from '../src/ingest/article-id.js';
import { testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';

const redis = useTestRedis('feeds-fetch');

const para = (n: number) =>
  `<p>Paragraph ${n} of the story on its own page: the council met on Tuesday, argued about the cost of the repairs, and agreed to rebuild the harbour wall before the winter storms arrive.</p>`;
const STORY = `<html><head><title>Harbour wall rebuilt</title></head><body><article><h1>Harbour wall rebuilt</h1>${para(1)}${para(2)}</article></body></html>`;

/**
 * A site on 127.0.0.1 with an RSS feed of one teaser item, whose page `/story` answers as
 * `story(n)` says for its n-th request (from 1). Records the time of every request by path.
 */
async function feedSite(story: (n: number, res: ServerResponse) => void) {
  const hits: Record<string, number[]> = {};
  let base = '';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    hits[path] = [...(hits[path] ?? []), Date.now()];
    if (path === '/feed.xml') {
      res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(
        `<?xml version="1.0"?><rss version="2.0"><channel><title>Example</title>
        <item><title>Harbour wall rebuilt</title><link>${base}/story</link><guid>story-1</guid><description>Short teaser.</description></item>
        </channel></rss>`,
      );
    } else if (path === '/story') story(hits[path]?.length ?? 0, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    feedUrl: `${base}/feed.xml`,
    storyUrl: `${base}/story`,
    /** The ingest job id of the story: the feeds job derives it from the item's link. */
    storyJobId: articleJobId(articleId(`${base}/story`, '', '')),
    hits,
    count: (path: string) => hits[path]?.length ?? 0,
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

const page = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(STORY);

interface FeedTest {
  site: Awaited<ReturnType<typeof feedSite>>;
  ctx: CommandContext;
  /** Adds a feeds job for the site's feed and waits for it to complete: its return value. */
  poll(what?: string): Promise<{ url: string; items: number; new: number }>;
  /** The story's ingest job once it has failed. */
  failedIngest(what?: string): Promise<Job>;
}

/**
 * Runs `test` against a feed site whose story answers as `story` says, with a context and a
 * worker on a test configuration of `settings`, and closes all three after.
 */
async function withFeedSite(
  story: (n: number, res: ServerResponse) => void,
  settings: Record<string, string>,
  test: (t: FeedTest) => Promise<void>,
): Promise<void> {
  const site = await feedSite(story);
  const config = testConfig(settings);
  const ctx = testContext(redis.url, config);
  const worker = await testWorker(redis.url, config);
  const poll = async (what = 'a poll') => {
    const job = await ctx.queues.feeds.add('feeds', { url: site.feedUrl });
    await waitFor(what, async () => (await ctx.queues.feeds.getJob(job.id as string))?.isCompleted());
    return (await ctx.queues.feeds.getJob(job.id as string))?.returnvalue;
  };
  const failedIngest = (what = 'the failed ingest') =>
    waitFor(what, async () => {
      // The state first, then the job: a job read first may fail before its state is asked.
      if ((await ctx.queues.ingest.getJobState(site.storyJobId)) !== 'failed') return null;
      return await ctx.queues.ingest.getJob(site.storyJobId);
    });
  try {
    await test({ site, ctx, poll, failedIngest });
  } finally {
    await worker.close();
    await ctx.close();
    await site.close();
  }
}

describe('feed items and temporary failures (real redis-server, local HTTP server)', () => {
  it('an item whose page was down until its ingest job gave up is ingested by a later poll', async () => {
    // One attempt: the first 503 fails the ingest job for good, as a long outage would.
    await withFeedSite(
      (n, res) => (n === 1 ? res.writeHead(503).end('down') : page(res)),
      { ALLOW_PRIVATE_URLS: 'true', JOB_ATTEMPTS: '1' },
      async ({ site, ctx, poll, failedIngest }) => {
        expect((await poll('poll 1')).new).toBe(1);
        const failed = await failedIngest();
        expect(failed.failedReason).toMatch(/^E_FETCH_STATUS: .*answered 503/);
        expect(await ctx.store.isFeedItemSeen(site.feedUrl, 'story-1')).toBe(false);
        expect(await ctx.store.countArticles()).toBe(0);

        // The failed job still holds its id, so adding would do nothing: the poll retries it instead.
        await poll('poll 2');
        await waitFor('the article', async () => (await ctx.store.countArticles()) === 1);
        const [article] = await ctx.store.articlesBetween(new Date(0), new Date(8.64e15));
        expect(article?.title).toBe('Harbour wall rebuilt');
        await waitFor('the item marked seen', () => ctx.store.isFeedItemSeen(site.feedUrl, 'story-1'));

        expect((await poll('poll 3')).new).toBe(0);
        expect(site.count('/story')).toBe(2);
        await waitFor('the ingest job completed', async () =>
          (await ctx.queues.ingest.getJob(site.storyJobId))?.isCompleted(),
        );
        expect(await ctx.queues.ingest.getJobCounts('completed', 'failed', 'waiting', 'delayed')).toEqual({
          completed: 1,
          failed: 0,
          waiting: 0,
          delayed: 0,
        });
      },
    );
  });

  it('a 503 with Retry-After is tried again after that wait, and a poll meanwhile adds no second job', async () => {
    // A backoff of a minute: only the Retry-After of one second can bring the article in time.
    await withFeedSite(
      (n, res) => (n === 1 ? res.writeHead(503, { 'retry-after': '1' }).end('busy') : page(res)),
      { ALLOW_PRIVATE_URLS: 'true', JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '60000' },
      async ({ site, ctx, poll }) => {
        await ctx.queues.feeds.add('feeds', { url: site.feedUrl });
        await waitFor('the ingest job delayed', async () =>
          (await ctx.queues.ingest.getJob(site.storyJobId))?.isDelayed(),
        );
        expect(await poll('poll 2')).toMatchObject({ new: 0 });

        await waitFor('the article', async () => (await ctx.store.countArticles()) === 1);
        const [first = 0, retry = 0] = site.hits['/story'] ?? [];
        expect(site.count('/story')).toBe(2);
        expect(retry - first).toBeGreaterThanOrEqual(900);
        expect(retry - first).toBeLessThan(20_000);
        await waitFor('the item marked seen', () => ctx.store.isFeedItemSeen(site.feedUrl, 'story-1'));
        // The item is marked seen by the job itself, a moment before BullMQ records the job completed.
        await waitFor('the ingest job completed', async () =>
          (await ctx.queues.ingest.getJob(site.storyJobId))?.isCompleted(),
        );
        const counts = await ctx.queues.ingest.getJobCounts('completed', 'failed', 'waiting', 'delayed', 'active');
        expect(counts).toEqual({ completed: 1, failed: 0, waiting: 0, delayed: 0, active: 0 });
      },
    );
  });

  it('a server that always asks to come back later cannot keep a job forever: the usual retries take over', async () => {
    await withFeedSite(
      (_n, res) => res.writeHead(429, { 'retry-after': '0' }).end('slow down'),
      { ALLOW_PRIVATE_URLS: 'true', JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '50' },
      async ({ site, ctx, failedIngest }) => {
        await ctx.queues.feeds.add('feeds', { url: site.feedUrl });
        const failed = await failedIngest();
        expect(failed.failedReason).toMatch(/^E_FETCH_STATUS: .*answered 429/);
        // Start 1 waits as asked; start 2 has used up the attempts, so it fails and backs off; start 3 is the last.
        expect(site.count('/story')).toBe(3);
        expect(failed.attemptsMade).toBe(2);
        expect(await ctx.store.isFeedItemSeen(site.feedUrl, 'story-1')).toBe(false);
      },
    );
  });

  it('a page that answers 404 fails for good at once, its item is marked seen, and later polls leave it', async () => {
    await withFeedSite(
      (_n, res) => res.writeHead(404).end('gone'),
      { ALLOW_PRIVATE_URLS: 'true', JOB_ATTEMPTS: '3' },
      async ({ site, ctx, poll, failedIngest }) => {
        await ctx.queues.feeds.add('feeds', { url: site.feedUrl });
        const failed = await failedIngest();
        expect(failed.failedReason).toMatch(/^E_FETCH_STATUS: .*answered 404/);
        expect(failed.attemptsMade).toBe(1);
        await waitFor('the item marked seen', () => ctx.store.isFeedItemSeen(site.feedUrl, 'story-1'));
        expect(await poll('poll 2')).toMatchObject({ new: 0 });
        expect(await (await ctx.queues.ingest.getJob(site.storyJobId))?.isFailed()).toBe(true);
        expect(site.count('/story')).toBe(1);
      },
    );
  });

  it('a failed job of the same article from elsewhere (the CLI) is retried once as the item, then left', async () => {
    await withFeedSite(
      (_n, res) => res.writeHead(404).end('gone'),
      { ALLOW_PRIVATE_URLS: 'true', JOB_ATTEMPTS: '3' },
      async ({ site, ctx, poll }) => {
        const failedAfter = async (n: number) =>
          waitFor(`request ${n} and its failure`, async () => {
            if (site.count('/story') !== n || (await ctx.queues.ingest.getJobState(site.storyJobId)) !== 'failed')
              return null;
            return await ctx.queues.ingest.getJob(site.storyJobId);
          });
        // What `dispatch enqueue <url>` adds: no feed item named.
        const data = { url: site.storyUrl, source: site.storyUrl, receivedAt: new Date().toISOString() };
        await ctx.queues.ingest.add('ingest', data, { jobId: site.storyJobId });
        await failedAfter(1);
        await poll();
        const retried = await failedAfter(2);
        expect(retried.data.feed).toEqual({ url: site.feedUrl, itemKey: 'story-1' });
        await waitFor('the item marked seen', () => ctx.store.isFeedItemSeen(site.feedUrl, 'story-1'));
        await poll();
        expect(site.count('/story')).toBe(2);
      },
    );
  });

  it('by default a feed item linking to an internal address is refused for good and marked seen, unfetched', async () => {
    await withFeedSite(
      (_n, res) => page(res),
      {}, // ALLOW_PRIVATE_URLS unset: false
      async ({ site, ctx, failedIngest }) => {
        // The ingest job a feed on a public site would add for an item linking inside.
        await ctx.queues.ingest.add(
          'ingest',
          {
            url: site.storyUrl,
            source: 'https://news.example.com/feed.xml item inside-1',
            receivedAt: new Date().toISOString(),
            feed: { url: 'https://news.example.com/feed.xml', itemKey: 'inside-1' },
          },
          { jobId: site.storyJobId },
        );
        const failed = await failedIngest('the refused ingest');
        expect(failed.failedReason).toMatch(/^E_URL_BLOCKED: 127\.0\.0\.1 is not public \(loopback\)/);
        expect(failed.attemptsMade).toBe(1);
        await waitFor('the item marked seen', () =>
          ctx.store.isFeedItemSeen('https://news.example.com/feed.xml', 'inside-1'),
        );

        // A feed on an internal address is refused the same way.
        const feed = await ctx.queues.feeds.add('feeds', { url: site.feedUrl });
        await waitFor('the refused poll', async () => (await ctx.queues.feeds.getJob(feed.id as string))?.isFailed());
        const refused = await ctx.queues.feeds.getJob(feed.id as string);
        expect(refused?.failedReason).toMatch(/^E_URL_BLOCKED: 127\.0\.0\.1 /);
        expect(refused?.attemptsMade).toBe(1);
        expect(site.hits).toEqual({});
      },
    );
  });
});
