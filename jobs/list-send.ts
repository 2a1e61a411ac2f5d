import { templatesDirOf } from '../io/paths.js';
import { createSendLedger, type SendLedger, type SendRecord } from '../io/send-ledger.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { DispatchError } from '../src/errors.js';
import { defaultSecretProblem } from '../src/links/default-secret-problem.js';
import type { Context } from './context.js';
import type { CpuRunner } from './cpu-tasks.js';
import { ensureIssue } from './issue-operations.js';
import { planNewsletterInvitation } from './plan-posts.js';
import type { BatchPayload } from './queues.js';

/** Recipients per batch job. */
export const BATCH_SIZE = 100;

/**
 * Batch jobs looked at and added per round trip. Small enough that a start cut off half-way has
 * kept most of what it queued, large enough that 1,000 batches take 20 round trips.
 */
export const QUEUE_CHUNK = 50;

/** The job id of one batch of a week's list send: the same on every try, so adding it twice adds it once. */
export function batchJobId(week: string, batch: number): string {
  return `batch-${week}-${batch}`;
}

/** What one pass over a send's batches found and did. */
export interface Requeued {
  /** Batches with no job (never queued, or lost): added. */
  added: number;
  /** Batches whose job had failed for good (or completed without finishing the batch): retried. */
  retried: number;
  /** Batches whose job was delayed (paused, or backing off) while the send is not paused: promoted. */
  promoted: number;
  /** Batches whose job is waiting or active (or delayed while the send is paused): left as they are. */
  queued: number;
  /** Batches the ledger records as done. */
  done: number;
}

/**
 * What {@link startListSend} or {@link resumeSend} did, and the send as it stands after.
 * `started`: this call snapshotted the list and queued it; `resumed`: the send existed unfinished,
 * and every batch not done was queued again; `done`: the send had finished, nothing was sent.
 */
export type ListSendReport =
  | { week: string; outcome: 'started' | 'resumed'; record: SendRecord; requeued: Requeued }
  | { week: string; outcome: 'done'; record: SendRecord; requeued: null }
  /** Only with `keepPaused`: the send exists and an operator (or the send itself) paused it. */
  | { week: string; outcome: 'paused'; record: SendRecord; requeued: null };

type ResumedReport = Extract<ListSendReport, { outcome: 'started' | 'resumed' }>;

export interface StartListSendOptions {
  week: string;
  /** Messages per second across all workers; 0 for no limit. Only a new send takes it. */
  rate: number;
  now: Date;
  /** Where a build the send needs first runs (the worker's thread pool). @defaultValue this thread */
  cpu?: CpuRunner;
  /**
   * A send that exists and is paused stays paused (outcome `paused`): what the weekly loop's
   * approval and timed send ask, as only `dispatch send --resume` (or `dispatch send`) resumes.
   */
  keepPaused?: boolean;
}

async function recordOf(ledger: SendLedger, week: string): Promise<SendRecord> {
  const record = await ledger.get(week);
  if (!record) throw new DispatchError('E_NOT_FOUND', `no send of ${week}`);
  return record;
}

/**
 * Makes sure every batch of the send that is not done has a job that will run: no job -> added,
 * failed -> retried, delayed while the send is not paused -> promoted, waiting or active -> left.
 * Job ids are the batches' own, so running it again (or beside another run) adds nothing twice; and
 * a batch runs its recipients through the ledger, so running one again sends nobody twice.
 */
async function queueUnfinishedBatches(ctx: Context, ledger: SendLedger, week: string): Promise<Requeued> {
  const { batches, batchSize, status } = await recordOf(ledger, week);
  const queue = ctx.queues.send;
  const paused = status === 'paused';
  const counts: Requeued = { added: 0, retried: 0, promoted: 0, queued: 0, done: 0 };
  for (let first = 0; first < batches; first += QUEUE_CHUNK) {
    const chunk = Array.from({ length: Math.min(QUEUE_CHUNK, batches - first) }, (_, i) => first + i);
    // The jobs' states before the done set: a batch is marked done before its job completes (and
    // long before it is trimmed), so a job seen completed or gone here is in the set read after.
    const states = await Promise.all(chunk.map((batch) => queue.getJobState(batchJobId(week, batch))));
    const done = await ledger.doneBatches(week);
    const missing: number[] = [];
    await Promise.all(
      chunk.map(async (batch, i) => {
        const state = states[i];
        if (done.has(batch)) {
          counts.done++;
          return;
        }
        if (state === 'unknown') {
          missing.push(batch);
          return;
        }
        const action =
          state === 'failed' || state === 'completed' ? 'retried' : state === 'delayed' && !paused ? 'promoted' : null;
        if (!action) {
          counts.queued++;
          return;
        }
        const id = batchJobId(week, batch);
        const job = await queue.getJob(id);
        if (!job) {
          missing.push(batch);
          return;
        }
        try {
          // A retried batch gets its attempts back: it failed for good once, and the cause may be fixed.
          if (action === 'retried')
            await job.retry(state === 'completed' ? 'completed' : 'failed', {
              resetAttemptsMade: true,
              resetAttemptsStarted: true,
            });
          else await job.promote();
          counts[action]++;
        } catch (error) {
          // Moved on meanwhile (a delay ran out, another run retried it): it will run; anything else is a failure.
          if ((await queue.getJobState(id)) === state) throw error;
          counts.queued++;
        }
      }),
    );
    if (missing.length > 0) {
      await queue.addBulk(
        missing
          .sort((a, b) => a - b)
          .map((batch) => ({
            name: 'batch',
            data: { week, batch, batchSize } satisfies BatchPayload,
            opts: { jobId: batchJobId(week, batch) },
          })),
      );
      counts.added += missing.length;
    }
  }
  // Every batch done but the send not: the last batch's job stopped between recording itself and
  // closing the send. Recording a done batch again is a no-op that closes the send.
  if (batches > 0 && counts.done === batches && (await ledger.status(week)) !== 'done') {
    await ledger.batchDone(week, batches - 1, new Date());
  }
  return counts;
}

