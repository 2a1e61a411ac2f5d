import { join } from 'node:path';
import { type ListenAs, parsePort } from '../../io/listen.js';
import { PROJECT_ROOT } from '../../io/paths.js';
import { startPreview } from '../../preview/server.js';
import type { Config } from '../../src/config.js';
import { isoWeekOf } from '../../src/newsletter/iso-week.js';
import { type CommandContext, openContext } from '../context.js';
import { mailboxDir } from './mailbox.js';
import { ensureIssue, parseAddresses, queueTestSends } from './send-test.js';

/** Starts the preview server on a context: what `dispatch preview` and `npm start` run. */
export async function previewOn(ctx: CommandContext, config: Config, host: string, port: number, listenAs?: ListenAs) {
  const templatesDir = config.TEMPLATES_DIR ?? join(PROJECT_ROOT, 'templates');
  return await startPreview({
    config,
    store: ctx.store,
    queues: ctx.queues,
    templatesDir,
    mailboxDir: mailboxDir(config.DATA_DIR),
    host,
    port,
    listenAs,
    async sendTest(week, addresses) {
      // Checked (and capped at TEST_SEND_MAX_RECIPIENTS) before an issue is built for it.
      const to = parseAddresses(addresses.join(','), config.TEST_SEND_MAX_RECIPIENTS);
      await ensureIssue(ctx, week, false, templatesDir);
      const { suffix } = await queueTestSends(ctx, week, to, templatesDir);
      return `Queued a test of ${week} (${suffix}) to ${to.join(', ')}: see the mailbox.`;
    },
  });
}

/** `dispatch preview`: the preview server, until Ctrl-C. */
export async function previewCommand(options: { port?: string; host?: string }): Promise<void> {
  const port = options.port === undefined ? undefined : parsePort(options.port, '--port');
  const ctx = await openContext();
  try {
    const { config } = ctx;
    const preview = await previewOn(ctx, config, options.host ?? config.PREVIEW_HOST, port ?? config.PREVIEW_PORT, {
      what: 'dispatch preview',
      setting: options.port === undefined ? '--port or PREVIEW_PORT' : '--port',
    });
    const week = isoWeekOf(new Date(), config.TZ);
    process.stdout.write(
      `preview on ${preview.url} (this week's issue: ${preview.url}/issues/${week}); Ctrl-C stops it\n`,
    );
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await preview.close();
  } finally {
    await ctx.close();
  }
}
