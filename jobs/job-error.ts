import { type Job, UnrecoverableError } from 'bullmq';
import type { z } from 'zod';
import { DispatchError, isDispatchError } from '../src/errors.js';
import { zodProblems } from '../src/zod-problems.js';

/**
 * The retry decision, made here and only here: bad input (a DispatchError) fails the job for
 * good, with its code first in the failure reason; transient failures (a DispatchError marked so,
 * such as an SMTP 4xx, and anything else: Redis, network) are rethrown for BullMQ to retry with backoff.
 */
export function toJobError(error: unknown): Error {
  if (isDispatchError(error)) {
    const message = `${error.code}: ${error.message}`;
    return error.transient ? new Error(message, { cause: error }) : new UnrecoverableError(message);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Whether `error` fails its job for good, whatever tries are left: the rule of {@link toJobError}. */
export function isPermanent(error: unknown): boolean {
  return toJobError(error) instanceof UnrecoverableError;
}

/** Whether the try of `job` now running is its last attempt. */
export function isLastAttempt(job: Pick<Job, 'attemptsMade' | 'opts'>): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** Whether this try of `job` fails it for good: its error will not pass by itself, or no attempt is left. */
export function failsForGood(error: unknown, job: Pick<Job, 'attemptsMade' | 'opts'>): boolean {
  return isPermanent(error) || isLastAttempt(job);
}

/** Parses a job's data with its queue's schema; bad data is E_JOB_PAYLOAD, not retried. */
export function parsePayload<T>(schema: z.ZodType<T>, data: unknown, queue: string): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new DispatchError('E_JOB_PAYLOAD', `${queue} job: ${zodProblems(result.error, 'data').join('; ')}`);
}
