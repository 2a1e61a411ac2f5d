import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from '../../io/paths.js';
import { createSendLedger, type SendRecord } from '../../io/send-ledger.js';
import { createSubscriberStore } from '../../io/subscriber-store.js';
import { describeSend } from '../../jobs/describe-send.js';
import { ensureIssue } from '../../jobs/issue-operations.js';
import { DispatchError } from '../../src/errors.js';
import { defaultSecretProblem } from '../../src/links/default-secret-problem.js';
import { isoWeekOf, parseIsoWeek } from '../../src/newsletter/iso-week.js';
import { openContext } from '../context.js';
import { progressBar } from '../progress-bar.js';

export interface SendOptions {
  week?: string;
  rate?: string;
  pause?: string;
  resume?: string;
  wait?: boolean;
}

/** Recipients per batch job. */
export const BATCH_SIZE = 100;

/** `dispatch send`: the week's issue to every active subscriber, in batches through the queue. */
export async function sendCommand(options: SendOptions): Promise<void> {
  const ctx = await openContext();
  try {
    const { config } = ctx;
    const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
    for (const [flag, status] of [
      [options.pause, 'paused'],
      [options.resume, 'sending'],
    ] as const) {
      if (!flag) continue;
      parseIsoWeek(flag);
      if (!(await ledger.setStatus(flag, status)))
        throw new DispatchError('E_NOT_FOUND', `no send of ${flag} in progress`);
      process.stdout.write(`${flag}: ${status === 'paused' ? 'paused' : 'resumed'}\n`);
      return;
    }
    // Links signed with the public default secret can be forged by anyone: no list send with it.
    const problem = defaultSecretProblem(config);
    if (problem) throw new DispatchError('E_SECRET_DEFAULT', problem);
    const week = options.week ?? isoWeekOf(new Date(), config.TZ);
    parseIsoWeek(week);
    const rate = options.rate ? Number(options.rate.replace(/\/s$/, '')) : 0;
    if (!Number.isFinite(rate) || rate < 0)
      throw new DispatchError(
        'E_INPUT_FORMAT',
        `--rate must be messages per second, e.g. 50/s (got "${options.rate}")`,
      );
    const existing = await ledger.get(week);
    if (existing) {
      process.stdout.write(`already started, nothing new sent: ${describeSend(existing)}\n`);
      return;
    }
    await ensureIssue(ctx, week, true, config.TEMPLATES_DIR ?? join(PROJECT_ROOT, 'templates'));
    const emails = await createSubscriberStore(ctx.redis, config.REDIS_PREFIX).activeEmails();
    const now = new Date();
    if (!(await ledger.start(week, emails, { batchSize: BATCH_SIZE, rate, now }))) {
      process.stdout.write(
        `already started by someone else: ${describeSend((await ledger.get(week)) as SendRecord)}\n`,
      );
      return;
    }
    // From now on the stored issue is what goes out: a rebuild must not change it mid-send.
    await ctx.store.markIssueSent(week, now);
    const batches = Math.ceil(emails.length / BATCH_SIZE);
    for (let i = 0; i < batches; i += 500) {
      const chunk = Array.from({ length: Math.min(500, batches - i) }, (_, j) => i + j);
      await ctx.queues.send.addBulk(
        chunk.map((batch) => ({
          name: 'batch',
          data: { week, batch, batchSize: BATCH_SIZE },
          opts: { jobId: `batch-${week}-${batch}` },
        })),
      );
    }
    process.stdout.write(
      `${week}: queued ${emails.length} recipient(s) in ${batches} batch(es)${rate ? ` at ${rate}/s` : ''}\n`,
    );
    if (!options.wait && !process.stdout.isTTY) {
      process.stdout.write('follow it with: npx dispatch status\n');
      return;
    }
    const bar = progressBar('send', process.stdout);
    for (;;) {
      const record = (await ledger.get(week)) as SendRecord;
      bar.update(record.sent + record.failed + record.skipped, record.total);
      if (record.status === 'done') {
        bar.done();
        process.stdout.write(`${describeSend(record)}\n`);
        return;
      }
      await sleep(250);
    }
  } finally {
    await ctx.close();
  }
}
