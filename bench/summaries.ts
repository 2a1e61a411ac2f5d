// npm run bench:summaries: ROUGE-1/2/Lsum (F-measure, %) of Dispatch's summaries against each dev
// set's references, beside the Lead and plain TextRank baselines computed in the same run:
// - dev-summaries.jsonl (XSum style, one-sentence references): summarize().oneLine, Lead, TextRank;
// - dev-cnndm.jsonl (CNN/DailyMail highlights): summarize().bullets, Lead-3, TextRank-3;
// then the share of bullets cut (not a whole sentence) on both sets, and articles per second for
// parse + summarize + compose, beside parse alone.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import type { Article } from '../src/ingest/article.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { splitSentences } from '../src/ingest/split-sentences.js';
import { composePosts } from '../src/social/compose-posts.js';
import { rougeLsum, rougeN } from '../src/summarize/rouge.js';
import { summarize } from '../src/summarize/summarize.js';
import { lead, textRank } from './baselines.js';

interface DevLine {
  id: string;
  url: string;
  article: string;
  reference_summary: string;
}
type Scores = [number, number, number];

const dataDir = resolve(import.meta.dirname, '../../shared/data');
function load(name: string): DevLine[] | null {
  const file = resolve(dataDir, name);
  if (!existsSync(file)) {
    console.log(`skipped ${name}: ${file} is absent (it ships beside the project's checkout, not in it)`);
    return null;
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DevLine);
}

const config = loadConfig({});
const receivedAt = new Date('2026-11-27T00:00:00Z');
function parse(line: DevLine): Article | null {
  try {
    return parseArticle(JSON.stringify({ article: line.article, url: line.url }), {
      receivedAt,
      format: 'json',
      titleFromBody: true,
    });
  } catch (error) {
    // A line with no article left after cleaning scores 0 for every system, as an empty output would.
    if (!isDispatchError(error)) throw error;
    return null;
  }
}

/** ROUGE of `lines` (one sentence per line, as rouge-score's Lsum reads them) against the reference. */
function rouge(reference: string, lines: readonly string[]): Scores {
  const text = lines.join('\n');
  return [
    rougeN(reference, text, 1).fmeasure,
    rougeN(reference, text, 2).fmeasure,
    rougeLsum(reference, text).fmeasure,
  ];
}

interface SetResult {
  articles: number;
  unusable: number;
  totals: Map<string, Scores>;
  /** Each article's ROUGE-1, per system, for the article-by-article comparison. */
  rouge1: Map<string, number[]>;
  bullets: number;
  cutBullets: number;
  cutOneLines: number;
}

function score(lines: readonly DevLine[], systems: Record<string, (article: Article) => string[]>): SetResult {
  const result: SetResult = {
    articles: lines.length,
    unusable: 0,
    totals: new Map(),
    rouge1: new Map(),
    bullets: 0,
    cutBullets: 0,
    cutOneLines: 0,
  };
  for (const name of Object.keys(systems)) {
    result.totals.set(name, [0, 0, 0]);
    result.rouge1.set(name, []);
  }
  for (const line of lines) {
    const article = parse(line);
    if (!article) result.unusable++;
    else {
      const summary = summarize(article);
      result.bullets += summary.bullets.length;
      result.cutBullets += summary.bullets.filter((b, i) => b !== summary.points[i]).length;
      if (
        !article.sentences.includes(summary.oneLine) &&
        !article.sentences.some((s) => summary.oneLine.startsWith(`${s} `))
      )
        result.cutOneLines++;
    }
    for (const [name, system] of Object.entries(systems)) {
      const scores = rouge(line.reference_summary, article ? system(article) : []);
      const total = result.totals.get(name) as Scores;
      for (let k = 0; k < 3; k++) total[k] = (total[k] as number) + (scores[k] as number);
      result.rouge1.get(name)?.push(scores[0]);
    }
  }
  return result;
}

