import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RichText } from '@atproto/api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { Article } from '../src/ingest/article.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { composeAllNetworks, composeNetworkPosts } from '../src/social/compose-network-posts.js';
import { composePosts } from '../src/social/compose-posts.js';
import { NETWORKS, type Network, type NetworkPost } from '../src/social/network-post.js';
import {
  escapeLinkedIn,
  mastodonLength,
  networkRule,
  threadsLength,
  uniqueLinks,
} from '../src/social/networks/index.js';
import { summarize } from '../src/summarize/summarize.js';
import { expectNetworkPostsIntact, facetText, unescapedReserved } from './helpers/network-post-checks.js';

const receivedAt = new Date('2026-11-27T09:00:00Z');
const config = loadConfig({});
const EXAMPLES = resolve(import.meta.dirname, '../examples');
/** Words the post templates add around article text. */
const TEMPLATES = [
  `Like Get the week's top stories from ${config.SITE_NAME} in your inbox. Join our weekly newsletter:`,
  "Read more: said. This week's newsletter: and more. Read it: Get the next one in your inbox: Join:",
];

function article(input: object): Article {
  return parseArticle(JSON.stringify(input), { receivedAt, format: 'json' });
}

function sourceText(a: Article): string {
  return [a.title, ...a.sections.flatMap((s) => s.paragraphs), ...a.quotes.map((q) => q.speaker ?? '')].join('\n');
}

function postsFor(a: Article, overrides: Record<string, string> = {}, options = {}) {
  const summary = summarize(a);
  return { summary, posts: composeAllNetworks(a, summary, loadConfig(overrides), options) };
}

const of = (posts: NetworkPost[], network: Network, kind?: NetworkPost['kind']) =>
  posts.filter((p) => p.network === network && (!kind || p.kind === kind));

const sentence = (i: number) =>
  `Sentence number ${i} describes how the council, after a long debate about money, agreed to repair the old bridge by spring.`;

describe('the network rules', () => {
  it('Mastodon counts a link with a protocol as 23 and @user@domain as @user', () => {
    const url = `https://news.example.com/${'a'.repeat(200)}`;
    expect(mastodonLength(`Read ${url}`)).toBe('Read '.length + 23);
    expect(mastodonLength('Hi @alice@social.example.org!')).toBe('Hi @alice!'.length);
    // A bare domain is not a link to Mastodon's count: every character counts.
    expect(mastodonLength('news.example.com/x')).toBe('news.example.com/x'.length);
    expect(mastodonLength('👨‍👩‍👧‍👦 東京')).toBe(4);
    expect(networkRule('mastodon', { mastodonLimit: 10 }).measure('12345678901').valid).toBe(false);
  });

  it('Threads counts an emoji by its UTF-8 bytes and allows 5 unique links', () => {
    expect(threadsLength('abc')).toBe(3);
    expect(threadsLength('👍')).toBe(4);
    expect(threadsLength('👨‍👩‍👧‍👦')).toBe(25);
    expect(threadsLength('🇬🇧')).toBe(8);
    expect(threadsLength('東京')).toBe(2);
    const links = (n: number) => Array.from({ length: n }, (_, i) => `https://e${i}.example.com`).join(' ');
    expect(networkRule('threads').measure(links(5)).valid).toBe(true);
    expect(networkRule('threads').measure(links(6)).valid).toBe(false);
    expect(uniqueLinks(`${links(5)} https://e0.example.com`)).toBe(5);
    expect(networkRule('threads').measure('👍'.repeat(125)).valid).toBe(true);
    expect(networkRule('threads').measure('👍'.repeat(126)).valid).toBe(false);
  });

  it('Bluesky counts graphemes (300) and UTF-8 bytes (3,000) as RichText does', () => {
    const rule = networkRule('bluesky');
    expect(rule.measure('👨‍👩‍👧‍👦'.repeat(130))).toEqual({ length: 130, valid: false }); // 3,250 bytes
    expect(rule.measure('👨‍👩‍👧‍👦'.repeat(120))).toEqual({ length: 120, valid: true }); // 3,000 bytes
    expect(rule.measure('a'.repeat(300))).toEqual({ length: 300, valid: true });
    expect(rule.measure('a'.repeat(301)).valid).toBe(false);
  });

  it('LinkedIn escapes every reserved character but inside links and a hashtag’s #', () => {
    const plain = 'A (big) *deal* for a_b <x> [y] {z} | ~ \\ @someone #Budget at https://e.example.com/a_(b)?c=d_e~f';
    const escaped = escapeLinkedIn(plain);
    expect(escaped).toBe(
      'A \\(big\\) \\*deal\\* for a\\_b \\<x\\> \\[y\\] \\{z\\} \\| \\~ \\\\ \\@someone #Budget at https://e.example.com/a_(b)?c=d_e~f',
    );
    expect(unescapedReserved(escaped)).toEqual([]);
    expect(unescapedReserved(plain)).not.toEqual([]);
    expect(networkRule('linkedin').measure(escaped).length).toBe(escaped.length);
  });
});

