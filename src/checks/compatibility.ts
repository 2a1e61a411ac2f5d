import { parseCss, rawData } from 'caniemail';
import type { CheckResult, Finding } from './check.js';
import { describeLines, type HtmlTag, lineIndex, scanHtml } from './links-images.js';

/**
 * Which features of a message's HTML and CSS each email client lacks, from caniemail's data
 * (the `caniemail` package's bundled caniemail.com data set).
 *
 * The data is caniemail's; the matching is Dispatch's own. caniemail 1.0.5's checker matches
 * feature names as substrings, which on MJML's output reports things no client sees: `<tbody>` as
 * `<body>` (Outlook on macOS, 67 times in the sample issue), `text-transform` as `transform`,
 * `line-height` as `height` (Yahoo, 54 times); it takes the "latest" test of a client as the last
 * version key in string order (Gmail on Android's "9" from 2018 over "2025-07"); its client list
 * has no Outlook.com although its data does; positions of CSS in `<style>` are relative to the
 * sheet and at-rules have none; and one CSS syntax error anywhere makes it throw. So this file
 * reads the same data (`rawData`, caniemail's public export) and matches exact property, value,
 * selector, element and attribute names, with lines in the HTML.
 */

/** An email client as caniemail's data names it (`family.platform`), and as a person does. */
export interface EmailClient {
  id: string;
  name: string;
}

/** The clients the check reports on. */
export const EMAIL_CLIENTS: readonly EmailClient[] = [
  { id: 'gmail.desktop-webmail', name: 'Gmail (web)' },
  { id: 'gmail.ios', name: 'Gmail (iOS)' },
  { id: 'gmail.android', name: 'Gmail (Android)' },
  { id: 'outlook.windows', name: 'Outlook (Windows)' },
  { id: 'outlook.macos', name: 'Outlook (macOS)' },
  { id: 'outlook.outlook-com', name: 'Outlook.com' },
  { id: 'apple-mail.macos', name: 'Apple Mail (macOS)' },
  { id: 'apple-mail.ios', name: 'Apple Mail (iOS)' },
  { id: 'yahoo.desktop-webmail', name: 'Yahoo (web)' },
];

const OUTLOOK_WINDOWS = 'outlook.windows';

// ---------------------------------------------------------------------------------------------
// caniemail's data: what each client lacks

interface Feature {
  title: string;
  slug: string;
  category: string;
  stats: Record<string, Record<string, Record<string, string>>>;
  notes_by_num: Record<string, string> | null;
}

/** What a client lacks of one feature: its caniemail note, if any. */
type Lacks = Map<string, string | undefined>;

