import { describe, expect, it } from 'vitest';
import { rougeLsum, rougeN } from '../src/summarize/rouge.js';
import { rougeTokens } from '../src/text/tokenize.js';

describe('rougeTokens (rouge-score tokenizer with stemming)', () => {
  const cases: [string, string[]][] = [
    ['The Cat, sat!', ['the', 'cat', 'sat']],
    ['U.S. troops', ['u', 's', 'troop']],
    ['Police arrested runners', ['polic', 'arrest', 'runner']],
    ['café 2,000 £5', ['caf', '2', '000', '5']],
    ['running in the race', ['run', 'in', 'the', 'race']],
  ];
  it.each(cases)('%j', (text, tokens) => {
    expect(rougeTokens(text)).toEqual(tokens);
  });
});

/** Each case computed by hand: [name, reference, candidate, precision, recall, F]. */
type Case = [string, string, string, number, number, number];

describe('ROUGE-1', () => {
  const cases: Case[] = [
    ['one word differs', 'the cat sat on the mat', 'the cat lay on the mat', 5 / 6, 5 / 6, 5 / 6],
    ['clipped counts', 'the cat', 'the the the', 1 / 3, 1 / 2, 0.4],
    ['stems match', 'Police arrested runners', 'police arrest running', 2 / 3, 2 / 3, 2 / 3],
    ['empty candidate', 'the cat', '', 0, 0, 0],
    ['identical', 'A new bridge opens', 'a new bridge opens', 1, 1, 1],
  ];
  it.each(cases)('%s', (_name, reference, candidate, p, r, f) => {
    const score = rougeN(reference, candidate, 1);
    expect(score.precision).toBeCloseTo(p, 10);
    expect(score.recall).toBeCloseTo(r, 10);
    expect(score.fmeasure).toBeCloseTo(f, 10);
  });
});

describe('ROUGE-2', () => {
  const cases: Case[] = [
    ['three of five bigrams', 'the cat sat on the mat', 'the cat lay on the mat', 3 / 5, 3 / 5, 3 / 5],
    ['no shared bigram', 'the cat sat', 'sat the cat', 1 / 2, 1 / 2, 1 / 2],
    ['single words have no bigrams', 'cat', 'cat', 0, 0, 0],
  ];
  it.each(cases)('%s', (_name, reference, candidate, p, r, f) => {
    const score = rougeN(reference, candidate, 2);
    expect(score.precision).toBeCloseTo(p, 10);
    expect(score.recall).toBeCloseTo(r, 10);
    expect(score.fmeasure).toBeCloseTo(f, 10);
  });
});

describe('ROUGE-Lsum', () => {
  const cases: Case[] = [
    ['one sentence: plain LCS', 'the cat sat on the mat', 'the cat lay on the mat', 5 / 6, 5 / 6, 5 / 6],
    // LCS of "alpha beta gamma delta" with each candidate sentence: {alpha, beta} and {gamma, delta}:
    // their union covers all 4 reference tokens; the candidate has 5 tokens.
    ['union over candidate sentences', 'alpha beta gamma delta', 'alpha beta\ngamma epsilon delta', 4 / 5, 1, 8 / 9],
    // One candidate sentence in another order: the longest common subsequence is two tokens long.
    ['order matters within a sentence', 'alpha beta gamma delta', 'gamma delta alpha beta', 2 / 4, 2 / 4, 1 / 2],
    // Reference tokens are used once: "the" appears once in the reference, twice in the candidate.
    ['hits are clipped to counts', 'the cat', 'the dog\nthe cat', 2 / 4, 1, 2 / 3],
  ];
  it.each(cases)('%s', (_name, reference, candidate, p, r, f) => {
    const score = rougeLsum(reference, candidate);
    expect(score.precision).toBeCloseTo(p, 10);
    expect(score.recall).toBeCloseTo(r, 10);
    expect(score.fmeasure).toBeCloseTo(f, 10);
  });
});
