import type { CheckState, Finding } from './check.js';

/**
 * Links and images in a message's HTML: where each one is (`inventory`), and the checks that need
 * no network (syntax, https, UTM, alt text, dimensions). io/check-links.ts adds reachability and
 * image sizes on top. The tag scanner here is also what the compatibility check reads the HTML with.
 */

// ---------------------------------------------------------------------------------------------
// The tag scanner

/**
 * A conditional comment around a tag: `mso` when only Outlook on Windows reads it
 * (`<!--[if mso]> … <![endif]-->`), `not-mso` when Outlook on Windows skips it and every other
 * client reads it (`<!--[if !mso]><!--> … <!--<![endif]-->`).
 */
export type Condition = 'mso' | 'not-mso';

/** A start tag. Attribute names are lowercased; values are entity-decoded. */
export interface HtmlTag {
  kind: 'tag';
  name: string;
  attributes: Map<string, string>;
  /** Offset of its `<` in the HTML. */
  start: number;
  /** Offset of each attribute's name: MJML writes a tag's attributes on the lines after its `<`. */
  offsets: Map<string, number>;
  condition?: Condition;
  /** The raw text inside `<style>` (and other raw-text elements), and where it starts. */
  text?: { value: string; start: number };
}

export type HtmlToken =
  | HtmlTag
  | { kind: 'end'; name: string; start: number; condition?: Condition }
  | { kind: 'comment'; start: number; condition?: Condition }
  | { kind: 'doctype'; value: string; start: number };

export interface ScanOptions {
  /**
   * Also read what is inside `<!--[if mso]>` comments (tagged `condition: 'mso'`): Outlook on
   * Windows shows it. Off, those comments are only comments. @defaultValue false
   */
  enterConditionals?: boolean;
}

const RAW_TEXT = new Set(['style', 'script', 'title', 'textarea', 'xmp']);
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  equals: '=',
  quest: '?',
  num: '#',
  sol: '/',
  colon: ':',
  percnt: '%',
  plus: '+',
};

/** Decodes character references (`&amp;`, `&#61;`, `&#x3D;`); unknown names are left as they are. */
export function decodeEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** 1-based line numbers of offsets in a text, found by binary search over its line starts. */
export function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] as number) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

function isNameStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isSpace(char: string | undefined): boolean {
  return char === ' ' || char === '\n' || char === '\t' || char === '\r' || char === '\f';
}

/**
 * Reads a start tag's name and attributes from `<` at `from`. Every character is looked at once;
 * a quote that never closes ends the tag at the end of the text, so broken HTML costs no more
 * than good HTML.
 */
function readTag(
  html: string,
  from: number,
): { name: string; attributes: Map<string, string>; offsets: Map<string, number>; end: number } {
  let i = from + 1;
  while (i < html.length && /[\w:-]/.test(html[i] as string)) i++;
  const name = html.slice(from + 1, i).toLowerCase();
  const attributes = new Map<string, string>();
  const offsets = new Map<string, number>();
  while (i < html.length) {
    while (isSpace(html[i]) || html[i] === '/') i++;
    if (i >= html.length || html[i] === '>') break;
    const nameStart = i;
    while (i < html.length && !isSpace(html[i]) && html[i] !== '=' && html[i] !== '>' && html[i] !== '/') i++;
    // A lone character no name can start with (a stray quote): step over it.
    if (i === nameStart) i++;
    const attribute = html.slice(nameStart, i).toLowerCase();
    while (isSpace(html[i])) i++;
    let value = '';
    if (html[i] === '=') {
      i++;
      while (isSpace(html[i])) i++;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        const end = close === -1 ? html.length : close;
        value = html.slice(i + 1, end);
        i = end + 1;
      } else {
        const valueStart = i;
        while (i < html.length && !isSpace(html[i]) && html[i] !== '>') i++;
        value = html.slice(valueStart, i);
      }
    }
    if (attribute && !attributes.has(attribute)) {
      attributes.set(attribute, decodeEntities(value));
      offsets.set(attribute, nameStart);
    }
  }
  return { name, attributes, offsets, end: Math.min(i + 1, html.length) };
}

