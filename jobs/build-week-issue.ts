import { loadTemplates } from '../io/load-templates.js';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { buildIssue } from '../src/newsletter/build-issue.js';
import { parseIsoWeek, weekRange } from '../src/newsletter/iso-week.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import type { Summary } from '../src/summarize/summarize.js';

export type BuildResult =
  | { week: string; status: 'saved' | 'already-sent'; articles: number; bytes: number; warnings: string[] }
  | { week: string; status: 'empty' };

/**
 * Builds and renders a week's issue from the store (using the stored summaries) and stores it,
 * unless that week's issue was already sent. What the newsletter job and `send-test --direct` run.
 */
export async function buildWeekIssue(
  deps: { store: Store; config: Config; templatesDir: string },
  week: string,
  now: Date,
): Promise<BuildResult> {
  const { store, config } = deps;
  parseIsoWeek(week);
  const { start, end } = weekRange(week, config.TZ);
  const articles = await store.articlesBetween(start, end);
  const socials = await store.getSocials(articles.map((a) => a.id));
  const summaries = new Map<string, Summary>();
  socials.forEach((s, i) => {
    const article = articles[i];
    if (s && article) summaries.set(article.id, s.summary);
  });
  let issue: ReturnType<typeof buildIssue>;
  try {
    issue = buildIssue(articles, { week, now, config, summaries });
  } catch (error) {
    if (isDispatchError(error, 'E_ISSUE_EMPTY')) return { week, status: 'empty' };
    throw error;
  }
  const rendered = await renderIssue(issue, await loadTemplates(deps.templatesDir), {
    maxHtmlBytes: config.NEWSLETTER_MAX_HTML_BYTES,
  });
  const status = await store.saveIssue(week, {
    issue: rendered.issue,
    subject: rendered.subject,
    mjml: rendered.mjml,
    html: rendered.html,
    text: rendered.text,
    bytes: rendered.bytes,
    warnings: rendered.warnings,
    builtAt: now.toISOString(),
  });
  return { week, status, articles: issue.articleCount, bytes: rendered.bytes, warnings: rendered.warnings };
}
