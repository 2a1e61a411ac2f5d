import { describe, expect, it } from 'vitest';
import { splitSentences } from '../src/ingest/split-sentences.js';

const cases: [string, string, string[]][] = [
  ['U.S. and Mr.', 'The U.S. and Russia met. Mr. Kerry spoke.', ['The U.S. and Russia met.', 'Mr. Kerry spoke.']],
  ['p.m. mid-sentence', 'They met at 3 p.m. on Friday. It rained.', ['They met at 3 p.m. on Friday.', 'It rained.']],
  ['No. 10', 'He went to No. 10 Downing Street. She did not.', ['He went to No. 10 Downing Street.', 'She did not.']],
  [
    'initials',
    'J. R. R. Tolkien wrote books. He lived in Oxford.',
    ['J. R. R. Tolkien wrote books.', 'He lived in Oxford.'],
  ],
  ['decimals', 'Prices rose 1.5% in March. Wages fell.', ['Prices rose 1.5% in March.', 'Wages fell.']],
  [
    'URL with dots',
    'Read it at https://example.com/a.b?c=d now. It is long.',
    ['Read it at https://example.com/a.b?c=d now.', 'It is long.'],
  ],
  [
    'quotation split inside is joined',
    '“We agreed. We will meet,” Kerry said. Then he left.',
    ['“We agreed. We will meet,” Kerry said.', 'Then he left.'],
  ],
  ['straight quotes', 'He said: "This is it." Then he left!', ['He said: "This is it."', 'Then he left!']],
  ['question and exclamation', 'Why? Because. Stop!', ['Why?', 'Because.', 'Stop!']],
  ['one sentence without a full stop', 'A headline-like line', ['A headline-like line']],
];

describe('splitSentences', () => {
  it.each(cases)('%s', (_name, paragraph, expected) => {
    expect(splitSentences(paragraph)).toEqual(expected);
  });
});
