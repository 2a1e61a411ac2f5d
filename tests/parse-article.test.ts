import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDispatchError } from '../src/errors.js';
import type { Article } from '../src/ingest/article.js';
import { detectFormat } from '../src/ingest/detect-format.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { ROOT } from './helpers/run-cli.js';
import { hasSharedData, SAMPLE_ARTICLE, sharedDataNote } from './helpers/shared-data.js';

const receivedAt = new Date('2026-11-27T09:00:00Z');
const BOILERPLATE_LINES = [
  'For the latest news follow us on Twitter',
  'Join our Weekly Newsletter',
  'Related Items',
  'Leave a Reply',
  'Your email address will not be published',
  'Required fields are marked',
  '14 + three =',
  'Share this with',
  'Copy this link',
  'Source:',
];

function paragraphs(article: Article): string[] {
  return article.sections.flatMap((s) => s.paragraphs);
}

function expectNoBoilerplate(article: Article): void {
  for (const paragraph of paragraphs(article)) {
    for (const line of BOILERPLATE_LINES) expect(paragraph, `boilerplate "${line}" kept`).not.toContain(line);
    expect(['Email', 'Facebook', 'Twitter', 'Messenger']).not.toContain(paragraph);
  }
}

describe(`the sample article${sharedDataNote}`, () => {
  it.skipIf(!hasSharedData)('parses to a clean Article', () => {
    const article = parseArticle(readFileSync(SAMPLE_ARTICLE), { receivedAt });
    expect(article.title).toBe('US and Russia bid to revive Syria peace talks');
    expect(article.attribution).toBe('Aljazeera, Agencies');
    expect(article.sections.map((s) => s.heading)).toContain('Positive opportunity');
    expect(article.sections.find((s) => s.heading === 'Positive opportunity')?.paragraphs[0]).toMatch(/^Barker said/);
    expectNoBoilerplate(article);
    expect(paragraphs(article).at(-1)).toMatch(/This is not a game,” he said on Thursday\.$/);
    expect(article.publishedAt).toBe(receivedAt.toISOString());
    expect(article.wordCount).toBeGreaterThan(500);
    expect(article.wordCount).toBeLessThan(700);
  });

  it.skipIf(!hasSharedData)('finds Kerry’s and Lavrov’s direct quotes with their speakers', () => {
    const { quotes } = parseArticle(readFileSync(SAMPLE_ARTICLE), { receivedAt });
    const by = (speaker: RegExp) => quotes.filter((q) => q.speaker && speaker.test(q.speaker)).map((q) => q.text);
    expect(by(/Kerry/)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^We both agreed/), expect.stringMatching(/^This is not a game$/)]),
    );
    expect(by(/Lavrov/)).toEqual([expect.stringMatching(/^the logistics, process and agenda/)]);
    expect(by(/^Putin$/)).toHaveLength(2);
    expect(by(/^Barker$/)).toHaveLength(1);
  });

  it.skipIf(!hasSharedData)('gets the same id every time, whatever the arrival time', () => {
    const bytes = readFileSync(SAMPLE_ARTICLE);
    const a = parseArticle(bytes, { receivedAt });
    const b = parseArticle(bytes.toString('utf8'), { receivedAt: new Date('2030-01-01T00:00:00Z') });
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(b.id).toBe(a.id);
  });

  it.skipIf(!hasSharedData)('splits sentences without breaking abbreviations or quotations', () => {
    const { sentences } = parseArticle(readFileSync(SAMPLE_ARTICLE), { receivedAt });
    expect(sentences).toContain('China, too, hailed Assad’s decision.');
    for (const sentence of sentences) expect(sentence).toMatch(/[.!?”"]$/);
  });
});

describe('example articles', () => {
  const dir = join(ROOT, 'examples');
  const files = readdirSync(dir).sort();
  it('has 4 to 6 of them, text and HTML', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(files.length).toBeLessThanOrEqual(6);
    expect(files.some((f) => f.endsWith('.txt'))).toBe(true);
    expect(files.some((f) => f.endsWith('.html'))).toBe(true);
  });
  it.each(files)('%s parses cleanly', (file) => {
    const article = parseArticle(readFileSync(join(dir, file)), { receivedAt, source: file });
    expectNoBoilerplate(article);
    expect(article.quotes.length).toBeGreaterThan(0);
    expect(article.quotes.every((q) => q.speaker)).toBe(true);
  });
  it('lifts the byline and the section heading out of the scraped ferry story', () => {
    const article = parseArticle(readFileSync(join(dir, 'harbour-ferry-returns.txt')), { receivedAt });
    expect(article.attribution).toBe('Port Alder Gazette, Agencies');
    expect(article.sections.map((s) => s.heading)).toEqual([undefined, 'Timetable under review']);
    const library = parseArticle(readFileSync(join(dir, 'library-night-shift.txt')), { receivedAt });
    expect(library.byline).toBe('Priya Natarajan');
    expect(paragraphs(library).at(-1)).toMatch(/^A decision on whether/);
  });
});

