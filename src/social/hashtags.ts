import type { Article } from '../ingest/article.js';

const WHITESPACE = /\s/;

/**
 * True when `sentence` has a sentence start at `index`: at its very beginning, or after a full
 * stop, "!" or "?" (and perhaps a closing quote) and whitespace. Walks back from `index` rather
 * than matching the text before it, which would make a long sentence cost its length per word.
 */
function startsSentence(sentence: string, index: number): boolean {
  if (index === 0) return true;
  let i = index;
  while (i > 0 && WHITESPACE.test(sentence[i - 1] as string)) i--;
  if (i === index) return false;
  if ('"”’'.includes(sentence[i - 1] ?? '-')) i--;
  return '.!?'.includes(sentence[i - 1] ?? '-');
}
const SKIP = new Set(
  (
    'The A An In On At But And After Before When If It This That He She They We I His Her Their Its Mr Mrs Ms Dr ' +
    'Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August ' +
    'September October November December'
  ).split(' '),
);

/**
 * Hashtags from the article's most frequent proper nouns ("#Syria"): capitalised words that are
 * standing alone (not inside a URL or a longer token), not at the start of a sentence and not a quoted speaker's name, named at least twice; a word of
 * the title counts two more. Most frequent first, ties in order of first appearance.
 */
export function pickHashtags(article: Article, limit = 2): string[] {
  const counts = new Map<string, { n: number; first: number }>();
  const speakers = new Set(article.quotes.flatMap((q) => q.speaker?.split(/\s+/) ?? []));
  const inTitle = new Set(article.title.split(/[^\p{L}]+/u));
  let position = 0;
  for (const sentence of article.sentences) {
    for (const match of sentence.matchAll(/(?<=^|[\s“"‘'(])\p{Lu}\p{L}{2,}(?=$|[\s”"’',.;:!?)])/gu)) {
      const word = match[0];
      if (SKIP.has(word) || speakers.has(word) || startsSentence(sentence, match.index)) continue;
      const entry = counts.get(word) ?? { n: 0, first: position++ };
      entry.n++;
      counts.set(word, entry);
    }
  }
  return [...counts]
    .filter(([, c]) => c.n >= 2)
    .map(([word, c]) => [word, { ...c, n: c.n + (inTitle.has(word) ? 2 : 0) }] as const)
    .sort((a, b) => b[1].n - a[1].n || a[1].first - b[1].first)
    .slice(0, limit)
    .map(([word]) => `#${word}`);
}
