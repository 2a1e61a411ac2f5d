import { describe, expect, it } from 'vitest';
import { pageTitle, stripSiteName, type TitleCandidates } from '../src/ingest/page-title.js';

const HEADLINE = 'Five signs a child’s cough needs a doctor, according to Vale GPs';

/** [case, candidates, the title] */
const cases: [string, TitleCandidates, string | null][] = [
  [
    'og:title loses the site name the page declares',
    {
      heading: 'Harbour Board weighs a sea wall for next winter',
      ogTitle: 'Harbour Board weighs a sea wall for next winter | Portwen Post',
      siteName: 'Portwen Post',
    },
    'Harbour Board weighs a sea wall for next winter',
  ],
  [
    'a JSON-LD headline and og:title that are section names give way to the h1',
    {
      heading: HEADLINE,
      headline: 'Health',
      ogTitle: 'Wellness News',
      documentTitle: 'Health | Vale Health Today',
      siteName: 'Vale Health Today',
      labels: ['Health'],
    },
    HEADLINE,
  ],
  [
    'an undeclared section name in og:title still loses to a full h1',
    { heading: HEADLINE, ogTitle: 'Wellness News' },
    HEADLINE,
  ],
  [
    'metadata that agrees with the h1 wins, JSON-LD first (the page’s own spelling)',
    {
      heading: 'Harbour ferry returns after two years',
      headline: 'Harbour ferry returns after two years!',
      ogTitle: 'Harbour ferry returns',
    },
    'Harbour ferry returns after two years!',
  ],
  [
    'og:title agreeing with the h1 give or take a word wins over it',
    { heading: 'Harbour ferry returns', ogTitle: 'Harbour[2J ferry returns' },
    'Harbour[2J ferry returns',
  ],
  [
    'an h1 that is the site’s name is not the headline',
    {
      heading: 'Quarry Hill Gazette',
      documentTitle: 'Quarry Hill pool to close for summer | Quarry Hill Gazette',
      labels: ['Quarry Hill Gazette'],
    },
    'Quarry Hill pool to close for summer',
  ],
  [
    'a short label-like h1 gives way to a full headline in metadata',
    { heading: 'Opinion', ogTitle: 'Why the Mill Street bridge should have been rebuilt, not repaired' },
    'Why the Mill Street bridge should have been rebuilt, not repaired',
  ],
  [
    'a short headline is kept when nothing fuller is on offer',
    { heading: 'Derby off', documentTitle: 'Derby off | Lake Varne Sentinel' },
    'Derby off',
  ],
  [
    'without an h1, a full headline beats a section name in JSON-LD',
    { headline: 'Health', ogTitle: HEADLINE },
    HEADLINE,
  ],
  [
    '"Headline | Site" loses the site’s name',
    { documentTitle: 'Ferry crews walk off the job | Port Ellery Advocate', siteName: 'Port Ellery Advocate' },
    'Ferry crews walk off the job',
  ],
  [
    '"Site - Headline" loses the site’s name',
    { documentTitle: 'Harrowgate Courier - Night bus N7 returns', siteName: 'Harrowgate Courier' },
    'Night bus N7 returns',
  ],
  [
    '"Headline — Section — Site" loses both',
    {
      documentTitle: 'Water rates to rise 9 percent — Local Government — The Cedar Junction Record',
      siteName: 'Cedar Junction Record',
      labels: ['Local Government'],
    },
    'Water rates to rise 9 percent',
  ],
  ['only labels on offer: the first is still a title', { ogTitle: 'Health', siteName: 'Health' }, 'Health'],
  ['nothing visible: no title', { heading: '\u200b', ogTitle: ' ', documentTitle: '\u202e' }, null],
];

describe('pageTitle', () => {
  it.each(cases)('%s', (_name, candidates, title) => {
    expect(pageTitle(candidates)).toBe(title);
  });
});

/** [case, <title>, labels, other candidates, the headline in it] */
const titleCases: [string, string, string[], string[], string][] = [
  [
    'a known site name at the end',
    'Bridge to reopen in April | Harlow Creek Courier',
    ['Harlow Creek Courier'],
    [],
    'Bridge to reopen in April',
  ],
  [
    'a known site name at the start',
    'Harlow Creek Courier » Bridge to reopen',
    ['Harlow Creek Courier'],
    [],
    'Bridge to reopen',
  ],
  [
    'a colon is not a separator: it is often the headline’s own',
    'Courier: Bridge to reopen',
    ['Courier'],
    [],
    'Courier: Bridge to reopen',
  ],
  [
    'a site name the label has with "The"',
    'Bridge to reopen – The Harlow Creek Courier',
    ['Harlow Creek Courier'],
    [],
    'Bridge to reopen',
  ],
  ['an unknown short site name at the end', 'Bridge to reopen in April | Courier', [], [], 'Bridge to reopen in April'],
  [
    'the part another candidate agrees with',
    'News | Bridge to reopen in April | Courier',
    [],
    ['Bridge to reopen in April'],
    'Bridge to reopen in April',
  ],
  [
    'a long last part is kept: it may be the headline’s own',
    'Budget 2026 - what it means for you and your bills',
    [],
    [],
    'Budget 2026 - what it means for you and your bills',
  ],
  [
    'hyphens and dashes inside words are not separators',
    'Two-year closure ends for 1990–2020 bridge',
    [],
    [],
    'Two-year closure ends for 1990–2020 bridge',
  ],
  ['no separator: as it is', 'Bridge to reopen in April', ['Courier'], [], 'Bridge to reopen in April'],
  ['every part a label: the last stays', 'News | Courier', ['News', 'Courier'], [], 'Courier'],
  [
    'a headline holding a spaced dash stays whole when the h1 agrees with all of it',
    'Sea wall - what the board decided and what comes next | Portwen Post',
    [],
    ['Sea wall - what the board decided and what comes next'],
    'Sea wall - what the board decided and what comes next',
  ],
];

describe('stripSiteName', () => {
  it.each(titleCases)('%s', (_name, title, labels, others, headline) => {
    expect(stripSiteName(title, labels, others)).toBe(headline);
  });

  it('a <title> of 20,000 parts beside an h1 of 20,000 words: the search for agreeing parts is bounded', () => {
    // Each candidate is read up to 1,000 characters and only titles of a few parts are searched
    // part by part, so this is a few thousand word comparisons, not 20,000 squared.
    const title = `${'a | '.repeat(20_000)}x`;
    const heading = 'word '.repeat(20_000);
    expect(pageTitle({ heading, documentTitle: title })).toBe(heading.trim().slice(0, 1_000).trim());
  });

  it('reads a <title> of 100,000 separators in one pass', () => {
    // Linear: the words of the parts are counted once, not again for every part taken off.
    const title = `Bridge to reopen in April${' | a'.repeat(100_000)}`;
    expect(stripSiteName(title, [], [])).toBe('Bridge to reopen in April');
  });
});
