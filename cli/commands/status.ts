import { createSendLedger, type SendRecord } from '../../io/send-ledger.js';
import { createSubscriberStore } from '../../io/subscriber-store.js';
import { describeSend } from '../../jobs/describe-send.js';
import { describeListHealth, type ListHealth, listHealth } from '../../jobs/list-health.js';
import { JOB_STATES, type QueueReport, queueReport } from '../../jobs/queue-report.js';
import { type IssueStatus, issueStatus, loopWeeks } from '../../jobs/weekly-loop.js';
import { terminalSafe, terminalSafeJson } from '../../src/text/terminal-safe.js';
import { openContext } from '../context.js';

export interface StatusReport extends QueueReport {
  redis: string;
  store: { articles: number; issues: string[] };
  sends: SendRecord[];
  /** The newest issues' states in the weekly loop (built, held, scheduled for T, sent...), newest first. */
  loop: IssueStatus[];
  /** Readers per status, and the current issue's bounce and complaint rates. */
  list: ListHealth;
}

/** The issues `dispatch status` lists, newest first. */
const LOOP_WEEKS_SHOWN = 10;

/**
 * `dispatch status`: jobs per queue and state, the next scheduled runs, the latest failures, the
 * issues' states in the weekly loop, the sends and the list's health.
 */
export async function statusCommand(options: { json?: boolean }): Promise<void> {
  const ctx = await openContext();
  try {
    const ledger = createSendLedger(ctx.redis, ctx.config.REDIS_PREFIX);
    const subscribers = createSubscriberStore(ctx.redis, ctx.config.REDIS_PREFIX);
    const report: StatusReport = {
      redis: ctx.redisUrl,
      ...(await queueReport(ctx.queues)),
      store: { articles: await ctx.store.countArticles(), issues: await ctx.store.listIssues() },
      sends: [],
      loop: [],
      list: await listHealth({ subscribers, ledger, config: ctx.config }, new Date()),
    };
    for (const week of await ledger.list()) {
      const record = await ledger.get(week);
      if (record) report.sends.push(record);
    }
    for (const week of (await loopWeeks(ctx)).slice(0, LOOP_WEEKS_SHOWN))
      report.loop.push(await issueStatus(ctx, week));
    if (options.json) {
      process.stdout.write(`${terminalSafeJson(report)}\n`);
      return;
    }
    const lines = [
      `Redis ${terminalSafe(report.redis)}`,
      '',
      `${'queue'.padEnd(15)}${JOB_STATES.map((s) => s.padStart(12)).join('')}`,
    ];
    for (const [name, counts] of Object.entries(report.queues)) {
      lines.push(`${name.padEnd(15)}${JOB_STATES.map((s) => String(counts[s] ?? 0).padStart(12)).join('')}`);
    }
    lines.push('', 'Scheduled:');
    if (report.schedulers.length === 0) lines.push('  none (a worker upserts the schedules when it starts)');
    for (const s of report.schedulers) {
      const how = s.pattern
        ? `cron "${s.pattern}"${s.tz ? ` ${s.tz}` : ''}`
        : `every ${Math.round((s.every ?? 0) / 60000)} min`;
      lines.push(terminalSafe(`  ${s.queue}/${s.id}: next ${s.next ?? '?'} (${how})`));
    }
    lines.push('', 'Latest failures:');
    if (report.failures.length === 0) lines.push('  none');
    // A failure's reason quotes the input that failed (a file name, a title): one line, shown, never obeyed.
    for (const f of report.failures.slice(0, 10)) {
      lines.push(terminalSafe(`  ${f.at ?? '?'} ${f.queue} ${f.jobId}: ${f.reason}`));
    }
    lines.push('', `Stored: ${report.store.articles} article(s); issues: ${report.store.issues.join(', ') || 'none'}`);
    lines.push('', 'Issues:');
    if (report.loop.length === 0) lines.push('  none');
    // A summary may quote an error, which quotes input: one line, shown, never obeyed.
    for (const status of report.loop) lines.push(`  ${terminalSafe(status.summary)}`);
    lines.push('', 'Sends:');
    if (report.sends.length === 0) lines.push('  none');
    for (const record of report.sends) lines.push(`  ${terminalSafe(describeSend(record))}`);
    lines.push('', 'List:');
    for (const line of describeListHealth(report.list)) lines.push(`  ${terminalSafe(line)}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await ctx.close();
  }
}
