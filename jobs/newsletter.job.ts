import type { Job } from 'bullmq';
import type { IssueEdits } from '../io/issue-edits.js';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { type BuildResult, buildWeekIssue } from './build-week-issue.js';
import type { Context } from './context.js';
import { CpuPoolClosedError } from './cpu-pool.js';
import type { CpuRunner } from './cpu-tasks.js';
import { failsForGood, parsePayload } from './job-error.js';
import { newsletterPayload } from './queues.js';
import { afterEditBuild, afterWeeklyBuild, type LoopLog, type LoopStep, weeklyBuildFailed } from './weekly-loop.js';

export interface NewsletterJobDeps {
  store: Store;
  config: Config;
  templatesDir: string;
  now: () => Date;
  cpu: CpuRunner;
  /** The editors' curation of each week, applied on every build. @defaultValue none applied */
  edits?: Pick<IssueEdits, 'get'>;
  /**
   * The weekly loop's context (the worker's store, queues and Redis): with it the scheduled build
   * goes on to the proof and the timed send, and an edit's rebuild re-sends the proof. Without it
   * a job only builds.
   */
  loop?: { ctx: Context; log: LoopLog };
}

/** A build and, for the scheduled one, what the weekly loop did after it. */
export type NewsletterResult = BuildResult & { loop?: LoopStep; proofAgain?: boolean };

/**
 * newsletter: builds and renders a week's issue from the store and stores it, replacing an
 * earlier build unless that issue was already sent. Templates are read per job, so an edit
 * applies to the next build without a restart; the build records their fingerprint (this
 * worker's templates, which may differ from another machine's). The render runs on `cpu` (a
 * worker thread).
 *
 * The scheduler's job (no `week`) runs the weekly loop after its build (see `afterWeeklyBuild`),
 * and a build of it that fails for good is told to the editors. A rebuild after an edit (`edit`)
 * sends the proof again when it changed a scheduled or approved issue.
 *
 * A failed build always fails with a code: bad input and unexpected errors in the render fail
 * for good (their own code, or E_INTERNAL); a store (Redis) error is E_REDIS_UNAVAILABLE, retried.
 */
export function newsletterJob(deps: NewsletterJobDeps) {
  return async (job: Job): Promise<NewsletterResult> => {
    const payload = parsePayload(newsletterPayload, job.data, 'newsletter');
    // A scheduled job builds the week of its slot, even when a worker picks it up late. The slot
    // is `prevMillis`: BullMQ stamps a scheduler's next job (`timestamp`) when it adds it, as the
    // one before is taken, a whole period earlier (last week, for a weekly cron).
    const scheduled = payload.week === undefined;
    const slot = Number(job.opts?.prevMillis ?? job.timestamp);
    const week = payload.week ?? isoWeekOf(new Date(slot), deps.config.TZ);
    const { loop } = deps;
    const before = loop && payload.edit ? await deps.store.getIssue(week) : null;
    const now = deps.now();
    let result: BuildResult;
    try {
      result = await buildWeekIssue(deps, week, now);
    } catch (error) {
      if (error instanceof CpuPoolClosedError) throw error;
      // buildWeekIssue codes every failure of its render and templates: what is left is the store's.
      const coded = isDispatchError(error)
        ? error
        : new DispatchError('E_REDIS_UNAVAILABLE', `building the ${week} issue: ${(error as Error).message}`, {
            cause: error,
            transient: true,
          });
      if (loop && scheduled && failsForGood(coded, job)) {
        // Told as well as can be: without Redis the notice cannot be queued, and the job's own failure stands.
        await weeklyBuildFailed(loop.ctx, week, coded, now, loop.log).catch((notice: Error) =>
          loop.log.warn({ week, err: notice.message }, 'the failed build could not be recorded'),
        );
      }
      throw coded;
    }
    if (!loop) return result;
    if (scheduled) return { ...result, loop: await afterWeeklyBuild(loop.ctx, week, result, now, loop.log) };
    if (payload.edit) return { ...result, proofAgain: await afterEditBuild(loop.ctx, week, before, result, now) };
    return result;
  };
}
