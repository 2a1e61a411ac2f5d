import { createSendLedger } from '../../io/send-ledger.js';
import { createArchive, writeArchive } from '../../jobs/archive-site.js';
import { terminalSafe } from '../../src/text/terminal-safe.js';
import { openContext } from '../context.js';

/** `dispatch archive build --out DIR`: the public archive as static files, in one line. */
export async function archiveBuildCommand(options: { out: string }): Promise<void> {
  const ctx = await openContext();
  try {
    const archive = createArchive({
      store: ctx.store,
      ledger: createSendLedger(ctx.redis, ctx.config.REDIS_PREFIX),
      config: ctx.config,
    });
    const written = await writeArchive(archive, options.out, new Date());
    process.stdout.write(
      `wrote ${written.files} files to ${terminalSafe(written.dir)} (index.html, feed.xml and ` +
        `${written.issues} issue page${written.issues === 1 ? '' : 's'}), linked under ${terminalSafe(written.archiveUrl)}\n`,
    );
  } finally {
    await ctx.close();
  }
}
