import { createPostPlanStore, type PostingPause, type PostPlanRecord, type PostPlanStore } from '../io/post-plan.js';
import type { StoredSocial } from '../io/store.js';
import { archiveIssueUrl, archiveSettingsOf } from '../src/archive/archive-settings.js';
import type { Config } from '../src/config.js';
import { DispatchError } from '../src/errors.js';
import type { Article } from '../src/ingest/article.js';
import { PUBLISHABLE_NETWORKS, type PublishableNetwork } from '../src/social/network-post.js';
import { type PlannedPost, planArticlePosts, planInvitation } from '../src/social/schedule/plan-posts.js';
import type { Context } from './context.js';
import { type PostPayload, type PostQueueName, postQueueName, type Queues } from './queues.js';

/** What planning works on: the configuration, the plan store and the post queues. */
export interface PlanDeps {
  config: Config;
  plans: PostPlanStore;
  queues: Pick<Queues, PostQueueName>;
}

/**
 * The networks whose credentials are all set (E_CONFIG for a network with only some). The
 * publishers' module (three API clients, about a second to load) loads only when asked.
 */
export async function credentialedNetworks(config: Config): Promise<PublishableNetwork[]> {
  const { configuredNetworks } = await import('../io/publishers/index.js');
  return configuredNetworks(config);
}

/** The networks posted to: none unless SOCIAL_POSTING, then those whose credentials are all set. */
export async function postingNetworks(config: Config): Promise<PublishableNetwork[]> {
  return config.SOCIAL_POSTING ? await credentialedNetworks(config) : [];
}

/** The plan deps of a command's (or the weekly loop's) context. */
export function planDepsOf(ctx: Context): PlanDeps {
  return { config: ctx.config, plans: createPostPlanStore(ctx.redis, ctx.config.REDIS_PREFIX), queues: ctx.queues };
}

/**
 * Stores each planned post unless it is stored already, then queues its job (delayed until its
 * time, its id the plan's) while it is still scheduled. A post planned before keeps its own time,
 * and adding a job whose id exists adds nothing: planning again, or on two workers at once,
 * makes nothing new. Returns the posts this call stored.
 */
export async function schedulePosts(
  deps: PlanDeps,
  posts: readonly PlannedPost<PublishableNetwork>[],
  now: Date,
): Promise<PostPlanRecord[]> {
  const created: PostPlanRecord[] = [];
  for (const post of posts) {
    const { created: isNew, record } = await deps.plans.create(post);
    if (isNew) created.push(record);
    if (record.state !== 'scheduled') continue;
    const payload: PostPayload = { planId: record.id };
    await deps.queues[postQueueName(record.network)].add('post', payload, {
      jobId: record.id,
      delay: Math.max(0, Date.parse(record.at) - now.getTime()),
    });
  }
  return created;
}

/**
 * After the social job stored an article's posts: the plan of them on every network posted to
 * (see {@link postingNetworks}), stored and queued. Nothing when posting is off or the posts
 * predate the per-network ones (no `networks`).
 */
export async function planArticle(
  deps: PlanDeps,
  article: Pick<Article, 'id' | 'title'>,
  social: Pick<StoredSocial, 'networks'>,
  now: Date,
): Promise<PostPlanRecord[]> {
  if (!deps.config.SOCIAL_POSTING || !social.networks) return [];
  const networks = await postingNetworks(deps.config);
  if (networks.length === 0) return [];
  const posts = planArticlePosts(
    { articleId: article.id, title: article.title, posts: social.networks, networks, now },
    deps.config,
  );
  return await schedulePosts(deps, posts, now);
}

/** Why the week's invitation was not planned, or the posts planned. */
export type InvitationOutcome = { planned: PostPlanRecord[] } | { skipped: string };

/**
 * The week's newsletter invitation, once the week's send has started: one post per network posted
 * to, composed with the issue's lead article (its title the headline promised) and the issue's
 * archive page, at the window's next slot. Once per week: the plan's id is the week's.
 */
