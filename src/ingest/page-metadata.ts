import type { ArticleImage } from './article.js';
import { cleanText } from './clean-text.js';
import { isoDateOrNull } from './iso-date.js';
import { pageTitle } from './page-title.js';
import { safeHttpUrl } from './safe-url.js';

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

type Json = Record<string, unknown>;

const ARTICLE_TYPES = /^(?:NewsArticle|Article|ReportageNewsArticle|AnalysisNewsArticle|BlogPosting|Report|WebPage)$/;
/** JSON-LD items looked at, at most, for the article among them. */
const MAX_JSON_LD_ITEMS = 10_000;
/** Elements of one kind looked at, at most (h1s, breadcrumb links, section metas): a page may repeat any. */
const MAX_ELEMENTS = 20;
/** Where the article is; an h1 inside one is the article's own heading. */
const ARTICLE_PARTS = 'article, main, [role="main"], [itemprop="articleBody"]';
/** The site's furniture around the article: an h1 there is the site's name (a logo), not a headline. */
const SITE_PARTS = 'header, nav, footer, aside, [role="banner"]';
const BREADCRUMB_LINKS = '[class*="breadcrumb"] a, [aria-label="Breadcrumb"] a, [aria-label="breadcrumb"] a';

/** Clean text of a JSON-LD value: a string, the first of a list, or an object's name. */
export function jsonText(value: unknown): string | null {
  if (typeof value === 'string') return cleanText(value) || null;
  if (Array.isArray(value)) return jsonText(value[0]);
  if (value && typeof value === 'object' && 'name' in value) return jsonText((value as Json).name);
  return null;
}

function jsonTexts(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(jsonText).filter((v): v is string => !!v);
}

function names(value: unknown): string | null {
  const list = jsonTexts(value);
  return list.length ? list.join(', ') : null;
}

function isType(node: Json, pattern: RegExp): boolean {
  return ([] as unknown[]).concat(node['@type'] ?? []).some((t) => typeof t === 'string' && pattern.test(t));
}

/** Crumbs name the sections above the page; the last one often names the page itself, so it counts only when short. */
function crumbLabels(crumbs: readonly string[]): string[] {
  const last = crumbs.at(-1);
  const above = crumbs.slice(0, -1);
  return last && last.split(/\s+/).length <= 3 ? [...above, last] : above;
}

/** The first JSON-LD object that describes an article (inside arrays and @graph too), and the breadcrumbs' names. */
function readJsonLd(document: Document): { article: Json | null; crumbs: string[] } {
  const queue: unknown[] = [];
  for (const script of document.querySelectorAll('script[type="application/ld+json"]')) {
    try {
      queue.push(JSON.parse(script.textContent ?? ''));
    } catch {
      // A broken JSON-LD block is common on real sites; the rest of the metadata still counts.
    }
  }
  let article: Json | null = null;
  const crumbs: string[] = [];
  // An index, not shift(), and a bounded walk: a page may carry a JSON-LD array of any size.
  for (let next = 0; next < queue.length && next < MAX_JSON_LD_ITEMS; next++) {
    const item = queue[next];
    if (Array.isArray(item)) for (const element of item) queue.push(element);
    else if (item && typeof item === 'object') {
      const node = item as Json;
      if (!article && isType(node, ARTICLE_TYPES) && node.headline) article = node;
      else if (crumbs.length === 0 && isType(node, /^BreadcrumbList$/) && Array.isArray(node.itemListElement)) {
        const list = node.itemListElement.slice(0, MAX_ELEMENTS) as unknown[];
        for (const crumb of list) {
          const c = (crumb ?? {}) as Json;
          const name = jsonText(c.name) ?? jsonText(c.item);
          if (name) crumbs.push(name);
        }
      }
      if (node['@graph']) queue.push(node['@graph']);
    }
  }
  return { article, crumbs: crumbLabels(crumbs) };
}

