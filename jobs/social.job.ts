import type { Job } from 'bullmq';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { DispatchError } from '../src/errors.js';
import type { CpuRunner } from './cpu-tasks.js';
import { parsePayload } from './job-error.js';
import { type PlanDeps, planArticle } from './plan-posts.js';
import { socialPayload } from './queues.js';

export interface SocialJobDeps {
  store: Store;
  config: Config;
  now: () => Date;
  cpu: CpuRunner;
  /** The Mastodon instance's character limit (MASTODON_URL). @defaultValue 500, Mastodon's own */
  mastodonLimit?: () => Promise<number | undefined>;
  /** Where the stored posts are planned for posting (jobs/plan-posts.ts). @defaultValue not planned */
  planning?: PlanDeps;
}

/**
 * social: summarize a stored article, compose its posts for every network, and plan them on the
 * networks posted to (SOCIAL_POSTING); running it again rewrites the same posts and plans nothing
 * new. The summary and posts are computed on `cpu` (a worker thread, within JOB_TIMEOUT_MS).
 */
export function socialJob(deps: SocialJobDeps) {
  return async (job: Job): Promise<{ articleId: string; posts: number; valid: boolean; planned: number }> => {
    const { articleId } = parsePayload(socialPayload, job.data, 'social');
    const article = await deps.store.getArticle(articleId);
    if (!article) throw new DispatchError('E_NOT_FOUND', `no stored article ${articleId}`);
    const mastodonLimit = await deps.mastodonLimit?.();
    const { summary, posts, networks } = await deps.cpu.run(
      'composeSocial',
      [article, deps.config, { mastodonLimit }],
      {
        what: `summarizing article ${articleId}`,
      },
    );
    const now = deps.now();
    await deps.store.saveSocial(articleId, { summary, posts, networks, composedAt: now.toISOString() });
    const planned = deps.planning ? await planArticle(deps.planning, article, { networks }, now) : [];
    return { articleId, posts: posts.length, valid: posts.every((p) => p.valid), planned: planned.length };
  };
}
