import type { Job } from 'bullmq';
import { loadTemplates } from '../io/load-templates.js';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { buildIssue } from '../src/newsletter/build-issue.js';
import { isoWeekOf, parseIsoWeek, weekRange } from '../src/newsletter/iso-week.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import type { Summary } from '../src/summarize/summarize.js';
import { parsePayload } from './job-error.js';
import { newsletterPayload } from './queues.js';

export type NewsletterResult =
  | { week: string; status: 'saved' | 'already-sent'; articles: number; bytes: number; warnings: string[] }
  | { week: string; status: 'empty' };

/**
 * newsletter: builds and renders a week's issue from the store and stores it, replacing an
 * earlier build unless that issue was already sent. Templates are read per job, so an edit
 * applies to the next build without a restart.
 */
export function newsletterJob(deps: { store: Store; config: Config; templatesDir: string; now: () => Date }) {
  return async (job: Job): Promise<NewsletterResult> => {
    const payload = parsePayload(newsletterPayload, job.data, 'newsletter');
    const { config, store } = deps;
    const now = deps.now();
    // A scheduled job builds the week it was scheduled in, even when a worker picks it up late.
    const week = payload.week ?? isoWeekOf(new Date(job.timestamp), config.TZ);
    parseIsoWeek(week);
    const { start, end } = weekRange(week, config.TZ);
    const articles = await store.articlesBetween(start, end);
    const socials = await store.getSocials(articles.map((a) => a.id));
    const summaries = new Map<string, Summary>();
    socials.forEach((s, i) => {
      if (s) summaries.set((articles[i] as (typeof articles)[number]).id, s.summary);
    });
    let issue: ReturnType<typeof buildIssue>;
    try {
      issue = buildIssue(articles, { week, now, config, summaries });
    } catch (error) {
      if (isDispatchError(error, 'E_ISSUE_EMPTY')) return { week, status: 'empty' };
      throw error;
    }
    const templates = await loadTemplates(deps.templatesDir);
    const rendered = await renderIssue(issue, templates, { maxHtmlBytes: config.NEWSLETTER_MAX_HTML_BYTES });
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
  };
}
