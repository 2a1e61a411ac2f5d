import type { Article } from '../ingest/article.js';
import { matchBoilerplate } from '../ingest/boilerplate.js';
import { countWords, endsAsSentence } from '../ingest/clean-text.js';
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
  /** Cosine similarity to the whole article's tf-idf vector, scaled so the closest sentence has 1. */
  centroid: number;
  /**
   * Directed centrality, from 0 to 1: how much the sentences after this one take it up, less how
   * much it repeats the ones before it. What a story states first and then elaborates scores high.
   */
  elaboration: number;
  /** The {@link sentencePenalty} multiplier, from 0 (never a summary) to 1. */
  penalty: number;
  /** What the one-line summary picks by: how well the sentence stands for the whole article. */
  gist: number;
  /** What the key points pick by: what the story puts first and goes on to develop. */
  keyPoint: number;
}

const DAMPING = 0.85;
const ITERATIONS = 30;

interface SentenceGraph {
  /** Cosine similarity of every pair of sentences (0 on the diagonal). */
  matrix: Float64Array[];
  /** Cosine similarity of each sentence to the whole article. */
  centroid: number[];
}

/** A sentence's tf-idf vector, sparse and of length 1: its terms' ids and their weights. */
interface UnitVector {
  ids: Int32Array;
  weights: Float64Array;
}

/**
 * Term-frequency vectors with in-article IDF for each sentence and for the article as a whole (its
 * centroid), and their cosine similarities. Terms become small integers and each row of the matrix
 * is one pass over a dense scratch array, so the work is the pairs of sentences times their terms
 * with no hashing inside the loop.
 */
function sentenceGraph(termLists: readonly string[][]): SentenceGraph {
  const n = termLists.length;
  const idOf = new Map<string, number>();
  const df: number[] = [];
  const counted = termLists.map((terms) => {
    const tf = new Map<number, number>();
    for (const t of terms) {
      let id = idOf.get(t);
      if (id === undefined) {
        id = idOf.size;
        idOf.set(t, id);
        df.push(0);
      }
      tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    for (const id of tf.keys()) df[id] = (df[id] as number) + 1;
    return tf;
  });
  const idf = df.map((d) => Math.log((n + 1) / d) + 1);
  const unit = (tf: ReadonlyMap<number, number>): UnitVector => {
    const ids = Int32Array.from(tf.keys());
    const weights = Float64Array.from(ids, (id) => (tf.get(id) as number) * (idf[id] as number));
    // A loop, not Math.hypot(...weights): the whole article's vector may have 100,000s of terms.
    let norm = 0;
    for (const w of weights) norm += w * w;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let k = 0; k < weights.length; k++) weights[k] = (weights[k] as number) / norm;
    return { ids, weights };
  };
  const vectors = counted.map(unit);
  const total = new Map<number, number>();
  for (const tf of counted) for (const [id, f] of tf) total.set(id, (total.get(id) ?? 0) + f);
  const whole = new Float64Array(idOf.size);
  const wholeUnit = unit(total);
  wholeUnit.ids.forEach((id, k) => {
    whole[id] = wholeUnit.weights[k] as number;
  });

  const dot = (dense: Float64Array, v: UnitVector) => {
    let sum = 0;
    for (let k = 0; k < v.ids.length; k++) sum += (dense[v.ids[k] as number] as number) * (v.weights[k] as number);
    return sum;
  };
  const matrix = Array.from({ length: n }, () => new Float64Array(n));
  const scratch = new Float64Array(idOf.size);
  for (let i = 0; i < n; i++) {
    const a = vectors[i] as UnitVector;
    a.ids.forEach((id, k) => {
      scratch[id] = a.weights[k] as number;
    });
    const row = matrix[i] as Float64Array;
    for (let j = i + 1; j < n; j++) {
      const sim = dot(scratch, vectors[j] as UnitVector);
      row[j] = sim;
      (matrix[j] as Float64Array)[i] = sim;
    }
    for (const id of a.ids) scratch[id] = 0;
  }
  return { matrix, centroid: vectors.map((v) => dot(whole, v)) };
}

/** `values` scaled so the largest is 1 (all 0 when none is positive). */
function scaledToMax(values: readonly number[]): number[] {
  const max = values.reduce((a, b) => Math.max(a, b), 0);
  return values.map((v) => (max > 0 ? v / max : 0));
}

