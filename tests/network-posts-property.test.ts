import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { composeNetworkPosts } from '../src/social/compose-network-posts.js';
import { NETWORKS, type Network, type NetworkPost } from '../src/social/network-post.js';
import { summarize } from '../src/summarize/summarize.js';
import { expectNetworkPostsIntact } from './helpers/network-post-checks.js';

const receivedAt = new Date('2026-11-27T09:00:00Z');
const plain = loadConfig({});
const tagged = loadConfig({ POST_HASHTAGS: 'true', UTM_PARAMS: 'false' });
const TEMPLATES = [
  `Like Get the week's top stories from ${plain.SITE_NAME} in your inbox. Join our weekly newsletter:`,
  "Read more: said. This week's newsletter: and more. Read it: Get the next one in your inbox: Join:",
];

const letters = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüßøñ'.split(''));
const word = fc.oneof(
  { weight: 10, arbitrary: fc.string({ unit: letters, minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: letters, minLength: 30, maxLength: 300 }) }, // long words
  { weight: 2, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  { weight: 1, arbitrary: fc.stringMatching(/^@[a-z0-9_]{1,15}(@[a-z]{1,10}\.social)?$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^#[A-Za-z][A-Za-z0-9_]{0,20}$/) },
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
      '(aside)',
      'a_b*c',
      '<tag>',
      '[x]{y}|~\\',
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

function postsOf(
  network: Network,
  input: { title: string; body: string[]; url?: string },
  config: typeof plain,
  mastodonLimit: number,
): NetworkPost[] | undefined {
  try {
    const article = parseArticle(JSON.stringify(input), { receivedAt, format: 'json' });
    return composeNetworkPosts(network, article, summarize(article), config, {
      mastodonLimit,
      issueUrl: 'https://news.example.com/archive/2026-W48/',
    });
  } catch (error) {
    // Generated input that is not an article (only boilerplate, say) is refused, not composed.
    if (isDispatchError(error)) return undefined;
    throw error;
  }
}

/** Runs per network: tests/posts-property.test.ts covers X's composition at length. */
const RUNS = 100;

describe('posts of generated articles on every network (property)', () => {
  for (const network of NETWORKS) {
    it(`${network}: always valid, never cut inside a word, URL, mention or hashtag`, { timeout: 60_000 }, () => {
      let composed = 0;
      fc.assert(
        fc.property(articleInput, fc.boolean(), fc.integer({ min: 300, max: 5_000 }), (input, withTags, limit) => {
          const posts = postsOf(network, input, withTags ? tagged : plain, limit);
          if (!posts) return;
          composed++;
          expect(posts.every((p) => p.network === network)).toBe(true);
          expectNetworkPostsIntact(posts, [input.title, ...input.body].join('\n'), TEMPLATES);
        }),
        { numRuns: RUNS, seed: Number(process.env.FC_SEED ?? 20261202) },
      );
      expect(composed).toBeGreaterThan(RUNS * 0.7);
    });
  }

  it('the intactness check itself catches a word cut in half and an unescaped LinkedIn character', () => {
    const cut: NetworkPost = {
      network: 'mastodon',
      kind: 'keyPoint',
      text: 'The council agreed to repa…',
      length: 27,
      limit: 500,
      valid: true,
    };
    expect(() => expectNetworkPostsIntact([cut], 'The council agreed to repair the bridge.')).toThrow(/cuts "repa…"/);
    const raw: NetworkPost = {
      network: 'linkedin',
      kind: 'keyPoint',
      text: 'A (big) day.',
      length: 12,
      limit: 3000,
      valid: true,
    };
    expect(() => expectNetworkPostsIntact([raw], 'A (big) day.')).toThrow();
  });
});
