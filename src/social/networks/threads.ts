import twitter from 'twitter-text';
import type { NetworkRule } from './network-rule.js';
import { graphemes } from './network-rule.js';

/** Threads (Meta): "Text posts are limited to 500 characters." */
const LIMIT = 500;
/** More unique links fail with THREADS_API__LINK_LIMIT_EXCEEDED. */
export const THREADS_MAX_LINKS = 5;
const EMOJI = /\p{Extended_Pictographic}|\p{Emoji_Presentation}|\p{Emoji_Modifier}|\p{Regional_Indicator}|\u20e3/u;
const encoder = new TextEncoder();
/** Each code point counts at least 1 and takes at most 2 UTF-16 units: a longer text is over the limit. */
const MAX_CHECK_CHARS = 2 * LIMIT;

/**
 * Threads' count: "Emojis are counted as the number of UTF-8 bytes" (an emoji with its joiners,
 * variation selectors and skin tones counts all of their bytes); every other character counts 1
 * per code point, which is never less than Threads counts.
 */
export function threadsLength(text: string): number {
  let length = 0;
  for (const grapheme of graphemes(text)) {
    length += EMOJI.test(grapheme) ? encoder.encode(grapheme).length : [...grapheme].length;
  }
  return length;
}

/** The distinct links of `text` (as twitter-text finds them, bare domains included). */
export function uniqueLinks(text: string): number {
  return new Set(twitter.extractUrls(text)).size;
}

/** Threads: 500 characters (emoji by their UTF-8 bytes) and at most 5 unique links. */
export const threadsRule: NetworkRule = {
  network: 'threads',
  limit: LIMIT,
  hasThreads: true,
  maxLinkChars: 200,
  render: (plain) => plain,
  measure(text) {
    if (text.length > MAX_CHECK_CHARS) return { length: Number.POSITIVE_INFINITY, valid: false };
    const length = threadsLength(text);
    return { length, valid: length <= LIMIT && uniqueLinks(text) <= THREADS_MAX_LINKS };
  },
};
