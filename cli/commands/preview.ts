import { parsePort } from '../../io/listen.js';
import { previewOn } from '../../preview/on-context.js';
import { isoWeekOf } from '../../src/newsletter/iso-week.js';
import { openContext } from '../context.js';

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