describe('scraped text shapes', () => {
  it('joins hard-wrapped lines and handles CRLF', () => {
    const article = parseArticle(readFileSync(join(ROOT, 'tests/fixtures/text/crlf-hard-wrapped.txt')), { receivedAt });
    expect(article.title).toBe('Wind farm plan wins approval');
    expect(paragraphs(article)).toHaveLength(3);
    expect(paragraphs(article)[0]).toMatch(/^Plans for a 12-turbine .* and a walking group\.$/);
    expect(article.quotes).toEqual([
      { text: 'This is the right place for it', speaker: 'Lila Brandt' },
      { text: 'The wind is strong and the grid connection is close.', speaker: 'Lila Brandt' },
    ]);
  });
  it('reads one paragraph per line and stops at a related list', () => {
    const article = parseArticle(readFileSync(join(ROOT, 'tests/fixtures/text/one-paragraph-per-line.txt')), {
      receivedAt,
    });
    expect(paragraphs(article)).toHaveLength(4);
    expect(paragraphs(article).at(-1)).toBe('The school now gives its leftover bread to a food bank on Fridays.');
    expect(article.quotes[0]?.speaker).toBe('Vance');
  });
});

describe('JSON input', () => {
  it('takes title, body and metadata', () => {
    const article = parseArticle(
      JSON.stringify({
        title: 'Bridge reopens',
        body: 'The bridge reopened on Monday after repairs.\nTraffic was light.',
        url: 'https://news.example.com/bridge?utm_source=x#top',
        publishedAt: '2026-11-20T10:00:00+01:00',
        image: { url: '/img/bridge.jpg', alt: 'The bridge' },
      }),
      { receivedAt },
    );
    expect(article).toMatchObject({
      title: 'Bridge reopens',
      url: 'https://news.example.com/bridge?utm_source=x#top',
      publishedAt: '2026-11-20T09:00:00.000Z',
      image: { url: 'https://news.example.com/img/bridge.jpg', alt: 'The bridge' },
      sections: [{ paragraphs: ['The bridge reopened on Monday after repairs.', 'Traffic was light.'] }],
    });
    // Tracking parameters and fragments do not change an article's identity.
    const same = parseArticle(
      JSON.stringify({ title: 'Other', body: 'x y z', url: 'https://news.example.com/bridge' }),
      {
        receivedAt,
      },
    );
    expect(same.id).toBe(article.id);
  });
  it('accepts article as a synonym of body, and an html page', () => {
    const a = parseArticle(JSON.stringify({ title: 'T', article: ['One paragraph here.'] }), { receivedAt });
    expect(a.sections[0]?.paragraphs).toEqual(['One paragraph here.']);
    const html = readFileSync(join(ROOT, 'examples/tram-strike.html'), 'utf8');
    const b = parseArticle(JSON.stringify({ html, byline: 'Desk' }), { receivedAt });
    expect(b.title).toBe('Tram drivers vote to strike over new rotas');
    expect(b.byline).toBe('Desk');
  });
  it('drops a javascript: image URL', () => {
    const a = parseArticle(JSON.stringify({ title: 'T', body: 'Body text.', image: 'javascript:alert(1)' }), {
      receivedAt,
    });
    expect(a.image).toBeNull();
  });
});

describe('detectFormat', () => {
  const cases: [string, string, string][] = [
    ['json object', '  {"title": "x"}', 'json'],
    ['doctype', '<!DOCTYPE html><html><body><p>x</p></body></html>', 'html'],
    ['fragment', '<article><p>Hello</p></article>', 'html'],
    ['scraped text', 'Title\n\nParagraph one.', 'text'],
    ['text mentioning a tag', 'Why <p> tags matter\n\nA story about HTML.', 'text'],
  ];
  it.each(cases)('%s', (_name, text, format) => {
    expect(detectFormat(text)).toBe(format);
  });
});

describe('bad input', () => {
  const cases: [string, string | Uint8Array, object, string][] = [
    ['empty', '', {}, 'E_INPUT_EMPTY'],
    ['whitespace only', '   \n\n  ', {}, 'E_INPUT_EMPTY'],
    ['binary', Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), {}, 'E_INPUT_BINARY'],
    ['undecodable', Uint8Array.from([0x54, 0xff, 0xfe, 0x80, 0x41]), { format: 'text' }, 'E_INPUT_ENCODING'],
    ['too large', `Title\n\n${'word '.repeat(300)}`, { maxBytes: 1000 }, 'E_INPUT_TOO_LARGE'],
    ['malformed JSON', '{"title": "x", ', {}, 'E_INPUT_FORMAT'],
    ['JSON without a body', '{"title": "x"}', {}, 'E_INPUT_FORMAT'],
    ['JSON without a title', '{"body": "Some text here."}', {}, 'E_ARTICLE_NO_TITLE'],
    [
      'HTML with no article',
      '<html><body><nav><a href="/">Home</a></nav><p>Log in</p></body></html>',
      {},
      'E_HTML_NO_ARTICLE',
    ],
    ['a title and nothing else', 'Just a title\n\nShare this with\nEmail\n', {}, 'E_ARTICLE_NO_BODY'],
  ];
  it.each(cases)('%s -> %s', (_name, input, options, code) => {
    try {
      parseArticle(input, { receivedAt, ...options });
      expect.unreachable();
    } catch (error) {
      expect(isDispatchError(error), String(error)).toBe(true);
      expect((error as { code: string }).code).toBe(code);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