/**
 * The tags, end tags, comments and doctype of an HTML text, in order, in one pass (linear in its
 * length). It is a scanner, not a parser: no tree is built and nothing is repaired, which is all
 * the checks need (what is used, and on which line).
 *
 * Conditional comments are what MJML writes for Outlook on Windows. `<!--[if mso]> … <![endif]-->`
 * is one comment to every other client; with `enterConditionals` its inside is scanned too, tagged
 * `mso`. Between `<!--[if !mso]><!-->` and `<!--<![endif]-->` every client but Outlook on Windows
 * reads the markup: it is tagged `not-mso`.
 */
export function scanHtml(html: string, options: ScanOptions = {}): HtmlToken[] {
  const tokens: HtmlToken[] = [];
  scanInto(html, 0, html.length, undefined, options, tokens);
  return tokens;
}

function scanInto(
  html: string,
  from: number,
  to: number,
  outer: Condition | undefined,
  options: ScanOptions,
  tokens: HtmlToken[],
): void {
  let condition = outer;
  let i = from;
  while (i < to) {
    const open = html.indexOf('<', i);
    if (open === -1 || open >= to) break;
    if (html.startsWith('<!--', open)) {
      const close = html.indexOf('-->', open + 4);
      const end = close === -1 || close + 3 > to ? to : close + 3;
      const body = html.slice(open + 4, Math.max(open + 4, end - 3));
      const conditional = /^\[if ([^\]]*)\]>/i.exec(body);
      if (conditional && body.endsWith('<!')) {
        // <!--[if !mso]><!-->: the markup that follows, up to <!--<![endif]-->, is for everyone else.
        if (/!\s*mso/i.test(conditional[1] as string) && !outer) condition = 'not-mso';
      } else if (conditional) {
        const inside = open + 4 + conditional[0].length;
        const endif = body.lastIndexOf('<![endif]');
        const insideEnd = open + 4 + (endif === -1 ? body.length : endif);
        const forMso = /\bmso\b/i.test(conditional[1] as string) && !/!\s*mso/i.test(conditional[1] as string);
        if (options.enterConditionals && forMso) scanInto(html, inside, insideEnd, 'mso', options, tokens);
        else tokens.push({ kind: 'comment', start: open, condition });
      } else if (body.startsWith('<![endif]')) {
        condition = outer;
      } else {
        tokens.push({ kind: 'comment', start: open, condition });
      }
      i = end;
      continue;
    }
    const next = html.charCodeAt(open + 1);
    if (next === 47 /* / */ && isNameStart(html.charCodeAt(open + 2))) {
      const close = html.indexOf('>', open);
      const end = close === -1 || close >= to ? to : close + 1;
      const name = /^[\w:-]+/.exec(html.slice(open + 2, Math.min(end, open + 66)))?.[0] ?? '';
      tokens.push({ kind: 'end', name: name.toLowerCase(), start: open, condition });
      i = end;
      continue;
    }
    if (next === 33 /* ! */ || next === 63 /* ? */) {
      const close = html.indexOf('>', open);
      const end = close === -1 || close >= to ? to : close + 1;
      const value = html.slice(open + 2, end - 1);
      if (/^doctype/i.test(value)) tokens.push({ kind: 'doctype', value: value.slice(7).trim(), start: open });
      i = end;
      continue;
    }
    if (!isNameStart(next)) {
      i = open + 1;
      continue;
    }
    const { name, attributes, offsets, end } = readTag(html, open);
    const tag: HtmlTag = { kind: 'tag', name, attributes, offsets, start: open, condition };
    tokens.push(tag);
    i = Math.min(end, to);
    if (RAW_TEXT.has(name)) {
      const closing = new RegExp(`</${name}[\\s>/]`, 'gi');
      closing.lastIndex = i;
      const found = closing.exec(html);
      const textEnd = found && found.index < to ? found.index : to;
      tag.text = { value: html.slice(i, textEnd), start: i };
      i = textEnd;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What the message links to and shows

/** A link: an `<a href>` of the HTML. */
export interface LinkRef {
  /** The href as a client reads it: entity-decoded, surrounding white space trimmed. */
  href: string;
  line: number;
  /** Inside `<!--[if mso]>`: only Outlook on Windows shows it. */
  condition?: Condition;
}

/** An image: an `<img>` of the HTML, with what it says about its size. */
export interface ImageRef {
  src: string;
  /** null when the attribute is missing; "" is an empty (decorative) alt. */
  alt: string | null;
  /** The width and height attributes, as written (`600`, `auto`, `100%`). */
  width: string | null;
  height: string | null;
  /** Width and height from its inline style, as written (`100%`, `auto`, `120px`). */
  styleWidth: string | null;
  styleHeight: string | null;
  /** The href of the link the image sits in, if any. */
  link: string | null;
  line: number;
  condition?: Condition;
}

/** The value of one property in an inline style attribute (the last one wins, as in CSS). */
export function styleValue(style: string, property: string): string | null {
  let found: string | null = null;
  for (const declaration of style.split(';')) {
    const colon = declaration.indexOf(':');
    if (colon === -1) continue;
    if (declaration.slice(0, colon).trim().toLowerCase() === property) {
      found = declaration
        .slice(colon + 1)
        .replace(/!important/i, '')
        .trim();
    }
  }
  return found;
}

/**
 * Every link and image of the HTML, in order, with its line. Markup inside `<!--[if mso]>` counts
 * too: Outlook on Windows shows it.
 */
export function inventory(html: string): { links: LinkRef[]; images: ImageRef[] } {
  const line = lineIndex(html);
  const links: LinkRef[] = [];
  const images: ImageRef[] = [];
  // For each open <a>, the href of the nearest link around it (its own, or an outer one's), so the
  // link an image sits in is the top of the stack.
  const open: (string | null)[] = [];
  for (const token of scanHtml(html, { enterConditionals: true })) {
    if (token.kind === 'end' && token.name === 'a') open.pop();
    if (token.kind !== 'tag') continue;
    if (token.name === 'a') {
      const href = token.attributes.get('href');
      if (href !== undefined) links.push({ href: href.trim(), line: line(token.start), condition: token.condition });
      open.push(href?.trim() ?? open.at(-1) ?? null);
    } else if (token.name === 'img') {
      const style = token.attributes.get('style') ?? '';
      images.push({
        src: (token.attributes.get('src') ?? '').trim(),
        alt: token.attributes.get('alt') ?? null,
        width: token.attributes.get('width') ?? null,
        height: token.attributes.get('height') ?? null,
        styleWidth: styleValue(style, 'width'),
        styleHeight: styleValue(style, 'height'),
        link: open.at(-1) ?? null,
        line: line(token.start),
        condition: token.condition,
      });
    }
  }
  return { links, images };
}

// ---------------------------------------------------------------------------------------------
// Checks that need no network

/** What the pure checks need to know about the message's links. */
export interface LinkRules {
  /** `UTM_PARAMS`: links to the publisher's site should carry utm_source, utm_medium and utm_campaign. */
  utm?: boolean;
  /** `SITE_URL`: whose host the UTM rule is about. */
  siteUrl?: string;
  /**
   * Prefixes of pages Dispatch links without UTM on purpose: its own pages (PUBLIC_URL: the
   * archive, preferences, unsubscribe) and the archive (ARCHIVE_URL) when it is elsewhere.
   * @defaultValue []
   */
  ownPages?: readonly string[];
  /** Per-recipient links (unsubscribe, preferences, confirm): they carry a token, and no UTM. @defaultValue [] */
  skip?: readonly string[];
}

/** What a link check found about one URL: its state and, unless ok, why. */
export interface LinkVerdict {
  state: CheckState;
  text: string;
}

const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign'] as const;

/** Scheme typos that `new URL` would take as a relative path (`http//`, `https:/`) or a scheme of its own (`htps://`). */
function schemeTypo(href: string): string | null {
  if (/^https?\/\//i.test(href)) return 'the colon after http is missing';
  if (/^https?:\/(?!\/)/i.test(href)) return 'one slash after http: where two belong';
  if (/^https?:\/\/\/+/i.test(href)) return 'three slashes after http:';
  if (/^https?:\/\/https?[:/]/i.test(href)) return 'the scheme twice';
  const scheme = /^([a-z]+):\/\//i.exec(href)?.[1]?.toLowerCase();
  if (scheme && scheme !== 'http' && scheme !== 'https' && /^h*t+p+s*$/.test(scheme)) return `"${scheme}:" for https:`;
  return null;
}

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** The address of a mailto: URL, or null when it has none. */
function mailtoAddress(url: URL): string | null {
  let to: string;
  try {
    to = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  const first = to.split(',')[0]?.trim() ?? '';
  return /^[^@\s]+@[^@\s]+$/.test(first) ? first : null;
}

/**
 * The syntax of one link: fail when no client can follow it (no URL, a relative URL, a typo in
 * the scheme, a space, an unfilled `{{token}}`, a scheme other than https, http and mailto),
 * warn for plain http. Returns null when the link is well-formed https or mailto.
 */
export function linkSyntax(href: string): LinkVerdict | null {
  if (!href) return { state: 'fail', text: 'empty link' };
  if (/\{\{|\}\}/.test(href)) return { state: 'fail', text: 'an unfilled template token in the link' };
  const typo = schemeTypo(href);
  if (typo) return { state: 'fail', text: `not a valid URL: ${typo}` };
  // Clients cut a link at a space or encode it into a different address: never what was meant.
  if (/\s/.test(href)) return { state: 'fail', text: 'the link contains a space' };
  const url = parseUrl(href);
  // A message has no base URL: a relative link goes nowhere.
  if (!url) return { state: 'fail', text: /^[a-z][\w+.-]*:/i.test(href) ? 'not a valid URL' : 'not an absolute URL' };
  if (url.protocol === 'mailto:') {
    return mailtoAddress(url) ? null : { state: 'fail', text: 'a mailto: link without an address' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { state: 'fail', text: `a ${url.protocol} link: only https and mailto belong in a newsletter` };
  }
  if (!url.hostname) return { state: 'fail', text: 'not a valid URL: no host' };
  if (url.protocol === 'http:') return { state: 'warn', text: 'not https: the link is sent in the clear' };
  return null;
}

/** The syntax of an image source: an absolute https URL (warn for http) or a data:image URL. */
export function imageSourceSyntax(src: string): LinkVerdict | null {
  if (!src) return { state: 'fail', text: 'an image without a src' };
  if (/^data:image\//i.test(src)) return null;
  if (/\{\{|\}\}/.test(src)) return { state: 'fail', text: 'an unfilled template token in the image source' };
  const typo = schemeTypo(src);
  if (typo) return { state: 'fail', text: `not a valid image URL: ${typo}` };
  if (/\s/.test(src)) return { state: 'fail', text: 'the image source contains a space' };
  const url = parseUrl(src);
  if (!url) return { state: 'fail', text: 'not an absolute image URL' };
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname) {
    return { state: 'fail', text: `a ${url.protocol} image source: only https (or data:image) shows everywhere` };
  }
  if (url.protocol === 'http:') return { state: 'warn', text: 'not https: some clients block plain-http images' };
  return null;
}

/**
 * The UTM rule, as Dispatch tags links (src/newsletter/build-issue.ts): with UTM_PARAMS on, the
 * story links and the sign-up link carry utm_source, utm_medium and utm_campaign; the home page
 * (SITE_URL itself, in the masthead and footer), Dispatch's own pages and the per-recipient links
 * do not. Stories may live on any host, so only the ones on SITE_URL's host are known to be the
 * publisher's: a link there other than the home page, Dispatch's own pages and the skip list
 * should carry all three. A link anywhere that carries some utm_* but not all three is incomplete.
 */
export function utmProblem(href: string, rules: LinkRules): LinkVerdict | null {
  if (!rules.utm) return null;
  const url = parseUrl(href);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return null;
  const present = UTM_KEYS.filter((key) => url.searchParams.get(key));
  if (present.length > 0 && present.length < UTM_KEYS.length) {
    const missing = UTM_KEYS.filter((key) => !present.includes(key));
    return { state: 'warn', text: `incomplete UTM: ${missing.join(', ')} missing` };
  }
  if (present.length === UTM_KEYS.length) return null;
  const site = rules.siteUrl ? parseUrl(rules.siteUrl) : null;
  if (!site || url.host !== site.host) return null;
  const bare = (u: string) => u.replace(/[?#].*$/, '').replace(/\/+$/, '');
  if (bare(url.href) === bare(site.href) && !url.search) return null;
  if (rules.skip?.includes(href)) return null;
  if (rules.ownPages?.some((prefix) => prefix && href.startsWith(prefix))) return null;
  return { state: 'warn', text: 'no UTM parameters (UTM_PARAMS is on): visits from it will not be counted' };
}

/** Lines as a person reads them: "line 12", "lines 12, 40 and 7 more". */
export function describeLines(lines: readonly number[], first = 'line', shown = 4): string {
  const unique = [...new Set(lines)].sort((a, b) => a - b);
  if (unique.length === 1) return `${first} ${unique[0]}`;
  const head = unique.slice(0, shown).join(', ');
  const rest = unique.length - shown;
  return `${first}s ${head}${rest > 0 ? ` and ${rest} more` : ''}`;
}

/** The links grouped by href, in order of first appearance, with every line each is on. */
export function distinctLinks(links: readonly LinkRef[]): { href: string; lines: number[] }[] {
  const byHref = new Map<string, number[]>();
  for (const link of links) {
    const lines = byHref.get(link.href) ?? [];
    lines.push(link.line);
    byHref.set(link.href, lines);
  }
  return [...byHref].map(([href, lines]) => ({ href, lines }));
}

/** The pure findings about links: syntax, https and UTM, one per problem and URL. */
export function linkFindings(links: readonly LinkRef[], rules: LinkRules = {}): Finding[] {
  const findings: Finding[] = [];
  for (const { href, lines } of distinctLinks(links)) {
    const where = describeLines(lines);
    for (const verdict of [linkSyntax(href), utmProblem(href, rules)]) {
      if (verdict && verdict.state !== 'ok')
        findings.push({ state: verdict.state, text: verdict.text, where, url: href });
    }
  }
  return findings;
}

const DIMENSION = /^\d+(\.\d+)?(px)?$/i;

/**
 * The pure findings about images.
 *
 * - alt: a missing alt attribute is a warning (screen readers read out the file name, and
 *   Outlook, which blocks images by default, shows nothing in their place). alt="" is right for
 *   a decorative image, and is taken as decorative unless the image is a link's content: a linked
 *   image with an empty alt leaves a link that says nothing, which is a warning too.
 * - width and height: Outlook on Windows sizes an image by its width attribute alone (it ignores
 *   CSS widths on images), so a numeric width attribute is required. For the height, a number or
 *   `auto` (MJML's mj-image writes `width="600" height="auto"`: the height follows the width at the
 *   image's own proportions) in the attribute or the inline style counts; no height at all is a
 *   warning, since clients then cannot size the image before it loads.
 * - the source must be an absolute https URL (http is a warning) or a data:image URL.
 */
export function imageFindings(images: readonly ImageRef[]): Finding[] {
  const findings: Finding[] = [];
  for (const image of images) {
    const where = `line ${image.line}`;
    const url = image.src;
    const add = (state: Finding['state'], text: string) => findings.push({ state, text, where, url });
    const source = imageSourceSyntax(image.src);
    if (source) add(source.state, source.text);
    if (image.alt === null)
      add('warn', 'no alt text: screen readers and clients that block images show nothing useful');
    else if (!image.alt.trim() && image.link) add('warn', 'empty alt text on a linked image: the link says nothing');
    if (!image.width || !DIMENSION.test(image.width.trim())) {
      add(
        'warn',
        image.width
          ? `width="${image.width}" is not a pixel width: Outlook on Windows needs a number`
          : 'no width attribute: Outlook on Windows shows the image at its natural size',
      );
    }
    const height = image.height ?? image.styleHeight;
    if (!height) add('warn', 'no height (attribute or style): its space cannot be kept before it loads');
  }
  return findings;
}
