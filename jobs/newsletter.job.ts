import type { Job } from 'bullmq';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { type BuildResult, buildWeekIssue } from './build-week-issue.js';
import { parsePayload } from './job-error.js';
import { newsletterPayload } from './queues.js';

/**
 * newsletter: builds and renders a week's issue from the store and stores it, replacing an
 * earlier build unless that issue was already sent. Templates are read per job, so an edit
 * applies to the next build without a restart.
 */
export function newsletterJob(deps: { store: Store; config: Config; templatesDir: string; now: () => Date }) {
  return async (job: Job): Promise<BuildResult> => {
    const payload = parsePayload(newsletterPayload, job.data, 'newsletter');
    // A scheduled job builds the week it was scheduled in, even when a worker picks it up late.
    const week = payload.week ?? isoWeekOf(new Date(job.timestamp), deps.config.TZ);
    return await buildWeekIssue(deps, week, deps.now());
  };
}
