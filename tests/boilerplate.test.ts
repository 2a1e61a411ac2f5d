import { describe, expect, it } from 'vitest';
import { BOILERPLATE_RULES, matchBoilerplate } from '../src/ingest/boilerplate.js';

/** [line, rule name that must match it (null: article text), captured value] */
const cases: [string, string | null, string?][] = [
  ['Source: Aljazeera, Agencies', 'attribution', 'Aljazeera, Agencies'],
  ['Sources: Reuters', 'attribution', 'Reuters'],
  ['By Priya Natarajan', 'byline', 'Priya Natarajan'],
  ['By Sam Okoye and Lena Varga', 'byline', 'Sam Okoye and Lena Varga'],
  ['By Theo Marchetti · March 2, 2026', 'byline', 'Theo Marchetti'],
  ['For the latest news follow us on Twitter', 'follow-us'],
  ['Follow us on Facebook', 'follow-us'],
  ['Join our Weekly Newsletter', 'newsletter-cta'],
  ['Sign up for our daily newsletter', 'newsletter-cta'],
  ['Related Items', 'related'],
  ['More on this story', 'related'],
  ['You may also like:', 'related'],
  ['Leave a Reply', 'comment-form'],
  ['Your email address will not be published. Required fields are marked *', 'comment-notice'],
  ['Required fields are marked *', 'required-fields'],
  ['14 + three =', 'captcha'],
  ['2 x five = ?', 'captcha'],
  ['Share this with', 'share-widget'],
  ['Email', 'share-widget'],
  ['Facebook', 'share-widget'],
  ['Messenger', 'share-widget'],
  ['Copy this link', 'share-widget'],
  ['WhatsApp', 'share-widget'],
  ['12 Comments', 'comment-count'],
  ['These are external links and will open in a separate window', 'external-links'],
  ['Media playback is unsupported on your device', 'media-playback'],
  ['Image copyright Getty Images', 'image-credit'],
  ['Advertisement', 'advertisement'],
  ['1 October 2014 Last updated at 19:45 BST', 'updated-stamp'],
  ['© 2026 The Example Times', 'copyright'],
  ['March 4, 2026 at 9:30 a.m.', 'dateline'],
  ['Feb. 10, 2026', 'dateline'],
  ['Tuesday 4 March 2026, 14:05 GMT', 'dateline'],
  ['2026-03-04', 'dateline'],
  ['March 4, 2026 was the day the bridge reopened.', null],
  // Article sentences that mention the same words are text, not boilerplate.
  ['The council will email every household about the new newsletter rules before the vote next month.', null],
  ['Readers can follow us on Twitter, the editor said in a long statement about the changes to the site.', null],
  ['Twitter said the change would apply to all users from Monday.', null],
  ['By the time the ferry returned, the harbour was empty.', null],
  ['Related talks are expected next week.', null],
  ['The sum 14 + 3 = 17 was on the board.', null],
];

describe('boilerplate rules', () => {
  it.each(cases)('%j -> %s', (line, ruleName, value) => {
    const match = matchBoilerplate(line);
    expect(match?.rule.name ?? null).toBe(ruleName);
    if (value !== undefined) expect(match?.value).toBe(value);
  });

  it('every rule has a case above', () => {
    const named = new Set(cases.map(([, name]) => name));
    for (const rule of BOILERPLATE_RULES) expect(named, rule.name).toContain(rule.name);
  });

  it('accepts an extended rule list', () => {
    const rules = [
      ...BOILERPLATE_RULES,
      { name: 'podcast', action: 'drop' as const, pattern: /^listen to our podcast$/i },
    ];
    expect(matchBoilerplate('Listen to our podcast', rules)?.rule.name).toBe('podcast');
    expect(matchBoilerplate('Listen to our podcast')).toBeUndefined();
  });
});
