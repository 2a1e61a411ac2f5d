import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expandInputs } from '../../io/expand-inputs.js';
import { loadEnvironment } from '../../io/load-environment.js';
import { loadTemplates } from '../../io/load-templates.js';
import { PROJECT_ROOT } from '../../io/paths.js';
import { readSource } from '../../io/read-source.js';
import { DispatchError, isDispatchError } from '../../src/errors.js';
import type { Article } from '../../src/ingest/article.js';
import { parseArticle } from '../../src/ingest/parse-article.js';
import { buildIssue } from '../../src/newsletter/build-issue.js';
import { isoWeekOf, parseIsoWeek } from '../../src/newsletter/iso-week.js';
import { renderIssue } from '../../src/newsletter/render-issue.js';

export interface NewsletterOptions {
  from: string[];
  week?: string;
  now?: string;
  out: string;
  templates?: string;
}

/** `dispatch newsletter`: builds and renders one week's issue from article files. */
export async function newsletterCommand(options: NewsletterOptions): Promise<void> {
  const config = loadEnvironment();
  const now = options.now ? new Date(options.now) : new Date();
  if (Number.isNaN(now.getTime())) throw new DispatchError('E_INPUT_FORMAT', `--now is not a date: "${options.now}"`);
  const week = options.week ?? isoWeekOf(now, config.TZ);
  parseIsoWeek(week);

  const articles: Article[] = [];
  for (const file of await expandInputs(options.from, { urls: false })) {
    try {
      const source = await readSource(file, {
        maxBytes: config.MAX_INPUT_BYTES,
        timeoutMs: config.FETCH_TIMEOUT_MS,
        allowPrivate: config.ALLOW_PRIVATE_URLS,
      });
      articles.push(parseArticle(source.bytes, { receivedAt: now, format: source.format, source: file }));
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      process.stderr.write(`skipped ${file}: ${error.code}: ${error.message}\n`);
    }
  }
  const issue = buildIssue(articles, { week, now, config });
  const templates = await loadTemplates(options.templates ?? join(PROJECT_ROOT, 'templates'));
  const rendered = await renderIssue(issue, templates, { maxHtmlBytes: config.NEWSLETTER_MAX_HTML_BYTES });
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, 'issue.mjml'), rendered.mjml);
  await writeFile(join(options.out, 'issue.html'), rendered.html);
  await writeFile(join(options.out, 'issue.txt'), rendered.text);
  await writeFile(
    join(options.out, 'issue.json'),
    `${JSON.stringify({ issue: rendered.issue, bytes: rendered.bytes, warnings: rendered.warnings }, null, 2)}\n`,
  );
  process.stdout.write(
    `${week}: "${rendered.issue.subject}", ${rendered.issue.articleCount} article(s), ` +
      `${rendered.bytes} bytes personalized (budget ${config.NEWSLETTER_MAX_HTML_BYTES})\n` +
      rendered.warnings.map((w) => `warning: ${w}\n`).join('') +
      `wrote issue.mjml, issue.html, issue.txt, issue.json to ${options.out}\n`,
  );
}
