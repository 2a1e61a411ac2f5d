import twitter from 'twitter-text';
import { expect } from 'vitest';
import type { Post } from '../../src/social/post.js';

const LEADING = /^[“"‘'(]+/u;
const TRAILING = /[”"’',.;:!?)…]+$/u;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;
const segmenter = new Intl.Segmenter('und', { granularity: 'word' });

function strip(token: string): string {
  return token.replace(LEADING, '').replace(TRAILING, '');
}

function segmentBoundaries(text: string): Set<number> {
  const ends = new Set<number>();
  for (const { index, segment } of segmenter.segment(text)) ends.add(index + segment.length);
  return ends;
}

/**
 * Checks that every post is valid for twitter-text, reports its true weighted length, and that no
 * word, URL, @mention or #hashtag of the source was cut: every token of a post is a whole token
 * of the source (or of the post templates), or, for scripts written without spaces, a prefix of
 * one that ends at a word boundary.
 */
export function expectPostsIntact(posts: readonly Post[], source: string, allowed: readonly string[] = []): void {
  // Articles are NFC-normalized on the way in; compare like with like.
  const sourceTokens = new Set(source.normalize('NFC').split(/\s+/).map(strip).filter(Boolean));
  const templateTokens = new Set(allowed.flatMap((t) => t.split(/\s+/)).map(strip));
  for (const post of posts) {
    const parsed = twitter.parseTweet(post.text);
    expect(parsed.valid, `${post.kind} is not valid: ${post.text}`).toBe(true);
    expect(post.valid).toBe(true);
    expect(post.weightedLength).toBe(parsed.weightedLength);
    expect(post.text.isWellFormed(), `${post.kind} has a broken surrogate pair`).toBe(true);
    for (const raw of post.text.split(/\s+/)) {
      const token = strip(raw);
      if (!token || templateTokens.has(token) || sourceTokens.has(token)) continue;
      if (/^\d+\/\d+$/.test(token) && post.kind === 'thread') continue;
      if (/^https?:\/\//.test(token)) continue; // the article's link, checked by the caller
      if (/^#/.test(token) && sourceTokens.has(token.slice(1))) continue; // a hashtagged source word
      const prefixOf = [...sourceTokens].some(
        (s) => CJK.test(s) && s.startsWith(token) && segmentBoundaries(s).has(token.length),
      );
      expect(prefixOf, `${post.kind} cuts "${raw}" out of a longer word: ${post.text}`).toBe(true);
    }
  }
}
