import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../io/logger.js';
import { type MailboxServer, mailboxDir, startMailbox } from '../../io/mailbox.js';
import { PROJECT_ROOT, templatesDirOf } from '../../io/paths.js';
import { createSubscriberStore } from '../../io/subscriber-store.js';
import { enqueueArticles } from '../../jobs/enqueue-articles.js';
import { type RunningWorker, startWorker } from '../../jobs/run-worker.js';
import { previewOn } from '../../preview/on-context.js';
import type { PreviewServer } from '../../preview/server.js';
import { type RunningServe, startServe } from '../../serve/app.js';
import { type BounceServer, startBounceServer } from '../../serve/bounce-server.js';
import { isDispatchError } from '../../src/errors.js';
import { isoWeekOf } from '../../src/newsletter/iso-week.js';
import { openContext } from '../context.js';

/** The local mailbox, when SMTP_URL points to this machine and nothing listens there yet. */
async function startLocalMailbox(smtpUrl: string, dataDir: string, say: (line: string) => void) {
  const url = new URL(smtpUrl);
  if (!['127.0.0.1', 'localhost'].includes(url.hostname)) return null;
  try {
    return await startMailbox({ dir: mailboxDir(dataDir), port: Number(url.port || 25) });
  } catch (error) {
    if (!isDispatchError(error, 'E_PORT_IN_USE')) throw error;
    say(`(something already listens on ${url.host}: using it as the mailbox)`);
    return null;
  }
}

/**
 * Starts one of the local servers; when its port is taken, says so and goes on without it (most
 * often it is the same server, run by hand).
 */
async function unlessTaken<T>(start: () => Promise<T>, say: (line: string) => void, what: string): Promise<T | null> {
  try {
    return await start();
  } catch (error) {
    if (!isDispatchError(error, 'E_PORT_IN_USE')) throw error;
    say(`(${what}: ${error.message}; not started)`);
    return null;
  }
}

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
  const say = (line: string) => process.stdout.write(`${line}\n`);
  // Whatever started is closed, also when a later part fails (a taken PREVIEW_PORT): the command
  // then ends with its one error line instead of hanging on an open worker or connection.
  let worker: RunningWorker | undefined;
  let mailbox: MailboxServer | null = null;
  let preview: PreviewServer | undefined;
  let serve: RunningServe | null = null;
  let bounces: BounceServer | null = null;
  try {
    // The preview's port first: it is the one most likely taken, and nothing else has started yet.
    preview = await previewOn(ctx, config, config.PREVIEW_HOST, config.PREVIEW_PORT, {
      what: 'npm start (dispatch dev) preview',
      setting: 'PREVIEW_PORT',
    });
    // Quiet worker logs here: the summary below is what a newcomer needs.
    const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
    worker = await startWorker({
      config,
      redisUrl: ctx.redisUrl,
      logger,
      templatesDir: templatesDirOf(config),
    });
    mailbox = await startLocalMailbox(config.SMTP_URL, config.DATA_DIR, say);
    // The readers' side: the sign-up, confirm and unsubscribe pages at PUBLIC_URL's port, and the
    // bounce receiver, both on this machine only.
    const publicPort = Number(new URL(config.PUBLIC_URL).port || 3001);
    serve = await unlessTaken(
      () =>
        startServe(ctx, {
          host: '127.0.0.1',
          port: publicPort,
          what: 'npm start (dispatch dev) sign-up pages',
          setting: 'the port of PUBLIC_URL',
        }),
      say,
      'sign-up pages',
    );
    bounces = await unlessTaken(
      () =>
        startBounceServer({
          config,
          subscribers: createSubscriberStore(ctx.redis, config.REDIS_PREFIX),
          host: '127.0.0.1',
          port: config.BOUNCE_SMTP_PORT,
          logger,
          listenAs: { what: 'npm start (dispatch dev) bounce receiver', setting: 'BOUNCE_SMTP_PORT' },
        }),
      say,
      'bounce receiver',
    );
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
    say(`Preview: ${preview.url}/issues/${week}   (the issue, checks, a "Send test" form)`);
    say(`Mailbox: ${preview.url}/mailbox   (what test sends deliver${mailbox ? `, via ${config.SMTP_URL}` : ''})`);
    if (serve) say(`Sign up: ${serve.url}/subscribe   (join the list; the confirmation mail lands in the mailbox)`);
    say(`Approve: npx dispatch issue approve ${week}   (sends it to the list; or Approve on the preview's issue page)`);
    if (serve) say(`Archive: ${serve.url}/archive   (every sent issue's page, and feed.xml)`);
    if (bounces)
      say(`Bounces: smtp://127.0.0.1:${bounces.port}   (bounce and complaint reports for ${bounces.bounceAddress})`);
    say(`Also:    npx dispatch send-test --to you@example.org   npx dispatch status   npx dispatch show ${week}`);
    if (options.once) return;
    say('');
    say('The worker is running (weekly issue on schedule); Ctrl-C stops it.');
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
  } finally {
    await preview?.close();
    await serve?.close();
    await bounces?.close();
    await mailbox?.close();
    await worker?.close();
    await ctx.close();
  }
}