const pct = (sum: number, n: number) => ((100 * sum) / n).toFixed(2).padStart(6);
function table(title: string, result: SetResult): void {
  console.log(
    `\n${title}: ROUGE F-measure (%) over ${result.articles} articles (Porter stemming); ` +
      `${result.unusable} had no article text left after cleaning and score 0 for every system`,
  );
  console.log(`${''.padEnd(22)}ROUGE-1  ROUGE-2  ROUGE-Lsum`);
  for (const [name, [r1, r2, rl]] of result.totals) {
    console.log(
      `${name.padEnd(20)}  ${pct(r1, result.articles)}   ${pct(r2, result.articles)}   ${pct(rl, result.articles)}`,
    );
  }
}
/** Article by article, on ROUGE-1: how often `system` scores above, below or the same as `baseline`. */
function paired(result: SetResult, system: string, baseline: string): string {
  const a = result.rouge1.get(system) ?? [];
  const b = result.rouge1.get(baseline) ?? [];
  let wins = 0;
  let losses = 0;
  a.forEach((score, i) => {
    const other = b[i] as number;
    if (score > other + 1e-12) wins++;
    else if (score < other - 1e-12) losses++;
  });
  return `${system} vs ${baseline}, article by article (ROUGE-1): ${wins} better, ${losses} worse, ${a.length - wins - losses} the same`;
}
const verdict = (a: number, b: number, verb = 'beats') => (a > b ? verb : `DOES NOT ${verb.replace(/s$/, '')}`);

const sentencesOf = (text: string) => splitSentences(text);
const xsum = load('dev-summaries.jsonl');
const cnndm = load('dev-cnndm.jsonl');
const results: SetResult[] = [];
if (xsum) {
  const result = score(xsum, {
    'Lead (1st sentence)': (a) => lead(a.sentences, 1),
    'TextRank (top 1)': (a) => textRank(a.sentences, 1),
    'Dispatch oneLine': (a) => sentencesOf(summarize(a).oneLine),
  });
  results.push(result);
  table('dev-summaries.jsonl (XSum style): the one-line summary', result);
  const [d1, , dl] = result.totals.get('Dispatch oneLine') as Scores;
  const [t1, , tl] = result.totals.get('TextRank (top 1)') as Scores;
  const [l1, , ll] = result.totals.get('Lead (1st sentence)') as Scores;
  console.log(
    `oneLine: ROUGE-1 ${verdict(d1, t1)} TextRank, ROUGE-Lsum ${verdict(dl, tl)} TextRank; ` +
      `ROUGE-1 ${verdict(d1, l1)} Lead, ROUGE-Lsum ${verdict(dl, ll)} Lead; ` +
      `${result.cutOneLines} of ${result.articles - result.unusable} one-liners cut to fit a post`,
  );
  console.log(paired(result, 'Dispatch oneLine', 'TextRank (top 1)'));
}
if (cnndm) {
  const result = score(cnndm, {
    'Lead-3': (a) => lead(a.sentences, 3),
    'TextRank (top 3)': (a) => textRank(a.sentences, 3),
    'Dispatch bullets': (a) => summarize(a).bullets,
  });
  results.push(result);
  table('dev-cnndm.jsonl (CNN/DailyMail): the card bullets, one per line', result);
  const [d1] = result.totals.get('Dispatch bullets') as Scores;
  const [l1] = result.totals.get('Lead-3') as Scores;
  console.log(`bullets: ROUGE-1 ${d1 >= l1 ? 'reaches' : 'DOES NOT reach'} Lead-3`);
  console.log(paired(result, 'Dispatch bullets', 'Lead-3'));
}
if (results.length) {
  const bullets = results.reduce((n, r) => n + r.bullets, 0);
  const cut = results.reduce((n, r) => n + r.cutBullets, 0);
  const share = bullets ? (100 * cut) / bullets : 0;
  console.log(
    `\ncut bullets (not a whole sentence), both dev sets: ${cut} of ${bullets} (${share.toFixed(1)}%, target <= 20%)`,
  );
}

const all = [...(xsum ?? []), ...(cnndm ?? [])];
const usable = all.filter((line) => parse(line) !== null);
if (usable.length) {
  const rate = (work: (line: DevLine) => void): number => {
    const rounds = Number(process.env.ROUNDS ?? 5);
    for (const line of usable) work(line); // warm-up
    const start = performance.now();
    for (let r = 0; r < rounds; r++) for (const line of usable) work(line);
    return (rounds * usable.length) / ((performance.now() - start) / 1000);
  };
  const parseOnly = rate((line) => parse(line));
  const full = rate((line) => {
    const article = parse(line) as Article;
    composePosts(article, summarize(article), config);
  });
  console.log(`\nthroughput over ${usable.length} dev articles:`);
  console.log(`parse only:                          ${parseOnly.toFixed(0)} articles/s`);
  console.log(`parse + summarize + compose posts:   ${full.toFixed(0)} articles/s (target >= 300)`);
  console.log(`full pipeline / parse only:          ${(full / parseOnly).toFixed(2)}`);
}
