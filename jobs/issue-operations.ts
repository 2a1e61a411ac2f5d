import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSampleRecipient } from '../io/sample-recipient.js';
import { DispatchError, ERROR_CODES, type ErrorCode } from '../src/errors.js';
import { normalizeAddress } from '../src/subscribers/normalize-address.js';
import type { Context } from './context.js';

/** How long a command waits for a queued build or test send. */
export const WAIT_MS = 60_000;

/**
 * The addresses of a test send, each checked, repeats dropped: at most `max`
 * (TEST_SEND_MAX_RECIPIENTS), since a test send goes to addresses that are on no list.
 */
export function parseAddresses(list: string, max = Number.POSITIVE_INFINITY): string[] {
  const addresses = [
    ...new Set(
      list
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    ),
  ];
  if (addresses.length === 0) throw new DispatchError('E_INPUT_FORMAT', '--to needs at least one address');
  if (addresses.length > max) {
    throw new DispatchError(
      'E_TOO_MANY_RECIPIENTS',
      `a test send takes at most ${max} addresses (TEST_SEND_MAX_RECIPIENTS); got ${addresses.length}`,
    );
  }
  return addresses.map((address) => {
    const normalized = normalizeAddress(address);
    if (!normalized) throw new DispatchError('E_INPUT_FORMAT', `not an email address: "${address.slice(0, 80)}"`);
    return normalized;
  });
}

/** How long a newsletter job may wait unclaimed before send-test says no worker is there. */
const NO_WORKER_MS = 3_000;

async function hasWorker(ctx: Context): Promise<boolean> {
  return (await ctx.queues.newsletter.getWorkersCount().catch(() => 1)) > 0;
}

/** The week's stored issue, building it first (here, or through the queue) when there is none. */
export async function ensureIssue(ctx: Context, week: string, direct: boolean, templatesDir: string) {
  const existing = await ctx.store.getIssue(week);
  if (existing) return existing;
  if (direct) {
    // Loaded only here: `status` and `send --pause` import this module and never build (MJML).
    const { buildWeekIssue } = await import('./build-week-issue.js');
    const result = await buildWeekIssue({ store: ctx.store, config: ctx.config, templatesDir }, week, new Date());
    if (result.status === 'empty') throw new DispatchError('E_ISSUE_EMPTY', `no articles were published in ${week}`);
  } else {
    const job = await ctx.queues.newsletter.add('newsletter', { week });
    const started = Date.now();
    const deadline = started + WAIT_MS;
    let state = 'waiting';
    while (Date.now() < deadline && !(await ctx.store.getIssue(week))) {
      // The state first, then the job (see queueTestSends' wait below).
      state = await ctx.queues.newsletter.getJobState(job.id as string);
      const current = await ctx.queues.newsletter.getJob(job.id as string);
      if (state === 'completed' && current?.returnvalue?.status === 'empty') {
        throw new DispatchError('E_ISSUE_EMPTY', `no articles were published in ${week}`);
      }
      // The build's own failure, with its code: bad input is not the worker's fault.
      if (state === 'failed') throw failure(current?.failedReason ?? 'failed', 'E_INTERNAL', `building ${week}: `);
      if (state === 'waiting' && Date.now() > started + NO_WORKER_MS && !(await hasWorker(ctx))) break;
      await sleep(100);
    }
    const stored = await ctx.store.getIssue(week);
    if (stored) return stored;
    throw new DispatchError(
      'E_NOT_FOUND',
      !(await hasWorker(ctx))
        ? `the ${week} issue was not built: no worker serves the newsletter queue (npx dispatch worker, or --direct)`
        : `the ${week} issue was not built within ${WAIT_MS / 1000} s (its job is ${state}; npx dispatch status)`,
    );
  }
  const stored = await ctx.store.getIssue(week);
  if (!stored) throw new DispatchError('E_NOT_FOUND', `the ${week} issue was not built`);
  return stored;
}

/** Reads "E_CODE: message" back out of a failed job's reason; a reason without a known code gets `fallback`. */
export function failure(reason: string, fallback: ErrorCode, context = ''): DispatchError {
  const match = /^(E_[A-Z_]+): (.*)$/s.exec(reason);
  const code = match?.[1] && match[1] in ERROR_CODES ? (match[1] as ErrorCode) : fallback;
  return new DispatchError(code, `${context}${match?.[2] ?? reason}`);
}

/**
 * Queues one test message per address (what the CLI and the preview's form both do) and returns
 * the jobs and the subject suffix.
 */
export async function queueTestSends(ctx: Context, week: string, addresses: string[], templatesDir: string) {
  parseAddresses(addresses.join(','), ctx.config.TEST_SEND_MAX_RECIPIENTS);
  const sample = loadSampleRecipient(templatesDir);
  const suffix = randomBytes(2).toString('hex');
  const jobs = await ctx.queues.send.addBulk(
    addresses.map((to, i) => ({
      name: 'send',
      data: {
        week,
        to,
        firstName: sample.firstName ?? undefined,
        token: `${week}.test.${randomBytes(8).toString('hex')}`,
        testSuffix: suffix,
      },
      opts: { jobId: `test-${week}-${suffix}-${i}` },
    })),
  );
  return { jobs, suffix };
}
