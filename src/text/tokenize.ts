import { stemmer } from 'stemmer';
import { STOPWORDS } from './stopwords.js';

const stems = new Map<string, string>();

/** Porter stem, memoized: the same few thousand words recur across articles. */
export function stem(word: string): string {
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    stemmed = stemmer(word);
    if (stems.size < 100_000) stems.set(word, stemmed);
  }
  return stemmed;
}

/**
 * Tokens as Google's rouge-score makes them: lowercase, every run of characters outside [a-z0-9]
 * is a separator, and tokens longer than three characters are Porter-stemmed.
 */
export function rougeTokens(text: string): string[] {
  const tokens = text.toLowerCase().split(/[^a-z0-9]+/);
  const out: string[] = [];
  for (const token of tokens) if (token) out.push(token.length > 3 ? stem(token) : token);
  return out;
}

/** Stemmed content words of a text (no stop words, nothing shorter than two characters). */
export function contentTerms(text: string): string[] {
  // "Syria’s" gives "syria" and "s"; the one-letter leftovers of contractions are dropped below.
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const out: string[] = [];
  for (const word of words) if (word.length > 1 && !STOPWORDS.has(word)) out.push(stem(word));
  return out;
}
