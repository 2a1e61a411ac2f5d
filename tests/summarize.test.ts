import { readFileSync } from 'node:fs';
import twitter from 'twitter-text';
import { describe, expect, it } from 'vitest';
import { parseArticle } from '../src/ingest/parse-article.js';
import { sentencePenalty } from '../src/summarize/rank-sentences.js';
import { summarize } from '../src/summarize/summarize.js';
import { hasSharedData, SAMPLE_ARTICLE, sharedDataNote } from './helpers/shared-data.js';

const receivedAt = new Date('2026-11-27T09:00:00Z');
const fitsWithLink = (text: string) => twitter.parseTweet(`${text} https://t.co/abcdefghij`).valid;

describe(`summarize the sample${sharedDataNote}`, () => {
  it.skipIf(!hasSharedData)(
    'gives a postable oneLine, three distinct bullets in article order, and Kerry’s quote',
    () => {
      const article = parseArticle(readFileSync(SAMPLE_ARTICLE), { receivedAt });
      const summary = summarize(article);
      expect(article.sentences).toContain(summary.oneLine);
      expect(fitsWithLink(summary.oneLine)).toBe(true);
      expect(summary.bullets).toHaveLength(3);
      const positions = summary.points.map((p) => article.sentences.indexOf(p));
      expect(positions.every((p) => p >= 0)).toBe(true);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(new Set(summary.bullets).size).toBe(3);
      summary.bullets.forEach((bullet, i) => {
        expect(bullet.length).toBeLessThanOrEqual(161);
        const point = summary.points[i] as string;
        // A bullet is its point, or a cut of it at a boundary, marked with an ellipsis.
        if (bullet !== point) {
          expect(bullet).toMatch(/…$/);
          const kept = bullet.slice(0, -1);
          expect(point.startsWith(kept)).toBe(true);
          expect(point[kept.length]).toMatch(/[\s,;:]/);
        }
      });
      expect(summary.keyQuote?.speaker).toBe('Kerry');
      expect(summarize(article)).toEqual(summary);
    },
  );
});

describe('summarize', () => {
  it('a one-sentence article', () => {
    const article = parseArticle('Road closed\n\nThe A35 will close overnight on Friday for resurfacing.', {
      receivedAt,
    });
    expect(summarize(article)).toEqual({
      oneLine: 'The A35 will close overnight on Friday for resurfacing.',
      bullets: ['The A35 will close overnight on Friday for resurfacing.'],
      points: ['The A35 will close overnight on Friday for resurfacing.'],
    });
  });

  it('prefers a central statement over a question or a bare attribution', () => {
    const text = [
      'Will the bridge ever reopen?',
      'The council agreed on Tuesday to repair the Mill Street bridge, which has been closed to traffic since the flood.',
      'Repairs to the bridge will cost £2m and the council expects the bridge to reopen in the spring.',
      'The mayor told reporters on Monday.',
    ].join('\n\n');
    const summary = summarize(parseArticle(`Bridge to reopen\n\n${text}`, { receivedAt }));
    expect(summary.oneLine).toMatch(/^(?:The council agreed|Repairs to the bridge)/);
    expect(summary.bullets).not.toContain('Will the bridge ever reopen?');
  });

  it('two short sentences make the oneLine together', () => {
    const article = parseArticle(
      'Bridge reopens after repairs\n\nThe bridge reopened on Monday after repairs. Traffic was light.',
      {
        receivedAt,
      },
    );
    expect(summarize(article).oneLine).toBe('The bridge reopened on Monday after repairs. Traffic was light.');
  });
});

describe('sentencePenalty', () => {
  const cases: [string, string, number][] = [
    ['a plain statement', 'The council agreed to repair the bridge by the spring of next year.', 1],
    ['a question', 'Will the council agree to repair the bridge before the spring?', 0.3],
    ['a bare attribution', 'Kerry told reporters on Friday.', 0.2 * 0.3],
    ['a fragment', 'Delay over.', 0.2],
    ['a direct quote', '“We will repair the bridge by the spring of next year,” the mayor said on Monday.', 0.6],
    ['leans on the sentence before', 'He said the council would repair the bridge by the spring of next year.', 0.85],
    ['leftover boilerplate', 'Share this with', 0],
  ];
  it.each(cases)('%s', (_name, sentence, factor) => {
    const words = sentence.split(/\s+/).length;
    expect(sentencePenalty(sentence, words)).toBeCloseTo(factor, 10);
  });
});
