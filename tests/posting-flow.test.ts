import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostPlanStore, type PostPlanRecord } from '../io/post-plan.js';
import type { Context } from '../jobs/context.js';
import { enqueueArticles } from '../jobs/enqueue-articles.js';
import { postQueueName } from '../jobs/queues.js';
import type { RunningWorker } from '../jobs/run-worker.js';
import type { Config } from '../src/config.js';
import type { PublishableNetwork } from '../src/social/network-post.js';
import { type FakeBluesky, startFakeBluesky } from './helpers/fake-bluesky.js';
import { type FakeMastodon, startFakeMastodon } from './helpers/fake-mastodon.js';
import { type FakeX, startFakeX } from './helpers/fake-x.js';
import { cliEnv, testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { runCli } from './helpers/run-cli.js';

// The whole way, with the real publishers: an article enqueued, ingested, composed and planned by
// the worker, its posts made on local servers that check the requests X, Bluesky and Mastodon
// document (they are not the networks themselves).
const redis = useTestRedis('posting-flow');
const X = { apiKey: 'x-key', apiSecret: 'x-secret', accessToken: 'x-token', accessSecret: 'x-token-secret' };

describe('posting an article to X, Bluesky and Mastodon (real worker, real publishers, local API servers)', () => {
  let x: FakeX;
  let bluesky: FakeBluesky;
  let mastodon: FakeMastodon;
  let config: Config;
  let ctx: Context;
  let worker: RunningWorker;

  beforeAll(async () => {
    x = await startFakeX(X);
    bluesky = await startFakeBluesky({ handle: 'news.example.com', password: 'app-pass-word' });
    mastodon = await startFakeMastodon('mastodon-token');
    config = testConfig({
      SOCIAL_POSTING: 'true',
      POST_KINDS: 'headline,thread',
      POST_WINDOW: '00:00-24:00',
      X_API_KEY: X.apiKey,
      X_API_SECRET: X.apiSecret,
      X_ACCESS_TOKEN: X.accessToken,
      X_ACCESS_SECRET: X.accessSecret,
      X_API_URL: x.url,
      BLUESKY_HANDLE: bluesky.handle,
      BLUESKY_APP_PASSWORD: 'app-pass-word',
      BLUESKY_SERVICE: bluesky.url,
      MASTODON_URL: mastodon.url,
      MASTODON_TOKEN: 'mastodon-token',
      ALLOW_PRIVATE_URLS: 'true',
    });
    ctx = testContext(redis.url, config);
    worker = await testWorker(redis.url, config);
  });

  afterAll(async () => {
    await worker?.close();
    await ctx?.close();
    await Promise.all([x?.close(), bluesky?.close(), mastodon?.close()]);
  });

  /** Every planned post of the test's article (the only one). */
  const allRecords = (): Promise<PostPlanRecord[]> =>
    createPostPlanStore(ctx.redis, config.REDIS_PREFIX).between(new Date(0), new Date(Date.now() + 30 * 86_400_000));

  it('the headline goes at once on every network; a crash after X took it posts it once', async () => {
    // X stores the first tweet and drops the connection: the worker cannot know it went out.
    x.failNext('drop-after-store');
    const report = await enqueueArticles(ctx, ['examples/tram-strike.html'], { publishedNow: true });
    expect(report.added).toEqual(['Tram drivers vote to strike over new rotas']);

    const headlines = await waitFor(
      'the headline posted on all three networks',
      async () => {
        const records = (await allRecords()).filter((r) => r.kind === 'headline');
        return records.length === 3 && records.every((r) => r.state === 'posted') ? records : null;
      },
      25_000,
    );
    expect(x.tweets).toHaveLength(1);
    // One POST that went through unanswered; the retry looked at the account's timeline and found it.
    expect(x.requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets')).toHaveLength(1);
    expect(x.requests.some((r) => r.method === 'GET' && /^\/2\/users\/\d+\/tweets$/.test(r.path))).toBe(true);
    expect(bluesky.records.size).toBe(1);
    expect(mastodon.statuses).toHaveLength(1);
    const onX = headlines.find((r) => r.network === 'x');
    expect(x.tweets[0]?.posted).toBe(onX?.parts[0]?.text);
    expect(onX?.published[0]?.url).toBe(`https://x.com/i/web/status/${x.tweets[0]?.id}`);
    expect(mastodon.statuses[0]?.text ?? '').toContain('Tram drivers');
    // Mastodon's composition read the instance's own limit.
    expect(headlines.find((r) => r.network === 'mastodon')?.parts[0]?.limit).toBe(500);
  });

  it('the thread waits its turn, then goes as a reply chain; the schedule shows each post and its address', async () => {
    const records = await waitFor('the planned threads', async () => {
      const threads = (await allRecords()).filter((r) => r.kind === 'thread');
      return threads.length === 3 ? threads : null;
    });
    for (const record of records) {
      expect(record.state).toBe('scheduled');
      expect(Date.parse(record.at) - Date.now()).toBeGreaterThan(80 * 60_000);
      // Its time has come (the test does not wait the 90 minutes).
      const job = await ctx.queues[postQueueName(record.network as PublishableNetwork)].getJob(record.id);
      await job?.promote();
    }
    await waitFor('the threads posted', async () => {
      const threads = (await allRecords()).filter((r) => r.kind === 'thread');
      return threads.every((r) => r.state === 'posted') ? threads : null;
    });
    const xThread = records.find((r) => r.network === 'x') as PostPlanRecord;
    const tweets = x.tweets.slice(1);
    expect(tweets).toHaveLength(xThread.parts.length);
    expect(tweets[0]?.replyTo).toBeUndefined();
    for (let i = 1; i < tweets.length; i++) expect(tweets[i]?.replyTo).toBe(tweets[i - 1]?.id);
    expect(mastodon.statuses.length).toBe(1 + (records.find((r) => r.network === 'mastodon')?.parts.length ?? 0));

    const env = cliEnv(redis.url, config, { TZ: 'UTC' });
    const schedule = await runCli(['posts', 'schedule'], { env });
    expect(schedule.code, schedule.stderr).toBe(0);
    expect(schedule.stdout).toContain(xThread.id);
    expect(schedule.stdout).toContain(`https://x.com/i/web/status/${tweets[0]?.id}`);
    // A post that is out cannot be cancelled: one line with its code, exit 2.
    const cancel = await runCli(['posts', 'cancel', xThread.id], { env });
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toMatch(/^dispatch: E_POST_POSTED: [^\n]+\n$/);
    const unknown = await runCli(['posts', 'cancel', 'post-x-nothing-headline-0'], { env });
    expect(unknown.stderr).toMatch(/^dispatch: E_NOT_FOUND: /);
    // The export, as a user types it: the week's X posts as Buffer's bulk-upload CSV.
    const exported = await runCli(['posts', 'export', '--format', 'csv', '--network', 'x'], { env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.split('\r\n')[0]).toBe('"Text","Image URL","Tags","Posting Time"');
    expect(exported.stdout).toContain('"x,headline"');
    const xlsx = await runCli(['posts', 'export', '--format', 'xlsx'], { env });
    expect(xlsx.stderr).toMatch(/^dispatch: E_INPUT_FORMAT: /);
  });
});