describe('posts for the example articles on every network', () => {
  for (const file of [
    'tram-strike.html',
    'harbour-ferry-returns.txt',
    'river-cleanup.html',
    'library-night-shift.txt',
  ]) {
    it(file, () => {
      const a = parseArticle(readFileSync(resolve(EXAMPLES, file)), {
        receivedAt,
        url: 'https://news.example.com/2026/11/story',
      });
      const { summary, posts } = postsFor(a);
      expectNetworkPostsIntact(posts, sourceText(a), TEMPLATES);
      expect([...new Set(posts.map((p) => p.network))]).toEqual([...NETWORKS]);
      for (const network of NETWORKS) {
        const kinds = new Set(of(posts, network).map((p) => p.kind));
        expect([...kinds], network).toEqual(
          expect.arrayContaining([
            'headline',
            'keyPoint',
            ...(network === 'linkedin' ? [] : ['thread']),
            'newsletterCta',
          ]),
        );
        if (network === 'linkedin') expect(kinds.has('thread')).toBe(false);
      }
      // X is exactly what `dispatch tweets` gives.
      expect(of(posts, 'x').map((p) => p.text)).toEqual(composePosts(a, summary, config).map((p) => p.text));
      const link = (network: string) => `?utm_source=${network}&utm_medium=social&utm_campaign=${a.id}`;
      // The 500-character networks: the title, the one line under it, then the link.
      for (const network of ['mastodon', 'threads'] as const) {
        const headline = of(posts, network, 'headline')[0]?.text ?? '';
        expect(headline.startsWith(`${a.title}\n\n${summary.oneLine}\n\nhttps://`), headline).toBe(true);
        expect(headline).toContain(link(network));
        // A thread packs more a post than X's.
        expect(of(posts, network, 'thread').length).toBeLessThanOrEqual(of(posts, 'x', 'thread').length);
      }
      // Bluesky: the card carries the link, the headline has none of its own.
      const sky = of(posts, 'bluesky', 'headline')[0];
      expect(sky?.text).not.toMatch(/https?:\/\//);
      expect(sky?.card).toEqual({
        uri: expect.stringContaining(link('bluesky')),
        title: a.title,
        description: expect.any(String),
        image: a.image?.url ?? null,
      });
      expect(sky?.card?.description.length).toBeLessThanOrEqual(300);
      // LinkedIn's headline is a digest: title, one line, the key points as bulleted lines, the link.
      const digest = of(posts, 'linkedin', 'headline')[0]?.text ?? '';
      expect(digest).toMatch(/\n• /);
      expect(digest).toContain(link('linkedin'));
    });
  }
});

describe('posts for awkward articles on every network', () => {
  it('CJK text is cut at word boundaries', () => {
    const long =
      '東京都は十一月二十七日に記者会見を開き川沿いの古い工場の跡地に子供向けの広場と図書館と運動場を備えた大きな公園を建設する計画を発表し'.repeat(
        4,
      );
    const a = article({
      title: '東京都、川沿いに新しい公園の建設計画を発表',
      body: [`${long}た。`, `${long}という。`, `${long}だ。`],
      url: 'https://news.example.com/tokyo-park',
    });
    const { posts } = postsFor(a);
    expectNetworkPostsIntact(posts, sourceText(a), TEMPLATES);
    for (const network of NETWORKS) expect(of(posts, network, 'headline'), network).toHaveLength(1);
  });

  it('emoji-heavy text keeps every emoji whole and Threads counts their bytes', () => {
    const body = [
      'The town fair 🎡🎠🎪 opened on Saturday with record crowds 🎉🎉🎉 and sunshine ☀️ all day long, organisers said.',
      'Food stalls 🍔🌭🍕🍦 ran out by noon 😮 and the dog show 🐕🐩🐕‍🦺 drew hundreds 👏👏 of visitors from three counties 🚗🚌🚆.',
      'Families 👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦 said they would be back next year 🙌, and the council promised more seats 🪑🪑 and shade ⛱️.',
      `${'🎉 '.repeat(200)}were everywhere.`,
    ];
    const a = article({
      title: 'Town fair 🎡 breaks attendance record 🎉',
      body,
      url: 'https://news.example.com/fair',
    });
    const { posts } = postsFor(a);
    expectNetworkPostsIntact(posts, sourceText(a), TEMPLATES);
    for (const post of of(posts, 'threads')) expect(post.length).toBe(threadsLength(post.text));
  });

  it('a 300-character URL: Mastodon and X count it 23, Bluesky and Threads link the site, the card keeps it', () => {
    const url = `https://news.example.com/${'a'.repeat(150)}/${'b'.repeat(120)}?x=1`;
    const a = article({ title: 'Long link story', body: [sentence(1), sentence(2), sentence(3)], url });
    const { posts } = postsFor(a, { UTM_PARAMS: 'false' });
    expectNetworkPostsIntact(posts, sourceText(a), TEMPLATES);
    for (const network of ['x', 'mastodon', 'linkedin'] as const) {
      expect(of(posts, network, 'headline')[0]?.text, network).toContain(url);
    }
    expect(of(posts, 'mastodon', 'headline')[0]?.length).toBe(
      mastodonLength(`Long link story\n\n${sentence(1)}\n\n${'x'.repeat(23)}`),
    );
    expect(of(posts, 'threads', 'headline')[0]?.text).toMatch(/\n\nhttps:\/\/news\.example\.com\/$/);
    expect(of(posts, 'bluesky', 'headline')[0]?.card?.uri).toBe(url);
    for (const post of of(posts, 'bluesky')) expect(post.text).not.toContain(url);
  });

  it('a one-sentence article', () => {
    const a = article({
      title: 'Road closed',
      body: 'The A35 will be closed overnight on Friday for resurfacing work.',
      url: 'https://news.example.com/road',
    });
    const { posts } = postsFor(a);
    expectNetworkPostsIntact(posts, sourceText(a), TEMPLATES);
    for (const network of ['bluesky', 'mastodon', 'threads'] as const) {
      const thread = of(posts, network, 'thread');
      expect(thread, network).toHaveLength(1);
      expect(thread[0]?.text).toMatch(/^1\/1 The A35 .*\n\nhttps:\/\/news\.example\.com\/road\?/s);
    }
  });

  it('Bluesky facets cover exactly the links and hashtags, never a mention', () => {
    const a = article({
      title: 'Budget vote in Millbrook',
      body: [
        'Millbrook councillors backed the budget on Monday, @mayor_office said, pointing to https://millbrook.example.org/budget_2027 for details.',
        'The Millbrook budget raises spending on buses 🚌 and libraries by #Millbrook standards, the council said.',
      ],
      url: 'https://news.example.com/budget',
    });
    const { posts } = postsFor(a, { POST_HASHTAGS: 'true' });
    expectNetworkPostsIntact(posts, sourceText(a), TEMPLATES);
    const sky = of(posts, 'bluesky');
    const features = sky.flatMap((p) => (p.facets ?? []).map((f) => ({ f, text: facetText(p.text, f), p })));
    expect(features.some(({ text }) => text === '#Millbrook')).toBe(true);
    expect(features.some(({ text }) => text.startsWith('https://news.example.com/budget?utm_source=bluesky'))).toBe(
      true,
    );
    for (const { f, text, p } of features) {
      // Byte offsets, not UTF-16 ones: the emoji before a facet moves them.
      const rich = new RichText({ text: p.text });
      expect(f.index.byteEnd).toBeLessThanOrEqual(rich.length);
      for (const feature of f.features) {
        if (feature.$type === 'app.bsky.richtext.facet#link') expect(feature.uri).toBe(text);
        else expect(feature).toEqual({ $type: 'app.bsky.richtext.facet#tag', tag: text.slice(1) });
      }
    }
    expect(sky.some((p) => p.text.includes('@mayor_office'))).toBe(true);
  });

  it('LinkedIn escapes what the article says and leaves its links whole', () => {
    const a = article({
      title: 'Council (finally) backs the *new* budget_2027 plan',
      body: [
        'The council voted 7-2 for the plan <in full> at [the] {annual} meeting | see https://example.org/plan_(final)~v2 for the text.',
        'Critics, led by @opposition_lead, said the plan was rushed #budget, and a ~10% rise was \\ too much.',
      ],
      url: 'https://news.example.com/plan_(2027)',
    });
    const { posts } = postsFor(a, { UTM_PARAMS: 'false' });
    expectNetworkPostsIntact(posts, sourceText(a), TEMPLATES);
    const linkedin = of(posts, 'linkedin');
    expect(linkedin[0]?.text).toMatch(/^Council \\\(finally\\\) backs the \\\*new\\\* budget\\_2027 plan\n/);
    expect(linkedin.some((p) => p.text.includes('https://example.org/plan_(final)~v2'))).toBe(true);
    expect(linkedin[0]?.text).toContain('https://news.example.com/plan_(2027)');
    for (const post of linkedin) expect(unescapedReserved(post.text)).toEqual([]);
  });

  it('Threads never carries more than 5 unique links', () => {
    const links = Array.from({ length: 9 }, (_, i) => `https://source${i}.example.org/report`).join(' and ');
    const a = article({
      title: 'Nine reports at once',
      body: [`The council published its findings at ${links} on Monday.`, sentence(1), sentence(2)],
      url: 'https://news.example.com/reports',
    });
    const { posts } = postsFor(a);
    expectNetworkPostsIntact(posts, sourceText(a), TEMPLATES);
    expect(of(posts, 'threads').length).toBeGreaterThan(2);
    for (const post of of(posts, 'threads')) expect(uniqueLinks(post.text)).toBeLessThanOrEqual(5);
  });

  it('a larger Mastodon limit gives longer posts', () => {
    const long = (i: number) =>
      `${sentence(i)} It also said that the work, which had been delayed twice by floods and once by a shortage of steel, would now cost more.`;
    const a = article({
      title: 'Bridge repairs agreed',
      body: Array.from({ length: 8 }, (_, i) => long(i)),
      url: 'https://news.example.com/bridge',
    });
    const summary = summarize(a);
    const at = (mastodonLimit: number) => composeNetworkPosts('mastodon', a, summary, config, { mastodonLimit });
    const [small, large] = [at(500), at(1000)];
    expectNetworkPostsIntact([...small, ...large], sourceText(a), TEMPLATES);
    expect(small.every((p) => p.limit === 500 && p.length <= 500)).toBe(true);
    expect(large.every((p) => p.limit === 1000)).toBe(true);
    const longest = (posts: NetworkPost[]) => Math.max(...posts.map((p) => p.length));
    expect(longest(large)).toBeGreaterThan(longest(small));
    // Key points take more of the article's sentences after them; the headline becomes a digest.
    for (const kind of ['headline', 'keyPoint'] as const) {
      const total = (posts: NetworkPost[]) => posts.filter((p) => p.kind === kind).reduce((n, p) => n + p.length, 0);
      expect(total(large), kind).toBeGreaterThan(total(small));
    }
    expect(large.find((p) => p.kind === 'headline')?.text).toMatch(/\n• /);
    expect(small.find((p) => p.kind === 'headline')?.text).not.toMatch(/\n• /);
  });

  it('the weekly invitation links this week’s issue and the signup page, tagged, on every network', () => {
    const a = article({ title: 'Bridge repairs agreed', body: [sentence(1)], url: 'https://news.example.com/b' });
    const summary = summarize(a);
    const issueUrl = 'https://news.example.com/archive/2026-W48/';
    for (const network of NETWORKS) {
      const posts = composeNetworkPosts(network, a, summary, config, { issueUrl, leadHeadline: 'Ferry returns' });
      const cta = posts.find((p) => p.kind === 'newsletterCta');
      expectNetworkPostsIntact(posts, `${sourceText(a)}\nFerry returns`, TEMPLATES);
      const source = network === 'x' ? 'twitter' : network;
      const tag = `utm_source=${source}&utm_medium=social&utm_campaign=${a.id}`;
      // Bluesky counts every character of both links: its invitation leaves the headline out.
      expect(cta?.text, network).toContain(
        network === 'bluesky' ? ` ${issueUrl}?${tag} ` : `Read it: ${issueUrl}?${tag}`,
      );
      expect(cta?.text, network).toContain(`https://news.example.com/newsletter?${tag}`);
    }
    // A headline too long to go whole gives way: the post keeps both links and stays valid.
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const cta = composeNetworkPosts('bluesky', a, summary, config, { issueUrl, leadHeadline: long }).at(-1);
    expect(cta?.text).toMatch(/^This week's The Example Times newsletter: https:/);
    expect(cta?.valid).toBe(true);
    // Without it, X's invitation is today's.
    expect(composeNetworkPosts('x', a, summary, config).at(-1)?.text).toMatch(/^Like “Bridge repairs agreed”\?/);
  });

  it('is deterministic', () => {
    const a = article({
      title: 'Bridge repairs agreed',
      body: [sentence(1), sentence(2)],
      url: 'https://news.example.com/b',
    });
    expect(postsFor(a)).toEqual(postsFor(a));
  });
});

describe('the preview’s Posts tab', () => {
  it('groups an article’s posts by network, with length/limit and validity, escaped', async () => {
    const { articlePage } = await import('../preview/pages.js');
    const a = article({
      title: 'Bridge <script>alert(1)</script> repairs agreed',
      body: [`${sentence(1)} <img src=x onerror=alert(2)>`, sentence(2)],
      url: 'https://news.example.com/b',
    });
    const { summary, posts } = postsFor(a);
    const xPosts = composePosts(a, summary, config);
    const page = articlePage(a, { summary, posts: xPosts, networks: posts, composedAt: receivedAt.toISOString() });
    for (const network of NETWORKS)
      expect(page).toContain(`<section class="network" data-network="${network}"><h4>${network}</h4>`);
    expect(page).toMatch(/\d+\/300 ✓ valid/);
    expect(page).toMatch(/\d+\/3000 ✓ valid/);
    expect(page).not.toMatch(/<script>alert|<img src=x/);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // A social stored before networks were composed shows its X posts alone.
    const old = articlePage(a, { summary, posts: xPosts, composedAt: receivedAt.toISOString() });
    expect(old).toContain('data-network="x"');
    expect(old).not.toContain('data-network="bluesky"');
    expect(old).toMatch(/\d+\/280 ✓ valid/);
  });
});

describe('edges found in review', () => {
  const summaryOf = (over: Partial<ReturnType<typeof summarize>>) => ({ ...summarize(article(SHORT)), ...over });
  const SHORT = {
    title: 'Council vote',
    body: 'The council met on Monday.\nThe vote passed narrowly.',
    url: 'https://news.example.com/a/1',
  };

  it('a thread part that fits no post is left out before the numbering: "i/n" always counts what is posted', () => {
    const url = `https://docs.example.org/${'segment/'.repeat(40)}`;
    const summary = summaryOf({
      oneLine: 'The council met on Monday.',
      points: [`${url} is where the minutes are.`, `${'x'.repeat(600)}`, 'The vote passed narrowly.'],
    });
    for (const network of ['x', 'bluesky', 'mastodon', 'threads'] as const) {
      const thread = composeNetworkPosts(network, article(SHORT), summary, config).filter((p) => p.kind === 'thread');
      expect(thread.length, network).toBeGreaterThan(0);
      for (const [i, post] of thread.entries()) {
        expect(post.part, network).toEqual({ index: i + 1, total: thread.length });
        expect(post.text.startsWith(`${i + 1}/${thread.length} `), `${network}: ${post.text}`).toBe(true);
      }
    }
  });

  it("a Bluesky card's title is cut at a word like its description, however long the article's title", () => {
    const long = article({ ...SHORT, title: `Big ${'word '.repeat(60_000)}` });
    for (const post of composeNetworkPosts('bluesky', long, summarize(long), config)) {
      if (!post.card) continue;
      expect(post.card.title.length).toBeLessThanOrEqual(300);
      expect(post.card.description.length).toBeLessThanOrEqual(300);
      expect(post.card.title).toMatch(/^Big word( word)*…?$/);
    }
  });

  it('a tiny Mastodon limit gives fewer posts, never an invalid one', () => {
    for (const limit of [10, 20, 40]) {
      const posts = composeNetworkPosts('mastodon', article(SHORT), summarize(article(SHORT)), config, {
        mastodonLimit: limit,
      });
      for (const post of posts) expect(post.valid, `${limit}: ${post.kind} ${post.text}`).toBe(true);
    }
  });
});
