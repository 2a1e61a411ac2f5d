import { describe, expect, it } from 'vitest';
import { extractQuotes } from '../src/ingest/extract-quotes.js';

const cases: [string, string[], { text: string; speaker?: string }[]][] = [
  [
    'name after',
    ['“We will reopen the bridge by spring,” Kerry told reporters.'],
    [{ text: 'We will reopen the bridge by spring', speaker: 'Kerry' }],
  ],
  [
    'inverted with a role',
    ['“The river is cleaner than it has been,” said organiser Wren Abernathy.'],
    [{ text: 'The river is cleaner than it has been', speaker: 'Wren Abernathy' }],
  ],
  [
    'inverted with "the"',
    ['“Prices will rise again next year,” said the minister.'],
    [{ text: 'Prices will rise again next year', speaker: 'the minister' }],
  ],
  [
    'pronoun resolved to the last named person',
    ['Mayor Ana Ruiz visited the site on Monday.', '“This is a great day for the town,” she said.'],
    [{ text: 'This is a great day for the town', speaker: 'Ruiz' }],
  ],
  [
    'possessive mention is not an antecedent',
    [
      'Barker said the plan was technical, meant to destroy Assad’s arsenal.',
      '“The hope is that this will help the talks,” he adds.',
    ],
    [{ text: 'The hope is that this will help the talks', speaker: 'Barker' }],
  ],
  [
    'speaker before the quotation',
    ['A spokesman for the council said: “The road will reopen on Friday morning.”'],
    [{ text: 'The road will reopen on Friday morning.', speaker: 'A spokesman for the council' }],
  ],
  [
    'second quote inherits the speaker',
    ['“I have been getting up at five,” said nurse Tomas Reyes. “Today I had a proper breakfast.”'],
    [
      { text: 'I have been getting up at five', speaker: 'Tomas Reyes' },
      { text: 'Today I had a proper breakfast.', speaker: 'Tomas Reyes' },
    ],
  ],
  [
    'unclosed quotation runs to the end of the paragraph',
    ['Officials outlined “the plan for the days ahead and a shared goal for the year.'],
    [{ text: 'the plan for the days ahead and a shared goal for the year.' }],
  ],
  ['scare quotes are not direct speech', ['Critics called it “very diplomatic talk”.'], []],
  [
    'straight double quotes',
    ['"We need more buses on the route," said Cole Hadley.'],
    [{ text: 'We need more buses on the route', speaker: 'Cole Hadley' }],
  ],
  ['no quotes', ['The council met on Tuesday. Nothing was decided.'], []],
];

describe('extractQuotes', () => {
  it.each(cases)('%s', (_name, paragraphs, expected) => {
    expect(extractQuotes(paragraphs)).toEqual(expected);
  });
});
