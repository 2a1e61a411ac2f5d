import { setTimeout as sleep } from 'node:timers/promises';
import { createSendLedger, type SendRecord } from '../../io/send-ledger.js';
import { describeSend } from '../../jobs/describe-send.js';
import { pauseSend, type Requeued, resumeSend } from '../../jobs/list-send.js';
import { startHandSend } from '../../jobs/weekly-loop.js';
import { DispatchError } from '../../src/errors.js';
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

/** "re-queued 3 batch(es) (1 added, 1 retried, 1 promoted), 2 still queued, 5 done" */
function describeRequeued(r: Requeued): string {
  return (
    `re-queued ${r.added + r.retried + r.promoted} batch(es) (${r.added} added, ${r.retried} retried, ` +
    `${r.promoted} promoted), ${r.queued} still queued, ${r.done} done`
  );
}

/** `dispatch send`: the week's issue to every active subscriber, in batches through the queue; run again, it finishes it. */
export async function sendCommand(options: SendOptions): Promise<void> {
  const ctx = await openContext();
  try {
    if (options.pause) {
      parseIsoWeek(options.pause);
      await pauseSend(ctx, options.pause);
      process.stdout.write(`${options.pause}: paused\n`);
      return;
    }
    if (options.resume) {
      parseIsoWeek(options.resume);
      const report = await resumeSend(ctx, options.resume);
      process.stdout.write(`${options.resume}: resumed, ${describeRequeued(report.requeued)}\n`);
      return;
    }
    const week = options.week ?? isoWeekOf(new Date(), ctx.config.TZ);
    parseIsoWeek(week);
    const rate = options.rate ? Number(options.rate.replace(/\/s$/, '')) : 0;
    if (!Number.isFinite(rate) || rate < 0)
      throw new DispatchError(
        'E_INPUT_FORMAT',
        `--rate must be messages per second, e.g. 50/s (got "${options.rate}")`,
      );
    const report = await startHandSend(ctx, { week, rate, now: new Date() });
    const { record } = report;
    if (report.outcome === 'done' || report.outcome === 'paused') {
      // 'paused' comes only from callers that keep a pause (the weekly loop); `dispatch send` resumes.
      process.stdout.write(`already ${report.outcome}, nothing new sent: ${describeSend(record)}\n`);
      return;
    }
    if (report.outcome === 'started') {
      process.stdout.write(
        `${week}: queued ${record.total} recipient(s) in ${record.batches} batch(es)${rate ? ` at ${rate}/s` : ''}\n`,
      );
    } else {
      process.stdout.write(
        `${week}: already started; resuming: ${describeRequeued(report.requeued)}` +
          `${options.rate && rate !== record.rate ? ` (--rate ignored: it keeps its own, ${record.rate ? `${record.rate}/s` : 'no limit'})` : ''}\n`,
      );
    }
    if (!options.wait && !process.stdout.isTTY) {
      process.stdout.write('follow it with: npx dispatch status\n');
      return;
    }
    const ledger = createSendLedger(ctx.redis, ctx.config.REDIS_PREFIX);
    const bar = progressBar('send', process.stdout);
    for (;;) {
      const current = (await ledger.get(week)) as SendRecord;
      bar.update(current.sent + current.failed + current.skipped, current.total);
      if (current.status === 'done') {
        bar.done();
        process.stdout.write(`${describeSend(current)}\n`);
        return;
      }
      // Nothing more goes out until someone resumes it: waiting on would wait for a person.
      if (current.status === 'paused') {
        bar.done();
        throw new DispatchError('E_SEND_PAUSED', describeSend(current));
      }
      await sleep(250);
    }
  } finally {
    await ctx.close();
  }
}
