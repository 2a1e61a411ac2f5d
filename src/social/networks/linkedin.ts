import twitter from 'twitter-text';
import type { NetworkRule } from './network-rule.js';

/** LinkedIn: a post's commentary holds at most 3,000 characters. */
const LIMIT = 3_000;
/**
 * The characters LinkedIn's "little" text format reserves: unescaped, a post is silently cut at
 * the first one. Each is written with a backslash before it.
 */
const RESERVED = /[\\|{}@[\]()<>#*_~]/g;
const PLAIN_HASHTAG = /^[#＃][\p{L}\p{M}\p{N}]+$/u;

/**
 * `plain` in LinkedIn's little text format: every reserved character is backslash-escaped, except
 * inside links (left whole, so they still link) and the `#` of a hashtag (which stays a hashtag).
 */
export function escapeLinkedIn(plain: string): string {
  const kept = [
    ...twitter.extractUrlsWithIndices(plain).map(({ indices }) => ({ indices, hashtag: false })),
    ...twitter.extractHashtagsWithIndices(plain).map(({ indices }) => ({ indices, hashtag: true })),
  ].sort((a, b) => a.indices[0] - b.indices[0]);
  const escaped = (text: string) => text.replace(RESERVED, (c) => `\\${c}`);
  let out = '';
  let from = 0;
  for (const { indices, hashtag } of kept) {
    const [start, end] = indices;
    if (start < from) continue;
    const entity = plain.slice(start, end);
    // A hashtag of letters and digits keeps its "#" (or "＃"); any other (with "_", say) is escaped whole.
    out += escaped(plain.slice(from, start)) + (!hashtag || PLAIN_HASHTAG.test(entity) ? entity : escaped(entity));
    from = end;
  }
  return out + escaped(plain.slice(from));
}

/** LinkedIn: 3,000 characters of the escaped commentary (UTF-16 units, never fewer than LinkedIn counts). */
export const linkedinRule: NetworkRule = {
  network: 'linkedin',
  limit: LIMIT,
  hasThreads: false,
  maxLinkChars: 1_000,
  render: escapeLinkedIn,
  measure(text) {
    return { length: text.length, valid: text.length <= LIMIT };
  },
};
