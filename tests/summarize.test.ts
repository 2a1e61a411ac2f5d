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
      // Every bullet is a whole sentence of the article that fits a card line.
      expect(summary.bullets).toEqual(summary.points);
      for (const bullet of summary.bullets) {
        expect(article.sentences).toContain(bullet);
        expect(bullet.length).toBeLessThanOrEqual(200);
        expect(bullet).not.toMatch(/…$/);
      }
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

describe('summarize: whole sentences', () => {
  const long = (n: number) =>
    `The council's transport committee voted on Tuesday to spend £${n}m on the Mill Street bridge, ` +
    'which has been closed to traffic since the flood undercut its eastern abutment two years ago, ' +
    'and officials said the work would start in the spring and finish before the autumn term begins.';

  it('bullets are whole sentences of at most bulletMaxChars, even when a longer one ranks first', () => {
    const text = [
      long(2),
      'Repairs to the Mill Street bridge will start in March.',
      'The bridge has been closed to traffic since the flood.',
      'Traders on Mill Street said the closure had cost them customers.',
    ].join(' ');
    const article = parseArticle(`Bridge to reopen\n\n${text}`, { receivedAt });
    expect(article.sentences[0]?.length).toBeGreaterThan(200);
    const summary = summarize(article);
    expect(summary.bullets).toHaveLength(3);
    expect(summary.bullets).toEqual(summary.points);
    expect(summary.bullets).not.toContain(article.sentences[0]);
    for (const bullet of summary.bullets) expect(article.sentences).toContain(bullet);
    // With room for it, the first sentence (the story's lead) is a key point again.
    expect(summarize(article, { bulletMaxChars: 400 }).bullets[0]).toBe(article.sentences[0]);
  });

  it('cuts a bullet, at a clause and marked with an ellipsis, only when no sentence fits', () => {
    const article = parseArticle(`Bridge to reopen\n\n${long(2)}\n\n${long(3)}`, { receivedAt });
    const summary = summarize(article);
    expect(summary.bullets).toHaveLength(1);
    const [bullet] = summary.bullets as [string];
    const [point] = summary.points as [string];
    expect(article.sentences).toContain(point);
    expect(bullet.length).toBeLessThanOrEqual(200);
    expect(bullet).toMatch(/…$/);
    expect(point.startsWith(bullet.slice(0, -1))).toBe(true);
    expect(point[bullet.length - 1]).toMatch(/[,;:]/);
  });

  it('the one line is a whole sentence that fits a post when one does, cut only when none does', () => {
    const central =
      'The Mill Street bridge, closed to traffic since the flood, will reopen in the spring after repairs, ' +
      'the council said, and traffic on the bridge will return to Mill Street from the town centre, ' +
      'where traders on Mill Street have waited for the bridge since the flood closed the bridge, ' +
      'and the repairs to the bridge are paid for by the council.';
    const text = [
      central,
      'Repairs to the Mill Street bridge will cost the council £2m.',
      'Traders on Mill Street welcomed the news.',
    ];
    const article = parseArticle(`Bridge to reopen\n\n${text.join(' ')}`, { receivedAt });
    expect(fitsWithLink(central)).toBe(false);
    const { oneLine } = summarize(article);
    // The two short sentences, joined: each whole.
    expect(oneLine).toBe(`${text[1]} ${text[2]}`);
    expect(fitsWithLink(oneLine)).toBe(true);
    const alone = summarize(parseArticle(`Bridge to reopen\n\n${central}`, { receivedAt })).oneLine;
    expect(fitsWithLink(alone)).toBe(true);
    expect(central.startsWith(alone.replace(/…$/, ''))).toBe(true);
    expect(alone).toMatch(/…$/);
  });

  it('the one line is the most central sentence, wherever it stands; key points favour the lead', () => {
    const text = [
      'Snow fell overnight across the county, closing two schools in the hills.',
      'Elsewhere, the county fair will return to Harlow Park in June after a year away.',
      'Organisers said the fair at Harlow Park would run for four days in June, with rides, stalls and a flower show.',
      'Tickets for the fair at Harlow Park go on sale in May, and the four days in June will end with fireworks.',
      'The flower show at the fair will be judged on its last day in June.',
    ].join('\n\n');
    const article = parseArticle(`County news\n\n${text}`, { receivedAt });
    const summary = summarize(article);
    expect(summary.oneLine).toMatch(/^(?:Organisers said|Tickets for the fair)/);
    expect(summary.bullets[0]).toBe(article.sentences[0]);
  });
});

describe('sentencePenalty', () => {
  const cases: [string, string, number][] = [
    ['a plain statement', 'The council agreed to repair the bridge by the spring of next year.', 1],
    ['a question', 'Will the council agree to repair the bridge before the spring?', 0.3],
    ['a bare attribution', 'Kerry told reporters on Friday.', 0.2 * 0.3],
    ['a fragment', 'Delay over.', 0.2],
    ['a direct quote', '“We will repair the bridge by the spring of next year,” the mayor said on Monday.', 0.6],
    [
      'a quote that does not say who speaks',
      '“We will repair the bridge by the spring of next year and reopen it.”',
      0.3,
    ],
    ['a quote in tokenized text', "`` we will repair the bridge by the spring of next year , '' he said .", 0.6],
    ['a call to action', 'Click here for the full schedule of road closures on the bridge this spring.', 0.2],
    ['leans on the sentence before', 'He said the council would repair the bridge by the spring of next year.', 0.85],
    ['leftover boilerplate', 'Share this with', 0],
  ];
  it.each(cases)('%s', (_name, sentence, factor) => {
    const words = sentence.split(/\s+/).length;
    expect(sentencePenalty(sentence, words)).toBeCloseTo(factor, 10);
  });
});
