import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { Article } from '../src/ingest/article.js';
import { extractQuotes } from '../src/ingest/extract-quotes.js';
import { flattenDeepHtml, MAX_HTML_DEPTH } from '../src/ingest/flatten-deep-html.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { MAX_SENTENCE_CHARS, splitSentences } from '../src/ingest/split-sentences.js';
import { composePosts } from '../src/social/compose-posts.js';
import type { Post } from '../src/social/post.js';
import { tweetsForRecord } from '../src/social/tweets-for-record.js';
import { summarize } from '../src/summarize/summarize.js';
import { CUT_WINDOW_CHARS, cutToFit } from '../src/text/cut-text.js';
import { expectPostsIntact } from './helpers/post-checks.js';
import { ROOT } from './helpers/run-cli.js';

// Each case must finish well inside its timeout: a quadratic step shows up as a timeout here, not
// as a timing assertion (timings are in `npm run bench:growth`).
const TIMEOUT = { timeout: 15_000 };
const receivedAt = new Date('2026-11-27T09:00:00Z');
const config = loadConfig({});
const TEMPLATES = [
  `Like Get the week's top stories from ${config.SITE_NAME} in your inbox. Join our weekly newsletter:`,
  'Read more: said.',
];
const FIRST = 'The council met on Monday and agreed to reopen the harbour bridge by the end of May.';
const LAST = 'The bridge has been closed since the storm in January, the council said.';

/** A name of letters only, different for each `i`: "Bac", "Bad"... */
const nameFor = (i: number) =>
  `B${[...i.toString(26)].map((d) => String.fromCharCode(97 + Number.parseInt(d, 26))).join('')}`;

/** A scraped-text article whose middle paragraph is `middle`. */
const article = (middle: string) => `Harbour bridge to reopen\n\n${FIRST}\n\n${middle}\n\n${LAST}`;
/** An HTML page with the article's paragraphs under `depth` nested `<div>`s. */
const nestedPage = (depth: number, text: string) =>
  `<!doctype html><html><head><title>Harbour bridge to reopen</title></head><body>` +
  `${'<div>'.repeat(depth)}<p>${FIRST} ${text}</p><p>${LAST} ${text}</p>${'</div>'.repeat(depth)}</body></html>`;

function run(input: string, format: 'text' | 'html'): { article: Article; posts: Post[] } {
  const parsed = parseArticle(input, { receivedAt, format });
  const posts = composePosts(parsed, summarize(parsed), config);
  return { article: parsed, posts };
}

function expectSane({ article: parsed, posts }: { article: Article; posts: Post[] }, source: string): void {
  expect(parsed.sections.flatMap((s) => s.paragraphs).length).toBeGreaterThan(0);
  expect(parsed.sentences.length).toBeGreaterThan(0);
  for (const sentence of parsed.sentences) expect(sentence.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS);
  expect(posts.some((p) => p.kind === 'headline')).toBe(true);
  for (const post of posts) expect(post.weightedLength).toBeLessThanOrEqual(280);
  // A run of CJK is one 100,000-character "word" to whitespace, and ICU's word boundaries over it
  // are slow to find: check the posts against the sentences it was split into instead.
  const words = /[\p{Script=Han}。]{1000}/u.test(source) ? [parsed.title, ...parsed.sentences].join(' ') : source;
  expectPostsIntact(posts, words, TEMPLATES);
}

const DEEP_TEXT = 'Engineers found the deck sound after three weeks of tests on its steel frame.';