/**
 * Directed centrality (Zheng and Lapata's PacSum, with tf-idf similarity and equal weights): the
 * similarity of a sentence to the sentences after it, less its similarity to those before it,
 * scaled to 0..1. A news story states its point and then elaborates it, so the point is taken up
 * by what follows; a sentence that mostly repeats what came before adds little.
 */
function directedCentrality(matrix: readonly Float64Array[]): number[] {
  const raw = matrix.map((row, i) => {
    let forward = 0;
    let backward = 0;
    for (let j = 0; j < row.length; j++) {
      if (j > i) forward += row[j] as number;
      else if (j < i) backward += row[j] as number;
    }
    return forward - backward;
  });
  const min = raw.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  const max = raw.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  return raw.map((v) => (max > min ? (v - min) / (max - min) : 1));
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
  return scaledToMax(scores);
}

const ATTRIBUTION_ONLY = /^[^,;]{0,80}\b(?:said|told|added|says|reported|according to)\b[^,;]{0,60}[.]$/i;
const NEEDS_CONTEXT = /^(?:He|She|It|They|This|That|These|Those|But|And|However|Also|Meanwhile|His|Her|Their)\b/;
/** A sentence that speaks to the reader ("click here for the schedule") points elsewhere; it is not news. */
const CALL_TO_ACTION = /\b(?:click here|read more|sign up|subscribe to|follow us|visit our|download our)\b/i;
/** Fewer words than this and no closing punctuation: a label, not a sentence. */
const LABEL_WORDS = 15;
/** An opening quotation mark, or the two backticks tokenized text writes for one. */
const OPENS_QUOTE = /^(?:["“‘']|``)/;
/** Words that name who is speaking: a quotation with none of them needs the sentence before it. */
const SPEAKS = /\b(?:said|says|told|tells|added|adds|asked|asks|explained|wrote|writes|according to)\b/i;

/**
 * Multiplier for sentences that make poor summaries: questions, fragments, leftover boilerplate,
 * sentences that only attribute ("Kerry told reporters on Friday."), direct quotes (more so one
 * that does not say who is speaking: it goes on from the sentence before), and sentences that lean
 * on the one before ("He added..."), calls to action ("click here..."),
 * and short text that does not end as a sentence does (a list item, a label).
 */
export function sentencePenalty(text: string, words: number): number {
  if (matchBoilerplate(text)) return 0;
  let factor = 1;
  if (words < 6) factor *= 0.2;
  else if (words < 10) factor *= 0.7;
  if (words > 50) factor *= 0.8;
  if (/\?["”’]?$/.test(text)) factor *= 0.3;
  if (words <= 14 && ATTRIBUTION_ONLY.test(text)) factor *= 0.3;
  if (OPENS_QUOTE.test(text)) factor *= SPEAKS.test(text) ? 0.6 : 0.3;
  if (NEEDS_CONTEXT.test(text)) factor *= 0.85;
  if (CALL_TO_ACTION.test(text)) factor *= 0.2;
  // Short, with no closing punctuation: a list item, a label or a timetable line, not a statement.
  // (A long one is a sentence whose end was lost, and still says something.)
  if (words < LABEL_WORDS && !endsAsSentence(text)) factor *= 0.3;
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
 * article) two ways, each times the sentence's penalty:
 * - `gist`, for the one-line summary: centrality alone, the mean of TextRank and similarity to the
 *   article's centroid. No position or title term: the one line should say what the whole article
 *   is about, and an article's best summary sentence is often not its first.
 * - `keyPoint`, for the bullets: the mean of directed centrality and position (1 / (index + 1)).
 *   Key points follow the story's own order of importance, which a news story puts first.
 */
export function rankSentences(article: Article): RankedSentence[] {
  const sentences = article.sentences.slice(0, MAX_CANDIDATE_SENTENCES);
  const termLists = sentences.map(contentTerms);
  const graph = sentenceGraph(termLists);
  const centrality = textRank(graph.matrix);
  const centroid = scaledToMax(graph.centroid);
  const elaboration = directedCentrality(graph.matrix);
  return sentences.map((text, index) => {
    const terms = termLists[index] as string[];
    const words = countWords(text);
    const penalty = sentencePenalty(text, words);
    const c = centrality[index] as number;
    const g = centroid[index] as number;
    const e = elaboration[index] as number;
    return {
      text,
      index,
      words,
      terms,
      termSet: new Set(terms),
      centrality: c,
      centroid: g,
      elaboration: e,
      penalty,
      gist: ((c + g) / 2) * penalty,
      keyPoint: ((e + 1 / (index + 1)) / 2) * penalty,
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
