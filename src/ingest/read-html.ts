import { createRequire } from 'node:module';
import type { Readability as ReadabilityClass } from '@mozilla/readability';
import type { parseHTML as ParseHTML } from 'linkedom';
import { DispatchError } from '../errors.js';
import { cleanText, countWords, hasVisibleText } from './clean-text.js';
import { flattenDeepHtml } from './flatten-deep-html.js';
import { htmlBlocks } from './html-blocks.js';
import { isoDateOrNull } from './iso-date.js';
import { type PageMetadata, pageMetadata } from './page-metadata.js';
import { titleKey } from './page-title.js';
import { safeHttpUrl } from './safe-url.js';
import type { Block } from './structure-blocks.js';

export type { PageMetadata } from './page-metadata.js';

export interface HtmlArticle {
  metadata: PageMetadata;
  blocks: Block[];
}

// linkedom and Readability take ~150 ms to import, and text or JSON articles never need them:
// load them on the first HTML page (both ship CommonJS builds, so this stays synchronous).
const require = createRequire(import.meta.url);
let dom: { parseHTML: typeof ParseHTML; Readability: typeof ReadabilityClass } | undefined;
function loadDom(): NonNullable<typeof dom> {
  dom ??= { parseHTML: require('linkedom').parseHTML, Readability: require('@mozilla/readability').Readability };
  return dom;
}

/** Standfirsts and kickers: part of the page's header, not of the article's body. */
const HEADER_PARTS =
  '.dek, .deck, .standfirst, .subtitle, .sub-headline, .subheadline, .article-summary, .kicker, .strapline';
/** Fewer words than this after cleaning is a page, not an article. */
const MIN_ARTICLE_WORDS = 25;

function text(value: string | null | undefined): string | null {
  return value ? cleanText(value) || null : null;
}

/**
 * The body's blocks without what repeats the page's furniture: a heading that is the title, and,
 * before the article begins, headings that name the site or a section (a kicker Readability kept).
 */
function withoutFurniture(blocks: Block[], title: string | null, labels: readonly string[]): Block[] {
  const titleKeyed = title ? titleKey(title) : null;
  const labelKeys = new Set(labels.map(titleKey));
  let begun = false;
  return blocks.filter((block) => {
    if (!block.heading) {
      begun ||= hasVisibleText(block.text);
      return true;
    }
    const key = titleKey(block.text);
    return key !== titleKeyed && (begun || !labelKeys.has(key));
  });
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
  let standfirst: string | null = null;
  const kickers: string[] = [];
  for (const part of Array.from(document.querySelectorAll(HEADER_PARTS))) {
    if (part.classList.contains('dek') || part.classList.contains('standfirst')) {
      standfirst ??= text(part.textContent);
    } else if (part.classList.contains('kicker')) kickers.push(part.textContent ?? '');
    part.remove();
  }
  const { metadata, labels } = pageMetadata(document, safeHttpUrl(options.url), kickers);
  metadata.description ??= standfirst;

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

  const body = withoutFurniture(htmlBlocks(content), metadata.title, labels);
  const words = body.reduce((n, b) => n + (b.heading ? 0 : countWords(b.text)), 0);
  if (words < MIN_ARTICLE_WORDS) {
    throw new DispatchError('E_HTML_NO_ARTICLE', `${where}: the page has no readable article (${words} words of text)`);
  }
  return { metadata, blocks: body };
}
