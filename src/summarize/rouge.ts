import { rougeTokens } from '../text/tokenize.js';

/** Precision, recall and F-measure, each between 0 and 1. */
export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

function score(hits: number, referenceTotal: number, candidateTotal: number): RougeScore {
  const precision = candidateTotal ? hits / candidateTotal : 0;
  const recall = referenceTotal ? hits / referenceTotal : 0;
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const gram = tokens.slice(i, i + n).join(' ');
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

/** ROUGE-N of a candidate against a reference (rouge-score's `rougeN`, with its tokenizer and stemming). */
export function rougeN(reference: string, candidate: string, n: number): RougeScore {
  const ref = ngramCounts(rougeTokens(reference), n);
  const cand = ngramCounts(rougeTokens(candidate), n);
  let hits = 0;
  for (const [gram, count] of cand) hits += Math.min(count, ref.get(gram) ?? 0);
  const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
  return score(hits, total(ref), total(cand));
}

/** Indices into `ref` of one longest common subsequence with `can` (rouge-score's `_backtrack_norec`). */
function lcsIndices(ref: readonly string[], can: readonly string[]): number[] {
  const rows = ref.length + 1;
  const cols = can.length + 1;
  const table = new Uint16Array(rows * cols);
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      table[i * cols + j] =
        ref[i - 1] === can[j - 1]
          ? (table[(i - 1) * cols + j - 1] as number) + 1
          : Math.max(table[(i - 1) * cols + j] as number, table[i * cols + j - 1] as number);
    }
  }
  const indices: number[] = [];
  let i = ref.length;
  let j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      indices.unshift(i - 1);
      i--;
      j--;
    } else if ((table[i * cols + j - 1] as number) > (table[(i - 1) * cols + j] as number)) j--;
    else i--;
  }
  return indices;
}

function countTokens(sentences: readonly string[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sentence of sentences) for (const t of sentence) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/**
 * ROUGE-Lsum: summary-level LCS with the union of each reference sentence's LCS against every
 * candidate sentence, as rouge-score computes it. Sentences are separated by newlines.
 */
export function rougeLsum(reference: string, candidate: string): RougeScore {
  const split = (text: string) =>
    text
      .split('\n')
      .filter((s) => s.length > 0)
      .map(rougeTokens);
  const refSents = split(reference);
  const canSents = split(candidate);
  const m = refSents.reduce((n, s) => n + s.length, 0);
  const n = canSents.reduce((k, s) => k + s.length, 0);
  if (!m || !n) return score(0, m, n);
  const refCounts = countTokens(refSents);
  const canCounts = countTokens(canSents);
  let hits = 0;
  for (const ref of refSents) {
    const union = new Set<number>();
    for (const can of canSents) for (const index of lcsIndices(ref, can)) union.add(index);
    for (const index of [...union].sort((a, b) => a - b)) {
      const token = ref[index] as string;
      if ((canCounts.get(token) ?? 0) > 0 && (refCounts.get(token) ?? 0) > 0) {
        hits++;
        canCounts.set(token, (canCounts.get(token) as number) - 1);
        refCounts.set(token, (refCounts.get(token) as number) - 1);
      }
    }
  }
  return score(hits, m, n);
}