export async function planNewsletterInvitation(
  ctx: Pick<Context, 'config' | 'redis' | 'store' | 'queues'>,
  week: string,
  now: Date,
): Promise<InvitationOutcome> {
  const { config } = ctx;
  if (!config.SOCIAL_POSTING) return { skipped: 'posting is off' };
  const networks = await postingNetworks(config);
  if (networks.length === 0) return { skipped: 'no network has credentials' };
  const stored = await ctx.store.getIssue(week);
  if (!stored) return { skipped: `no stored issue of ${week}` };
  const lead = stored.issue.lead;
  const [article, social] = await Promise.all([
    ctx.store.getArticle(lead.articleId),
    ctx.store.getSocial(lead.articleId),
  ]);
  if (!article || !social) return { skipped: `the lead article ${lead.articleId} or its summary is not stored` };
  const issueUrl = archiveIssueUrl(archiveSettingsOf(config), week);
  // Mastodon's text is made for the instance's own limit, as the article's posts were.
  const mastodonLimit = social.networks?.find((p) => p.network === 'mastodon')?.limit;
  const { composeNetworkPosts } = await import('../src/social/compose-network-posts.js');
  const posts = networks.flatMap((network) => {
    const post = composeNetworkPosts(network, article, social.summary, config, {
      leadHeadline: lead.title,
      issueUrl,
      mastodonLimit,
    }).find((p) => p.kind === 'newsletterCta' && p.valid);
    return post ? [planInvitation({ week, title: lead.title, post, network, now }, config)] : [];
  });
  const deps: PlanDeps = { config, plans: createPostPlanStore(ctx.redis, config.REDIS_PREFIX), queues: ctx.queues };
  return { planned: await schedulePosts(deps, posts, now) };
}

/** What {@link cancelPost} did: `cancelled`, or the state that kept it from being cancelled. */
export type CancelOutcome =
  | { outcome: 'cancelled' | 'already-cancelled'; record: PostPlanRecord }
  | { outcome: 'posted'; record: PostPlanRecord };

/**
 * Cancels a planned post not yet posted: the record is kept, as `cancelled`, and its delayed job
 * removed. A job already running finds it cancelled before its next part. E_NOT_FOUND for an
 * unknown id; a posted post is reported as such (it is the network's now).
 */
export async function cancelPost(deps: PlanDeps, id: string): Promise<CancelOutcome> {
  const before = await deps.plans.cancel(id);
  if (before === 'missing') throw new DispatchError('E_NOT_FOUND', `no planned post ${id}`);
  const record = (await deps.plans.get(id)) as PostPlanRecord;
  if (before === 'posted') return { outcome: 'posted', record };
  if (before === 'cancelled') return { outcome: 'already-cancelled', record };
  const job = await deps.queues[postQueueName(record.network)].getJob(id);
  // A job that is running holds its lock and cannot be removed: it reads the cancel itself.
  await job?.remove().catch(() => {});
  return { outcome: 'cancelled', record };
}

/**
 * Lets a paused network post again (once its credentials are fixed): its pause cleared and its
 * queue resumed, so the posts that waited go out. Returns the pause that was cleared, if any.
 */
export async function resumePosting(deps: PlanDeps, network: PublishableNetwork): Promise<PostingPause | null> {
  const pause = await deps.plans.pauseOf(network);
  await deps.plans.clearPause(network);
  await deps.queues[postQueueName(network)].resume();
  return pause;
}

/** A network's posting as the schedule shows it. */
export type NetworkPosting =
  | { network: PublishableNetwork; state: 'off' | 'no-credentials' | 'active' }
  | ({ network: PublishableNetwork } & PostingPause);

/** Each publishable network's posting: off (SOCIAL_POSTING), no credentials, active, or paused (why, since when). */
export async function networkPostings(deps: PlanDeps): Promise<NetworkPosting[]> {
  const configured = await postingNetworks(deps.config);
  return await Promise.all(
    PUBLISHABLE_NETWORKS.map(async (network): Promise<NetworkPosting> => {
      if (!deps.config.SOCIAL_POSTING) return { network, state: 'off' };
      if (!configured.includes(network)) return { network, state: 'no-credentials' };
      const pause = await deps.plans.pauseOf(network);
      return pause ? { network, ...pause } : { network, state: 'active' };
    }),
  );
}
