import fc from 'fast-check';
import twitter from 'twitter-text';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { composePosts } from '../src/social/compose-posts.js';
import type { Post } from '../src/social/post.js';
import { summarize } from '../src/summarize/summarize.js';
import { expectPostsIntact } from './helpers/post-checks.js';

const receivedAt = new Date('2026-11-27T09:00:00Z');
const plain = loadConfig({});
const tagged = loadConfig({ POST_HASHTAGS: 'true', UTM_PARAMS: 'false' });
const TEMPLATES = [
  `Like Get the week's top stories from ${plain.SITE_NAME} in your inbox. Join our weekly newsletter:`,
  'Read more: said.',
];

const letters = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüßøñ'.split(''));
const word = fc.oneof(
  { weight: 10, arbitrary: fc.string({ unit: letters, minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: letters, minLength: 30, maxLength: 300 }) }, // long words
  { weight: 2, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  { weight: 1, arbitrary: fc.stringMatching(/^@[a-z0-9_]{1,15}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^#[A-Za-z][A-Za-z0-9]{0,20}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '😀',
      '🎉🎉',
      '👨‍👩‍👧‍👦',
      '☀️',
      '🇬🇧',
      '東京都',
      '新しい公園',
      '計画を発表した',
      '…',
      '€5',
      '“quoted”',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).map((s) => s.replace(/\s/g, '')),
  },
);
const sentence = fc
  .array(word, { minLength: 1, maxLength: 30 })
  .chain((words) => fc.constantFrom('.', '!', '?', ',', '').map((end) => `${words.filter(Boolean).join(' ')}${end}`));
const paragraph = fc.array(sentence, { minLength: 1, maxLength: 6 }).map((s) => s.join(' '));
const articleInput = fc.record({
  title: fc.array(word, { minLength: 1, maxLength: 25 }).map((w) => w.join(' ')),
  body: fc.array(paragraph, { minLength: 1, maxLength: 6 }),
  url: fc.option(fc.webUrl({ withQueryParameters: true }), { nil: undefined }),
});

function postsOf(input: { title: string; body: string[]; url?: string }, config = plain) {
  try {
    const article = parseArticle(JSON.stringify(input), { receivedAt, format: 'json' });
    return { article, posts: composePosts(article, summarize(article), config) };
  } catch (error) {
    // Generated input that is not an article (only boilerplate, say) is refused, not composed.
    if (isDispatchError(error)) return undefined;
    throw error;
  }
}

describe('posts of generated articles (property)', () => {
  // 2,000 generated articles: CPU-bound, so it gets room for a loaded machine.
  it('are always valid and never cut inside a word, URL, mention or hashtag', { timeout: 120_000 }, () => {
    let composed = 0;
    fc.assert(
      fc.property(articleInput, fc.boolean(), (input, withTags) => {
        for (const config of [withTags ? tagged : plain]) {
          const result = postsOf(input, config);
          if (!result) return;
          composed++;
          const source = [input.title, ...input.body].join('\n');
          expectPostsIntact(result.posts, source, TEMPLATES);
          // Links Dispatch adds (not words of the article) must be linked whole by twitter-text.
          const bare = (t: string) => t.replace(/^[“"‘'(]+/u, '').replace(/[”"’',.;:!?)…]+$/u, '');
          const sourceWords = new Set(source.normalize('NFC').split(/\s+/).map(bare));
          for (const post of result.posts) {
            for (const token of post.text.split(/\s+/)) {
              if (!/^https?:\/\//.test(token) || sourceWords.has(bare(token))) continue;
              expect(twitter.extractUrls(token), `link ${token} is not linked whole`).toEqual([token]);
            }
          }
        }
      }),
      { numRuns: 2000, seed: Number(process.env.FC_SEED ?? 20261127) },
    );
    expect(composed).toBeGreaterThan(1500);
  });

  it('the intactness check itself catches a word cut in half', () => {
    const cut: Post = { kind: 'keyPoint', text: 'The council agreed to repa…', weightedLength: 28, valid: true };
    expect(() => expectPostsIntact([cut], 'The council agreed to repair the bridge.')).toThrow(/cuts "repa…"/);
  });
});
