import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPostPlanStore } from '../io/post-plan.js';
import type { StoredSocial } from '../io/store.js';
import { startListSend } from '../jobs/list-send.js';
import { planArticle, planDepsOf, planNewsletterInvitation } from '../jobs/plan-posts.js';
import { postQueueName } from '../jobs/queues.js';
import type { Config } from '../src/config.js';
import type { Article } from '../src/ingest/article.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { composeAllNetworks } from '../src/social/compose-network-posts.js';
import { PUBLISHABLE_NETWORKS } from '../src/social/network-post.js';
import { postGroups } from '../src/social/schedule/plan-posts.js';
import { summarize } from '../src/summarize/summarize.js';
import { testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';
import { seedList } from './helpers/seed-list.js';

const redis = useTestRedis('post-plan');
const NOW = new Date('2026-12-02T10:00:00Z');

const X = { X_API_KEY: 'k', X_API_SECRET: 's', X_ACCESS_TOKEN: 't', X_ACCESS_SECRET: 'a' };
const BLUESKY = { BLUESKY_HANDLE: 'news.example.com', BLUESKY_APP_PASSWORD: 'app-pass-word' };
const MASTODON = { MASTODON_URL: 'https://mastodon.example', MASTODON_TOKEN: 'token' };
const ALL = { ...X, ...BLUESKY, ...MASTODON };

function exampleArticle(file = 'harbour-ferry-returns.txt'): Article {
  return parseArticle(readFileSync(join(ROOT, 'examples', file)), { receivedAt: NOW });
}

function socialOf(article: Article, config: Config): StoredSocial {
  const summary = summarize(article);
  return { summary, posts: [], networks: composeAllNetworks(article, summary, config), composedAt: NOW.toISOString() };
}

/** Every job of the post queues, by queue. */
async function postJobs(ctx: ReturnType<typeof testContext>) {
  const entries = await Promise.all(
    PUBLISHABLE_NETWORKS.map(async (n) => [n, await ctx.queues[postQueueName(n)].getJobs()] as const),
  );
  return Object.fromEntries(entries);
}

describe('planning an article', () => {
  it('twice: one record and one delayed job per post, the headline first, the others spaced after it', async () => {
    const config = testConfig({
      SOCIAL_POSTING: 'true',
      ...ALL,
      POST_WINDOW: '00:00-24:00',
      POST_SPACING_MINUTES: '30',
    });
    const ctx = testContext(redis.url, config);
    try {
      const article = exampleArticle();
      const social = socialOf(article, config);
      const deps = planDepsOf(ctx);
      const first = await planArticle(deps, article, social, NOW);
      // A re-run social job (or a second worker), later: nothing new, the times kept.
      const second = await planArticle(deps, article, social, new Date(NOW.getTime() + 3_600_000));
      expect(second).toEqual([]);
      const jobs = await postJobs(ctx);
      for (const network of PUBLISHABLE_NETWORKS) {
        const groups = postGroups(social.networks ?? [], network, config.POST_KINDS);
        const mine = first.filter((p) => p.network === network);
        expect(groups.length).toBeGreaterThan(1);
        expect(mine).toHaveLength(groups.length);
        expect(mine[0]?.kind).toBe('headline');
        expect(mine[0]?.at).toBe(NOW.toISOString());
        expect(mine.map((p) => Date.parse(p.at) - NOW.getTime())).toEqual(mine.map((_, i) => i * 30 * 60_000));
        // A thread is one planned post holding all its parts, in order.
        const thread = mine.find((p) => p.kind === 'thread');
        expect(thread?.parts.map((p) => p.part?.index)).toEqual(thread?.parts.map((_, i) => i + 1));
        if (network === 'x') expect(thread?.parts.length).toBeGreaterThan(1);
        const ids = (jobs[network] ?? []).map((j) => j.id).sort();
        expect(ids).toEqual(mine.map((p) => p.id).sort());
        for (const job of jobs[network] ?? []) {
          expect(job.name).toBe('post');
          expect(job.data).toEqual({ planId: job.id });
          expect(await job.getState()).toBe(job.id === mine[0]?.id ? 'waiting' : 'delayed');
        }
      }
      const stored = await createPostPlanStore(ctx.redis, config.REDIS_PREFIX).between(
        NOW,
        new Date(NOW.getTime() + 86_400_000),
      );
      expect(stored.map((r) => r.id).sort()).toEqual(first.map((r) => r.id).sort());
      expect(new Set(stored.map((r) => r.state))).toEqual(new Set(['scheduled']));
    } finally {
      await ctx.close();
    }
  });

  it('only the networks with credentials', async () => {
    const config = testConfig({ SOCIAL_POSTING: 'true', ...BLUESKY });
    const ctx = testContext(redis.url, config);
    try {
      const article = exampleArticle('tram-strike.html');
      const planned = await planArticle(planDepsOf(ctx), article, socialOf(article, config), NOW);
      expect(planned.length).toBeGreaterThan(0);
      expect(new Set(planned.map((p) => p.network))).toEqual(new Set(['bluesky']));
      const jobs = await postJobs(ctx);
      expect(jobs.x).toEqual([]);
      expect(jobs.mastodon).toEqual([]);
      expect(jobs.bluesky).toHaveLength(planned.length);
    } finally {
      await ctx.close();
    }
  });

  it('SOCIAL_POSTING=false plans nothing, whatever credentials are set', async () => {
    const config = testConfig({ SOCIAL_POSTING: 'false', ...ALL });
    const ctx = testContext(redis.url, config);
    try {
      const article = exampleArticle();
      expect(await planArticle(planDepsOf(ctx), article, socialOf(article, config), NOW)).toEqual([]);
      const jobs = await postJobs(ctx);
      expect(Object.values(jobs).flat()).toEqual([]);
      expect(await createPostPlanStore(ctx.redis, config.REDIS_PREFIX).havePlans([article.id])).toEqual([false]);
    } finally {
      await ctx.close();
    }
  });
});

describe("the week's newsletter invitation", () => {
  it('is planned once per week when the send starts, for each network posted to, linking the archive page', async () => {
    const now = new Date();
    const config = testConfig({
      SOCIAL_POSTING: 'true',
      ...X,
      ...MASTODON,
      POST_WINDOW: '00:00-24:00',
      ARCHIVE_URL: 'https://news.example.com/archive',
    });
    const ctx = testContext(redis.url, config);
    try {
      const week = await seedList(ctx.redis, config, 3, 'reader', now);
      const { start, end } = {
        start: new Date(now.getTime() - 8 * 86_400_000),
        end: new Date(now.getTime() + 86_400_000),
      };
      for (const article of await ctx.store.articlesBetween(start, end))
        await ctx.store.saveSocial(article.id, socialOf(article, config));
      const report = await startListSend(ctx, { week, rate: 0, now });
      expect(report.outcome).toBe('started');
      // Again: the send is resumed, and the invitation is not planned twice.
      expect((await startListSend(ctx, { week, rate: 0, now })).outcome).toBe('resumed');
      expect(await planNewsletterInvitation(ctx, week, now)).toEqual({ planned: [] });

      const plans = createPostPlanStore(ctx.redis, config.REDIS_PREFIX);
      const invitations = (await plans.between(start, end)).filter((p) => p.kind === 'newsletterCta');
      expect(invitations.map((p) => p.network).sort()).toEqual(['mastodon', 'x']);
      const lead = (await ctx.store.getIssue(week))?.issue.lead;
      for (const post of invitations) {
        expect(post.week).toBe(week);
        expect(post.id).toBe(`post-${post.network}-${week}-newsletterCta-0`);
        expect(post.title).toBe(lead?.title);
        expect(post.parts).toHaveLength(1);
        expect(post.parts[0]?.text).toContain(`https://news.example.com/archive/${week}`);
        expect(post.at).toBe(now.toISOString());
      }
      const jobs = await postJobs(ctx);
      expect(jobs.x?.map((j) => j.id)).toEqual([`post-x-${week}-newsletterCta-0`]);
      expect(jobs.mastodon?.map((j) => j.id)).toEqual([`post-mastodon-${week}-newsletterCta-0`]);
      expect(jobs.bluesky).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