/**
 * An unfinished send made to go on: status `sending` again, every batch not done queued again.
 * `unlessPaused`: a paused send is left paused (null), in the same script that would resume it.
 */
async function resume(
  ctx: Context,
  ledger: SendLedger,
  week: string,
  unlessPaused = false,
): Promise<ResumedReport | null> {
  if (!(await ledger.setStatus(week, 'sending', { unlessPaused }))) return null;
  const requeued = await queueUnfinishedBatches(ctx, ledger, week);
  return { week, outcome: 'resumed', record: await recordOf(ledger, week), requeued };
}

/**
 * Starts the week's list send, or finishes it: the issue built if needed, the active subscribers
 * snapshotted into the send ledger, the issue frozen, and one job per batch queued. A send that
 * already exists and is not done (a start cut off half-way, a paused send) is resumed: frozen again
 * and every batch not done queued again. A done send is reported and nothing is sent. Refuses with
 * E_SECRET_DEFAULT when the links could be forged.
 */
export async function startListSend(
  ctx: Context,
  { week, rate, now, cpu, keepPaused = false }: StartListSendOptions,
): Promise<ListSendReport> {
  const { config } = ctx;
  // Links signed with the public default secret can be forged by anyone: no list send with it.
  const problem = defaultSecretProblem(config);
  if (problem) throw new DispatchError('E_SECRET_DEFAULT', problem);
  const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
  const templatesDir = templatesDirOf(config);
  let existing = await ledger.get(week);
  if (!existing) {
    await ensureIssue(ctx, week, true, templatesDir, { cpu });
    const emails = await createSubscriberStore(ctx.redis, config.REDIS_PREFIX).activeEmails();
    if (await ledger.start(week, emails, { batchSize: BATCH_SIZE, rate, now })) {
      // From now on the stored issue is what goes out: a rebuild must not change it mid-send.
      await ctx.store.markIssueSent(week, now);
      const requeued = await queueUnfinishedBatches(ctx, ledger, week);
      await planNewsletterInvitation(ctx, week, now);
      return { week, outcome: 'started', record: await recordOf(ledger, week), requeued };
    }
    // Another run started it meanwhile: finishing it is the same work, and adds nothing twice.
    existing = await recordOf(ledger, week);
  }
  if (existing.status === 'done') return { week, outcome: 'done', record: existing, requeued: null };
  if (keepPaused && existing.status === 'paused') return { week, outcome: 'paused', record: existing, requeued: null };
  // A start cut off before the freeze left the issue unfrozen (and unsent: no batch was queued yet).
  await ensureIssue(ctx, week, true, templatesDir, { cpu });
  await ctx.store.markIssueSent(week, new Date(existing.createdAt));
  const resumed = await resume(ctx, ledger, week, keepPaused);
  if (resumed) {
    // A start cut off before it planned the week's invitation plans it now (once: its id is the week's).
    await planNewsletterInvitation(ctx, week, now);
    return resumed;
  }
  // Not resumed: it finished meanwhile, or (keepPaused) was paused meanwhile.
  const record = await recordOf(ledger, week);
  return record.status === 'paused'
    ? { week, outcome: 'paused', record, requeued: null }
    : { week, outcome: 'done', record, requeued: null };
}

/** `--resume`: the send goes on from where it is, every batch not done queued again (or promoted from its pause). */
export async function resumeSend(ctx: Context, week: string): Promise<ResumedReport> {
  const report = await resume(ctx, createSendLedger(ctx.redis, ctx.config.REDIS_PREFIX), week);
  if (!report) throw new DispatchError('E_NOT_FOUND', `no send of ${week} in progress`);
  return report;
}

/** `--pause`: every batch holds where it is (between messages) until the send is resumed. */
export async function pauseSend(ctx: Context, week: string): Promise<SendRecord> {
  const ledger = createSendLedger(ctx.redis, ctx.config.REDIS_PREFIX);
  if (!(await ledger.setStatus(week, 'paused')))
    throw new DispatchError('E_NOT_FOUND', `no send of ${week} in progress`);
  return await recordOf(ledger, week);
}