const TEXT_CASES: [string, string][] = [
  ['"a." x 100,000', 'a.'.repeat(100_000)],
  ['"a. " x 100,000', 'a. '.repeat(100_000)],
  ['200,000 straight quote marks', '"'.repeat(200_000)],
  ['200,000 curly quote marks', '“'.repeat(200_000)],
  ['100,000 quote marks and spaces', '" '.repeat(100_000)],
  ['50,000 emoji', '😀'.repeat(50_000)],
  ['50,000 emoji with spaces', '👨‍👩‍👧 '.repeat(50_000)],
  ['100,000 CJK characters', '中文新闻报道'.repeat(100_000 / 6)],
  ['100,000 CJK characters with full stops', '港口大桥将重新开放。'.repeat(10_000)],
  ['Mr. A. B. said "yes. no. maybe." x 6,000', 'Mr. A. B. said "yes. no. maybe." '.repeat(6000)],
  ['a run of 500,000 spaces', `Before ${' '.repeat(500_000)} after.`],
  ['a run of 500,000 dots', `Before ${'.'.repeat(500_000)} after.`],
  ['a run of 100,000 commas in a quote', `"${', '.repeat(100_000)}it holds," the engineer said.`],
  ['a single 1 MB word', 'w'.repeat(1_000_000)],
  ['a single 1 MB capitalised word', 'W'.repeat(1_000_000)],
  [
    '4,000 distinct speakers',
    Array.from(
      { length: 4000 },
      (_, i) => `Ann ${nameFor(i)} said "the bridge ${i} is safe now." She said "yes".`,
    ).join(' '),
  ],
];

describe('pathological input: parse + summarize + compose finish and stay sane', () => {
  it.each(TEXT_CASES)('%s', TIMEOUT, (_name, middle) => {
    const input = article(middle);
    const result = run(input, 'text');
    expectSane(result, input);
    expect(result.article.sentences).toContain(FIRST);
  });

  it.each([10_000, 100_000])('%i nested <div>s keep their text', TIMEOUT, (depth) => {
    const result = run(nestedPage(depth, DEEP_TEXT), 'html');
    expectSane(result, `Harbour bridge to reopen ${FIRST} ${LAST} ${DEEP_TEXT}`);
    const body = result.article.sections.flatMap((s) => s.paragraphs).join('\n');
    expect(body).toContain(FIRST);
    expect(body).toContain(DEEP_TEXT);
    expect(body).toContain(LAST);
  });

  it('a JSON line with one 2 MB paragraph, as `dispatch tweets --jsonl` reads it', TIMEOUT, () => {
    const body = `${FIRST} ${'The bridge is long. '.repeat(100_000)}`;
    const record = tweetsForRecord(JSON.stringify({ id: 1, title: 'Harbour bridge', body }), config, receivedAt);
    expect(record.summary.oneLine.length).toBeGreaterThan(0);
    expectPostsIntact(record.posts, `Harbour bridge ${body}`, TEMPLATES);
  });
});

/** Element depth of a parsed document, counted without recursion. */
function domDepth(html: string): number {
  const { document } = parseHTML(html) as unknown as { document: Document };
  let deepest = 0;
  const stack: [Element, number][] = [[document.documentElement, 1]];
  while (stack.length) {
    const [element, depth] = stack.pop() as [Element, number];
    deepest = Math.max(deepest, depth);
    for (const child of Array.from(element.children)) stack.push([child, depth + 1]);
  }
  return deepest;
}

