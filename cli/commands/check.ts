import { checkIssue } from '../../io/check-issue.js';
import { templatesDirOf } from '../../io/paths.js';
import { checkLines, verdictLine } from '../../src/checks/format-report.js';
import { DispatchError } from '../../src/errors.js';
import { isoWeekOf, parseIsoWeek } from '../../src/newsletter/iso-week.js';
import { terminalSafe, terminalSafeJson } from '../../src/text/terminal-safe.js';
import { openContext } from '../context.js';

/** The exit code when a check fails (errors such as E_NOT_FOUND exit 2, as everywhere). */
export const EXIT_CHECK_FAILED = 1;

/**
 * `dispatch check [week]`: every check of the week's stored build, as the sample recipient gets
 * it; exits 1 when a check fails (the clip, MJML, the unsubscribe link, a broken link, the spam
 * score at or over SPAM_THRESHOLD), so a publisher's CI can run it.
 */
export async function checkCommand(
  week: string | undefined,
  options: { json?: boolean; offline?: boolean },
): Promise<void> {
  if (week !== undefined) parseIsoWeek(week);
  const ctx = await openContext();
  try {
    const id = week ?? isoWeekOf(new Date(), ctx.config.TZ);
    const stored = await ctx.store.getIssue(id);
    if (!stored)
      throw new DispatchError(
        'E_NOT_FOUND',
        `no stored issue for ${id} (issues: ${(await ctx.store.listIssues()).join(', ') || 'none'}; build one with dispatch newsletter)`,
      );
    const report = await checkIssue(id, stored, {
      config: ctx.config,
      templatesDir: templatesDirOf(ctx.config),
      offline: options.offline,
    });
    if (options.json) process.stdout.write(`${terminalSafeJson(report)}\n`);
    else {
      const lines = [
        `Checks of ${id} as ${report.recipient} gets it (built ${report.builtAt})`,
        ...report.checks.flatMap(checkLines),
        verdictLine(report.checks),
      ];
      process.stdout.write(`${lines.map((l) => terminalSafe(l)).join('\n')}\n`);
    }
    if (report.state === 'fail') process.exitCode = EXIT_CHECK_FAILED;
  } finally {
    await ctx.close();
  }
}
