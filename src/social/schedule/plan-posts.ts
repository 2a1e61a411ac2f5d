import type { Config } from '../../config.js';
import type { Network, NetworkPost } from '../network-post.js';
import type { PostKind } from '../post.js';
import { nextInWindow, parseWindow, planTimes } from './posting-window.js';

/** One post planned for one network: a thread is one planned post holding its parts, in order. */
export interface PlannedPost<N extends Network = Network> {
  /** Stable: the same network, article (or week), kind and index give the same id (see {@link postPlanId}). */
  id: string;
  network: N;
  kind: PostKind;
  /** The article the post is about; missing on the week's newsletter invitation. */
  articleId?: string;
  /** The ISO week of the newsletter the invitation is for; missing on an article's posts. */
  week?: string;
  /** The article's title (the invitation: the lead title), as the schedule lists it. */
  title: string;
  /** The post itself; a thread's parts, first to last. */
  parts: NetworkPost[];
  /** When it goes out (ISO 8601, UTC). */
  at: string;
}

/** The settings the plan is made from. */
export type PlanConfig = Pick<Config, 'POST_KINDS' | 'POST_WINDOW' | 'POST_SPACING_MINUTES' | 'TZ'>;

/**
 * The id of a planned post, also its job's id: `post-<network>-<article id or week>-<kind>-<index>`.
 * BullMQ refuses ':' in a custom id (and ids that look like integers: this one never does), so
 * anything but letters, digits, '_' and '-' in the owner becomes '_'.
 */
export function postPlanId(network: Network, owner: string, kind: PostKind, index: number): string {
  return `post-${network}-${owner.replace(/[^A-Za-z0-9_-]/g, '_')}-${kind}-${index}`;
}

/**
 * An article's posts for one network as the plan takes them: the kinds in `kinds` order, each post
 * on its own, a thread's parts together as one. A post that breaks its network's rules is left
 * out (the network would refuse it), and so is a thread with any such part.
 */
export function postGroups(
  posts: readonly NetworkPost[],
  network: Network,
  kinds: readonly PostKind[],
): NetworkPost[][] {
  const mine = posts.filter((p) => p.network === network);
  return kinds.flatMap((kind) => {
    const ofKind = mine.filter((p) => p.kind === kind);
    if (kind !== 'thread') return ofKind.filter((p) => p.valid).map((p) => [p]);
    if (ofKind.length === 0 || ofKind.some((p) => !p.valid)) return [];
    return [[...ofKind].sort((a, b) => (a.part?.index ?? 0) - (b.part?.index ?? 0))];
  });
}

export interface ArticlePlanInput<N extends Network> {
  articleId: string;
  title: string;
  /** The article's composed posts, every network's (StoredSocial.networks). */
  posts: readonly NetworkPost[];
  /** The networks to plan for. */
  networks: readonly N[];
  /** When the plan is made: the headline goes then, or at the window's next opening. */
  now: Date;
}

/**
 * The plan of an article's posts on each network: the kinds of POST_KINDS in that order, the
 * headline at `now` (or the window's next opening), each next one POST_SPACING_MINUTES after the
 * one before, moved on to the next opening when that falls outside POST_WINDOW (in TZ).
 */
export function planArticlePosts<N extends Network>(input: ArticlePlanInput<N>, config: PlanConfig): PlannedPost<N>[] {
  const window = parseWindow(config.POST_WINDOW);
  return input.networks.flatMap((network) => {
    const groups = postGroups(input.posts, network, config.POST_KINDS);
    const times = planTimes(input.now, groups.length, config.POST_SPACING_MINUTES * 60_000, window, config.TZ);
    const seen = new Map<PostKind, number>();
    return groups.map((parts, i): PlannedPost<N> => {
      const kind = (parts[0] as NetworkPost).kind;
      const index = seen.get(kind) ?? 0;
      seen.set(kind, index + 1);
      return {
        id: postPlanId(network, input.articleId, kind, index),
        network,
        kind,
        articleId: input.articleId,
        title: input.title,
        parts,
        at: (times[i] as Date).toISOString(),
      };
    });
  });
}

/** The week's newsletter invitation on one network, at `now` or the window's next opening. */
export function planInvitation<N extends Network>(
  input: { week: string; title: string; post: NetworkPost; network: N; now: Date },
  config: Pick<PlanConfig, 'POST_WINDOW' | 'TZ'>,
): PlannedPost<N> {
  return {
    id: postPlanId(input.network, input.week, 'newsletterCta', 0),
    network: input.network,
    kind: 'newsletterCta',
    week: input.week,
    title: input.title,
    parts: [input.post],
    at: nextInWindow(input.now, parseWindow(config.POST_WINDOW), config.TZ).toISOString(),
  };
}
