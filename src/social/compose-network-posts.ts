import type { Article } from '../ingest/article.js';
import { safeHttpUrl } from '../ingest/safe-url.js';
import { withUtm } from '../links/with-utm.js';
import type { Summary } from '../summarize/summarize.js';
import { cutToFit } from '../text/cut-text.js';
import {
  type ComposeOptions,
  composePosts,
  invitationText,
  type PostConfig,
  quoteText,
  taggedTitle,
  threadParts,
} from './compose-posts.js';
import { type LinkCard, NETWORKS, type Network, type NetworkPost } from './network-post.js';
import { blueskyFacets, fitsNetwork, type NetworkRule, networkRule } from './networks/index.js';
import type { PostKind } from './post.js';
import { tweetableUrl } from './tweetable-url.js';

export interface NetworkComposeOptions extends ComposeOptions {
  /** The Mastodon instance's character limit (`dispatch posts` reads it from MASTODON_URL). @defaultValue 500 */
  mastodonLimit?: number;
}

/** UTM `utm_source` per network; X keeps the name its links have always carried. */
const UTM_SOURCE: Record<Network, string> = {
  x: 'twitter',
  bluesky: 'bluesky',
  mastodon: 'mastodon',
  threads: 'threads',
  linkedin: 'linkedin',
};
/** A link card's title and description (the article's own, or its one line) are cut at a word to this. */
const CARD_TEXT_CHARS = 300;
/** A card links the article whatever its length; past this it is not a link anyone shares. */
const MAX_CARD_LINK_CHARS = 2_000;
/** Blocks of a longer post (title, one line, link) stand on lines of their own. */
const BLOCK = '\n\n';
const BULLET = '• ';

function blocks(...parts: (string | null | undefined)[]): string {
  return parts.filter((p) => p).join(BLOCK);
}

/** A limit this long gets the digest headline: the key points follow the one line as bulleted lines. */
const DIGEST_MIN_LIMIT = 1_000;
/** A key point takes one sentence of context per this many characters of the limit (at least 1, at most 3). */
const CONTEXT_CHARS_PER_SENTENCE = 500;

/** Up to `count` sentences after `sentence` in the article, when the article has it whole. */
function sentencesAfter(article: Article, sentence: string, count: number): string[] {
  const index = article.sentences.indexOf(sentence);
  return index < 0 ? [] : article.sentences.slice(index + 1, index + 1 + count);
}

/** A card's title or description: at most CARD_TEXT_CHARS, cut at a word (or, for one long word, between characters). */
function cardText(text: string): string {
  const fitting = cutToFit(text, (t) => t.length <= CARD_TEXT_CHARS);
  if (fitting) return fitting;
  const chars = [...text];
  return chars.length <= CARD_TEXT_CHARS ? text : `${chars.slice(0, CARD_TEXT_CHARS - 1).join('')}…`;
}

function cardFor(article: Article, summary: Summary, uri: string): LinkCard {
  const description = (article.description ?? summary.oneLine).trim();
  return {
    uri,
    title: cardText(article.title),
    description: cardText(description),
    image: article.image?.url ?? null,
  };
}

function xPosts(article: Article, summary: Summary, config: PostConfig, options: ComposeOptions): NetworkPost[] {
  return composePosts(article, summary, config, options).map(({ kind, text, weightedLength, valid, part }) => ({
    network: 'x' as const,
    kind,
    text,
    length: weightedLength,
    limit: 280,
    valid,
    ...(part ? { part } : {}),
  }));
}

/**
 * The posts of a network whose limit leaves room for more than X's: whole sentences and context
 * (the headline with the one line, a key point with the sentence after it, a thread that packs
 * several parts a post), cut only when a part alone does not fit.
 */
