import type { Article } from '../src/ingest/article.js';
import { terminalSafe } from '../src/text/terminal-safe.js';

/** An article as a person reads it in a terminal: fields, then sections, then quotes. Nothing in it can drive the terminal. */
export function formatArticle(article: Article): string {
  // Articles are cleaned at ingest, but a stored one may predate that, and printing is the last gate.
  const safe = (value: string) => terminalSafe(value);
  const field = (name: string, value: string | number | null) =>
    value === null ? [] : [`${name.padEnd(12)}${safe(String(value))}`];
  const title = safe(article.title);
  const lines = [
    title,
    '='.repeat(Math.min(title.length, 78)),
    ...field('id', article.id),
    ...field('url', article.url),
    ...field('byline', article.byline),
    ...field('attribution', article.attribution),
    ...field('site', article.siteName),
    ...field('published', article.publishedAt),
    ...field('language', article.language),
    ...field(
      'image',
      article.image ? `${article.image.url}${article.image.alt ? ` (${article.image.alt})` : ''}` : null,
    ),
    ...field('words', article.wordCount),
    ...field('sentences', article.sentences.length),
  ];
  for (const section of article.sections) {
    lines.push('');
    if (section.heading) lines.push(`## ${safe(section.heading)}`, '');
    lines.push(section.paragraphs.map(safe).join('\n\n'));
  }
  if (article.quotes.length) {
    lines.push('', `Quotes (${article.quotes.length})`);
    for (const quote of article.quotes) {
      lines.push(`  “${safe(quote.text)}” (${safe(quote.speaker ?? 'unattributed')})`);
    }
  }
  return `${lines.join('\n')}\n`;
}
