import type { IssueEdits } from '../io/issue-edits.js';
import { loadTemplatesWithFingerprint } from '../io/load-templates.js';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import { NO_CURATION } from '../src/newsletter/curation.js';
import { parseIsoWeek, weekRange } from '../src/newsletter/iso-week.js';
import type { RenderedIssue } from '../src/newsletter/render-issue.js';
import type { Summary } from '../src/summarize/summarize.js';
import { type CpuRunner, inlineCpu } from './cpu-tasks.js';

export type BuildResult =
  | {
      week: string;
      /** 'superseded': a build of newer edits was stored meanwhile, and stays. */
      status: 'saved' | 'already-sent' | 'superseded';
      articles: number;
      bytes: number;
      warnings: string[];
      /** The fingerprint of the templates this build read. */
      templates: string;
      /** The revision of the editors' curation it applied (0: none). */
      curation: number;
    }
  | { week: string; status: 'empty' };

/**
 * Builds and renders a week's issue from the store (using the stored summaries) and stores it,
 * unless that week's issue was already sent, with the fingerprint of the templates it read and the
 * revision of the editors' curation it applied (`deps.edits`; without it, none), so a later look
 * can tell whether either changed since. The stored issue carries its web render (`web`), what the
 * public archive shows. What the newsletter job and the direct builds of `ensureIssue` run.
 * The build and render run on `deps.cpu` (the worker's thread pool), else on this thread.
 * A failure in them is a DispatchError: its own code, or E_INTERNAL for an unexpected one.
 */
export async function buildWeekIssue(
  deps: { store: Store; config: Config; templatesDir: string; cpu?: CpuRunner; edits?: Pick<IssueEdits, 'get'> },
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
  const { templates, fingerprint } = await loadTemplatesWithFingerprint(deps.templatesDir).catch((error: unknown) => {
    if (isDispatchError(error)) throw error;
    throw new DispatchError('E_TEMPLATE', `${deps.templatesDir}: ${(error as Error).message}`, { cause: error });
  });
  // Read before the build: an edit saved meanwhile leaves this build a revision behind, out of date.
  const curation = deps.edits ? await deps.edits.get(week) : NO_CURATION;
  let built: { rendered: RenderedIssue; articleCount: number };
  try {
    built = await (deps.cpu ?? inlineCpu).run(
      'renderWeekIssue',
      [
        articles,
        { week, now, config, summaries, curation },
        templates,
        { maxHtmlBytes: config.NEWSLETTER_MAX_HTML_BYTES, web: true },
      ],
      { what: `rendering the ${week} issue` },
    );
  } catch (error) {
    if (isDispatchError(error, 'E_ISSUE_EMPTY')) return { week, status: 'empty' };
    throw error;
  }
  const { rendered } = built;
  const status = await store.saveIssue(week, {
    issue: rendered.issue,
    subject: rendered.subject,
    mjml: rendered.mjml,
    html: rendered.html,
    text: rendered.text,
    bytes: rendered.bytes,
    warnings: rendered.warnings,
    builtAt: now.toISOString(),
    templates: fingerprint,
    ...(rendered.web ? { web: rendered.web } : {}),
    curation: curation.revision,
  });
  return {
    week,
    status,
    articles: built.articleCount,
    bytes: rendered.bytes,
    warnings: rendered.warnings,
    templates: fingerprint,
    curation: curation.revision,
  };
}
