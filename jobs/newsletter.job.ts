import type { Job } from 'bullmq';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { type BuildResult, buildWeekIssue } from './build-week-issue.js';
import { CpuPoolClosedError } from './cpu-pool.js';
import type { CpuRunner } from './cpu-tasks.js';
import { parsePayload } from './job-error.js';
import { newsletterPayload } from './queues.js';

/**
 * newsletter: builds and renders a week's issue from the store and stores it, replacing an
 * earlier build unless that issue was already sent. Templates are read per job, so an edit
 * applies to the next build without a restart; the build records their fingerprint (this
 * worker's templates, which may differ from another machine's). The render runs on `cpu` (a
 * worker thread).
 *
 * A failed build always fails with a code: bad input and unexpected errors in the render fail
 * for good (their own code, or E_INTERNAL); a store (Redis) error is E_REDIS_UNAVAILABLE, retried.
 */
export function newsletterJob(deps: {
  store: Store;
  config: Config;
  templatesDir: string;
  now: () => Date;
  cpu: CpuRunner;
}) {
  return async (job: Job): Promise<BuildResult> => {
    const payload = parsePayload(newsletterPayload, job.data, 'newsletter');
    // A scheduled job builds the week it was scheduled in, even when a worker picks it up late.
    const week = payload.week ?? isoWeekOf(new Date(job.timestamp), deps.config.TZ);
    try {
      return await buildWeekIssue(deps, week, deps.now());
    } catch (error) {
      if (isDispatchError(error) || error instanceof CpuPoolClosedError) throw error;
      // buildWeekIssue codes every failure of its render and templates: what is left is the store's.
      throw new DispatchError('E_REDIS_UNAVAILABLE', `building the ${week} issue: ${(error as Error).message}`, {
        cause: error,
        transient: true,
      });
    }
  };
}
