import { DispatchError } from '../errors.js';
import { cutToFit } from '../text/cut-text.js';
import type { Article, ArticleFormat, ArticleImage } from './article.js';
import { articleId } from './article-id.js';
import { BOILERPLATE_RULES, type BoilerplateRule } from './boilerplate.js';
import { cleanText, countWords, hasVisibleText } from './clean-text.js';
import { decodeInput } from './decode-input.js';
import { detectFormat } from './detect-format.js';
import { extractQuotes } from './extract-quotes.js';
import { isoDateOrNull } from './iso-date.js';
import { type PageMetadata, readHtml } from './read-html.js';
import { readJson } from './read-json.js';
import { readText } from './read-text.js';
import { safeHttpUrl } from './safe-url.js';
import { splitSentences } from './split-sentences.js';
import { type Block, structureBlocks } from './structure-blocks.js';

export interface ParseArticleOptions {
  /** When the article arrived: its `publishedAt` when the input does not say. Time is an input, never read here. */
  receivedAt: Date;
  /** Skip detection. @defaultValue detected from the content */
  format?: ArticleFormat;
  /** Where the article lives (the fetched URL); the page's canonical URL wins over it. */
  url?: string | null;
  /** The charset an HTTP header declared for bytes input. */
  charset?: string;
  /** @defaultValue 5 MB */
  maxBytes?: number;
  /** Named in error messages: a file name or URL. @defaultValue "input" */
  source?: string;
  /** @defaultValue {@link BOILERPLATE_RULES} */
  rules?: readonly BoilerplateRule[];
  /**
   * When the input has no title (a body-only JSON line), use the start of its first sentence
   * instead of failing with E_ARTICLE_NO_TITLE. @defaultValue false
   */
  titleFromBody?: boolean;
}

const DERIVED_TITLE_CHARS = 100;

const EMPTY_METADATA: PageMetadata = {
  title: null,
  url: null,
  description: null,
  byline: null,
  publishedAt: null,
  siteName: null,
  language: null,
  image: null,
};

interface Draft {
  title: string | null;
  blocks: Block[];
  metadata: PageMetadata;
  attribution?: string | null;
}

/** Text that cleans to something visible, or null: an invisible value counts as absent, so the next source is tried. */
function clean(value: string | null | undefined): string | null {
  return value ? cleanText(value) || null : null;
}

/** A JSON field as given, or undefined when it is absent or invisible. */
function given(value: string | undefined): string | undefined {
  return value !== undefined && hasVisibleText(value) ? value : undefined;
}

function fromJson(text: string, options: ParseArticleOptions, source: string): Draft {
  const json = readJson(text, source);
  let draft: Draft;
  if (json.html !== undefined) {
    draft = { ...readHtml(json.html, { url: json.url ?? options.url, source }), title: null };
    draft.title = draft.metadata.title;
  } else if (json.text !== undefined && json.body === undefined && json.article === undefined) {
    draft = { ...readText(json.text, source), metadata: { ...EMPTY_METADATA } };
  } else {
    const body = json.body ?? json.article ?? [];
    const paragraphs = Array.isArray(body) ? body : body.split(/[\r\n]+/);
    draft = { title: null, blocks: paragraphs.map((p) => ({ text: p })), metadata: { ...EMPTY_METADATA } };
  }
  const image: ArticleImage | null =
    typeof json.image === 'string'
      ? { url: json.image, alt: null }
      : json.image
        ? { url: json.image.url, alt: json.image.alt ?? null }
        : null;
  const m = draft.metadata;
  const title = given(json.title);
  return {
    ...draft,
    title: title ?? draft.title,
    attribution: given(json.attribution) ?? null,
    metadata: {
      title: title ?? m.title,
      url: given(json.url) ?? m.url,
      description: given(json.description) ?? m.description,
      byline: given(json.byline) ?? given(json.author) ?? m.byline,
      publishedAt: given(json.publishedAt) ?? m.publishedAt,
      siteName: given(json.siteName) ?? m.siteName,
      language: given(json.language) ?? m.language,
      image: image ?? m.image,
    },
  };
}

/**
 * Turns an article as it arrives (scraped text, an HTML page, or JSON; as text or raw bytes) into a
 * clean {@link Article}. Pure: no I/O, no clock. Throws {@link DispatchError} with a stable code for
 * input it cannot use.
 */
export function parseArticle(input: string | Uint8Array, options: ParseArticleOptions): Article {
  const source = options.source ?? 'input';
  const text = decodeInput(input, { maxBytes: options.maxBytes, charset: options.charset, source });
  const format = options.format ?? detectFormat(text);

  let draft: Draft;
  if (format === 'json') draft = fromJson(text, options, source);
  else if (format === 'html') {
    const html = readHtml(text, { url: options.url, source });
    draft = { ...html, title: html.metadata.title };
  } else draft = { ...readText(text, source), metadata: { ...EMPTY_METADATA } };

  // Every string of the Article goes through cleanText (controls, bidi and invisible characters
  // removed), here or in the readers and structureBlocks; a title with nothing visible is no title.
  let title = clean(draft.title) ?? '';
  if (!title && !options.titleFromBody) throw new DispatchError('E_ARTICLE_NO_TITLE', `${source}: no title found`);

  const body = structureBlocks(draft.blocks, options.rules ?? BOILERPLATE_RULES);
  const paragraphs = body.sections.flatMap((s) => s.paragraphs);
  if (paragraphs.length === 0) {
    const what = title
      ? `"${title.slice(0, 60)}" has no body paragraphs`
      : 'no article text is left once boilerplate is removed';
    throw new DispatchError('E_ARTICLE_NO_BODY', `${source}: ${what}`);
  }

  const m = draft.metadata;
  const url = safeHttpUrl(m.url) ?? safeHttpUrl(options.url);
  // Captions and table rows are not the story's sentences, unless the article has nothing else.
  const prose = paragraphs.filter((p) => !body.asides.has(p));
  const sentences = (prose.length ? prose : paragraphs).flatMap(splitSentences);
  if (!title) {
    const first = (sentences[0] as string).replace(/[.!?]+$/, '');
    title = cutToFit(first, (t) => t.length <= DERIVED_TITLE_CHARS) ?? first.slice(0, DERIVED_TITLE_CHARS);
  }
  const imageUrl = safeHttpUrl(m.image?.url, url);
  return {
    id: articleId(url, title, paragraphs.join('\n')),
    title,
    url,
    description: clean(m.description) ?? sentences[0] ?? null,
    byline: clean(m.byline) ?? body.byline,
    attribution: clean(draft.attribution) ?? body.attribution,
    siteName: clean(m.siteName),
    publishedAt: isoDateOrNull(m.publishedAt) ?? options.receivedAt.toISOString(),
    language: clean(m.language),
    image: imageUrl ? { url: imageUrl, alt: clean(m.image?.alt) } : null,
    sections: body.sections,
    sentences,
    quotes: extractQuotes(paragraphs),
    wordCount: paragraphs.reduce((n, p) => n + countWords(p), 0),
  };
}
