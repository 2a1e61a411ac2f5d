// npm run bench:summaries: ROUGE-1/2/Lsum (F-measure, %) of summarize().oneLine against the dev set's
// reference summaries, beside the Lead baseline (the article's first sentence) computed in the same
// run; then articles per second for parse + summarize + compose, beside parse alone.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { splitSentences } from '../src/ingest/split-sentences.js';
import { composePosts } from '../src/social/compose-posts.js';
import { rougeLsum, rougeN } from '../src/summarize/rouge.js';
import { summarize } from '../src/summarize/summarize.js';

const devSet = resolve(import.meta.dirname, '../../shared/data/dev-summaries.jsonl');
if (!existsSync(devSet)) {
  console.log(`skipped: ${devSet} is absent (it ships beside the project's checkout, not in it)`);
  process.exit(0);
}
interface DevLine {
  id: string;
  url: string;
  article: string;
  reference_summary: string;
}
const lines = readFileSync(devSet, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as DevLine);
const config = loadConfig({});
const receivedAt = new Date('2026-11-27T00:00:00Z');
const parse = (line: DevLine) =>
  parseArticle(JSON.stringify({ article: line.article, url: line.url }), {
    receivedAt,
    format: 'json',
    titleFromBody: true,
  });

let unusable = 0;
const totals: Record<'system' | 'lead', [number, number, number]> = { system: [0, 0, 0], lead: [0, 0, 0] };
for (const line of lines) {
  let oneLine = '';
  let lead = '';
  try {
    const article = parse(line);
    oneLine = summarize(article).oneLine;
    lead = article.sentences[0] ?? '';
  } catch (error) {
    // A line with no article left after cleaning scores 0 for both, as an empty output would.
    if (!isDispatchError(error)) throw error;
    unusable++;
  }
  const ref = line.reference_summary;
  // ROUGE-Lsum reads sentences from newlines, as rouge-score does.
  const asLines = (text: string) => splitSentences(text).join('\n');
  for (const [key, text] of [
    ['system', oneLine],
    ['lead', lead],
  ] as const) {
    totals[key][0] += rougeN(ref, text, 1).fmeasure;
    totals[key][1] += rougeN(ref, text, 2).fmeasure;
    totals[key][2] += rougeLsum(ref, asLines(text)).fmeasure;
  }
}
const pct = (sum: number) => ((100 * sum) / lines.length).toFixed(2).padStart(6);
console.log(
  `ROUGE F-measure (%) over ${lines.length} dev articles (Porter stemming); ` +
    `${unusable} had no article text left after cleaning and score 0 for both`,
);
console.log('                 ROUGE-1  ROUGE-2  ROUGE-Lsum');
for (const [name, key] of [
  ['Lead (1st sent.)', 'lead'],
  ['Dispatch oneLine', 'system'],
] as const) {
  const [r1, r2, rl] = totals[key];
  console.log(`${name.padEnd(16)}  ${pct(r1 as number)}   ${pct(r2 as number)}   ${pct(rl as number)}`);
}
const [s1, , sl] = totals.system;
const [l1, , ll] = totals.lead;
console.log(
  `oneLine vs Lead: ROUGE-1 ${(s1 as number) > (l1 as number) ? 'beats' : 'DOES NOT beat'} Lead, ` +
    `ROUGE-Lsum ${(sl as number) > (ll as number) ? 'beats' : 'DOES NOT beat'} Lead`,
);

function rate(work: (line: DevLine) => void): number {
  const rounds = Number(process.env.ROUNDS ?? 5);
  for (const line of lines) work(line); // warm-up
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const line of lines) work(line);
  return (rounds * lines.length) / ((performance.now() - start) / 1000);
}
const usable = lines.filter((line) => {
  try {
    parse(line);
    return true;
  } catch {
    return false;
  }
});
lines.splice(0, lines.length, ...usable);
const parseOnly = rate((line) => parse(line));
const full = rate((line) => {
  const article = parse(line);
  composePosts(article, summarize(article), config);
});
console.log(`\nparse only:                          ${parseOnly.toFixed(0)} articles/s`);
console.log(`parse + summarize + compose posts:   ${full.toFixed(0)} articles/s (target >= 300)`);
console.log(`full pipeline / parse only:          ${(full / parseOnly).toFixed(2)}`);
