import type { Article } from '../ingest/article.js';
import { matchBoilerplate } from '../ingest/boilerplate.js';
import { countWords } from '../ingest/clean-text.js';
import { contentTerms } from '../text/tokenize.js';

/** A sentence of the article with what the summarizer knows about it. */
export interface RankedSentence {
  text: string;
  /** Position among the article's sentences, from 0. */
  index: number;
  words: number;
  terms: string[];
  /** `terms` as a set, for similarity between sentences. */
  termSet: ReadonlySet<string>;
  /** TextRank centrality, scaled so the most central sentence has 1. */
  centrality: number;
  /** The combined score the summary picks by (higher is better). */
  score: number;
}

/** Weights of the sentence score; they sum to 1. */
export interface RankWeights {
  position: number;
  centrality: number;
  title: number;
}

export const DEFAULT_WEIGHTS: RankWeights = { position: 0.2, centrality: 0.6, title: 0.2 };

const DAMPING = 0.85;
const ITERATIONS = 30;

/** Term-frequency vectors with in-article IDF, and their cosine similarities. */
function similarityMatrix(termLists: readonly string[][]): Float64Array[] {
  const n = termLists.length;
  const df = new Map<string, number>();
  for (const terms of termLists) for (const t of new Set(terms)) df.set(t, (df.get(t) ?? 0) + 1);
  const vectors = termLists.map((terms) => {
    const tf = new Map<string, number>();
    for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    const vector = new Map<string, number>();
    let norm = 0;
    for (const [t, f] of tf) {
      const w = f * (Math.log((n + 1) / (df.get(t) as number)) + 1);
      vector.set(t, w);
      norm += w * w;
    }
    return { vector, norm: Math.sqrt(norm) };
  });
  const matrix = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const a = vectors[i] as (typeof vectors)[number];
    for (let j = i + 1; j < n; j++) {
      const b = vectors[j] as (typeof vectors)[number];
      if (!a.norm || !b.norm) continue;
      let dot = 0;
      const [small, large] = a.vector.size < b.vector.size ? [a.vector, b.vector] : [b.vector, a.vector];
      for (const [t, w] of small) dot += w * (large.get(t) ?? 0);
      const sim = dot / (a.norm * b.norm);
      (matrix[i] as Float64Array)[j] = sim;
      (matrix[j] as Float64Array)[i] = sim;
    }
  }
  return matrix;
}

/** TextRank (PageRank over the sentence-similarity graph), scaled to a maximum of 1. */
function textRank(matrix: readonly Float64Array[]): number[] {
  const n = matrix.length;
  if (n === 0) return [];
  const outWeight = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  let scores = new Array<number>(n).fill(1 / n);
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const next = new Array<number>(n).fill((1 - DAMPING) / n);
    for (let j = 0; j < n; j++) {
      const out = outWeight[j] as number;
      if (!out) continue;
      const share = (DAMPING * (scores[j] as number)) / out;
      const row = matrix[j] as Float64Array;
      for (let i = 0; i < n; i++) next[i] = (next[i] as number) + share * (row[i] as number);
    }
    scores = next;
  }
  const max = scores.reduce((a, b) => Math.max(a, b), 0);
  return scores.map((s) => (max > 0 ? s / max : 0));
}

const ATTRIBUTION_ONLY = /^[^,;]{0,80}\b(?:said|told|added|says|reported|according to)\b[^,;]{0,60}[.]$/i;
const NEEDS_CONTEXT = /^(?:He|She|It|They|This|That|These|Those|But|And|However|Also|Meanwhile|His|Her|Their)\b/;

/**
 * Multiplier for sentences that make poor summaries: questions, fragments, leftover boilerplate,
 * sentences that only attribute ("Kerry told reporters on Friday."), direct quotes, and sentences
 * that lean on the one before ("He added...").
 */
export function sentencePenalty(text: string, words: number): number {
  if (matchBoilerplate(text)) return 0;
  let factor = 1;
  if (words < 6) factor *= 0.2;
  else if (words < 10) factor *= 0.7;
  if (words > 50) factor *= 0.8;
  if (/\?["”’]?$/.test(text)) factor *= 0.3;
  if (words <= 14 && ATTRIBUTION_ONLY.test(text)) factor *= 0.3;
  if (/^["“‘']/.test(text)) factor *= 0.6;
  if (NEEDS_CONTEXT.test(text)) factor *= 0.85;
  return factor;
}

/**
 * Only this many first sentences are candidates for the summary. TextRank compares every pair of
 * candidates (time and memory grow with their square), and a news story puts what matters first:
 * the longest articles of the dev sets have about 110 sentences.
 */
export const MAX_CANDIDATE_SENTENCES = 500;

/**
 * Scores the article's first {@link MAX_CANDIDATE_SENTENCES} sentences (all of them in any real
 * article) by position, centrality, overlap with the title and penalties.
 */
export function rankSentences(article: Article, weights: RankWeights = DEFAULT_WEIGHTS): RankedSentence[] {
  const sentences = article.sentences.slice(0, MAX_CANDIDATE_SENTENCES);
  const termLists = sentences.map(contentTerms);
  const centrality = textRank(similarityMatrix(termLists));
  const titleTerms = new Set(contentTerms(article.title));
  return sentences.map((text, index) => {
    const terms = termLists[index] as string[];
    const words = countWords(text);
    const overlap = titleTerms.size ? new Set(terms.filter((t) => titleTerms.has(t))).size / titleTerms.size : 0;
    const position = 1 / Math.sqrt(index + 1);
    const base =
      weights.position * position + weights.centrality * (centrality[index] as number) + weights.title * overlap;
    return {
      text,
      index,
      words,
      terms,
      termSet: new Set(terms),
      centrality: centrality[index] as number,
      score: base * sentencePenalty(text, words),
    };
  });
}

/** Cosine similarity of two term sets (binary weights), for keeping chosen sentences apart. */
export function termSimilarity(sa: ReadonlySet<string>, sb: ReadonlySet<string>): number {
  if (!sa.size || !sb.size) return 0;
  let shared = 0;
  for (const t of sa) if (sb.has(t)) shared++;
  return shared / Math.sqrt(sa.size * sb.size);
}
