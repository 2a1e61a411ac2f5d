import type { Config } from '../config.js';
import type { Article, Quote } from '../ingest/article.js';
import { withUtm } from '../links/with-utm.js';
import type { Summary } from '../summarize/summarize.js';
import { cutToFit } from '../text/cut-text.js';
import { checkTweet, fitsTweet } from '../text/fits-tweet.js';
import { pickHashtags } from './hashtags.js';
import type { Post, PostKind } from './post.js';
import { tweetableUrl } from './tweetable-url.js';

export type PostConfig = Pick<
  Config,
  'SITE_NAME' | 'SITE_URL' | 'NEWSLETTER_SIGNUP_URL' | 'UTM_PARAMS' | 'POST_HASHTAGS'
>;

export interface ComposeOptions {
  /** The headline the newsletter invitation promises. @defaultValue the article's title */
  leadHeadline?: string;
}

/**
 * A link longer than this is not shared: the site's link stands in for it. twitter-text counts
 * every link as 23, but reads all of its characters (slowly), and real article links are far shorter.
 */
const MAX_LINK_CHARS = 1_000;

function join(...parts: (string | null | undefined)[]): string {
  return parts.filter((p) => p).join(' ');
}

function post(kind: PostKind, text: string, part?: Post['part']): Post {
  const { weightedLength, valid } = checkTweet(text);
  return part ? { kind, text, weightedLength, valid, part } : { kind, text, weightedLength, valid };
}

/** `body` cut (at a sentence, clause or word) so that `wrap(body)` fits in a post; null if nothing fits. */
function fitPost(body: string, wrap: (body: string) => string): string | null {
  const cut = cutToFit(body.trim(), (candidate) => fitsTweet(wrap(candidate)));
  return cut ? wrap(cut) : null;
}

/** “This is not a game,” Kerry said. (a final full stop becomes the comma inside the quotation). */
function quoteText(quote: Quote, text: string): string {
  if (!quote.speaker) return `“${text}”`;
  const inner = /[.]$/.test(text) ? `${text.slice(0, -1)},` : /[?!…,]$/.test(text) ? text : `${text},`;
  return `“${inner}” ${quote.speaker} said.`;
}

function threadPosts(parts: string[], link: string | null): Post[] {
  const build = (total: number, linkApart: boolean): (string | null)[] => {
    const bodies = linkApart && link ? [...parts, `Read more: ${link}`] : parts;
    return bodies.map((body, i) => {
      const number = `${i + 1}/${total}`;
      const last = i === bodies.length - 1;
      const suffix = last && !linkApart ? link : null;
      return fitPost(body, (b) => join(number, b, suffix));
    });
  };
  let texts = build(parts.length, false);
  // The link goes in the last post when it fits there, else in a post of its own.
  if (link && (texts.at(-1) ?? '').indexOf(link) < 0) texts = build(parts.length + 1, true);
  const kept = texts.filter((t): t is string => !!t);
  return kept.map((text, i) => post('thread', text, { index: i + 1, total: kept.length }));
}

/**
 * The social posts for an article: a headline with the link, one post per key point, the key
 * quote, the summary as a numbered thread, and an invitation to the weekly newsletter. Every
 * post fits twitter-text's 280 weighted characters; text is cut only at sentence, clause or word
 * boundaries. Pure and deterministic.
 */
export function composePosts(
  article: Article,
  summary: Summary,
  config: PostConfig,
  options: ComposeOptions = {},
): Post[] {
  const utm = (link: string | null) => {
    const tagged =
      link && config.UTM_PARAMS ? withUtm(link, { source: 'twitter', medium: 'social', campaign: article.id }) : link;
    return tagged && tagged.length <= MAX_LINK_CHARS ? tweetableUrl(tagged) : null;
  };
  // An article without a URL of its own (scraped text), or one Twitter cannot link, links to the site.
  const link = utm(article.url) ?? utm(config.SITE_URL);
  const posts: Post[] = [];

  // Hashtags go on the title's own words where they can ("revive #Syria peace talks"), else after it.
  let title = article.title;
  const extraTags: string[] = [];
  if (config.POST_HASHTAGS) {
    for (const tag of pickHashtags(article)) {
      const word = new RegExp(`(?<![\\p{L}\\p{N}#])${tag.slice(1)}(?![\\p{L}\\p{N}])`, 'u');
      if (word.test(title)) title = title.replace(word, tag);
      else extraTags.push(tag);
    }
  }
  let headline = fitPost(title, (t) => join(t, link)) ?? link;
  for (const tag of extraTags) {
    if (headline && fitsTweet(`${headline} ${tag}`)) headline = `${headline} ${tag}`;
  }
  if (headline) posts.push(post('headline', headline));

  for (const point of summary.points) {
    const text = fitPost(point, (b) => join(b, link));
    if (text) posts.push(post('keyPoint', text));
  }

  const quote = summary.keyQuote;
  if (quote) {
    const text = fitPost(quote.text, (q) => join(quoteText(quote, q), link));
    if (text) posts.push(post('quote', text));
  }

  const parts = [summary.oneLine, ...summary.points].filter(
    (part, i, all) => part && !all.slice(0, i).some((earlier) => earlier.includes(part.replace(/…$/, ''))),
  );
  if (parts.length) posts.push(...threadPosts(parts, link));

  const signup = utm(config.NEWSLETTER_SIGNUP_URL);
  const lead = options.leadHeadline ?? article.title;
  const promise = `Get the week's top stories from ${config.SITE_NAME} in your inbox. Join our weekly newsletter: ${signup}`;
  const invitation = fitPost(lead, (h) => `Like “${h}”? ${promise}`) ?? fitPost(promise, (p) => p);
  if (invitation) posts.push(post('newsletterCta', invitation));
  return posts;
}
