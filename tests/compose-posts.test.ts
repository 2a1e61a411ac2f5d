import { readFileSync } from 'node:fs';
import twitter from 'twitter-text';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { Article } from '../src/ingest/article.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { composePosts } from '../src/social/compose-posts.js';
import { pickHashtags } from '../src/social/hashtags.js';
import { summarize } from '../src/summarize/summarize.js';
import { expectPostsIntact } from './helpers/post-checks.js';
import { hasSharedData, SAMPLE_ARTICLE, sharedDataNote } from './helpers/shared-data.js';

const receivedAt = new Date('2026-11-27T09:00:00Z');
const config = loadConfig({});
/** Words the post templates add around article text. */
const TEMPLATES = [
  `Like Get the week's top stories from ${config.SITE_NAME} in your inbox. Join our weekly newsletter:`,
  'Read more: said.',
];

function article(input: object): Article {
  return parseArticle(JSON.stringify(input), { receivedAt, format: 'json' });
}

function postsFor(a: Article, overrides: Record<string, string> = {}) {
  const summary = summarize(a);
  return { summary, posts: composePosts(a, summary, loadConfig(overrides)) };
}

function sourceText(a: Article): string {
  return [a.title, ...a.sections.flatMap((s) => s.paragraphs), ...a.quotes.map((q) => q.speaker ?? '')].join('\n');
}

