import type { Job } from 'bullmq';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { DispatchError } from '../src/errors.js';
import type { CpuRunner } from './cpu-tasks.js';
import { parsePayload } from './job-error.js';
import { socialPayload } from './queues.js';

/**
 * social: summarize a stored article and compose its posts; running it again rewrites the same
 * result. The summary and posts are computed on `cpu` (a worker thread, within JOB_TIMEOUT_MS).
 */
export function socialJob(deps: { store: Store; config: Config; now: () => Date; cpu: CpuRunner }) {
  return async (job: Job): Promise<{ articleId: string; posts: number; valid: boolean }> => {
    const { articleId } = parsePayload(socialPayload, job.data, 'social');
    const article = await deps.store.getArticle(articleId);
    if (!article) throw new DispatchError('E_NOT_FOUND', `no stored article ${articleId}`);
    const { summary, posts } = await deps.cpu.run('composeSocial', [article, deps.config], {
      what: `summarizing article ${articleId}`,
    });
    await deps.store.saveSocial(articleId, { summary, posts, composedAt: deps.now().toISOString() });
    return { articleId, posts: posts.length, valid: posts.every((p) => p.valid) };
  };
}
