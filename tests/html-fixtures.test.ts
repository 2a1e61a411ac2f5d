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
  /** The section headings, all of them, in order. */
  headings?: string[];
  /** Paragraphs the body must hold, each exactly: a list item, a table row, a caption. */
  paragraphs?: string[];
}

const dir = join(ROOT, 'tests/fixtures/html');
const pages = readdirSync(dir)
  .filter((f) => f.endsWith('.html'))
  .sort();
const receivedAt = new Date('2026-11-27T09:00:00Z');

describe('HTML fixture pages', () => {
  it('has at least 19 of them', () => {
    expect(pages.length).toBeGreaterThanOrEqual(19);
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
    if (expected.headings) expect(article.sections.map((s) => s.heading).filter(Boolean)).toEqual(expected.headings);
    for (const paragraph of expected.paragraphs ?? []) expect(paragraphs).toContain(paragraph);
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

/** Enough article around a case for Readability to take the page for an article. */
const LEAD = [
  'The Harbour Board met on Tuesday night to hear the results of a year-long study of how the old quay is used, and what it would cost to repair the sea wall before next winter.',
  'Board members heard from engineers, from the fishing co-operative and from residents of the streets behind the quay, several of whom said they had waited a decade for the work.',
];
const TAIL = 'The board will decide in March which of the options to put out to public consultation over the summer.';

function page(markup: string): string {
  const body = [...LEAD.map((p) => `<p>${p}</p>`), markup, `<p>${TAIL}</p>`].join('\n');
  return `<!doctype html><html><head><title>Harbour Board weighs sea wall repairs</title></head><body><article><h1>Harbour Board weighs sea wall repairs</h1>${body}</article></body></html>`;
}

/** [case, markup inside the article, the paragraphs it gives (between LEAD and TAIL), the headings] */
const markupCases: [string, string, string[], string[]?][] = [
  [
    'MathML keeps its text',
    '<p>The slope is <math><mi>x</mi><mo>=</mo><mn>2</mn></math> metres in every ten.</p>',
    ['The slope is x=2 metres in every ten.'],
  ],
  [
    'each list item is a paragraph, however short',
    '<ul><li>Option A</li><li>Option B</li><li>Do nothing</li></ul>',
    ['Option A', 'Option B', 'Do nothing'],
  ],
  [
    'an item with a nested list keeps its own line, then its sub-items',
    '<ol><li>Repair the wall<ul><li>Stone facing</li><li>Concrete core</li></ul></li><li>Raise the quay</li></ol>',
    ['Repair the wall', 'Stone facing', 'Concrete core', 'Raise the quay'],
  ],
  [
    'a table row is one paragraph, cells joined with " | ", a <br> in a cell a space',
    '<table><caption>Costs</caption><tr><th>Option</th><th>Cost</th></tr><tr><td>Repair<br>the wall</td><td>£2.1m</td></tr></table>',
    ['Costs', 'Option | Cost', 'Repair the wall | £2.1m'],
  ],
  [
    'a table used for layout keeps its paragraphs one by one',
    '<table><tr><td><p>The engineers said the wall could last five more winters at most.</p><p>The co-operative asked for the work to start after the herring season.</p></td></tr></table>',
    [
      'The engineers said the wall could last five more winters at most.',
      'The co-operative asked for the work to start after the herring season.',
    ],
  ],
  [
    'a figure caption is a paragraph',
    '<figure><img src="https://example.com/quay.jpg" alt="The quay"><figcaption>The sea wall at low tide in January.</figcaption></figure>',
    ['The sea wall at low tide in January.'],
  ],
  [
    'a definition joins its term',
    '<dl><dt>Option A</dt><dd>Repair the wall as it stands.</dd><dt>Option B</dt><dd>Build a new wall in front of it.</dd></dl>',
    ['Option A: Repair the wall as it stands.', 'Option B: Build a new wall in front of it.'],
  ],
  [
    '<br>-separated lines are paragraphs of their own, and never headings',
    '<p>Harbour Office<br>1 Quay Street<br>Portwen</p>',
    ['Harbour Office', '1 Quay Street', 'Portwen'],
  ],
  [
    'a <br>-separated box of related links mid-article goes, and so do share lines',
    '<p>Read more<br><a href="/a">Ferry fares rise</a><br><a href="/b">Wharf upgrade delayed</a></p><p>Share this with<br>Email<br>Facebook</p><p>The engineers said the wall could last five more winters at most.</p>',
    ['The engineers said the wall could last five more winters at most.'],
  ],
  [
    'text directly inside a container, beside its paragraphs, is kept in order',
    '<section>Residents spoke first. <p>Engineers spoke next.</p> The co-operative spoke <b>last</b>.</section>',
    ['Residents spoke first.', 'Engineers spoke next.', 'The co-operative spoke last.'],
  ],
  [
    'a block quote of two paragraphs, and a pre, are kept',
    '<blockquote><p>We have patched it for years.</p><p>It needs rebuilding.</p></blockquote><pre>Tide  06.12  18.40</pre>',
    ['We have patched it for years.', 'It needs rebuilding.', 'Tide 06.12 18.40'],
  ],
  [
    'a heading straight after another joins it, so neither is lost',
    '<h2>The options</h2><h3>Option A</h3><p>Repair the wall as it stands, at the lowest cost of the three.</p>',
    ['Repair the wall as it stands, at the lowest cost of the three.'],
    ['The options: Option A'],
  ],
];

describe('what Dispatch keeps from article markup', () => {
  it.each(markupCases)('%s', (_name, markup, kept, headings = []) => {
    const article = parseArticle(page(markup), { receivedAt, format: 'html' });
    const paragraphs = article.sections.flatMap((s) => s.paragraphs);
    expect(paragraphs).toEqual([...LEAD, ...kept, TAIL]);
    expect(article.sections.map((s) => s.heading).filter(Boolean)).toEqual(headings);
  });
});

describe('captions and table rows are kept, but are not sentences a summary is chosen from', () => {
  it.each([
    ['15-old-foundry-mural-captions.html', 'The final panel shows the Saturday market'],
    ['14-ferrisford-by-election-turnout-table.html', 'Riverside | 3,412'],
  ])('%s', (page, start) => {
    const article = parseArticle(readFileSync(join(dir, page)), { receivedAt, source: page });
    const paragraphs = article.sections.flatMap((s) => s.paragraphs);
    expect(paragraphs.some((p) => p.startsWith(start))).toBe(true);
    expect(article.sentences.some((s) => s.startsWith(start))).toBe(false);
    // The prose is all there: the first paragraph's sentences open the list.
    expect(paragraphs[0]?.startsWith(article.sentences[0] as string)).toBe(true);
  });
});