describe(`posts for the sample article${sharedDataNote}`, () => {
  it.skipIf(!hasSharedData)('are all valid, the headline carries the link, the quote is Kerry’s', () => {
    const url = 'https://news.example.com/2013/09/us-russia-syria-talks';
    const sample = parseArticle(readFileSync(SAMPLE_ARTICLE), { receivedAt, url });
    const { summary, posts } = postsFor(sample);
    expectPostsIntact(posts, sourceText(sample), TEMPLATES);
    expect(posts.map((p) => p.kind)).toEqual(
      expect.arrayContaining(['headline', 'keyPoint', 'quote', 'thread', 'newsletterCta']),
    );
    const headline = posts.find((p) => p.kind === 'headline');
    expect(headline?.text).toBe(
      `US and Russia bid to revive Syria peace talks ${url}?utm_source=twitter&utm_medium=social&utm_campaign=${sample.id}`,
    );
    expect(summary.keyQuote?.speaker).toMatch(/Kerry|Lavrov/);
    expect(posts.find((p) => p.kind === 'quote')?.text).toMatch(
      /^“.+,” (?:Kerry|A spokesman for Lavrov) said\. https:/,
    );
    const thread = posts.filter((p) => p.kind === 'thread');
    expect(thread.map((p) => p.text.split(' ')[0])).toEqual(thread.map((_, i) => `${i + 1}/${thread.length}`));
  });

  it.skipIf(!hasSharedData)('hashtags #Syria in place when asked, and are the same on every run', () => {
    const sample = parseArticle(readFileSync(SAMPLE_ARTICLE), { receivedAt });
    expect(pickHashtags(sample)[0]).toBe('#Syria');
    const first = postsFor(sample, { POST_HASHTAGS: 'true' }).posts;
    expect(first[0]?.text).toMatch(/^US and Russia bid to revive #Syria peace talks https:\/\/news\.example\.com\//);
    expect(postsFor(sample, { POST_HASHTAGS: 'true' }).posts).toEqual(first);
  });
});

const sentence = (i: number) =>
  `Sentence number ${i} describes how the council, after a long debate about money, agreed to repair the old bridge by spring.`;

describe('posts for awkward articles', () => {
  it('a 2,000-character single paragraph', () => {
    const body = Array.from({ length: 17 }, (_, i) => sentence(i)).join(' ');
    expect(body.length).toBeGreaterThan(2000);
    const a = article({ title: 'Bridge repairs agreed', body, url: 'https://news.example.com/bridge' });
    const { posts } = postsFor(a);
    expectPostsIntact(posts, sourceText(a), TEMPLATES);
  });

  it('CJK text is cut at word boundaries and counted double', () => {
    const long =
      '東京都は十一月二十七日に記者会見を開き川沿いの古い工場の跡地に子供向けの広場と図書館と運動場を備えた大きな公園を建設する計画を発表し'.repeat(
        2,
      );
    // Only sentences too long for a post: the summary has to cut one.
    const body = [`${long}た。`, `${long}という。`];
    const a = article({
      title: '東京都、川沿いに新しい公園の建設計画を発表',
      body,
      url: 'https://news.example.com/tokyo-park',
    });
    const { posts } = postsFor(a);
    expectPostsIntact(posts, sourceText(a), TEMPLATES);
    for (const post of posts) expect(post.weightedLength).toBeLessThanOrEqual(280);
    // No sentence fits whole: the one line was cut, at a word boundary (checked above).
    expect(posts.filter((p) => p.kind === 'thread')[0]?.text).toMatch(/^1\/\d 東京都は.*…/);
  });

  it('emoji-heavy text keeps every emoji whole', () => {
    const body = [
      'The town fair 🎡🎠🎪 opened on Saturday with record crowds 🎉🎉🎉 and sunshine ☀️ all day long, organisers said.',
      'Food stalls 🍔🌭🍕🍦 ran out by noon 😮 and the dog show 🐕🐩🐕‍🦺 drew hundreds 👏👏 of visitors from three counties 🚗🚌🚆.',
      'Families 👨‍👩‍👧‍👦 said they would be back next year 🙌, and the council promised more seats 🪑🪑 and shade ⛱️.',
    ];
    const a = article({
      title: 'Town fair 🎡 breaks attendance record 🎉',
      body,
      url: 'https://news.example.com/fair',
    });
    const { posts } = postsFor(a);
    expectPostsIntact(posts, sourceText(a), TEMPLATES);
  });

  it('a title longer than 280 characters is cut at a word with an ellipsis, the link kept', () => {
    const title = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ');
    expect(title.length).toBeGreaterThan(280);
    const a = article({
      title,
      body: 'A short body sentence about the news of the day.',
      url: 'https://news.example.com/long',
    });
    const { posts } = postsFor(a);
    expectPostsIntact(posts, sourceText(a), TEMPLATES);
    const headline = posts.find((p) => p.kind === 'headline')?.text ?? '';
    expect(headline).toMatch(/^word0 word1 .* word\d+… https:\/\/news\.example\.com\/long\?utm_source=twitter/);
  });

  it('a 300-character URL counts as 23 and is never cut', () => {
    const url = `https://news.example.com/${'a'.repeat(150)}/${'b'.repeat(120)}?x=1`;
    expect(url.length).toBeGreaterThanOrEqual(280);
    const a = article({ title: 'Long link story', body: [sentence(1), sentence(2), sentence(3)], url });
    const { posts } = postsFor(a, { UTM_PARAMS: 'false' });
    expectPostsIntact(posts, sourceText(a), TEMPLATES);
    const headline = posts.find((p) => p.kind === 'headline');
    expect(headline?.text).toBe(`Long link story ${url}`);
    expect(headline?.weightedLength).toBe('Long link story '.length + 23);
  });

  it('a one-sentence article', () => {
    const a = article({
      title: 'Road closed',
      body: 'The A35 will be closed overnight on Friday for resurfacing work.',
      url: 'https://news.example.com/road',
    });
    const { summary, posts } = postsFor(a);
    expect(summary.oneLine).toBe('The A35 will be closed overnight on Friday for resurfacing work.');
    expect(summary.bullets).toEqual([summary.oneLine]);
    expectPostsIntact(posts, sourceText(a), TEMPLATES);
    const thread = posts.filter((p) => p.kind === 'thread');
    expect(thread).toHaveLength(1);
    expect(thread[0]?.text).toMatch(/^1\/1 The A35 .* https:\/\/news\.example\.com\/road\?/);
  });

  it('an article with no quotes has no quote post', () => {
    const a = article({
      title: 'Bridge repairs agreed',
      body: [sentence(1), sentence(2)],
      url: 'https://news.example.com/b',
    });
    const { summary, posts } = postsFor(a);
    expect(summary.keyQuote).toBeUndefined();
    expect(posts.some((p) => p.kind === 'quote')).toBe(false);
    expectPostsIntact(posts, sourceText(a), TEMPLATES);
  });

  it('an article without a URL links to the site', () => {
    const a = article({ title: 'No link', body: [sentence(1)] });
    const { posts } = postsFor(a, { UTM_PARAMS: 'false' });
    expect(posts[0]?.text).toBe('No link https://news.example.com');
  });

  it('the newsletter invitation names the lead headline and links the signup page', () => {
    const a = article({ title: 'Bridge repairs agreed', body: [sentence(1)], url: 'https://news.example.com/b' });
    const cta = postsFor(a).posts.find((p) => p.kind === 'newsletterCta');
    expect(cta?.text).toBe(
      `Like “Bridge repairs agreed”? Get the week's top stories from The Example Times in your inbox. ` +
        `Join our weekly newsletter: https://news.example.com/newsletter?utm_source=twitter&utm_medium=social&utm_campaign=${a.id}`,
    );
  });

  it('is deterministic', () => {
    const a = article({
      title: 'Bridge repairs agreed',
      body: [sentence(1), sentence(2)],
      url: 'https://news.example.com/b',
    });
    expect(postsFor(a)).toEqual(postsFor(a));
    expect(twitter.parseTweet(postsFor(a).posts[0]?.text ?? '').valid).toBe(true);
  });
});
