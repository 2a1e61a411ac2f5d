import twitter from 'twitter-text';
import type { NetworkRule } from './network-rule.js';
import { graphemeCount } from './network-rule.js';

/** Mastodon's own default limit; an instance may set another (`configuration.statuses.max_characters`). */
export const MASTODON_DEFAULT_LIMIT = 500;
/** What every link with a protocol counts, whatever its length (StatusLengthValidator's URL_PLACEHOLDER). */
const URL_WEIGHT = 23;
/** `@user@domain`, which Mastodon counts as `@user`: its Account::MENTION_RE. */
const MENTION = /(?<![=/\p{L}\p{N}_])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\p{L}\p{N}_]+(?:[.-]+[\p{L}\p{N}_]+)*)?/giu;
/** twitter-text's URL pattern backtracks on long input; a post's text is never this long. */
const MAX_CHECK_CHARS = 12_000;

/**
 * Mastodon's count (StatusLengthValidator): graphemes of the text in which every link with a
 * protocol counts 23 and a mention `@user@domain` counts as `@user`.
 */
export function mastodonLength(text: string): number {
  const urls = twitter.extractUrlsWithIndices(text, { extractUrlsWithoutProtocol: false });
  let countable = '';
  let from = 0;
  for (const { indices } of urls) {
    countable += text.slice(from, indices[0]) + 'x'.repeat(URL_WEIGHT);
    from = indices[1];
  }
  countable += text.slice(from);
  return graphemeCount(countable.replace(MENTION, (_all, user: string) => `@${user}`));
}

/** Mastodon on an instance whose limit is `limit` (500 unless the instance says otherwise). */
export function mastodonRule(limit: number = MASTODON_DEFAULT_LIMIT): NetworkRule {
  return {
    network: 'mastodon',
    limit,
    hasThreads: true,
    maxLinkChars: 1_000,
    render: (plain) => plain,
    measure(text) {
      if (text.length > Math.max(MAX_CHECK_CHARS, limit * 12))
        return { length: Number.POSITIVE_INFINITY, valid: false };
      const length = mastodonLength(text);
      return { length, valid: length <= limit };
    },
  };
}
