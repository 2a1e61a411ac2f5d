import type { Article } from '../src/ingest/article.js';

/** An article as a person reads it in a terminal: fields, then sections, then quotes. */
export function formatArticle(article: Article): string {
  const field = (name: string, value: string | number | null) => (value === null ? [] : [`${name.padEnd(12)}${value}`]);
  const lines = [
    article.title,
    '='.repeat(Math.min(article.title.length, 78)),
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
    if (section.heading) lines.push(`## ${section.heading}`, '');
    lines.push(section.paragraphs.join('\n\n'));
  }
  if (article.quotes.length) {
    lines.push('', `Quotes (${article.quotes.length})`);
    for (const quote of article.quotes) lines.push(`  “${quote.text}” (${quote.speaker ?? 'unattributed'})`);
  }
  return `${lines.join('\n')}\n`;
}
