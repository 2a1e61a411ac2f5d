import { describe, expect, it } from 'vitest';
import { withUtm } from '../src/links/with-utm.js';
import { tweetableUrl } from '../src/social/tweetable-url.js';
import { cutPoints, cutToFit } from '../src/text/cut-text.js';

const maxChars = (n: number) => (t: string) => t.length <= n;

describe('cutToFit', () => {
  const cases: [string, string, number, string | null][] = [
    ['fits as it is', 'Short text.', 50, 'Short text.'],
    [
      'prefers a sentence end',
      'The bridge reopened on Monday, after two years of repairs. Traffic was light and the mood was cheerful.',
      80,
      'The bridge reopened on Monday, after two years of repairs.',
    ],
    [
      'then a clause end near the limit, with an ellipsis',
      'The bridge reopened on Monday after two years of repairs, and traffic was light all day long.',
      70,
      'The bridge reopened on Monday after two years of repairs…',
    ],
    [
      'else a word boundary',
      'The bridge reopened on Monday after two years of repairs and arguments.',
      40,
      'The bridge reopened on Monday after two…',
    ],
    ['never inside a URL', 'See https://example.com/a/very/long/path/to/a/page for more', 40, 'See…'],
    [
      'never inside a mention or hashtag',
      'Thanks to @averyveryverylonghandle and #AVeryLongHashtagIndeed today',
      30,
      'Thanks to…',
    ],
    [
      'CJK at a word boundary',
      '東京都は新しい計画を発表した。詳細は明日発表される予定です。',
      20,
      '東京都は新しい計画を発表した。',
    ],
    ['a single word too long for the limit', 'Supercalifragilisticexpialidocious', 10, null],
    [
      'a spaced dash is a clause end',
      'The council met on Monday – and agreed nothing at all about the bridge',
      34,
      'The council met on Monday…',
    ],
    ['a trailing hyphen of a word stays', 'Visit well-known-sites- today and tomorrow', 25, 'Visit well-known-sites-…'],
  ];
  it.each(cases)('%s', (_name, text, limit, expected) => {
    const cut = cutToFit(text, maxChars(limit));
    expect(cut).toBe(expected);
    if (cut) expect(cut.length).toBeLessThanOrEqual(limit);
  });

  it('marks sentence, clause and word boundaries', () => {
    expect(cutPoints('One. Two, three four')).toEqual([
      { at: 4, kind: 'sentence' },
      { at: 9, kind: 'clause' },
      { at: 15, kind: 'word' },
    ]);
  });
});

describe('links', () => {
  const cases: [string, string, string | null][] = [
    ['a plain link stays', 'https://news.example.com/a/b?x=1', 'https://news.example.com/a/b?x=1'],
    ['a tilde Twitter stops at is encoded', 'http://a.ac/~', 'http://a.ac/%7E'],
    ['a trailing comma is encoded', 'https://news.example.com/a,', 'https://news.example.com/a%2C'],
  ];
  it.each(cases)('tweetableUrl: %s', (_name, url, expected) => {
    expect(tweetableUrl(url)).toBe(expected);
  });

  it('withUtm sets the three parameters, replacing old ones, and refuses non-http links', () => {
    expect(
      withUtm('https://news.example.com/a?utm_source=x&id=3#top', {
        source: 'twitter',
        medium: 'social',
        campaign: 'c1',
      }),
    ).toBe('https://news.example.com/a?utm_source=twitter&id=3&utm_medium=social&utm_campaign=c1#top');
    expect(withUtm('javascript:alert(1)', { source: 's', medium: 'm', campaign: 'c' })).toBeNull();
  });
});
