// npm run bench:extraction: Dispatch's extraction against plain Readability on every HTML fixture
// page (tests/fixtures/html). Per page and in total (summed over tokens):
// - recall: the share of plain Readability's words (`textContent`, lowercase word tokens, as a
//   multiset) that Dispatch's title + body keep, as tests/readability-recall.test.ts measures it;
// - recall excl. boilerplate: the same, once the phrases the fixture's expected.json lists as
//   deliberately dropped (datelines, share lines, sign-up boxes Readability keeps) are taken out;
// - precision: the share of Dispatch's title + body words found in Readability's title + text;
// - F1 of the two; whether Dispatch's title, and Readability's own title, equal expected.json's.
// Then the time to parse a page with Dispatch, as a ratio to plain Readability alone in the same run.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeInput } from '../src/ingest/decode-input.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import {
  articleTexts,
  plainReadability,
  recall as recallOf,
  wordTokens as tokens,
  withoutPhrase,
} from '../tests/helpers/readability-words.js';

const noArticle = { title: '', text: '' };
const readability = (html: string) => plainReadability(html) ?? noArticle;
/** How many of `reference`'s tokens (a multiset) `other` has. */
const overlap = (reference: readonly string[], other: readonly string[]) =>
  reference.length - recallOf(reference, other).missing.length;

interface Expected {
  title: string;
  readabilityRecall?: { dropped: string[] };
}

const DIR = resolve(import.meta.dirname, '../tests/fixtures/html');
const ROUNDS = 20;
const receivedAt = new Date('2026-11-27T09:00:00Z');

const pct = (n: number) => `${(n * 100).toFixed(1)}`.padStart(6);
const f1 = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

const pages = readdirSync(DIR)
  .filter((f) => f.endsWith('.html'))
  .sort();
const totals = { reference: 0, recalled: 0, article: 0, articleRecalled: 0, kept: 0, precise: 0 };
let titlesRight = 0;
let readabilityTitlesRight = 0;
let dispatchMs = 0;
let readabilityMs = 0;

console.log(
  `${'page'.padEnd(52)} ${'recall'.padStart(6)} ${'excl.bp'.padStart(7)} ${'prec.'.padStart(6)} ${'F1'.padStart(6)}  title  R.title`,
);
for (const page of pages) {
  const bytes = readFileSync(resolve(DIR, page));
  const html = decodeInput(bytes, { source: page });
  const expected = JSON.parse(
    readFileSync(resolve(DIR, page.replace(/\.html$/, '.expected.json')), 'utf8'),
  ) as Expected;

  const plain = readability(html);
  const article = parseArticle(bytes, { receivedAt, source: page });
  const reference = tokens(plain.text);
  const kept = tokens(articleTexts(article).join('\n'));
  let articleWords = reference;
  for (const phrase of expected.readabilityRecall?.dropped ?? [])
    articleWords = withoutPhrase(articleWords, tokens(phrase)) ?? articleWords;

  const recalled = overlap(reference, kept);
  const articleRecalled = overlap(articleWords, kept);
  const precise = overlap(kept, [...tokens(plain.title), ...reference]);
  totals.reference += reference.length;
  totals.recalled += recalled;
  totals.article += articleWords.length;
  totals.articleRecalled += articleRecalled;
  totals.kept += kept.length;
  totals.precise += precise;
  const titleRight = article.title === expected.title;
  const readabilityTitleRight = plain.title === expected.title;
  titlesRight += titleRight ? 1 : 0;
  readabilityTitlesRight += readabilityTitleRight ? 1 : 0;

  const recall = recalled / reference.length;
  const precision = precise / kept.length;
  console.log(
    `${page.replace(/\.html$/, '').padEnd(52)} ${pct(recall)} ${pct(articleRecalled / articleWords.length).padStart(7)} ${pct(precision)} ${pct(f1(precision, recall))}  ${(titleRight ? 'yes' : 'NO').padEnd(5)}  ${readabilityTitleRight ? 'yes' : 'no'}`,
  );

  // Timings: Readability alone, then all of Dispatch's parse (which runs Readability too), alternated.
  for (let round = 0; round < ROUNDS; round++) {
    let start = performance.now();
    readability(html);
    readabilityMs += performance.now() - start;
    start = performance.now();
    parseArticle(bytes, { receivedAt, source: page });
    dispatchMs += performance.now() - start;
  }
}

const recall = totals.recalled / totals.reference;
const precision = totals.precise / totals.kept;
console.log(
  `${'total'.padEnd(52)} ${pct(recall)} ${pct(totals.articleRecalled / totals.article).padStart(7)} ${pct(precision)} ${pct(f1(precision, recall))}  ${`${titlesRight}/${pages.length}`.padEnd(5)}  ${readabilityTitlesRight}/${pages.length}`,
);
console.log(
  `\nparse time per page: Dispatch ${(dispatchMs / ROUNDS / pages.length).toFixed(1)} ms, ` +
    `${(dispatchMs / readabilityMs).toFixed(2)}x plain Readability alone (${(readabilityMs / ROUNDS / pages.length).toFixed(1)} ms)`,
);
