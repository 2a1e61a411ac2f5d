import { type Job, type Queue, WaitingError, Worker } from 'bullmq';
import type { PostPlanStore } from '../io/post-plan.js';
import { PostError } from '../io/publishers/post-error.js';
import type { PublishedPost, Publisher } from '../io/publishers/publisher.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import type { PublishableNetwork } from '../src/social/network-post.js';
import { failsForGood, parsePayload } from './job-error.js';
import { postPayload, postQueueName } from './queues.js';

/** Longest wait a network's "slow down" is honoured for; a network asking for more is asked again after this. */
export const MAX_RATE_LIMIT_WAIT_MS = 60 * 60_000;
/** The wait when a network says "slow down" without saying how long. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
/**
 * Rate-limit waits spend no attempt, but a network that never stops asking must not hold a post
 * forever: past this many starts beyond its attempts, "slow down" is retried as any transient failure.
 */
const MAX_RATE_LIMITED_STARTS = 48;

export interface PostJobDeps {
  network: PublishableNetwork;
  plans: PostPlanStore;
  /** The network's post queue: paused on E_POST_AUTH, rate-limited on E_POST_RATE_LIMITED. */
  queue: Queue;
  /** The network's publisher, or undefined when its credentials are not (or no longer) configured. */
  publisher: () => Promise<Publisher | undefined>;
  now: () => Date;
}

export interface PostJobResult {
  planId: string;
  state: 'posted' | 'cancelled';
  /** Parts this run posted (a retry posts only those not posted before). */
  posted: number;
  urls: string[];
}

const describe = (error: unknown) =>
  isDispatchError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);

/**
 * post-<network>: one planned post. A cancelled or posted post is done; otherwise the parts not
 * yet posted go out in order, a thread's later parts as replies to the part before (and to the
 * first, its root), each part's answer stored before the next is posted, so a retried or re-run
 * job never posts a part twice. E_POST_AUTH pauses the network's posting (its queue paused, the
 * job back to wait, no attempt spent); E_POST_RATE_LIMITED makes the network's queue wait as
 * long as the network asked (no attempt spent); E_POST_UNREACHABLE is retried with backoff;
 * E_POST_REFUSED fails the post for good with the network's message.
 */
export function postJob(deps: PostJobDeps) {
  return async (job: Job, token?: string): Promise<PostJobResult> => {
    const { planId } = parsePayload(postPayload, job.data, postQueueName(deps.network));
    const began = await deps.plans.begin(planId, deps.now());
    if (began.state === 'missing') throw new DispatchError('E_NOT_FOUND', `no planned post ${planId}`);
    if (began.state !== 'posting')
      return { planId, state: began.state === 'posted' ? 'posted' : 'cancelled', posted: 0, urls: [] };
    const { record } = began;
    const publisher = await deps.publisher();
    if (!publisher || record.network !== deps.network) {
      const message = `${record.network}: no credentials are configured for it (or SOCIAL_POSTING is off), so ${planId} cannot be posted`;
      await deps.plans.finish(planId, 'failed', `E_CONFIG: ${message}`);
      throw new DispatchError('E_CONFIG', message);
    }
    const published: PublishedPost[] = [...record.published];
    const retry = began.earlierAttempt || job.attemptsMade > 0;
    const since = new Date(record.firstAttemptAt ?? deps.now().toISOString());
    let posted = 0;
    for (let i = published.length; i < record.parts.length; i++) {
      let answer: PublishedPost;
      try {
        answer = await publisher.publish(record.parts[i] as (typeof record.parts)[number], {
          key: `${planId}-${i}`,
          ...(i > 0 ? { replyTo: published[i - 1], root: published[0] } : {}),
          retry,
          since,
        });
      } catch (error) {
        throw await onFailure(deps, job, token, planId, error);
      }
      published.push(answer);
      posted++;
      const state = await deps.plans.savePublished(planId, i, answer);
      // Cancelled while it was posting: the parts not yet posted stay unposted.
      if (state === 'cancelled') return { planId, state: 'cancelled', posted, urls: published.map((p) => p.url) };
    }
    await deps.plans.finish(planId, 'posted');
    return { planId, state: 'posted', posted, urls: published.map((p) => p.url) };
  };
}

/** What the processor throws for a failed part, after doing what the failure asks for. */
async function onFailure(deps: PostJobDeps, job: Job, token: string | undefined, planId: string, error: unknown) {
  const reason = describe(error);
  const code = error instanceof PostError ? error.code : undefined;
  if (code === 'E_POST_AUTH' && token) {
    // Every job of this network would be refused alike: the network's queue stops (on every
    // worker) until `dispatch posts resume`, and this job waits in it, its attempt not spent.
    await deps.plans.pause(deps.network, reason, deps.now());
    await deps.plans.noteError(planId, reason);
    await deps.queue.pause();
    await job.moveToWait(token);
    return new WaitingError();
  }
  if (
    code === 'E_POST_RATE_LIMITED' &&
    token &&
    job.attemptsStarted <= (job.opts.attempts ?? 1) + MAX_RATE_LIMITED_STARTS
  ) {
    // BullMQ's manual rate limit: the whole queue waits (on every worker), the job goes back to
    // wait without spending an attempt.
    const wait = Math.min((error as PostError).retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS, MAX_RATE_LIMIT_WAIT_MS);
    await deps.plans.noteError(planId, reason);
    await deps.queue.rateLimit(Math.max(1, wait));
    return Worker.RateLimitError();
  }
  if (failsForGood(error, job)) await deps.plans.finish(planId, 'failed', reason);
  else await deps.plans.noteError(planId, reason);
  return error;
}
