import { createRequire } from 'node:module';
import type { Readability as ReadabilityClass } from '@mozilla/readability';
import type { parseHTML as ParseHTML } from 'linkedom';
import { DispatchError } from '../errors.js';
import type { ArticleImage } from './article.js';
import { cleanText, countWords } from './clean-text.js';
import { flattenDeepHtml } from './flatten-deep-html.js';
import { isoDateOrNull } from './iso-date.js';
import { safeHttpUrl } from './safe-url.js';
import type { Block } from './structure-blocks.js';

/** What an HTML page says about itself, beside its body. */
export interface PageMetadata {
  title: string | null;
  url: string | null;
  description: string | null;
  byline: string | null;
  publishedAt: string | null;
  siteName: string | null;
  language: string | null;
  image: ArticleImage | null;
}

export interface HtmlArticle {
  metadata: PageMetadata;
  blocks: Block[];
}

type Json = Record<string, unknown>;

// linkedom and Readability take ~150 ms to import, and text or JSON articles never need them:
// load them on the first HTML page (both ship CommonJS builds, so this stays synchronous).
const require = createRequire(import.meta.url);
let dom: { parseHTML: typeof ParseHTML; Readability: typeof ReadabilityClass } | undefined;
function loadDom(): NonNullable<typeof dom> {
  dom ??= { parseHTML: require('linkedom').parseHTML, Readability: require('@mozilla/readability').Readability };
  return dom;
}

const ARTICLE_TYPES = /^(?:NewsArticle|Article|ReportageNewsArticle|AnalysisNewsArticle|BlogPosting|Report|WebPage)$/;
const BLOCKS = new Set(['P', 'LI', 'BLOCKQUOTE', 'PRE', 'DD', 'DT', 'TD']);
const HEADINGS = new Set(['H1', 'H2', 'H3', 'H4', 'H5', 'H6']);
const SKIP = new Set([
  'FIGCAPTION',
  'FIGURE',
  'SCRIPT',
  'STYLE',
  'NOSCRIPT',
  'BUTTON',
  'FORM',
  'NAV',
  'ASIDE',
  'IFRAME',
]);
/** Standfirsts and kickers: part of the page's header, not of the article's body. */
const HEADER_PARTS =
  '.dek, .deck, .standfirst, .subtitle, .sub-headline, .subheadline, .article-summary, .kicker, .strapline';
/** Fewer words than this after cleaning is a page, not an article. */
const MIN_ARTICLE_WORDS = 25;

function text(value: unknown): string | null {
  if (typeof value === 'string') return cleanText(value) || null;
  if (Array.isArray(value)) return text(value[0]);
  if (value && typeof value === 'object' && 'name' in value) return text((value as Json).name);
  return null;
}

function names(value: unknown): string | null {
  const list = (Array.isArray(value) ? value : [value]).map(text).filter((v): v is string => !!v);
  return list.length ? list.join(', ') : null;
}

/** JSON-LD items looked at, at most, for the article among them. */
const MAX_JSON_LD_ITEMS = 10_000;

/** The first JSON-LD object that describes an article, looking inside arrays and @graph. */
function jsonLdArticle(document: Document): Json | null {
  const queue: unknown[] = [];
  for (const script of document.querySelectorAll('script[type="application/ld+json"]')) {
    try {
      queue.push(JSON.parse(script.textContent ?? ''));
    } catch {
      // A broken JSON-LD block is common on real sites; the rest of the metadata still counts.
    }
  }
  // An index, not shift(), and a bounded walk: a page may carry a JSON-LD array of any size.
  for (let next = 0; next < queue.length && next < MAX_JSON_LD_ITEMS; next++) {
    const item = queue[next];
    if (Array.isArray(item)) for (const element of item) queue.push(element);
    else if (item && typeof item === 'object') {
      const node = item as Json;
      const types = ([] as unknown[]).concat(node['@type'] ?? []);
      if (types.some((t) => typeof t === 'string' && ARTICLE_TYPES.test(t)) && node.headline) return node;
      if (node['@graph']) queue.push(node['@graph']);
    }
  }
  return null;
}

