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
