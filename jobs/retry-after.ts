import { DelayedError, type Job } from 'bullmq';
import { FetchStatusError } from '../io/fetch-url.js';

/** Longest Retry-After honoured: a server asking for more gets its job back after this. */
const MAX_RETRY_AFTER_MS = 60 * 60_000;

/**
 * When a job failed on a transient answer that says when to come back (429 or 503 with
 * Retry-After), moves the job to the delayed set until then and returns the DelayedError the
 * processor must throw. Returns undefined for every other failure (backoff applies) and once the
 * job has been started as many times as it may be attempted, so a server that always asks for
 * more time cannot keep a job forever: the usual retries take over.
 */
export async function delayForRetryAfter(
  job: Job,
  token: string | undefined,
  error: unknown,
  now = Date.now(),
): Promise<DelayedError | undefined> {
  if (!(error instanceof FetchStatusError) || !error.transient || error.retryAfterMs === undefined) return undefined;
  if (!token || job.attemptsStarted >= (job.opts.attempts ?? 1)) return undefined;
  await job.moveToDelayed(now + Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS), token);
  return new DelayedError(`${error.code}: ${error.message}`);
}
