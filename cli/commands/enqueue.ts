import { type EnqueueOptions, enqueueArticles } from '../../jobs/enqueue-articles.js';
import { DispatchError } from '../../src/errors.js';
import { terminalSafe } from '../../src/text/terminal-safe.js';
import { openContext } from '../context.js';
import { progressBar } from '../progress-bar.js';

/** What main.ts exits with for bad input: some inputs were skipped. */
const EXIT_BAD_INPUT = 2;

export async function enqueueCommand(inputs: string[], options: EnqueueOptions): Promise<void> {
  if (inputs.length === 0 && !options.feed?.length) {
    throw new DispatchError('E_INPUT_NOT_FOUND', 'give files, folders or URLs to enqueue, or --feed URL');
  }
  const ctx = await openContext();
  try {
    const bar = progressBar('enqueue');
    const report = await enqueueArticles(ctx, inputs, options, new Date(), (done, total) =>
      done < total ? bar.update(done, total) : bar.done(),
    );
    for (const line of report.failed) process.stderr.write(`skipped ${terminalSafe(line)}\n`);
    process.stdout.write(
      `${report.added.length} new, ${report.duplicates.length} duplicate(s) (already stored or queued)` +
        `${report.failed.length ? `, ${report.failed.length} skipped (bad input, above)` : ''}` +
        `${report.feeds.length ? `; polling ${report.feeds.length} feed(s)` : ''}\n`,
    );
    if (report.failed.length) process.exitCode = EXIT_BAD_INPUT;
  } finally {
    await ctx.close();
  }
}