describe('flattenDeepHtml', () => {
  const dir = join(ROOT, 'tests/fixtures/html');
  const pages = readdirSync(dir).filter((f) => f.endsWith('.html'));

  it.each(pages)('leaves the fixture %s as it is (and would flatten it at depth 4)', (page) => {
    const html = readFileSync(join(dir, page), 'utf8');
    expect(flattenDeepHtml(html)).toBe(html);
    expect(flattenDeepHtml(html, 4)).not.toBe(html);
  });

  it('caps the depth linkedom builds and keeps the text beyond it', TIMEOUT, () => {
    const html = nestedPage(10_000, DEEP_TEXT);
    const flat = flattenDeepHtml(html);
    expect(domDepth(flat)).toBeLessThanOrEqual(MAX_HTML_DEPTH + 3);
    expect(flat).toContain(DEEP_TEXT);
  });

  it.each([
    ['implicitly closed <p> and <li>', `${'<p>para '.repeat(500)}<ul>${'<li>item '.repeat(500)}</ul>`],
    ['void and self-closing tags', `${'<br><img src="a.png"><hr><div/>'.repeat(3)}${'<input>'.repeat(300)}`],
    [
      'tags inside scripts, styles and comments',
      `${'<script>if (a<b) { "<div>" }</script><style>p>a{}</style><!-- <div> -->'.repeat(300)}`,
    ],
    ['svg with self-closing shapes', `<svg>${'<path d="M0 0"/>'.repeat(300)}</svg>`],
  ])('does not deepen a page of %s', (_name, body) => {
    const html = `<html><body><div>${body}</div></body></html>`;
    expect(flattenDeepHtml(html, 10)).toBe(html);
  });

  it('drops deep scripts whole rather than show their code as text', () => {
    const html = `<html><body>${'<div>'.repeat(20)}<script>var hidden = 1;</script>Seen${'</div>'.repeat(20)}</body></html>`;
    const flat = flattenDeepHtml(html, 10);
    expect(flat).not.toContain('hidden');
    expect(flat).toContain('Seen');
  });

  it('keeps words apart where block tags are dropped, and together where inline ones are', () => {
    const flat = flattenDeepHtml(`${'<div>'.repeat(5)}<p>one</p><p>two</p>th<b>re</b>e${'</div>'.repeat(5)}`, 3);
    const { document } = parseHTML(`<html><body>${flat}</body></html>`) as unknown as { document: Document };
    expect(document.body.textContent?.split(/\s+/).filter(Boolean)).toEqual(['one', 'two', 'three']);
  });

  it('bounds the depth of any tag soup, whatever it leaves unclosed', TIMEOUT, () => {
    const token = fc.constantFrom(
      '<div>',
      '</div>',
      '<p>',
      '</p>',
      '<li>',
      '<ul>',
      '</ul>',
      '<span class="a>b">',
      '</span>',
      '<b>',
      '</i>',
      '<table><tr><td>',
      '<svg>',
      '<path/>',
      '</svg>',
      '<div/>',
      '<br>',
      '</br>',
      '<!-- <div> -->',
      '<script><div></script>',
      '<title><p></title>',
      'word ',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 400 }), (tokens) => {
        const html = `<html><body>${tokens.join('')}</body></html>`;
        expect(domDepth(flattenDeepHtml(html, 8))).toBeLessThanOrEqual(8 + 3);
      }),
      { numRuns: 200 },
    );
  });
});

describe('bounded pieces of work', () => {
  it('splits a paragraph with no sentence ends into bounded sentences that keep all of its text', () => {
    const paragraph = 'word '.repeat(50_000).trim();
    const sentences = splitSentences(paragraph);
    expect(sentences.length).toBeGreaterThan(1);
    for (const s of sentences) expect(s.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS);
    expect(sentences.join(' ')).toBe(paragraph);
  });

  it('never splits an emoji when a run has no whitespace at all', () => {
    const sentences = splitSentences('👨‍👩‍👧'.repeat(10_000));
    expect(sentences.length).toBeGreaterThan(1);
    for (const s of sentences) expect(s).toMatch(/^(?:👨‍👩‍👧)+$/u);
  });

  it('cuts a very long text within its first window, at a word boundary', () => {
    const text = 'alpha beta gamma '.repeat(20_000);
    const cut = cutToFit(text, (t) => t.length <= 100) as string;
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(text.startsWith(cut.replace(/…$/, ''))).toBe(true);
    expect(cut).toMatch(/(?:alpha|beta|gamma)…$/);
    const longest = cutToFit(text, () => true) as string;
    expect(longest.length).toBeLessThanOrEqual(CUT_WINDOW_CHARS + 1);
  });

  it('finds each of thousands of speakers, and resolves "she" to the last one named', TIMEOUT, () => {
    const paragraphs = Array.from(
      { length: 3000 },
      (_, i) => `Ann ${nameFor(i)} said "the bridge number ${i} is safe now." She said "it will open in May."`,
    );
    const quotes = extractQuotes(paragraphs);
    expect(quotes).toHaveLength(6000);
    expect(quotes[4000]).toEqual({ text: 'the bridge number 2000 is safe now.', speaker: nameFor(2000) });
    expect(quotes[4001]).toEqual({ text: 'it will open in May.', speaker: nameFor(2000) });
  });
});