function longFormPosts(
  rule: NetworkRule,
  article: Article,
  summary: Summary,
  config: PostConfig,
  options: ComposeOptions,
): NetworkPost[] {
  const fits = (plain: string) => fitsNetwork(rule, plain);
  const fitPost = (body: string, wrap: (body: string) => string): string | null => {
    const cut = cutToFit(body.trim(), (candidate) => fits(wrap(candidate)));
    return cut ? wrap(cut) : null;
  };
  const tag = (link: string | null) =>
    link && config.UTM_PARAMS
      ? withUtm(link, { source: UTM_SOURCE[rule.network], medium: 'social', campaign: article.id })
      : link && safeHttpUrl(link);
  const utm = (link: string | null) => {
    const tagged = tag(link);
    return tagged && tagged.length <= rule.maxLinkChars ? tweetableUrl(tagged) : null;
  };
  const link = utm(article.url) ?? utm(config.SITE_URL);
  // Bluesky shows the article as a link card: its headline, key point and quote posts carry the
  // card instead of a bare link, which would count every character against 300.
  const cardUri = [tag(article.url), tag(config.SITE_URL)].find((u) => u && u.length <= MAX_CARD_LINK_CHARS);
  const card = rule.network === 'bluesky' && cardUri ? cardFor(article, summary, cardUri) : undefined;
  const inline = card ? null : link;

  const posts: NetworkPost[] = [];
  const push = (kind: PostKind, plain: string, extra: { part?: NetworkPost['part']; card?: LinkCard } = {}) => {
    const text = rule.render(plain);
    const { length, valid } = rule.measure(text);
    const post: NetworkPost = { network: rule.network, kind, text, length, limit: rule.limit, valid, ...extra };
    if (rule.network === 'bluesky') post.facets = blueskyFacets(text);
    posts.push(post);
  };
  const withCard = card ? { card } : {};

  // Headline: the title, the one line under it, the link. On a long limit (LinkedIn's, a large
  // Mastodon instance's) it is a digest: the key points follow as bulleted lines.
  const { title, extraTags } = taggedTitle(article, config);
  let headline = fitPost(title, (t) => blocks(t, inline)) ?? (inline && fits(inline) ? inline : null);
  if (headline && headline === blocks(title, inline) && summary.oneLine && !title.includes(summary.oneLine)) {
    headline = fitPost(summary.oneLine, (d) => blocks(title, d, inline)) ?? headline;
    if (rule.limit >= DIGEST_MIN_LIMIT && headline === blocks(title, summary.oneLine, inline)) {
      const points: string[] = [];
      for (const point of summary.bullets.filter((b) => b !== summary.oneLine)) {
        const digest = blocks(
          title,
          summary.oneLine,
          [...points, point].map((p) => `${BULLET}${p}`).join('\n'),
          inline,
        );
        if (fits(digest)) points.push(point);
      }
      if (points.length)
        headline = blocks(title, summary.oneLine, points.map((p) => `${BULLET}${p}`).join('\n'), inline);
    }
  }
  for (const hashtag of extraTags) {
    if (headline && fits(`${headline} ${hashtag}`)) headline = `${headline} ${hashtag}`;
  }
  if (headline) push('headline', headline, withCard);

  // A key point, and the sentences after it in the article (more for a longer limit) that fit whole.
  const contextCount = Math.min(3, Math.max(1, Math.floor(rule.limit / CONTEXT_CHARS_PER_SENTENCE)));
  for (const point of summary.points) {
    let text = fitPost(point, (b) => blocks(b, inline));
    let body = point;
    for (const next of text === blocks(point, inline) ? sentencesAfter(article, point, contextCount) : []) {
      body = `${body} ${next}`;
      if (!fits(blocks(body, inline))) break;
      text = blocks(body, inline);
    }
    if (text) push('keyPoint', text, withCard);
  }

  // The quote with its speaker, then what the article is about when that fits too.
  const quote = summary.keyQuote;
  if (quote) {
    const context = summary.oneLine && !summary.oneLine.includes(quote.text) ? summary.oneLine : null;
    const full = blocks(quoteText(quote, quote.text), context, inline);
    const text = fits(full) ? full : fitPost(quote.text, (q) => blocks(quoteText(quote, q), inline));
    if (text) push('quote', text, withCard);
  }

  if (rule.hasThreads) {
    for (const [i, { text, total }] of threadTexts(threadParts(summary), link, fitPost, fits).entries()) {
      push('thread', text, { part: { index: i + 1, total } });
    }
  }

  const invitation = invitationText(fitPost, config, {
    lead: options.leadHeadline ?? article.title,
    signup: utm(config.NEWSLETTER_SIGNUP_URL),
    issue: options.issueUrl ? utm(options.issueUrl) : null,
  });
  if (invitation) push('newsletterCta', invitation);
  return posts;
}

/**
 * A numbered thread that packs as many whole parts into each post as fit, cutting a part only
 * when it does not fit a post alone; the link ends the last post, or follows in a post of its own.
 */
function threadTexts(
  parts: string[],
  link: string | null,
  fitPost: (body: string, wrap: (body: string) => string) => string | null,
  fits: (plain: string) => boolean,
): { text: string; total: number }[] {
  // Grouped under the widest number the thread can have, so that no group outgrows its real one.
  const widest = `${parts.length + 1}/${parts.length + 1}`;
  const groups: string[] = [];
  for (const part of parts) {
    const last = groups.at(-1);
    if (last !== undefined && fits(`${widest} ${last}${BLOCK}${part}`))
      groups[groups.length - 1] = `${last}${BLOCK}${part}`;
    else groups.push(part);
  }
  const build = (bodies: string[], linkApart: boolean): string[] =>
    bodies
      .map((body, i) => {
        const number = `${i + 1}/${bodies.length}`;
        const suffix = i === bodies.length - 1 && !linkApart ? link : null;
        return fitPost(body, (b) => [number, [b, suffix].filter(Boolean).join(BLOCK)].join(' '));
      })
      .filter((t): t is string => !!t);
  // A part that fits no post is left out before the numbering, so that "2/3" always means it.
  const usable = groups.filter((group) => fitPost(group, (b) => `${widest} ${b}`) !== null);
  let texts = build(usable, false);
  // The link goes in the last post when it fits there, else whole in a post of its own.
  const readMore = link ? `Read more: ${link}` : null;
  if (readMore && !(texts.at(-1) ?? '').includes(link as string) && fits(`${widest} ${readMore}`)) {
    texts = build([...usable, readMore], true);
  }
  return texts.map((text) => ({ text, total: texts.length }));
}

/**
 * The posts for an article on one network, composed for its rule: a headline with the link, one
 * post per key point, the key quote, the summary as a numbered thread (where the network has
 * threads), and an invitation to the weekly newsletter. X's are {@link composePosts}' as they are;
 * a longer limit gets whole sentences and more context rather than X's text padded. Every post is
 * valid by its network's rule and cut only at sentence, clause or word boundaries. Pure and
 * deterministic.
 */
export function composeNetworkPosts(
  network: Network,
  article: Article,
  summary: Summary,
  config: PostConfig,
  options: NetworkComposeOptions = {},
): NetworkPost[] {
  if (network === 'x') return xPosts(article, summary, config, options);
  return longFormPosts(networkRule(network, options), article, summary, config, options);
}

/** The posts for every network, in {@link NETWORKS} order. */
export function composeAllNetworks(
  article: Article,
  summary: Summary,
  config: PostConfig,
  options: NetworkComposeOptions = {},
): NetworkPost[] {
  return NETWORKS.flatMap((network) => composeNetworkPosts(network, article, summary, config, options));
}