/** The article's own h1 (inside the article, else the first outside the site's furniture), and the h1s of the furniture. */
function headings(document: Document): { heading: string | null; siteHeadings: string[] } {
  let heading: string | null = null;
  const siteHeadings: string[] = [];
  for (const h1 of Array.from(document.querySelectorAll('h1')).slice(0, MAX_ELEMENTS)) {
    const text = cleanText(h1.textContent ?? '');
    if (!text) continue;
    if (h1.closest(ARTICLE_PARTS)) return { heading: text, siteHeadings };
    if (h1.closest(SITE_PARTS)) siteHeadings.push(text);
    else heading ??= text;
  }
  return { heading, siteHeadings };
}

/**
 * What the page says about itself in its head (meta tags, JSON-LD) and its visible headings. The
 * title is reconciled by {@link pageTitle}; `kickers` are section names found in the page's header.
 * With it, the names of the site and its sections that the page shows or declares.
 */
export function pageMetadata(
  document: Document,
  baseUrl: string | null,
  kickers: readonly string[] = [],
): { metadata: PageMetadata; labels: string[] } {
  const meta = (...keys: string[]): string | null => {
    for (const key of keys) {
      const el = document.querySelector(`meta[property="${key}"], meta[name="${key}"], meta[itemprop="${key}"]`);
      const value = cleanText(el?.getAttribute('content') ?? '');
      if (value) return value;
    }
    return null;
  };
  const { article, crumbs } = readJsonLd(document);
  const ld = article ?? {};
  const canonical = document.querySelector('link[rel="canonical"]')?.getAttribute('href');
  const url =
    safeHttpUrl(canonical, baseUrl) ??
    safeHttpUrl(meta('og:url'), baseUrl) ??
    safeHttpUrl(jsonText(ld.url), baseUrl) ??
    baseUrl;
  const ldImage = Array.isArray(ld.image) ? ld.image[0] : ld.image;
  const imageUrl = safeHttpUrl(
    meta('og:image', 'og:image:url', 'twitter:image') ??
      (typeof ldImage === 'string' ? ldImage : jsonText((ldImage as Json | undefined)?.url)),
    url,
  );
  const rawAuthor = meta('author', 'article:author', 'byl', 'dc.creator');
  const htmlLang = document.documentElement?.getAttribute('lang');
  const locale = meta('og:locale')?.replace('_', '-');
  const siteName = meta('og:site_name', 'application-name') ?? jsonText((ld.publisher as Json | undefined)?.name);

  const { heading, siteHeadings } = headings(document);
  const sections = Array.from(document.querySelectorAll('meta[property="article:section"]'))
    .slice(0, MAX_ELEMENTS)
    .map((el) => el.getAttribute('content') ?? '');
  const breadcrumbs = Array.from(document.querySelectorAll(BREADCRUMB_LINKS))
    .slice(0, MAX_ELEMENTS)
    .map((a) => a.textContent ?? '');
  const labels = [
    ...(siteName ? [siteName] : []),
    ...kickers,
    ...sections,
    ...jsonTexts(Array.isArray(ld.articleSection) ? ld.articleSection.slice(0, MAX_ELEMENTS) : ld.articleSection),
    ...crumbs,
    ...breadcrumbs,
    ...siteHeadings,
  ]
    .map((label) => cleanText(label))
    .filter(Boolean);
  const title = pageTitle({
    heading,
    headline: jsonText(ld.headline),
    ogTitle: meta('og:title', 'twitter:title'),
    documentTitle: document.title,
    siteName,
    labels,
  });

  const metadata: PageMetadata = {
    title,
    url,
    description: meta('description', 'og:description', 'twitter:description') ?? jsonText(ld.description),
    byline: names(ld.author) ?? (rawAuthor && !safeHttpUrl(rawAuthor) ? rawAuthor.replace(/^by\s+/i, '') : null),
    publishedAt:
      isoDateOrNull(meta('article:published_time', 'datePublished', 'date', 'pubdate', 'publishdate', 'dc.date')) ??
      isoDateOrNull(jsonText(ld.datePublished)) ??
      isoDateOrNull(document.querySelector('time[datetime]')?.getAttribute('datetime')),
    siteName,
    language: (htmlLang?.trim() || null) ?? locale ?? jsonText(ld.inLanguage),
    image: imageUrl ? { url: imageUrl, alt: meta('og:image:alt', 'twitter:image:alt') } : null,
  };
  return { metadata, labels };
}