function readMetadata(document: Document, baseUrl: string | null): PageMetadata {
  const meta = (...keys: string[]): string | null => {
    for (const key of keys) {
      const el = document.querySelector(`meta[property="${key}"], meta[name="${key}"], meta[itemprop="${key}"]`);
      const value = cleanText(el?.getAttribute('content') ?? '');
      if (value) return value;
    }
    return null;
  };
  const ld = jsonLdArticle(document) ?? {};
  const canonical = document.querySelector('link[rel="canonical"]')?.getAttribute('href');
  const url =
    safeHttpUrl(canonical, baseUrl) ??
    safeHttpUrl(meta('og:url'), baseUrl) ??
    safeHttpUrl(text(ld.url), baseUrl) ??
    baseUrl;
  const ldImage = Array.isArray(ld.image) ? ld.image[0] : ld.image;
  const imageUrl = safeHttpUrl(
    meta('og:image', 'og:image:url', 'twitter:image') ??
      (typeof ldImage === 'string' ? ldImage : text((ldImage as Json | undefined)?.url)),
    url,
  );
  const h1 = document.querySelector('h1')?.textContent;
  const rawAuthor = meta('author', 'article:author', 'byl', 'dc.creator');
  const htmlLang = document.documentElement?.getAttribute('lang');
  const locale = meta('og:locale')?.replace('_', '-');

  return {
    title: text(ld.headline) ?? meta('og:title', 'twitter:title') ?? text(h1) ?? text(document.title),
    url,
    description: meta('description', 'og:description', 'twitter:description') ?? text(ld.description),
    byline: names(ld.author) ?? (rawAuthor && !safeHttpUrl(rawAuthor) ? rawAuthor.replace(/^by\s+/i, '') : null),
    publishedAt:
      isoDateOrNull(meta('article:published_time', 'datePublished', 'date', 'pubdate', 'publishdate', 'dc.date')) ??
      isoDateOrNull(text(ld.datePublished)) ??
      isoDateOrNull(document.querySelector('time[datetime]')?.getAttribute('datetime')),
    siteName: meta('og:site_name', 'application-name') ?? text((ld.publisher as Json | undefined)?.name),
    language: (htmlLang?.trim() || null) ?? locale ?? text(ld.inLanguage),
    image: imageUrl ? { url: imageUrl, alt: meta('og:image:alt', 'twitter:image:alt') } : null,
  };
}

/** Walks Readability's output into blocks: headings, and the text of each paragraph-like element. */
function collectBlocks(root: Element, blocks: Block[]): void {
  for (const child of Array.from(root.children)) {
    const tag = child.tagName.toUpperCase();
    if (SKIP.has(tag)) continue;
    if (HEADINGS.has(tag)) {
      blocks.push({ text: child.textContent ?? '', heading: true });
    } else if (BLOCKS.has(tag) && !child.querySelector('p, li, blockquote, h2, h3, h4, div')) {
      blocks.push({ text: child.textContent ?? '' });
    } else if (child.children.length === 0 || (tag === 'DIV' && !child.querySelector('p, li, h2, h3, h4, div'))) {
      blocks.push({ text: child.textContent ?? '' });
    } else {
      collectBlocks(child, blocks);
    }
  }
}

/** An HTML page: its metadata, and its article body found by Readability. */
export function readHtml(html: string, options: { url?: string | null; source?: string } = {}): HtmlArticle {
  const where = options.source ?? 'input';
  const { parseHTML, Readability } = loadDom();
  // A fragment (a feed item's content) gets the document around it that Readability expects.
  const page = /<body[\s>]/i.test(html) ? html : `<!doctype html><html><head></head><body>${html}</body></html>`;
  // Before linkedom and Readability, which recurse over the tree: content nested deeper than real
  // pages nest is flattened, keeping its text.
  const { document } = parseHTML(flattenDeepHtml(page)) as unknown as { document: Document };
  const metadata = readMetadata(document, safeHttpUrl(options.url));
  for (const part of document.querySelectorAll(HEADER_PARTS)) {
    if (part.classList.contains('dek') || part.classList.contains('standfirst')) {
      metadata.description ??= text(part.textContent);
    }
    part.remove();
  }

  // Readability changes the document it reads, so the metadata above comes first.
  const parsed = new Readability<Element>(document, {
    serializer: (node) => node as Element,
    charThreshold: 200,
  }).parse();
  const content = parsed?.content;
  if (!parsed || !content) {
    throw new DispatchError('E_HTML_NO_ARTICLE', `${where}: the page has no readable article`);
  }
  metadata.title ??= text(parsed.title);
  metadata.byline ??= text(parsed.byline)?.replace(/^by\s+/i, '') ?? null;
  metadata.siteName ??= text(parsed.siteName);
  metadata.language ??= text(parsed.lang);
  metadata.publishedAt ??= isoDateOrNull(parsed.publishedTime);

  const blocks: Block[] = [];
  collectBlocks(content, blocks);
  const title = metadata.title ? cleanText(metadata.title) : null;
  const body = blocks.filter((b) => !(b.heading && title && cleanText(b.text) === title));
  const words = body.reduce((n, b) => n + (b.heading ? 0 : countWords(b.text)), 0);
  if (words < MIN_ARTICLE_WORDS) {
    throw new DispatchError('E_HTML_NO_ARTICLE', `${where}: the page has no readable article (${words} words of text)`);
  }
  return { metadata, blocks: body };
}
