import twitter from 'twitter-text';

/**
 * The longest text handed to twitter-text. `parseTweet` grows faster than linearly with its input
 * (its URL pattern backtracks: 8,000 characters of "a.a.a." take ~50 ms), and a post is 280
 * weighted characters: a text this long only fits when nearly all of it is one link, and the
 * links Dispatch shares are capped well below this (see `composePosts`).
 */
const MAX_TWEET_CHECK_CHARS = 4_000;

/** twitter-text's weighted length and validity of a post; texts over {@link MAX_TWEET_CHECK_CHARS} are invalid unchecked. */
export function checkTweet(text: string): { weightedLength: number; valid: boolean } {
  if (text.length > MAX_TWEET_CHECK_CHARS) return { weightedLength: Number.POSITIVE_INFINITY, valid: false };
  const { weightedLength, valid } = twitter.parseTweet(text);
  return { weightedLength, valid };
}

/** True when `text` is a valid post (280 weighted characters at most), checked on a bounded string. */
export function fitsTweet(text: string): boolean {
  return checkTweet(text).valid;
}

/** The code points that weigh 1 in twitter-text's default configuration (v3); every other weighs 2. */
const LIGHT_RANGES: readonly (readonly [number, number])[] = [
  [0, 4351],
  [8192, 8205],
  [8208, 8223],
  [8242, 8247],
];

/**
 * The length of `text` weighed as X weighs it (CJK and most scripts beyond Latin count 2), without
 * its URL and emoji rules: cheap enough to call on every sentence, and never less than
 * twitter-text's count but for texts holding links shorter than 23 characters.
 */
export function weightedChars(text: string): number {
  let total = 0;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    total += LIGHT_RANGES.some(([start, end]) => code >= start && code <= end) ? 1 : 2;
  }
  return total;
}
