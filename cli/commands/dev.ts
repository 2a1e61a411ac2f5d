import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../io/logger.js';
import { PROJECT_ROOT } from '../../io/paths.js';
import { startWorker } from '../../jobs/run-worker.js';
import { isoWeekOf } from '../../src/newsletter/iso-week.js';
import { openContext } from '../context.js';
import { enqueueArticles } from './enqueue.js';

export interface DevOptions {
  examples?: string;
  /** Stop once the example issue is built, instead of running until Ctrl-C. */
  once?: boolean;
}

/**
 * `npm start`: the whole local stack in one process: the managed Redis, a worker with its
 * schedules, and the example articles enqueued (stamped as published now, so this week's issue
 * holds them); then the week's issue is built and the command says where to look.
 */
export async function devCommand(options: DevOptions): Promise<void> {
  const ctx = await openContext();
  const { config } = ctx;
  // Quiet worker logs here: the summary below is what a newcomer needs.
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const worker = await startWorker({
    config,
    redisUrl: ctx.redisUrl,
    logger,
    templatesDir: config.TEMPLATES_DIR ?? join(PROJECT_ROOT, 'templates'),
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const examples = options.examples ?? join(PROJECT_ROOT, 'examples');
    const now = new Date();
    const report = await enqueueArticles(ctx, [examples], { publishedNow: true }, now);
    for (const line of report.failed) say(`skipped ${line}`);
    say(`Redis: ${ctx.redisUrl}`);
    say(
      `Enqueued ${report.added.length} example article(s) from ${examples} (${report.duplicates.length} already stored).`,
    );

    const week = isoWeekOf(now, config.TZ);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const counts = await ctx.queues.ingest.getJobCounts('wait', 'active', 'delayed');
      const social = await ctx.queues.social.getJobCounts('wait', 'active', 'delayed');
      if (!Object.values(counts).some(Boolean) && !Object.values(social).some(Boolean)) break;
      await sleep(100);
    }
    const before = (await ctx.store.getIssue(week))?.builtAt;
    await ctx.queues.newsletter.add('newsletter', { week });
    while (Date.now() < deadline && (await ctx.store.getIssue(week))?.builtAt === before) await sleep(100);
    const issue = await ctx.store.getIssue(week);
    say(
      issue
        ? `Built the ${week} issue: "${issue.issue.subject}" (${issue.issue.articleCount} articles, ${issue.bytes} bytes).`
        : `The ${week} issue is not built yet: see npx dispatch status.`,
    );
    say('');
    say('Look around:');
    say(`  npx dispatch show ${week}          the issue's text part`);
    say('  npx dispatch status                queues, schedules, failures');
    say(`  npx dispatch newsletter --from ${examples} --out /tmp/issue   issue.html to open in a browser`);
    if (options.once) return;
    say('');
    say('The worker is running (weekly issue on schedule); Ctrl-C stops it.');
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
  } finally {
    await worker.close();
    await ctx.close();
  }
}
