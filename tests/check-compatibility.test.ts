import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, Finding } from '../src/checks/check.js';
import { checkCompatibility, EMAIL_CLIENTS } from '../src/checks/compatibility.js';
import { buildIssue } from '../src/newsletter/build-issue.js';
import { personalize } from '../src/newsletter/personalize.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import type { Templates } from '../src/newsletter/templates.js';
import { config, NOW, RECIPIENT, templates, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';

/** The finding for one client and feature (its backquoted name), if any. */
function finding(result: CheckResult, client: string, feature: string): Finding | undefined {
  return result.findings.find((f) => f.client === client && f.text.startsWith(`\`${feature}\``));
}

function clientsLacking(result: CheckResult, feature: string): string[] {
  return result.findings.filter((f) => f.text.startsWith(`\`${feature}\``)).map((f) => f.client as string);
}

/** A message of the given body lines (line 1 is the doctype, line 2 `<html><body>`, the body from line 3). */
function page(...body: string[]): string {
  return ['<!doctype html>', '<html><body>', ...body, '</body></html>'].join('\n');
}

async function renderSample(change?: (t: Templates) => Templates): Promise<string> {
  const loaded = await templates();
  const rendered = await renderIssue(
    buildIssue(weekOfArticles(10), { week: WEEK, now: NOW, config }),
    change ? change(loaded) : loaded,
  );
  return personalize(rendered, RECIPIENT).html;
}

describe('checkCompatibility', () => {
  it('reports the nine clients by the names people use, Outlook.com among them', () => {
    expect(EMAIL_CLIENTS.map((c) => c.name)).toEqual([
      'Gmail (web)',
      'Gmail (iOS)',
      'Gmail (Android)',
      'Outlook (Windows)',
      'Outlook (macOS)',
      'Outlook.com',
      'Apple Mail (macOS)',
      'Apple Mail (iOS)',
      'Yahoo (web)',
    ]);
    expect(EMAIL_CLIENTS.map((c) => c.id)).toContain('outlook.outlook-com');
  });

  // [case, html, client, feature, where]: each one reported, with its line in the HTML.
  const reported: [string, string, string, string, string][] = [
    [
      'display:flex in a style attribute',
      page('<p>x</p>', '<div style="display:flex">a</div>'),
      'Outlook (Windows)',
      'display:flex',
      'line 4',
    ],
    [
      'border-radius in a style attribute',
      page('<td style="padding:0;border-radius:4px">a</td>'),
      'Outlook (Windows)',
      'border-radius',
      'line 3',
    ],
    [
      'a feature Outlook.com lacks: @font-face',
      page('<style>', '@font-face { font-family: x; src: url(x.woff2) }', '</style>'),
      'Outlook.com',
      '@font-face',
      'line 4',
    ],
    [
      'calc() for Outlook.com, in <style>, at its HTML line',
      page('<style>', '.a { color: red }', '', '.b { width: calc(100% - 2px) }', '</style>'),
      'Outlook.com',
      'CSS calc() function',
      'line 6',
    ],
    [
      ':hover in a <style> on its own line',
      page('<style>.x { color: red }', 'a:hover { color: blue }</style>'),
      'Outlook (Windows)',
      ':hover',
      'line 4',
    ],
    [
      'a template @media for dark mode',
      page('<style>', '@media (prefers-color-scheme: dark) { .card { color: #eee } }', '</style>'),
      'Gmail (web)',
      '@media (prefers-color-scheme)',
      'line 4',
    ],
    ['<svg> in the body', page('<svg width="1" height="1"></svg>'), 'Gmail (web)', 'Embedded <svg> image', 'line 3'],
    [
      'a webp image',
      page('<img src="https://news.example.com/a.webp?v=2" alt="a">'),
      'Outlook (Windows)',
      'webP image format',
      'line 3',
    ],
    [
      'lines of many uses',
      page(...Array.from({ length: 7 }, () => '<div style="display:flex">a</div>')),
      'Outlook (Windows)',
      'display:flex',
      'lines 3, 4, 5, 6 and 3 more',
    ],
    [
      'markup for everyone but Outlook is still charged to the others',
      page('<!--[if !mso]><!-->', '<div style="display:grid">g</div>', '<!--<![endif]-->'),
      'Gmail (web)',
      'display:grid',
      'line 4',
    ],
  ];
  for (const [name, html, client, feature, where] of reported) {
    it(`reports ${name}`, () => {
      const result = checkCompatibility(html);
      expect(result.state).toBe('warn');
      const found = finding(result, client, feature);
      expect(found, JSON.stringify(result.findings, null, 1)).toBeDefined();
      expect(found?.where).toBe(where);
      expect(found?.state).toBe('warn');
      expect(found?.text).toMatch(/ is not supported/);
    });
  }

  // [case, html, client, feature]: what caniemail 1.0.5's substring matching would report, and
  // what MJML writes for a client and handles: none of it is reported.
  const notReported: [string, string, string, string][] = [
    [
      'text-transform is not transform',
      page('<a style="text-transform:uppercase" href="https://a.example/">a</a>'),
      'Outlook (Windows)',
      'transform',
    ],
    [
      'line-height is not height',
      page('<td style="line-height:20px;max-width:10px">a</td>'),
      'Yahoo (web)',
      'height property',
    ],
    [
      '<tbody> is not <body>',
      page('<table><tbody><tr><td>a</td></tr></tbody></table>'),
      'Outlook (macOS)',
      '<body> element',
    ],
    [
      'inside <!--[if mso]>, written for Outlook',
      page('<!--[if mso]><div style="display:flex;border-radius:2px">m</div><![endif]-->'),
      'Outlook (Windows)',
      'display:flex',
    ],
    [
      'inside <!--[if !mso]><!-->, which Outlook on Windows skips',
      page('<!--[if !mso]><!-->', '<div style="border-radius:3px">x</div>', '<!--<![endif]-->'),
      'Outlook (Windows)',
      'border-radius',
    ],
    [
      'a preheader hidden from Outlook by mso-hide:all',
      page(
        '<div style="display:none;opacity:0;overflow:hidden;mso-hide:all;">pre<span style="opacity:0">x</span></div>',
      ),
      'Outlook (Windows)',
      'opacity',
    ],
    [
      'MJML’s responsive rules on its own classes',
      page(
        '<style>',
        '@media only screen and (min-width:480px) {',
        '.mj-column-per-100 { width:100% !important; max-width: 100%; }',
        '}',
        '[owa] .mj-column-per-100 { width: 100% !important; }',
        '</style>',
      ),
      'Outlook (Windows)',
      '@media',
    ],
    [
      'what a rule inside an @media Outlook lacks uses',
      page('<style>', '@media (prefers-color-scheme: dark) { .card > table { color: #eee } }', '</style>'),
      'Outlook (Windows)',
      'Child combinator',
    ],
    [
      'a declaration of what the client does anyway',
      page('<div style="word-spacing:normal;cursor:auto">a</div>'),
      'Outlook (Windows)',
      'word-spacing',
    ],
    [
      'target="_blank", which Gmail forces anyway',
      page('<a href="https://a.example/" target="_blank">a</a>'),
      'Gmail (web)',
      'target attribute',
    ],
  ];
  for (const [name, html, client, feature] of notReported) {
    it(`leaves out ${name}`, () => {
      expect(finding(checkCompatibility(html), client, feature)).toBeUndefined();
    });
  }

  it('the same feature elsewhere is reported: the rules above are not blanket exclusions', () => {
    const outside = checkCompatibility(page('<div style="opacity:0.5;border-radius:3px">x</div>'));
    expect(finding(outside, 'Outlook (Windows)', 'opacity')).toBeDefined();
    expect(finding(outside, 'Outlook (Windows)', 'border-radius')).toBeDefined();
    const blank = checkCompatibility(page('<a href="https://a.example/" target="_self">a</a>'));
    expect(clientsLacking(blank, 'target attribute')).toContain('Gmail (web)');
  });

  it('is ok when every client supports what the message uses', () => {
    const result = checkCompatibility(
      page('<table role="presentation"><tr><td style="color:#111;padding:4px">Hello</td></tr></table>'),
    );
    expect(result.findings).toEqual([]);
    expect(result.state).toBe('ok');
    expect(result.summary).toBe('all 9 clients support what the message uses');
  });

  it('never fails: CSS it cannot read is one warning, the rest is still checked', () => {
    const result = checkCompatibility(page('<style>.a { color: red </style>', '<div style="display:flex">a</div>'));
    expect(result.state).toBe('warn');
    expect(result.findings.some((f) => f.text.includes('could not be read') && f.where === 'line 3')).toBe(true);
    expect(finding(result, 'Outlook (Windows)', 'display:flex')).toBeDefined();
  });

  it('reads broken HTML without throwing', () => {
    for (const html of [
      '<',
      '<div style="display:flex',
      '<!--[if mso]><div',
      '<style>',
      '<a href=x <img',
      '\u0000<p>',
    ]) {
      expect(checkCompatibility(html).state).toMatch(/^(ok|warn)$/);
    }
  });
});

describe('checkCompatibility on the real sample issue', () => {
  let sample: string;
  let result: CheckResult;
  beforeAll(async () => {
    sample = await renderSample();
    result = checkCompatibility(sample);
  });

  it('is a short list: one finding per client and feature, each naming its client and where', () => {
    expect(result.state).toBe('warn');
    expect(result.findings.length).toBeGreaterThan(0);
    expect(result.findings.length).toBeLessThanOrEqual(25);
    const names = new Set(EMAIL_CLIENTS.map((c) => c.name));
    const keys = new Set<string>();
    for (const f of result.findings) {
      expect(names.has(f.client as string), f.client).toBe(true);
      expect(f.where).toMatch(/^lines? \d+/);
      const key = `${f.client} ${f.text.split('`')[1]}`;
      expect(keys.has(key), key).toBe(false);
      keys.add(key);
    }
    expect(result.summary).toMatch(/^\d of 9 clients lack \d+ feature\(s\) the message uses$/);
  });

  it('reports what the templates ask for that Outlook lacks (mj-button’s border-radius), not MJML’s own output', () => {
    const radius = finding(result, 'Outlook (Windows)', 'border-radius');
    expect(radius?.where).toMatch(/^lines \d+/);
    const lines = sample.split('\n');
    const first = Number(/\d+/.exec(radius?.where ?? '')?.[0]);
    expect(lines[first - 1]).toMatch(/border-radius/);
    // MJML's skeleton: its <body>, its responsive @media on .mj-column-*, its wrapper's aria-label.
    expect(finding(result, 'Outlook (macOS)', '<body> element')).toBeUndefined();
    expect(finding(result, 'Yahoo (web)', 'aria-label attribute')).toBeUndefined();
    expect(finding(result, 'Outlook (Windows)', '@media')?.where).toBe(
      `line ${lines.findIndex((l) => l.includes('prefers-color-scheme')) + 1}`,
    );
  });

  it('names Outlook.com where it lacks something the sample uses', () => {
    expect(result.findings.some((f) => f.client === 'Outlook.com')).toBe(true);
  });

  it('reports a template’s display:flex for Outlook on Windows at its line', async () => {
    const html = await renderSample((t) => ({
      ...t,
      main: {
        ...t.main,
        source: t.main.source.replace(
          'css-class="body">',
          'css-class="body">\n<mj-raw><div style="display:flex">flex</div></mj-raw>',
        ),
      },
    }));
    const flex = finding(checkCompatibility(html), 'Outlook (Windows)', 'display:flex');
    expect(flex).toBeDefined();
    const line = Number(/^line (\d+)$/.exec(flex?.where ?? '')?.[1]);
    expect(html.split('\n')[line - 1]).toContain('display:flex');
    expect(finding(result, 'Outlook (Windows)', 'display:flex')).toBeUndefined();
  });

  it('stays as short on an HTML ten times the size: findings grow with features, not with uses', () => {
    const open = sample.indexOf('>', sample.indexOf('<body')) + 1;
    const close = sample.lastIndexOf('</body>');
    const big = sample.slice(0, open) + sample.slice(open, close).repeat(10) + sample.slice(close);
    expect(big.length).toBeGreaterThan(sample.length * 9);
    const bigResult = checkCompatibility(big);
    expect(bigResult.findings.map((f) => `${f.client} ${f.text}`)).toEqual(
      result.findings.map((f) => `${f.client} ${f.text}`),
    );
  });
});
