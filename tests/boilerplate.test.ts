import { describe, expect, it } from 'vitest';
import { BOILERPLATE_RULES, matchBoilerplate } from '../src/ingest/boilerplate.js';
import { type Block, structureBlocks } from '../src/ingest/structure-blocks.js';

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
  ['Updated: 3 hours ago', 'updated-stamp'],
  ['Published 4 March 2026, 14:05 GMT', 'updated-stamp'],
  ['Get our free daily email', 'newsletter-cta'],
  ['© 2026 The Example Times', 'copyright'],
  ['Portwen Post is published by Harbour Media Group Ltd, registered in England and Wales.', 'legal-footer'],
  ['Company number 01234567.', 'legal-footer'],
  ['All rights reserved.', 'legal-footer'],
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
  ['Updated guidance takes effect in May.', null],
  ['Published in 1998, the book sold out.', null],
  ['Updated flood maps for every street by December', null],
  ['Get the email address of the case officer from the application summary.', null],
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

const PROSE = [
  'The harbour board voted on Tuesday to repair the sea wall before the winter storms arrive.',
  'Work will start in September and should take about eleven weeks, the board said.',
  'Residents can see the plans at the harbour office on weekday mornings until the end of August.',
];
const [first, second, third] = PROSE as [string, string, string];
const p = (text: string): Block => ({ text, linkShare: 0 });
const link = (text: string): Block => ({ text, kind: 'item', linkShare: 1 });
const item = (text: string): Block => ({ text, kind: 'item', linkShare: 0 });
const h = (text: string): Block => ({ text, heading: true, linkShare: 0 });

/** [case, blocks, the body it gives: "## heading" for a section heading, else a paragraph] */
const bodyCases: [string, Block[], string[]][] = [
  [
    'a box of related links mid-article goes, and the article goes on',
    [p(first), h('Read more'), link('Ferry fares rise'), link('Wharf upgrade delayed'), p(second)],
    [first, second],
  ],
  [
    'a box of related links with only boilerplate after it ends the article',
    [p(first), h('Related Items'), link('Ferry fares rise'), p('Advertisement'), p('Leave a Reply')],
    [first],
  ],
  [
    'a "Read more" heading whose links are gone, over the article’s next heading, goes',
    [p(first), h('Read more'), h('What happens next'), p(second)],
    [first, '## What happens next', second],
  ],
  [
    'a "Recommended" heading straight over a list of recommendations is a subhead',
    [p(first), h('Recommended'), item('Repair the wall'), item('Raise the quay'), p(second)],
    [first, '## Recommended', 'Repair the wall', 'Raise the quay', second],
  ],
  [
    'a "More from ..." heading straight over prose is a subhead',
    [p(first), h('More from the hearing'), p(second)],
    [first, '## More from the hearing', second],
  ],
  [
    'a box of related links with only the legal footer after it ends the article',
    [
      p(first),
      h('Related stories'),
      link('Ferry fares rise'),
      p('Portwen Post is published by Harbour Media Group Ltd, registered in England and Wales.'),
    ],
    [first],
  ],
  [
    'a comment form heading over a moderation line and its notice ends the article',
    [
      p(first),
      h('Leave a Reply'),
      p('Comments are moderated and will appear once an editor has approved them.'),
      p('Your email address will not be published.'),
    ],
    [first],
  ],
  [
    'a comment form heading over its notice ends the article',
    [p(first), h('Leave a Reply'), p('Your email address will not be published.'), p(third)],
    [first],
  ],
  [
    'a "Join the conversation" heading straight over prose is a subhead',
    [p(first), h('Join the conversation'), p(third)],
    [first, '## Join the conversation', third],
  ],
  [
    'a list item "Leave a comment" is a step, not the end',
    [p(first), item('Leave a comment'), p(second)],
    [first, 'Leave a comment', second],
  ],
  [
    'a newsletter box heading takes its blurb with it',
    [p(first), h('Join our Weekly Newsletter'), p('The week’s news, every Friday.'), p(second)],
    [first, second],
  ],
  [
    'short title-like list items are paragraphs, never headings of empty sections',
    [p(first), item('Option A'), item('Option B'), p(second)],
    [first, 'Option A', 'Option B', second],
  ],
  [
    'plain text (no link share known): a related list still ends the article',
    [{ text: first }, { text: 'Related Items' }, { text: 'Ferry fares rise' }, { text: 'Wharf upgrade delayed' }],
    [first],
  ],
  [
    'plain text: a related line straight over prose is kept',
    [{ text: first }, { text: 'More on this story' }, { text: second }],
    [first, '## More on this story', second],
  ],
];

describe('structureBlocks: where boilerplate ends and the article goes on', () => {
  it.each(bodyCases)('%s', (_name, blocks, body) => {
    const { sections } = structureBlocks(blocks);
    expect(sections.flatMap((s) => [...(s.heading ? [`## ${s.heading}`] : []), ...s.paragraphs])).toEqual(body);
  });
});
