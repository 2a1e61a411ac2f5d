import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createIssueEdits } from '../io/issue-edits.js';
import { templatesFingerprint } from '../io/load-templates.js';
import { loadSampleRecipient } from '../io/sample-recipient.js';
import type { StoredIssue } from '../io/store.js';
import { DispatchError, ERROR_CODES, type ErrorCode } from '../src/errors.js';
import { normalizeAddress } from '../src/subscribers/normalize-address.js';
import type { Context } from './context.js';
import type { CpuRunner } from './cpu-tasks.js';

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

/**
 * Whether a stored issue goes out (and shows) as it is: it was sent (frozen, never rebuilt), or it
 * was built with the templates whose fingerprint is `fingerprint` (null: they cannot be read) and
 * applied the editors' curation at `curationRevision` (io/issue-edits.ts; 0: never edited). An
 * unsent build with other templates or another revision, or one from before builds recorded its
 * templates, is out of date.
 */
export function isUpToDate(stored: StoredIssue, fingerprint: string | null, curationRevision = 0): boolean {
  return (
    stored.sentAt !== undefined ||
    (fingerprint !== null && stored.templates === fingerprint && (stored.curation ?? 0) === curationRevision)
  );
}

/**
 * The week's stored issue as it goes out: the stored one when it is sent, or was built with the
 * templates in `templatesDir` now and the editors' latest curation; otherwise (none stored, or
 * unsent and built with other templates or an older edit) built first, here (`direct`, on
 * `options.cpu` when given, else on this thread) or through the newsletter queue, and the new
 * build returned. What test sends, the preview's send form and the list send all call, so what
 * they send is what the preview shows after its own rebuild.
 */
export async function ensureIssue(
  ctx: Context,
  week: string,
  direct: boolean,
  templatesDir: string,
  options: { cpu?: CpuRunner } = {},
): Promise<StoredIssue> {
  const existing = await ctx.store.getIssue(week);
  if (existing?.sentAt) return existing;
  const edits = createIssueEdits(ctx.redis, ctx.config.REDIS_PREFIX);
  // Unreadable templates count as changed: the rebuild then reports why, with its file.
  const [fingerprint, curation] = await Promise.all([
    templatesFingerprint(templatesDir).catch(() => null),
    edits.get(week),
  ]);
  if (existing && isUpToDate(existing, fingerprint, curation.revision)) return existing;
  if (direct) {
    // Loaded only here: `status` and `send --pause` import this module and never build (MJML).
    const { buildWeekIssue } = await import('./build-week-issue.js');
    const deps = { store: ctx.store, config: ctx.config, templatesDir, edits, cpu: options.cpu };
    const result = await buildWeekIssue(deps, week, new Date());
    if (result.status === 'empty')
      throw new DispatchError(
        'E_ISSUE_EMPTY',
        `the ${week} issue has no stories (none were published that week, or an edit dropped every one)`,
      );
    // 'already-sent': a list send froze it meanwhile; the frozen issue is what goes out.
    const stored = await ctx.store.getIssue(week);
    if (!stored) throw new DispatchError('E_NOT_FOUND', `the ${week} issue was not built`);
    return stored;
  }
  return await (await queueBuild(ctx, week, existing)).built();
}

/** Adds a build of the week to the newsletter queue; `built` waits for it to replace `stale`. */
async function queueBuild(ctx: Context, week: string, stale: StoredIssue | null) {
  const job = await ctx.queues.newsletter.add('newsletter', { week });
  return { stale, built: (signal?: AbortSignal) => waitForBuild(ctx, week, job.id as string, stale, signal) };
}

/**
 * Queues a build of the week's issue on the newsletter queue (a worker builds it with its own
 * templates), unless it was sent: then null and nothing is queued, as a sent issue is frozen.
 * `built` waits for the new build (see {@link waitForBuild}); `stale` is the build it replaces.
 */
export async function queueRebuild(
  ctx: Context,
  week: string,
): Promise<{ stale: StoredIssue | null; built(signal?: AbortSignal): Promise<StoredIssue> } | null> {
  const stale = await ctx.store.getIssue(week);
  if (stale?.sentAt) return null;
  return await queueBuild(ctx, week, stale);
}

/** Whether `stored` was built after `stale`, by the clock of whoever built each. */
function builtAfter(stored: StoredIssue, stale: StoredIssue | null): boolean {
  return stale === null || Date.parse(stored.builtAt) > Date.parse(stale.builtAt);
}

/**
 * Waits (at most WAIT_MS) until the newsletter job `jobId` has stored a build newer than `stale`
 * and returns it. Newer by builtAt, not by fingerprint: a worker on another machine may build with
 * other templates than this one's. Also done when the job completed (a worker's clock may be behind)
 * or the issue got sent meanwhile (frozen: that is what goes out). The job's own failure is thrown
 * with its code; without a worker on the newsletter queue it says so within seconds.
 */
export async function waitForBuild(
  ctx: Context,
  week: string,
  jobId: string,
  stale: StoredIssue | null,
  signal?: AbortSignal,
): Promise<StoredIssue> {
  const started = Date.now();
  const deadline = started + WAIT_MS;
  let state = 'waiting';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const stored = await ctx.store.getIssue(week);
    if (stored && (stored.sentAt || builtAfter(stored, stale))) return stored;
    // The state first, then the job: a job read first may complete before its state is asked, and
    // would then be "completed" without its return value.
    state = await ctx.queues.newsletter.getJobState(jobId);
    const current = await ctx.queues.newsletter.getJob(jobId);
    if (state === 'completed') {
      if (current?.returnvalue?.status === 'empty') {
        throw new DispatchError(
          'E_ISSUE_EMPTY',
          `the ${week} issue has no stories (none were published that week, or an edit dropped every one)`,
        );
      }
      const built = await ctx.store.getIssue(week);
      if (built) return built;
    }
    // The build's own failure, with its code: bad input is not the worker's fault.
    if (state === 'failed') throw failure(current?.failedReason ?? 'failed', 'E_INTERNAL', `building ${week}: `);
    if (state === 'waiting' && Date.now() > started + NO_WORKER_MS && !(await hasWorker(ctx))) break;
    await sleep(100, undefined, { signal });
  }
  throw new DispatchError(
    'E_NOT_FOUND',
    !(await hasWorker(ctx))
      ? `the ${week} issue was not built: no worker serves the newsletter queue (npx dispatch worker, or --direct)`
      : `the ${week} issue was not built within ${WAIT_MS / 1000} s (its job is ${state}; npx dispatch status)`,
  );
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
