import { RichText } from '@atproto/api';
import twitter from 'twitter-text';
import { expect } from 'vitest';
import type { NetworkPost } from '../../src/social/network-post.js';
import { networkRule, THREADS_MAX_LINKS } from '../../src/social/networks/index.js';

const LEADING = /^[“"‘'(]+/u;
const TRAILING = /[”"’',.;:!?)…]+$/u;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;
const segmenter = new Intl.Segmenter('und', { granularity: 'word' });
/** LinkedIn's reserved characters ("little" text format). */
const RESERVED = '\\|{}@[]()<>#*_~';

function strip(token: string): string {
  return token.replace(LEADING, '').replace(TRAILING, '');
}

function segmentBoundaries(text: string): Set<number> {
  const ends = new Set<number>();
  for (const { index, segment } of segmenter.segment(text)) ends.add(index + segment.length);
  return ends;
}

/** LinkedIn's posted text back to what was composed: `\x` is `x` for every reserved `x`. */
export function unescapeLinkedIn(text: string): string {
  return text.replace(/\\([\\|{}@[\]()<>#*_~])/g, '$1');
}

/**
 * Every reserved character of a LinkedIn text stands escaped, except inside a link (a token
 * twitter-text links) and the "#" that starts a hashtag. Returns the offending tokens.
 */
export function unescapedReserved(text: string): string[] {
  const bad: string[] = [];
  for (const token of text.split(/\s+/)) {
    if (!token || twitter.extractUrls(unescapeLinkedIn(token)).length > 0) continue;
    for (let i = 0; i < token.length; i++) {
      const c = token[i] as string;
      if (c === '\\' && RESERVED.includes(token[i + 1] ?? '')) {
        i++;
        continue;
      }
      const hashtagStart = (c === '#' || c === '＃') && /^[\p{L}\p{N}]/u.test(token.slice(i + 1));
      if (RESERVED.includes(c) && !hashtagStart) {
        bad.push(token);
        break;
      }
    }
  }
  return bad;
}

/** The UTF-8 bytes a facet covers, as text. */
export function facetText(text: string, facet: { index: { byteStart: number; byteEnd: number } }): string {
  return Buffer.from(text, 'utf8').subarray(facet.index.byteStart, facet.index.byteEnd).toString('utf8');
}

/** Checks one post against its network's own library (where one exists) and Dispatch's rule. */
export function expectNetworkValid(post: NetworkPost): void {
  const label = `${post.network} ${post.kind}: ${post.text}`;
  const rule = networkRule(post.network, { mastodonLimit: post.network === 'mastodon' ? post.limit : undefined });
  const measured = rule.measure(post.text);
  expect(post.valid, label).toBe(true);
  expect(measured.valid, label).toBe(true);
  expect(post.length, label).toBe(measured.length);
  expect(post.limit, label).toBe(rule.limit);
  expect(post.text.isWellFormed(), `${label}: a broken surrogate pair`).toBe(true);
  switch (post.network) {
    case 'x':
      expect(twitter.parseTweet(post.text).valid, label).toBe(true);
      break;
    case 'bluesky': {
      const rich = new RichText({ text: post.text });
      expect(rich.graphemeLength, label).toBeLessThanOrEqual(300);
      expect(rich.length, label).toBeLessThanOrEqual(3000);
      for (const facet of post.facets ?? []) {
        const slice = facetText(post.text, facet);
        for (const feature of facet.features) {
          if (feature.$type === 'app.bsky.richtext.facet#link')
            expect([slice, `https://${slice}`], label).toContain(feature.uri);
          if (feature.$type === 'app.bsky.richtext.facet#tag') expect(slice, label).toBe(`#${feature.tag}`);
          expect(feature.$type, `${label}: a mention facet without a DID`).not.toBe('app.bsky.richtext.facet#mention');
        }
      }
      break;
    }
    case 'threads':
      expect(new Set(twitter.extractUrls(post.text)).size, label).toBeLessThanOrEqual(THREADS_MAX_LINKS);
      expect(post.length, label).toBeLessThanOrEqual(500);
      break;
    case 'linkedin':
      expect(unescapedReserved(post.text), label).toEqual([]);
      expect(post.text.length, label).toBeLessThanOrEqual(3000);
      break;
    case 'mastodon':
      break;
  }
}

/**
 * Checks that every post is valid for its network and that no word, URL, @mention or #hashtag of
 * the source was cut: every token of a post (LinkedIn's unescaped) is a whole token of the source
 * or of the post templates, a link, a thread's number, a bullet, or, for scripts written without
 * spaces, a prefix of a source token that ends at a word boundary.
 */
export function expectNetworkPostsIntact(
  posts: readonly NetworkPost[],
  source: string,
  allowed: readonly string[] = [],
): void {
  const sourceTokens = new Set(source.normalize('NFC').split(/\s+/).map(strip).filter(Boolean));
  const templateTokens = new Set(allowed.flatMap((t) => t.split(/\s+/)).map(strip));
  for (const post of posts) {
    expectNetworkValid(post);
    const text = post.network === 'linkedin' ? unescapeLinkedIn(post.text) : post.text;
    for (const raw of text.split(/\s+/)) {
      const token = strip(raw);
      if (!token || token === '•' || templateTokens.has(token) || sourceTokens.has(token)) continue;
      if (/^\d+\/\d+$/.test(token) && post.kind === 'thread') continue;
      if (/^https?:\/\//.test(token)) {
        // A link Dispatch adds: on Bluesky one facet covers exactly it.
        if (post.network === 'bluesky') {
          // The token without its quotes and final punctuation, but a link may end in ")" of its own.
          const whole = raw.replace(LEADING, '');
          const covering = (post.facets ?? []).filter((f) => {
            const slice = facetText(post.text, f);
            return whole.startsWith(slice) && slice.length >= token.length;
          });
          expect(covering.length, `${post.kind}: no facet covers ${token}: ${post.text}`).toBe(1);
        }
        continue;
      }
      if (/^#/.test(token) && sourceTokens.has(token.slice(1))) continue; // a hashtagged source word
      const prefixOf = [...sourceTokens].some(
        (s) => CJK.test(s) && s.startsWith(token) && segmentBoundaries(s).has(token.length),
      );
      expect(prefixOf, `${post.network} ${post.kind} cuts "${raw}" out of a longer word: ${post.text}`).toBe(true);
    }
  }
}
