import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArticle } from '../src/ingest/parse-article.js';
import { ROOT } from './helpers/run-cli.js';

interface Expected {
  title: string;
  byline: string | null;
  publishedAt: string | null;
  url: string | null;
  firstParagraph: string;
  lastParagraph: string;
}

const dir = join(ROOT, 'tests/fixtures/html');
const pages = readdirSync(dir)
  .filter((f) => f.endsWith('.html'))
  .sort();
const receivedAt = new Date('2026-11-27T09:00:00Z');

describe('HTML fixture pages', () => {
  it('has at least 12 of them', () => {
    expect(pages.length).toBeGreaterThanOrEqual(12);
  });

  it.each(pages)('%s', (page) => {
    const expected = JSON.parse(readFileSync(join(dir, page.replace(/\.html$/, '.expected.json')), 'utf8')) as Expected;
    const article = parseArticle(readFileSync(join(dir, page)), { receivedAt, source: page });
    const paragraphs = article.sections.flatMap((s) => s.paragraphs);
    expect(article.title).toBe(expected.title);
    expect(article.byline).toBe(expected.byline);
    expect(article.publishedAt).toBe(expected.publishedAt ?? receivedAt.toISOString());
    expect(article.url).toBe(expected.url);
    expect(paragraphs[0]).toBe(expected.firstParagraph);
    expect(paragraphs.at(-1)).toBe(expected.lastParagraph);
    expect(
      article.quotes.some((q) => q.speaker),
      'a quote with its speaker',
    ).toBe(true);
    for (const paragraph of paragraphs) {
      expect(paragraph).not.toMatch(/^(?:Advertisement|Share this with|Leave a Reply|Related Items)$/);
      expect(paragraph).not.toMatch(/follow us on Twitter|Join our Weekly Newsletter|Required fields are marked/i);
    }
  });
});