/** Version keys as numbers, compared part by part: "2024-05" after "2019", "16.80" after "16.8". */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Markdown links and code marks out of a caniemail note: one plain sentence. */
function plainNote(note: string): string {
  return note
    .replace(/^(Not supported|Unsupported)\.\s*/i, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The clients that do not support a feature at its latest test ("n"), with the note caniemail
 * gives. Partial support ("a") is not a lack: caniemail marks most everyday CSS partial for
 * Outlook and Gmail (padding, margin, font-size) for details a list of lacks cannot carry.
 */
function lacksOf(feature: Feature): Lacks {
  const lacks: Lacks = new Map();
  for (const client of EMAIL_CLIENTS) {
    const [family, platform] = client.id.split('.') as [string, string];
    const versions = feature.stats[family]?.[platform];
    if (!versions) continue;
    const latest = Object.keys(versions).sort(compareVersions).at(-1);
    const support = latest === undefined ? undefined : versions[latest];
    if (!support?.startsWith('n')) continue;
    const number = /#(\d+)/.exec(support)?.[1];
    const note = number ? feature.notes_by_num?.[number] : undefined;
    lacks.set(client.id, note ? plainNote(note) : undefined);
  }
  return lacks;
}

/** How the HTML and CSS of a message name each feature, and who lacks it. Built once, on first use. */
interface Matchers {
  lacks: Map<string, Lacks>;
  property: Map<string, string[]>;
  propertyPrefix: [string, string][];
  pair: Map<string, string[]>;
  fn: Map<string, string[]>;
  valueWord: Map<string, string[]>;
  unit: Map<string, string>;
  atRule: Map<string, string>;
  mediaFeature: Map<string, string>;
  pseudo: Map<string, string>;
  element: Map<string, string[]>;
  attribute: Map<string, string[]>;
  elementAttribute: Map<string, string>;
  imageFormat: Map<string, string>;
  titles: Set<string>;
}

const add = (map: Map<string, string[]>, key: string, title: string) => map.set(key, [...(map.get(key) ?? []), title]);

/** Titles that name several properties, or a family of them, in words. */
const PROPERTY_GROUPS: Record<string, string[]> = {
  'left, right, top, bottom': ['left', 'right', 'top', 'bottom'],
  'gap, column-gap, row-gap': ['gap', 'column-gap', 'row-gap'],
  'css column properties': ['columns', 'column-width', 'column-rule', 'column-span', 'column-fill'],
  'border-inline & border-block longhand properties': [
    'border-inline-width',
    'border-inline-style',
    'border-inline-color',
    'border-block-width',
    'border-block-style',
    'border-block-color',
  ],
  'border-inline & border-block individual logical properties': [
    'border-inline-start',
    'border-inline-end',
    'border-block-start',
    'border-block-end',
  ],
  'border-radius logical properties': [
    'border-start-start-radius',
    'border-start-end-radius',
    'border-end-start-radius',
    'border-end-end-radius',
  ],
};
const PROPERTY_PREFIXES: Record<string, string> = {
  'grid-template-* properties': 'grid-template-',
  'scroll-snap': 'scroll-snap-',
};
const VALUE_WORDS: Record<string, string[]> = {
  'fit-content, min-content, max-content': ['fit-content', 'min-content', 'max-content'],
  'system-ui, ui-serif, ui-sans-serif, ui-rounded, ui-monospace': [
    'system-ui',
    'ui-serif',
    'ui-sans-serif',
    'ui-rounded',
    'ui-monospace',
  ],
};
const IMAGE_FORMATS: Record<string, string[]> = {
  'AVIF image format': ['avif'],
  'BMP image format': ['bmp'],
  'GIF image format': ['gif'],
  'HEIF image format': ['heif', 'heic'],
  'ICO image format': ['ico'],
  'JPG image format': ['jpg', 'jpeg'],
  'PNG image format': ['png'],
  'SVG image format': ['svg'],
  'TIFF image format': ['tif', 'tiff'],
  'webP image format': ['webp'],
  'Video as Image Assets': ['mp4'],
};
const SEMANTIC_ELEMENTS = [
  'article',
  'aside',
  'details',
  'figcaption',
  'figure',
  'footer',
  'header',
  'main',
  'mark',
  'nav',
  'section',
  'summary',
  'time',
];

let matchers: Matchers | undefined;

function buildMatchers(): Matchers {
  const m: Matchers = {
    lacks: new Map(),
    property: new Map(),
    propertyPrefix: [],
    pair: new Map(),
    fn: new Map(),
    valueWord: new Map(),
    unit: new Map(),
    atRule: new Map(),
    mediaFeature: new Map(),
    pseudo: new Map(),
    element: new Map(),
    attribute: new Map(),
    elementAttribute: new Map(),
    imageFormat: new Map(),
    titles: new Set(),
  };
  for (const feature of (rawData as unknown as { data: Feature[] }).data) {
    const { title } = feature;
    const lacks = lacksOf(feature);
    // A feature every client here supports cannot be reported: no need to look for it.
    if (lacks.size === 0) continue;
    m.lacks.set(title, lacks);
    m.titles.add(title);
    const name = title.trim();
    if (feature.category === 'image') {
      for (const ext of IMAGE_FORMATS[name] ?? []) m.imageFormat.set(ext, title);
      if (name === 'Base 64 image format') m.imageFormat.set('data:base64', title);
      continue;
    }
    if (feature.category === 'html') {
      const pair = /^<(\w+) (\w+)="(\w+)"> element$/.exec(name);
      if (pair) m.elementAttribute.set(`${pair[1]} ${pair[2]}=${pair[3]}`, title);
      else if (name === 'HTML5 semantics') for (const e of SEMANTIC_ELEMENTS) add(m.element, e, title);
      else if (name === '<h1> to <h6> elements') for (let h = 1; h <= 6; h++) add(m.element, `h${h}`, title);
      else if (name === '<ul>, <ol> and <dl>') for (const e of ['ul', 'ol', 'dl']) add(m.element, e, title);
      else if (name === 'Image maps') add(m.element, 'map', title);
      else if (name === 'Embedded <svg> image') add(m.element, 'svg', title);
      else if (name === 'address') add(m.element, 'address', title);
      else if (name === 'srcset and sizes attributes') for (const a of ['srcset', 'sizes']) add(m.attribute, a, title);
      else if (/^[a-z-]+ attribute$/.test(name)) add(m.attribute, name.replace(/ attribute$/, ''), title);
      else if (/^<\w+>( element)?$/.test(name))
        add(m.element, (/<(\w+)>/.exec(name) as RegExpExecArray)[1] as string, title);
      continue;
    }
    if (feature.category !== 'css') continue;
    if (name.startsWith('@media (')) {
      for (const f of name.matchAll(/\(([-\w]+)\)/g)) m.mediaFeature.set(f[1] as string, title);
    } else if (name.startsWith('@')) m.atRule.set(name.slice(1), title);
    else if (/^::?[a-z-]+(\(\))?$/.test(name)) m.pseudo.set(name.replace(/\(\)$/, ''), title);
    else if (name === 'lang()') m.pseudo.set(':lang', title);
    else if (name.endsWith(' unit')) m.unit.set(name.replace(/ unit$/, ''), title);
    else if (name === 'CSS calc() function') add(m.fn, 'calc', title);
    else if (name === 'CSS Variables (Custom Properties)') add(m.fn, 'var', title);
    else if (name.includes('()')) for (const f of name.matchAll(/([a-z-]+)\(\)/g)) add(m.fn, f[1] as string, title);
    else if (/^[a-z-]+:\s*[a-z-]+$/.test(name)) add(m.pair, name.replace(/\s+/g, ''), title);
    else if (PROPERTY_GROUPS[name]) for (const p of PROPERTY_GROUPS[name]) add(m.property, p, title);
    else if (PROPERTY_PREFIXES[name]) m.propertyPrefix.push([PROPERTY_PREFIXES[name], title]);
    else if (VALUE_WORDS[name]) for (const w of VALUE_WORDS[name]) add(m.valueWord, w, title);
    else if (name.includes(' & ')) for (const p of name.split(' & ')) add(m.property, p.trim(), title);
    else {
      const property = name.replace(/ (property|shorthand|CSS property)$/, '');
      if (/^[a-z-]+$/.test(property)) add(m.property, property, title);
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// What MJML writes, and handles, itself

/**
 * Declarations that ask for what a client lacking them does anyway: the initial value (MJML
 * writes `word-spacing:normal` on the body, `cursor:auto` and `text-transform:none` on buttons).
 */
const NO_EFFECT: Record<string, RegExp> = {
  'word-spacing': /^normal$/,
  cursor: /^auto$/,
  'text-transform': /^none$/,
  opacity: /^1(\.0*)?$/,
  overflow: /^visible$/,
  'word-break': /^normal$/,
  outline: /^(none|0(px)?)$/,
  // mj-image's `height:auto`: Yahoo turns height into min-height, and min-height:auto is nothing.
  height: /^auto$/,
  width: /^auto$/,
};

/** Class names MJML makes up for its own responsive and Outlook rules. */
const MJML_SELECTOR = /\.mj-[\w-]+|\.moz-text-html|\[owa\]|#outlook\b/;

/**
 * True for a rule MJML wrote: every selector names one of its own classes (`.mj-column-per-100`,
 * `.moz-text-html`, `[owa]`, `#outlook a`). These are progressive enhancement: the column widths
 * for clients that take `<style>` and media queries; a client without them gets the inline-styled
 * layout and Outlook on Windows its `<!--[if mso]>` tables.
 */
function isMjmlRule(selectors: readonly string[]): boolean {
  return selectors.length > 0 && selectors.every((s) => MJML_SELECTOR.test(s));
}

/**
 * MJML's reset sheet (`#outlook a`, then body, table, img and p resets): written for every
 * message, and harmless where a client drops it.
 */
function isMjmlReset(sheet: string): boolean {
  return /^\s*#outlook a\s*\{/.test(sheet);
}

// ---------------------------------------------------------------------------------------------
// Collecting what the message uses

interface Use {
  title: string;
  line: number;
  /** The clients this use is not charged to: Outlook on Windows, for markup it never reads. */
  notFor?: string;
  /** The at-rules it is inside: a client that lacks one of them drops the whole block. */
  within?: string[];
}

interface CssNode {
  type: string;
  selectors?: string[];
  declarations?: CssNode[];
  rules?: CssNode[];
  property?: string;
  value?: string;
  media?: string;
  position?: { start: { line: number } };
}

function declarationUses(m: Matchers, property: string, value: string, uses: (title: string) => void): void {
  const p = property.trim().toLowerCase();
  const v = value.trim();
  const lower = v.toLowerCase();
  const bare = lower.replace(/\s*!important\s*$/, '');
  if (NO_EFFECT[p]?.test(bare)) return;
  if (p.startsWith('--')) for (const t of m.fn.get('var') ?? []) uses(t);
  for (const t of m.property.get(p) ?? []) uses(t);
  for (const [prefix, t] of m.propertyPrefix) if (p.startsWith(prefix)) uses(t);
  for (const t of m.pair.get(`${p}:${bare}`) ?? []) uses(t);
  if (/!\s*important/.test(lower)) check(m, '!important keyword', uses);
  // Strings, url()s and colours can hold anything: look at the rest.
  const words = lower.replace(/"[^"]*"|'[^']*'|url\([^)]*\)|#[0-9a-f]+\b/g, ' ');
  for (const f of words.matchAll(/(?<![\w-])([a-z-]+)\(/g)) for (const t of m.fn.get(f[1] as string) ?? []) uses(t);
  for (const w of words.matchAll(/(?<![\w-])([a-z][\w-]*)(?![\w(-])/g)) {
    for (const t of m.valueWord.get(w[1] as string) ?? []) uses(t);
    if (w[1] === 'initial') {
      const t = m.unit.get('initial');
      if (t) uses(t);
    }
  }
  for (const u of words.matchAll(/(?<![\w.-])(?:\d+\.?\d*|\.\d+)(%|[a-z]+)(?![\w-])/g)) {
    const t = m.unit.get(u[1] as string);
    if (t) uses(t);
  }
}

/** Takes strings, attribute selectors' insides and pseudo-classes' arguments out of a selector. */
function selectorSkeleton(selector: string): string {
  return selector
    .replace(/"[^"]*"|'[^']*'/g, '""')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\([^()]*\)/g, '()');
}

function selectorUses(m: Matchers, selectors: readonly string[], uses: (title: string) => void): void {
  const check = (title: string, found: boolean) => {
    if (found && m.titles.has(title)) uses(title);
  };
  check('Grouping selectors', selectors.length >= 2);
  for (const selector of selectors) {
    for (const p of selector.matchAll(/::?[a-z-]+/gi)) {
      const t = m.pseudo.get((p[0] as string).toLowerCase());
      if (t) uses(t);
    }
    const skeleton = selectorSkeleton(selector).trim();
    const attributes = [...selector.matchAll(/\[\s*([\w-]+)/g)].map((a) => (a[1] as string).toLowerCase());
    check(
      'Attribute selector',
      attributes.some((a) => a !== 'id' && a !== 'class'),
    );
    check('Child combinator', skeleton.includes('>'));
    check('Adjacent sibling combinator', skeleton.includes('+'));
    check('General sibling combinator', skeleton.includes('~'));
    check('Descendant combinator', /[^\s>+~]\s+(?=[^\s>+~])/.test(skeleton));
    const compounds = skeleton.split(/\s*[\s>+~]\s*/).filter(Boolean);
    check(
      'ID selector',
      compounds.some((c) => c.includes('#')),
    );
    check(
      'Class selector',
      compounds.some((c) => c.includes('.')),
    );
    check(
      'Chaining selectors',
      compounds.some((c) => (c.match(/\.[\w-]/g) ?? []).length >= 2),
    );
    check(
      'Type selector',
      compounds.some((c) => /^[a-z]/i.test(c)),
    );
    check(
      'Universal selector *',
      compounds.some((c) => c.startsWith('*')),
    );
  }
}

function sheetUses(
  m: Matchers,
  nodes: readonly CssNode[],
  lineOf: (line: number) => number,
  out: Use[],
  within?: string[],
): void {
  for (const node of nodes) {
    const line = lineOf(node.position?.start.line ?? 1);
    const push = (title: string, at = line) => out.push({ title, line: at, within });
    if (node.type === 'comment') {
      check(m, 'CSS comments', push);
      continue;
    }
    if (node.type === 'rule') {
      const selectors = node.selectors ?? [];
      if (isMjmlRule(selectors)) continue;
      selectorUses(m, selectors, push);
    }
    if (node.rules) {
      // An at-rule holding only MJML's own rules is MJML's too (its responsive @media blocks).
      const own = node.rules.filter((r) => r.type === 'rule');
      if (own.length > 0 && own.every((r) => isMjmlRule(r.selectors ?? []))) continue;
    }
    const titles: string[] = [];
    const atRule = m.atRule.get(node.type);
    if (atRule) {
      titles.push(atRule);
      push(atRule);
    }
    if (node.type === 'media') {
      for (const f of (node.media ?? '').toLowerCase().matchAll(/\(\s*([-\w]+)/g)) {
        const name = (f[1] as string).replace(/^(-webkit-)?(min-|max-)/, '$1');
        const t = m.mediaFeature.get(name) ?? m.mediaFeature.get(f[1] as string);
        if (!t) continue;
        titles.push(t);
        // A client without @media has said all there is to say about this one.
        out.push({ title: t, line, within: atRule ? [...(within ?? []), atRule] : within });
      }
    }
    for (const d of node.declarations ?? []) {
      if (d.type !== 'declaration' || !d.property) continue;
      const at = lineOf(d.position?.start.line ?? node.position?.start.line ?? 1);
      declarationUses(m, d.property, d.value ?? '', (title) => push(title, at));
    }
    if (node.rules) sheetUses(m, node.rules, lineOf, out, titles.length ? [...(within ?? []), ...titles] : within);
  }
}

/** Splits an inline style into declarations: at `;` outside strings and parentheses. */
function inlineDeclarations(style: string): [string, string][] {
  const out: [string, string][] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  const text = style.replace(/\/\*[\s\S]*?\*\//g, ' ');
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if ((c === ';' && depth === 0) || c === undefined) {
      const part = text.slice(start, i);
      const colon = part.indexOf(':');
      if (colon > 0) out.push([part.slice(0, colon), part.slice(colon + 1)]);
      start = i + 1;
    }
  }
  return out;
}

function tagUses(m: Matchers, tag: HtmlTag, uses: (title: string, offset?: number) => void): void {
  // Every message has a <body>; MJML repeats its background and direction on the <div> it wraps
  // the message in, for the clients that drop <body> (Outlook on macOS).
  if (tag.name !== 'body') for (const t of m.element.get(tag.name) ?? []) uses(t);
  // MJML 5's wrapper <div aria-roledescription="email" role="article" aria-label lang dir>: for
  // screen readers that take it; a client that drops the attributes reads the message as before.
  const wrapper = tag.attributes.get('aria-roledescription') === 'email';
  for (const [name, value] of tag.attributes) {
    if (wrapper && (name.startsWith('aria-') || name === 'role')) continue;
    // target="_blank" where a client ignores target: it opens links in a new window anyway.
    if (name === 'target' && value.toLowerCase() === '_blank') continue;
    for (const t of m.attribute.get(name) ?? []) uses(t, tag.offsets.get(name));
    const pair = m.elementAttribute.get(`${tag.name} ${name}=${value.toLowerCase()}`);
    if (pair) uses(pair, tag.offsets.get(name));
  }
  if (tag.name === 'a') {
    const href = tag.attributes.get('href') ?? '';
    if (href.startsWith('#') || tag.attributes.has('name')) check(m, 'Local anchors', uses);
    if (/^mailto:/i.test(href)) check(m, 'mailto: links', uses);
  }
  if (tag.name === 'meta' && tag.attributes.get('name')?.toLowerCase() === 'color-scheme') {
    check(m, 'color-scheme meta tag', uses);
  }
  if (tag.name === 'img') {
    const src = (tag.attributes.get('src') ?? '').toLowerCase();
    const format = /^data:[^;,]*;base64,/.test(src)
      ? 'data:base64'
      : /\.([a-z0-9]+)(?:[?#]|$)/.exec(src.replace(/^[a-z]+:\/\/[^/]*/, ''))?.[1];
    const t = format ? m.imageFormat.get(format) : undefined;
    if (t) uses(t);
  }
  const style = tag.attributes.get('style');
  if (style) {
    const at = tag.offsets.get('style');
    const inStyle = (title: string) => uses(title, at);
    if (/\/\*/.test(style)) check(m, 'CSS comments', inStyle);
    const cellspacing = tag.attributes.get('cellspacing');
    for (const [property, value] of inlineDeclarations(style)) {
      // border-spacing:0 on a table with cellspacing="0": the attribute does it where CSS does not.
      if (property.trim().toLowerCase() === 'border-spacing' && cellspacing !== undefined) continue;
      declarationUses(m, property, value, inStyle);
    }
  }
}

function check(m: Matchers, title: string, uses: (title: string) => void): void {
  if (m.titles.has(title)) uses(title);
}

/**
 * Everything the HTML uses that some client lacks, with its line. Skipped as the MJML skeleton's
 * own, handled, output:
 * - the inside of `<!--[if mso]>` comments: only Outlook on Windows reads it, and MJML writes it
 *   for that client (VML, fixed-width tables);
 * - for Outlook on Windows, markup between `<!--[if !mso]><!-->` and `<!--<![endif]-->` and
 *   elements styled `mso-hide:all` (the preheader): it never shows them;
 * - MJML's reset sheet and its responsive rules on its own classes (see {@link isMjmlRule}), and
 *   declarations that set what a client lacking them does anyway (see {@link NO_EFFECT}).
 * What a template adds itself (its mj-style, its inline styles, mj-button's border-radius) is
 * reported: the template can change it.
 */
function collectUses(m: Matchers, html: string): { uses: Use[]; unreadable: number[] } {
  const line = lineIndex(html);
  const uses: Use[] = [];
  const unreadable: number[] = [];
  // The element styled mso-hide:all that is open, as its name and how deep in its own kind.
  let hidden: { name: string; depth: number } | null = null;
  for (const token of scanHtml(html)) {
    if (token.kind === 'comment') {
      check(m, 'HTML comments', (title) => uses.push({ title, line: line(token.start) }));
      continue;
    }
    // The doctype is MJML's, and a client without it renders as it would with none (caniemail:
    // "has no impact").
    if (token.kind === 'doctype') continue;
    if (token.kind === 'end') {
      if (hidden && token.name === hidden.name && --hidden.depth === 0) hidden = null;
      continue;
    }
    const style = token.attributes.get('style') ?? '';
    if (hidden && token.name === hidden.name) hidden.depth++;
    else if (!hidden && /mso-hide\s*:\s*all/i.test(style)) hidden = { name: token.name, depth: 1 };
    const notFor = token.condition === 'not-mso' || hidden ? OUTLOOK_WINDOWS : undefined;
    const at = line(token.start);
    tagUses(m, token, (title, offset) => uses.push({ title, line: offset === undefined ? at : line(offset), notFor }));
    if (token.name === 'style' && token.text) {
      const sheet = token.text.value;
      if (isMjmlReset(sheet)) continue;
      let parsed: { stylesheet?: { rules?: CssNode[] } };
      try {
        parsed = parseCss(sheet) as unknown as typeof parsed;
      } catch {
        unreadable.push(at);
        continue;
      }
      const first = line(token.text.start);
      sheetUses(m, parsed.stylesheet?.rules ?? [], (l) => first + l - 1, uses);
    }
  }
  return { uses, unreadable };
}

/** The backquoted name a person searches the template for: `border-radius`, `<style> element`. */
function featureName(title: string): string {
  return `\`${title.trim()}\``;
}

/**
 * The features of the message's HTML and CSS that each client lacks (caniemail's data): one
 * finding per client and feature, with the first lines where the message uses it. `warn` when
 * some client lacks something, `ok` otherwise; never `fail` (a lacking client degrades, it does
 * not lose the message). Linear in the HTML's length: one scan, and each tag, declaration and
 * selector looked up in maps built once from the data.
 */
export function checkCompatibility(html: string): CheckResult {
  matchers ??= buildMatchers();
  const m = matchers;
  const { uses, unreadable } = collectUses(m, html);
  // client -> title -> lines
  const found = new Map<string, Map<string, number[]>>();
  for (const use of uses) {
    const lacks = m.lacks.get(use.title);
    if (!lacks) continue;
    for (const client of lacks.keys()) {
      if (client === use.notFor) continue;
      // Inside an @media the client lacks: it drops the block, and that is reported once.
      if (use.within?.some((title) => m.lacks.get(title)?.has(client))) continue;
      const byTitle = found.get(client) ?? new Map<string, number[]>();
      const lines = byTitle.get(use.title) ?? [];
      lines.push(use.line);
      byTitle.set(use.title, lines);
      found.set(client, byTitle);
    }
  }
  const findings: Finding[] = [];
  const lacking = new Set<string>();
  for (const client of EMAIL_CLIENTS) {
    const byTitle = found.get(client.id);
    if (!byTitle) continue;
    // Lines are collected in document order: the first is the smallest.
    const ordered = [...byTitle].sort(([, a], [, b]) => (a[0] as number) - (b[0] as number));
    for (const [title, lines] of ordered) {
      lacking.add(title);
      const note = m.lacks.get(title)?.get(client.id);
      findings.push({
        state: 'warn',
        client: client.name,
        text: `${featureName(title)} is not supported${note ? `: ${note}` : ''}`,
        where: describeLines(lines),
      });
    }
  }
  for (const at of unreadable) {
    findings.push({ state: 'warn', text: 'a <style> block that could not be read as CSS', where: `line ${at}` });
  }
  const clients = found.size;
  return {
    id: 'compatibility',
    name: 'Compatibility',
    state: findings.length ? 'warn' : 'ok',
    summary: clients
      ? `${clients} of ${EMAIL_CLIENTS.length} clients lack ${lacking.size} feature(s) the message uses`
      : `all ${EMAIL_CLIENTS.length} clients support what the message uses`,
    findings,
  };
}
