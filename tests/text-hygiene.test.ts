import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isDispatchError } from '../src/errors.js';
import { cleanText, hasVisibleText } from '../src/ingest/clean-text.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { normalizeAddress } from '../src/subscribers/normalize-address.js';
import { spreadsheetSafe } from '../src/text/spreadsheet-safe.js';
import { terminalSafe, terminalSafeJson } from '../src/text/terminal-safe.js';
import { runCli } from './helpers/run-cli.js';

const receivedAt = new Date('2026-11-27T09:00:00Z');
const tmp = mkdtempSync(join(tmpdir(), 'dispatch-hygiene-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What no string of an Article may hold: controls (line breaks included: fields are single lines), bidi controls, zero-width space, word joiner, BOM. */
const FORBIDDEN = /[\p{Cc}\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]/u;
/** What must never reach a terminal raw: any control but line feed and tab (ESC, BEL, CSI, DEL...), bidi overrides and isolates. */
const TERMINAL_UNSAFE = /(?![\n\t])[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

/** Every string inside a value (an Article, a post list), however deep. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

const CLEAR = '\x1b[2J';
const SET_TITLE = '\x1b]0;pwned\x07';
const CSI = '\x9b31m';
const RLO = '\u202e';
const LRI = '\u2066';

const BODY = [
  `The Port Alder ferry carried its first${CLEAR} passengers in two years on Monday, after a repair programme that ran eight months over schedule.`,
  `“It feels like the town has${SET_TITLE} got its front door back,” said Mayor Ines Calloway, who rode the early crossing${RLO} with sixty commuters.`,
  `The 40-metre vessel was withdrawn in 2024 when inspectors found corrosion${CSI} in its hull plating, and repairs${LRI} were delayed by a shortage of steel.`,
];

const HOSTILE_TEXT = [
  `Harbour${CLEAR} ferry ${RLO}returns\u202c after repair\x07`,
  '',
  `By Ana${SET_TITLE} Ruiz`,
  '',
  ...BODY.flatMap((p) => [p, '']),
  `Source: Port${CSI} Alder Gazette\x7f`,
].join('\n');

const HOSTILE_HTML = `<!doctype html><html lang="en${CLEAR}"><head>
<title>Harbour ferry returns${SET_TITLE}</title>
<meta property="og:title" content="Harbour${CLEAR} ferry ${RLO}returns">
<meta property="og:description" content="The ferry is back${CSI} after two years">
<meta property="og:site_name" content="Port Alder${LRI} Gazette">
<meta name="author" content="Ana&#x1b;[2J Ruiz">
<meta property="og:image" content="https://news.example.com/gull.jpg">
<meta property="og:image:alt" content="The Gull${SET_TITLE} at the quay">
</head><body><article>
<h1>Harbour ferry returns</h1>
${BODY.map((p) => `<p>${p}</p>`).join('\n')}
<h2>What${RLO} next</h2>
<p>The council will publish the final bill next month, the mayor said, and the ferry will run every half hour.</p>
</article></body></html>`;

const HOSTILE_JSON = JSON.stringify({
  title: `Harbour${CLEAR} ferry ${RLO}returns`,
  body: BODY,
  url: `https://news.example.com/ferry${CLEAR}`,
  byline: `Ana${SET_TITLE} Ruiz`,
  attribution: `Port Alder${CSI} Gazette`,
  siteName: `Gazette${LRI}`,
  language: `en${CLEAR}`,
  description: `The ferry is back\x07${RLO}`,
  publishedAt: '2026-11-26T08:00:00Z',
  image: { url: 'https://news.example.com/gull.jpg', alt: `The Gull${SET_TITLE}` },
});

describe('control, bidi and invisible characters are removed at ingest', () => {
  const inputs: [string, string, 'text' | 'html' | 'json'][] = [
    ['scraped text', HOSTILE_TEXT, 'text'],
    ['an HTML page', HOSTILE_HTML, 'html'],
    ['a JSON article', HOSTILE_JSON, 'json'],
  ];
  it.each(inputs)('%s: no string of the Article holds one', (_name, input, format) => {
    const article = parseArticle(input, { receivedAt, format });
    for (const value of strings(article)) expect(value, JSON.stringify(value)).not.toMatch(FORBIDDEN);
    // Removed, not blanked: the visible text around them stays.
    expect(article.title).toMatch(/^Harbour(?:\[2J)? ferry returns/);
    expect(article.sentences.join(' ')).toContain('front door back');
    expect(article.quotes.map((q) => q.text).join(' ')).toContain('front door back');
  });

  it('every field of a JSON article is cleaned, metadata included', () => {
    const article = parseArticle(HOSTILE_JSON, { receivedAt });
    expect(article).toMatchObject({
      title: 'Harbour[2J ferry returns',
      byline: 'Ana]0;pwned Ruiz',
      attribution: 'Port Alder31m Gazette',
      siteName: 'Gazette',
      language: 'en[2J',
      description: 'The ferry is back',
      image: { url: 'https://news.example.com/gull.jpg', alt: 'The Gull]0;pwned' },
    });
    expect(article.url).toBe('https://news.example.com/ferry%1B[2J');
  });

  it('HTML metadata (title, author, site, description, image alt, language) is cleaned', () => {
    const article = parseArticle(HOSTILE_HTML, { receivedAt });
    expect(article).toMatchObject({
      title: 'Harbour[2J ferry returns',
      byline: 'Ana[2J Ruiz',
      siteName: 'Port Alder Gazette',
      description: 'The ferry is back31m after two years',
      language: 'en[2J',
      image: { alt: 'The Gull]0;pwned at the quay' },
    });
    expect(article.sections.map((s) => s.heading)).toContain('What next');
  });

  const cleanCases: [string, string, string][] = [
    ['ESC sequences lose their ESC', 'a\x1b[2Jb', 'a[2Jb'],
    ['an OSC title sequence loses ESC and BEL', 'x\x1b]0;t\x07y', 'x]0;ty'],
    ['C1 controls go', 'a\x80\x9bb\x9f', 'ab'],
    ['DEL goes', 'a\x7fb', 'ab'],
    ['NUL from a JSON escape goes', 'a\0b', 'ab'],
    ['tab, CR, LF and NEL are whitespace', 'a\tb\r\nc\x85d', 'a b c d'],
    ['bidi overrides and isolates go', '\u202eabc\u202c \u2066d\u2069', 'abc d'],
    ['bidi marks go', 'a\u200e\u200f\u061cb', 'ab'],
    ['zero-width space, word joiner and BOM go', 'news\u200bpa\u2060per\ufeff', 'newspaper'],
    ['ZWJ stays inside an emoji sequence', 'team 👩\u200d🔬 wins', 'team 👩\u200d🔬 wins'],
    ['ZWNJ stays (Persian)', 'می\u200cخواهم', 'می\u200cخواهم'],
    ['a zero-width space between letter and accent still gives NFC', 'e\u200b\u0301', 'é'],
    ['only invisible characters is empty', '\u200d\ufe0f\u0301 \u3164', ''],
  ];
  it.each(cleanCases)('cleanText: %s', (_name, input, expected) => {
    expect(cleanText(input)).toBe(expected);
  });
});

describe('a title with nothing visible is no title', () => {
  const invisible: [string, string][] = [
    ['spaces, NBSP and ideographic space', ' \u00a0\u3000 '],
    ['zero-width spaces', '\u200b\u200b'],
    ['ZWJ and ZWNJ', '\u200d\u200c'],
    ['BOM and word joiner', '\ufeff\u2060'],
    ['bidi controls', '\u202e\u2066\u2069'],
    ['control characters', '\x1b\x07\x9b'],
    ['soft hyphens', '\u00ad\u00ad'],
    ['combining marks alone', '\u0301\u0308'],
    ['variation selectors', '\ufe0f\ufe0e\u{e0100}'],
    ['a Hangul filler', '\u3164'],
    ['the blank braille pattern', '\u2800'],
    ['tag characters', '\u{e0041}\u{e0042}'],
  ];

  it.each(invisible)('%s in a JSON title: E_ARTICLE_NO_TITLE', (_name, title) => {
    const input = JSON.stringify({ title, body: BODY });
    expect(hasVisibleText(title)).toBe(false);
    expect(() => parseArticle(input, { receivedAt })).toThrow(expect.objectContaining({ code: 'E_ARTICLE_NO_TITLE' }));
  });

  it.each(invisible)('%s in every title an HTML page has: E_ARTICLE_NO_TITLE', (_name, title) => {
    const html = `<html><head><title>${title}</title><meta property="og:title" content="${title}"></head><body><article><h1>${title}</h1>${BODY.map((p) => `<p>${p}</p>`).join('')}</article></body></html>`;
    let error: unknown;
    try {
      parseArticle(html, { receivedAt, format: 'html' });
    } catch (caught) {
      error = caught;
    }
    expect(isDispatchError(error, 'E_ARTICLE_NO_TITLE'), String(error)).toBe(true);
  });

  const fallbacks: [string, () => string, RegExp][] = [
    [
      'HTML: an invisible og:title gives way to the h1',
      () =>
        parseArticle(
          `<html><head><meta property="og:title" content="\u200b\u200d"></head><body><article><h1>Ferry back</h1>${BODY.map((p) => `<p>${p}</p>`).join('')}</article></body></html>`,
          { receivedAt, format: 'html' },
        ).title,
      /^Ferry back$/,
    ],
    [
      'JSON: an invisible title gives way to the page in html',
      () =>
        parseArticle(
          JSON.stringify({
            title: '\u202e\u200b',
            html: `<html><head><title>Ferry back</title></head><body><article>${BODY.map((p) => `<p>${p}</p>`).join('')}</article></body></html>`,
          }),
          { receivedAt },
        ).title,
      /^Ferry back$/,
    ],
    [
      'text: an invisible first line is skipped, the next line is the title',
      () =>
        parseArticle(`\u200b\u200d\ufe0f\n\nFerry back\n\n${BODY.join('\n\n')}`, { receivedAt, format: 'text' }).title,
      /^Ferry back$/,
    ],
    [
      'JSON with titleFromBody: an invisible title is derived from the body',
      () => parseArticle(JSON.stringify({ title: '\u2800', body: BODY }), { receivedAt, titleFromBody: true }).title,
      /^The Port Alder ferry carried its first\[2J passengers/,
    ],
    [
      'a visible title made of an emoji ZWJ sequence is kept',
      () => parseArticle(JSON.stringify({ title: '👩\u200d🔬', body: BODY }), { receivedAt }).title,
      /^👩\u200d🔬$/u,
    ],
  ];
  it.each(fallbacks)('%s', (_name, title, expected) => {
    expect(title()).toMatch(expected);
  });

  it('text: only invisible lines before an empty body is E_ARTICLE_NO_TITLE', () => {
    expect(() => parseArticle('\u200b\n\n\u202e\n\n\u3164\n', { receivedAt, format: 'text' })).toThrow(
      expect.objectContaining({ code: 'E_ARTICLE_NO_TITLE' }),
    );
  });
});

describe('terminalSafe', () => {
  const cases: [string, string, boolean, string][] = [
    ['ESC is shown as \\x1b', 'a\x1b[2Jb', false, 'a\\x1b[2Jb'],
    ['an OSC sequence: ESC and BEL shown', '\x1b]0;t\x07', false, '\\x1b]0;t\\x07'],
    ['CR cannot overwrite the line', 'ok\rFAIL', false, 'ok\\rFAIL'],
    ['backspace', 'a\bb', false, 'a\\x08b'],
    ['DEL', 'a\x7f', false, 'a\\x7f'],
    ['C1 CSI', 'a\x9b2J', false, 'a\\x9b2J'],
    ['bidi override and isolate', '\u202eabc\u2066', false, '\\u202eabc\\u2066'],
    ['one line: tab and LF are shown', 'a\tb\nc', false, 'a\\tb\\nc'],
    ['multiline: tab and LF stay', 'a\tb\nc', true, 'a\tb\nc'],
    ['multiline: CR and ESC are still shown', 'a\r\n\x1b', true, 'a\\r\n\\x1b'],
    ['ordinary text, ZWJ and accents untouched', 'Café 👩\u200d🔬 “ok” \\x1b', false, 'Café 👩\u200d🔬 “ok” \\x1b'],
  ];
  it.each(cases)('%s', (_name, input, multiline, expected) => {
    expect(terminalSafe(input, { multiline })).toBe(expected);
  });

  it('terminalSafeJson: the same value back, with no raw control or bidi character', () => {
    const value = { a: 'x\x1b[2J\x07', b: ['\x9b\x85\x7f', '\u202e\u2066', 'line\u2028sep'], n: 1, z: null };
    const json = terminalSafeJson(value);
    expect(JSON.parse(json)).toEqual(value);
    expect(json.replace(/\n/g, '')).not.toMatch(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
    expect(json).toContain('\\u001b');
    expect(json).toContain('\\u009b');
  });
});

describe('spreadsheetSafe', () => {
  const cases: [string, string, string][] = [
    ['a formula', '=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'],
    ['plus', '+1', "'+1"],
    ['minus', '-2', "'-2"],
    ['at', '@x', "'@x"],
    ['leading tab', '\t=1', "'\t=1"],
    ['leading CR', '\r=1', "'\r=1"],
    ['fullwidth equals', '＝1+1', "'＝1+1"],
    ['a name', 'Ana Ruiz', 'Ana Ruiz'],
    ['an inner = is fine', 'a=b', 'a=b'],
    ['empty', '', ''],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(spreadsheetSafe(input)).toBe(expected);
  });
});

describe('normalizeAddress refuses control and bidi characters', () => {
  const cases: [string, string][] = [
    ['ESC', 'a\x1b[2J@example.org'],
    ['BEL', 'a\x07@example.org'],
    ['C1', 'a\x9b@example.org'],
    ['DEL', 'a\x7f@example.org'],
    ['RLO', 'gro.elpmaxe\u202e@example.org'],
  ];
  it.each(cases)('%s', (_name, address) => {
    expect(normalizeAddress(address)).toBeNull();
  });
});

describe('what the CLI prints from a hostile article', () => {
  const files: [string, string][] = [
    ['hostile.txt', HOSTILE_TEXT],
    ['hostile.html', HOSTILE_HTML],
    ['hostile.json', HOSTILE_JSON],
  ];
  for (const [name, content] of files) writeFileSync(join(tmp, name), content);

  const runs: [string, string[]][] = files.flatMap(([name]) => [
    [`parse ${name}`, ['parse', join(tmp, name)]],
    [`parse ${name} --json`, ['parse', join(tmp, name), '--json']],
  ]);
  runs.push(
    ['tweets hostile.txt', ['tweets', join(tmp, 'hostile.txt'), '--url', 'https://news.example.com/ferry']],
    ['tweets hostile.html --json', ['tweets', join(tmp, 'hostile.html'), '--json']],
  );
  it.each(runs)('dispatch %s: exit 0, no ESC, BEL, CSI, DEL or bidi control in the output', async (_name, args) => {
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('ferry');
    expect(result.stdout).not.toMatch(TERMINAL_UNSAFE);
    expect(result.stderr).not.toMatch(TERMINAL_UNSAFE);
  });

  it('an error quoting a file name with escapes shows them, on one line', async () => {
    const result = await runCli(['parse', join(tmp, `missing${CLEAR}${SET_TITLE}\nforged line.txt`)]);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(TERMINAL_UNSAFE);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^dispatch: E_INPUT_NOT_FOUND: .*missing\\x1b\[2J\\x1b\]0;pwned\\x07\\nforged line\.txt/,
    );
  });

  it('commander’s own errors about an argument show its escapes', async () => {
    const result = await runCli(['parse', 'x', '--format', `pdf${CLEAR}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pdf\\x1b[2J');
    expect(result.stderr).not.toMatch(TERMINAL_UNSAFE);
  });

  it('an invisible title is E_ARTICLE_NO_TITLE, exit 2', async () => {
    const file = join(tmp, 'invisible-title.json');
    writeFileSync(file, JSON.stringify({ title: '\u200b\u200d\u202e', body: BODY }));
    const result = await runCli(['parse', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^dispatch: E_ARTICLE_NO_TITLE: /);
  });
});
