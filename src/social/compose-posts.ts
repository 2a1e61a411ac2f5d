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
  /**
   * This week's issue on the public archive: when given, the invitation links it ("Read it: ...")
   * beside the signup page, both UTM-tagged. @defaultValue the invitation links the signup page only
   */
  issueUrl?: string;
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
export function quoteText(quote: Quote, text: string): string {
  if (!quote.speaker) return `“${text}”`;
  const inner = /[.]$/.test(text) ? `${text.slice(0, -1)},` : /[?!…,]$/.test(text) ? text : `${text},`;
  return `“${inner}” ${quote.speaker} said.`;
}

function threadPosts(allParts: string[], link: string | null): Post[] {
  // A part that fits no post is left out before the numbering, so that "2/3" always means it.
  const widest = `${allParts.length + 1}/${allParts.length + 1}`;
  const parts = allParts.filter((body) => fitPost(body, (b) => join(widest, b)) !== null);
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

  const { title, extraTags } = taggedTitle(article, config);
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

  const parts = threadParts(summary);
  if (parts.length) posts.push(...threadPosts(parts, link));

  const invitation = invitationText(fitPost, config, {
    lead: options.leadHeadline ?? article.title,
    signup: utm(config.NEWSLETTER_SIGNUP_URL),
    issue: options.issueUrl ? utm(options.issueUrl) : null,
  });
  if (invitation) posts.push(post('newsletterCta', invitation));
  return posts;
}

/**
 * The title with hashtags on its own words where they can go ("revive #Syria peace talks"), and
 * the tags that found no word of it (they go after it). No tags unless POST_HASHTAGS.
 */
export function taggedTitle(article: Article, config: PostConfig): { title: string; extraTags: string[] } {
  let title = article.title;
  const extraTags: string[] = [];
  if (config.POST_HASHTAGS) {
    for (const tag of pickHashtags(article)) {
      const word = new RegExp(`(?<![\\p{L}\\p{N}#])${tag.slice(1)}(?![\\p{L}\\p{N}])`, 'u');
      if (word.test(title)) title = title.replace(word, tag);
      else extraTags.push(tag);
    }
  }
  return { title, extraTags };
}

/** What a thread tells: the one line, then each key point that it does not already say. */
export function threadParts(summary: Summary): string[] {
  return [summary.oneLine, ...summary.points].filter(
    (part, i, all) => part && !all.slice(0, i).some((earlier) => earlier.includes(part.replace(/…$/, ''))),
  );
}

/** Cuts `body` so that `wrap(body)` fits a post, or gives null: a network's fitting, for {@link invitationText}. */
export type FitPost = (body: string, wrap: (body: string) => string) => string | null;

/**
 * The newsletter invitation, the longest that fits: with this week's issue (when `issue` is given)
 * "This week's newsletter: “<lead>” and more. Read it: <issue> Get the next one in your inbox:
 * <signup>", else "Like “<lead>”? Get the week's top stories ...: <signup>". With the issue, the
 * headline goes whole or not at all (a one-word cut of it says nothing), then the words around the
 * links give way, then the issue's link.
 */
export function invitationText(
  fitPost: FitPost,
  config: Pick<PostConfig, 'SITE_NAME'>,
  links: { lead: string; signup: string | null; issue: string | null },
): string | null {
  const { lead, signup, issue } = links;
  const promise = `Get the week's top stories from ${config.SITE_NAME} in your inbox. Join our weekly newsletter: ${signup}`;
  const plain = () => fitPost(lead, (h) => `Like “${h}”? ${promise}`) ?? fitPost(promise, (p) => p);
  if (!issue) return plain();
  // The shorter forms go whole or not at all: a cut one could lose a link.
  const whole = (text: string) => (fitPost(text, (t) => t) === text ? text : null);
  const next = `Get the next one in your inbox: ${signup}`;
  return (
    whole(`This week's newsletter: “${lead}” and more. Read it: ${issue} ${next}`) ??
    whole(`This week's ${config.SITE_NAME} newsletter: ${issue} ${next}`) ??
    whole(`This week's newsletter: ${issue} Join: ${signup}`) ??
    plain()
  );
}
