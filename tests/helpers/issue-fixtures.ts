import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplates } from '../../io/load-templates.js';
import { loadConfig } from '../../src/config.js';
import type { Article } from '../../src/ingest/article.js';
import { parseArticle } from '../../src/ingest/parse-article.js';
import type { Recipient } from '../../src/newsletter/personalize.js';
import { ROOT } from './run-cli.js';

export const NOW = new Date('2026-11-27T09:00:00Z');
export const WEEK = '2026-W48';
export const config = loadConfig({});
export const templates = () => loadTemplates(join(ROOT, 'templates'));

export const RECIPIENT: Recipient = {
  email: 'ana@example.org',
  firstName: 'Ana',
  unsubscribeUrl: 'https://news.example.com/unsubscribe/tok-ana?x=1&y=2',
  preferencesUrl: 'https://news.example.com/preferences/tok-ana',
};

const sources = [
  ...readdirSync(join(ROOT, 'examples')).map((f) => join(ROOT, 'examples', f)),
  ...readdirSync(join(ROOT, 'tests/fixtures/html'))
    .filter((f) => f.endsWith('.html'))
    .map((f) => join(ROOT, 'tests/fixtures/html', f)),
];
const parsed = sources.map((file) => parseArticle(readFileSync(file), { receivedAt: NOW, source: file }));

/**
 * `count` distinct articles published in WEEK, an hour apart going back from NOW: the project's
 * examples and fixtures, repeated with their own ids and URLs when more are asked for.
 */
export function weekOfArticles(count: number): Article[] {
  return Array.from({ length: count }, (_, i) => {
    const base = parsed[i % parsed.length] as Article;
    const round = Math.floor(i / parsed.length);
    return {
      ...base,
      id: round ? `${base.id}-${round}` : base.id,
      title: round ? `${base.title} (part ${round + 1})` : base.title,
      url: base.url ? `${base.url}${round ? `?part=${round + 1}` : ''}` : null,
      publishedAt: new Date(NOW.getTime() - i * 3_600_000).toISOString(),
    };
  });
}
