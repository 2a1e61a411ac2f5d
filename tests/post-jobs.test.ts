import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPostPlanStore, type PostPlanRecord } from '../io/post-plan.js';
import { PostError } from '../io/publishers/post-error.js';
import type { PublishedPost, Publisher, PublishOptions } from '../io/publishers/publisher.js';
import { cancelPost, planDepsOf, resumePosting, schedulePosts } from '../jobs/plan-posts.js';
import { postQueueName } from '../jobs/queues.js';
import { type RunningWorker, startWorker } from '../jobs/run-worker.js';
import type { Config } from '../src/config.js';
import type { NetworkPost, PublishableNetwork } from '../src/social/network-post.js';
import { type PlannedPost, postPlanId } from '../src/social/schedule/plan-posts.js';
import { silent, testConfig, testContext, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';

const redis = useTestRedis('post-jobs');
/** An hour from now: every planned post waits, delayed, until the test promotes it. */
const later = () => new Date(Date.now() + 3_600_000);

type Step = (post: NetworkPost, options: PublishOptions) => void;

/** A publisher that records each call; `steps[n]` may throw on the n-th call (from 0). */
function recordingPublisher(network: PublishableNetwork, steps: Record<number, Step> = {}) {
  const calls: { text: string; options: PublishOptions; at: number }[] = [];
  const posted: PublishedPost[] = [];
  const publisher: Publisher = {
    network,
    async publish(post, options) {
      const n = calls.length;
      calls.push({ text: post.text, options, at: Date.now() });
      steps[n]?.(post, options);
      const answer = {
        remoteId: `${network}-${posted.length + 1}`,
        url: `https://${network}.example/p/${posted.length + 1}`,
      };
      posted.push(answer);
      return answer;
    },
    async verify() {
      return { account: `${network}-account` };
    },
  };
  return { publisher, calls, posted };
}

function part(network: PublishableNetwork, text: string, index?: number, total?: number): NetworkPost {
  return {
    network,
    kind: index ? 'thread' : 'headline',
    text,
    length: text.length,
    limit: 300,
    valid: true,
    ...(index && total ? { part: { index, total } } : {}),
  };
}

function planned(network: PublishableNetwork, owner: string, texts: string[]): PlannedPost<PublishableNetwork> {
  const thread = texts.length > 1;
  return {
    id: postPlanId(network, owner, thread ? 'thread' : 'headline', 0),
    network,
    kind: thread ? 'thread' : 'headline',
    articleId: owner,
    title: `Article ${owner}`,
    parts: texts.map((t, i) => (thread ? part(network, t, i + 1, texts.length) : part(network, t))),
    at: later().toISOString(),
  };
}

async function setUp(
  publishers: Partial<Record<PublishableNetwork, Publisher>>,
  overrides: Record<string, string> = {},
) {
  const config: Config = testConfig({ SOCIAL_POSTING: 'true', ...overrides });
  const ctx = testContext(redis.url, config);
  const worker: RunningWorker = await startWorker({
    config,
    redisUrl: redis.url,
    logger: silent,
    templatesDir: join(ROOT, 'templates'),
    queues: ['post-x', 'post-bluesky', 'post-mastodon'],
    publishers,
  });
  const deps = planDepsOf(ctx);
  const plans = createPostPlanStore(ctx.redis, config.REDIS_PREFIX);
  const schedule = async (post: PlannedPost<PublishableNetwork>) => {
    await schedulePosts(deps, [post], new Date());
    return post.id;
  };
  const promote = async (network: PublishableNetwork, id: string) => {
    const job = await ctx.queues[postQueueName(network)].getJob(id);
    await job?.promote();
  };
  const settled = (id: string, states: PostPlanRecord['state'][] = ['posted']) =>
    waitFor(`${id} ${states.join(' or ')}`, async () => {
      const record = await plans.get(id);
      return record && states.includes(record.state) ? record : null;
    });
  return {
    ctx,
    deps,
    plans,
    schedule,
    promote,
    settled,
    async close() {
      await worker.close({ timeoutMs: 5_000 });
      await ctx.close();
    },
  };
}

describe('post jobs', () => {
  it("a thread posts its parts in order as a reply chain, each part's answer stored", async () => {
    const x = recordingPublisher('x');
    const t = await setUp({ x: x.publisher });
    try {
      const id = await t.schedule(planned('x', 'a1', ['one 1/3', 'two 2/3', 'three 3/3']));
      await t.promote('x', id);
      const record = await t.settled(id);
      expect(x.calls.map((c) => c.text)).toEqual(['one 1/3', 'two 2/3', 'three 3/3']);
      expect(x.calls.map((c) => c.options.key)).toEqual([`${id}-0`, `${id}-1`, `${id}-2`]);
      expect(x.calls.map((c) => c.options.retry)).toEqual([false, false, false]);
      expect(x.calls[0]?.options.replyTo).toBeUndefined();
      expect(x.calls[1]?.options.replyTo).toEqual(x.posted[0]);
      expect(x.calls[1]?.options.root).toEqual(x.posted[0]);
      expect(x.calls[2]?.options.replyTo).toEqual(x.posted[1]);
      expect(x.calls[2]?.options.root).toEqual(x.posted[0]);
      expect(record.published).toEqual(x.posted);
      expect(record.firstAttemptAt).toBeTruthy();
      expect(x.calls[0]?.options.since.toISOString()).toBe(record.firstAttemptAt);
    } finally {
      await t.close();
    }
  });

  it('a failure after part 1 of 3 was stored: the retry posts parts 2 and 3 only, each once', async () => {
    const x = recordingPublisher('x', {
      1: () => {
        throw new PostError('x', 'E_POST_UNREACHABLE', 'connection reset');
      },
    });
    const t = await setUp({ x: x.publisher });
    try {
      const id = await t.schedule(planned('x', 'a2', ['one 1/3', 'two 2/3', 'three 3/3']));
      await t.promote('x', id);
      const record = await t.settled(id);
      // The second call failed (nothing posted); the retry began at part 2.
      expect(x.calls.map((c) => c.text)).toEqual(['one 1/3', 'two 2/3', 'two 2/3', 'three 3/3']);
      expect(x.posted).toHaveLength(3);
      expect(x.calls.slice(2).map((c) => c.options.retry)).toEqual([true, true]);
      expect(x.calls.slice(2).map((c) => c.options.key)).toEqual([`${id}-1`, `${id}-2`]);
      expect(x.calls[2]?.options.replyTo).toEqual(x.posted[0]);
      expect(record.published).toEqual(x.posted);
      const job = await t.ctx.queues['post-x'].getJob(id);
      // BullMQ counts the attempt that completed too: one failure, then the retry.
      expect(job?.attemptsMade).toBe(2);
      expect(await job?.getState()).toBe('completed');
    } finally {
      await t.close();
    }
  });

  it("E_POST_AUTH pauses that network (status, queue) while another's posts go on; resume lets it finish", async () => {
    let refuse = true;
    const x = recordingPublisher('x', {
      0: () => {
        if (refuse) throw new PostError('x', 'E_POST_AUTH', 'Could not authenticate you (401)', { status: 401 });
      },
    });
    const bluesky = recordingPublisher('bluesky');
    const t = await setUp({ x: x.publisher, bluesky: bluesky.publisher });
    try {
      const xId = await t.schedule(planned('x', 'a3', ['x headline']));
      const bskyId = await t.schedule(planned('bluesky', 'a3', ['bluesky headline']));
      await t.promote('x', xId);
      const pause = await waitFor('x paused', () => t.plans.pauseOf('x'));
      expect(pause.reason).toBe('E_POST_AUTH: x: Could not authenticate you (401)');
      expect(await t.ctx.queues['post-x'].isPaused()).toBe(true);
      await t.promote('bluesky', bskyId);
      await t.settled(bskyId);
      expect(bluesky.calls.map((c) => c.text)).toEqual(['bluesky headline']);
      const job = await t.ctx.queues['post-x'].getJob(xId);
      expect(job?.attemptsMade).toBe(0);
      expect(await job?.getState()).toMatch(/^(waiting|paused)$/);
      expect((await t.plans.get(xId))?.state).toBe('posting');

      refuse = false;
      expect(await resumePosting(t.deps, 'x')).toEqual(pause);
      const record = await t.settled(xId);
      expect(record.published).toHaveLength(1);
      expect(x.calls.map((c) => c.options.retry)).toEqual([false, true]);
      expect(await t.plans.pauseOf('x')).toBeNull();
      expect(await t.ctx.queues['post-x'].isPaused()).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('E_POST_RATE_LIMITED waits as long as the network asked, then posts, spending no attempt', async () => {
    const mastodon = recordingPublisher('mastodon', {
      0: () => {
        throw new PostError('mastodon', 'E_POST_RATE_LIMITED', 'rate limited (429)', {
          status: 429,
          retryAfterMs: 600,
        });
      },
    });
    const t = await setUp({ mastodon: mastodon.publisher }, { JOB_ATTEMPTS: '1' });
    try {
      const id = await t.schedule(planned('mastodon', 'a4', ['slow down']));
      await t.promote('mastodon', id);
      const record = await t.settled(id);
      expect(mastodon.calls).toHaveLength(2);
      const [first, second] = mastodon.calls;
      expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(550);
      expect(record.published).toHaveLength(1);
      const job = await t.ctx.queues['post-mastodon'].getJob(id);
      // Only the attempt that completed counts; with one attempt allowed, a wait that spent it
      // would have failed the post.
      expect(job?.attemptsMade).toBe(1);
      expect(await job?.getState()).toBe('completed');
    } finally {
      await t.close();
    }
  });

  it("E_POST_REFUSED fails the post for good with the network's message", async () => {
    const bluesky = recordingPublisher('bluesky', {
      0: () => {
        throw new PostError('bluesky', 'E_POST_REFUSED', 'Record/text must not be longer than 300 graphemes');
      },
    });
    const t = await setUp({ bluesky: bluesky.publisher });
    try {
      const id = await t.schedule(planned('bluesky', 'a5', ['too long']));
      await t.promote('bluesky', id);
      const record = await t.settled(id, ['failed']);
      expect(record.error).toBe('E_POST_REFUSED: bluesky: Record/text must not be longer than 300 graphemes');
      const job = await t.ctx.queues['post-bluesky'].getJob(id);
      await waitFor('the job failed', async () => (await job?.getState()) === 'failed');
      expect(bluesky.calls).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('a network with no publisher (credentials removed since) fails for good, saying so', async () => {
    const t = await setUp({});
    try {
      const id = await t.schedule(planned('mastodon', 'a6', ['orphan']));
      await t.promote('mastodon', id);
      const record = await t.settled(id, ['failed']);
      expect(record.error).toMatch(/^E_CONFIG: mastodon: no credentials are configured/);
      const job = await t.ctx.queues['post-mastodon'].getJob(id);
      await waitFor('the job failed', async () => (await job?.getState()) === 'failed');
      expect(job?.attemptsMade).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('cancelled before its time: its job removed, the record kept, never posted; a cancelled record whose job runs posts nothing', async () => {
    const x = recordingPublisher('x');
    const t = await setUp({ x: x.publisher });
    try {
      const id = await t.schedule(planned('x', 'a7', ['never']));
      expect(await cancelPost(t.deps, id)).toMatchObject({ outcome: 'cancelled' });
      expect(await t.ctx.queues['post-x'].getJob(id)).toBeUndefined();
      expect((await t.plans.get(id))?.state).toBe('cancelled');
      expect(await cancelPost(t.deps, id)).toMatchObject({ outcome: 'already-cancelled' });

      // The job outlived the cancel (it was running, say): it finds the record cancelled.
      const other = await t.schedule(planned('x', 'a8', ['not either']));
      expect(await t.plans.cancel(other)).toBe('scheduled');
      const job = await t.ctx.queues['post-x'].getJob(other);
      await job?.promote();
      await waitFor('the job completed', async () => (await job?.getState()) === 'completed');
      expect((await t.ctx.queues['post-x'].getJob(other))?.returnvalue).toMatchObject({
        state: 'cancelled',
        posted: 0,
      });
      expect(x.calls).toEqual([]);

      const posted = await t.schedule(planned('x', 'a9', ['posted']));
      await t.promote('x', posted);
      await t.settled(posted);
      expect(await cancelPost(t.deps, posted)).toMatchObject({ outcome: 'posted' });
      expect((await t.plans.get(posted))?.state).toBe('posted');
      await expect(cancelPost(t.deps, 'post-x-nothing-headline-0')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    } finally {
      await t.close();
    }
  });
});
