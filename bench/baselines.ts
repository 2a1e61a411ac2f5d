// The baselines bench:summaries scores Dispatch against, written apart from src/summarize so that a
// change to Dispatch's ranking never moves them: Lead-N and plain TextRank.
import { contentTerms } from '../src/text/tokenize.js';

/** The article's first `n` sentences. */
export function lead(sentences: readonly string[], n: number): string[] {
  return sentences.slice(0, n);
}

/**
 * Plain TextRank (Mihalcea and Tarau 2004, as the measurement ran it): a graph of the
 * sentences weighted by the cosine of their tf-idf vectors (stemmed content words, IDF within the
 * article), PageRank with damping 0.85 until it settles, the top `n` sentences in article order.
 */
export function textRank(sentences: readonly string[], n: number): string[] {
  const terms = sentences.map(contentTerms);
  const count = sentences.length;
  const df = new Map<string, number>();
  for (const list of terms) for (const t of new Set(list)) df.set(t, (df.get(t) ?? 0) + 1);
  const vectors = terms.map((list) => {
    const tf = new Map<string, number>();
    for (const t of list) tf.set(t, (tf.get(t) ?? 0) + 1);
    const vector = new Map<string, number>();
    for (const [t, f] of tf) vector.set(t, f * (Math.log((count + 1) / (df.get(t) as number)) + 1));
    const norm = Math.sqrt([...vector.values()].reduce((a, w) => a + w * w, 0));
    return { vector, norm };
  });
  const weight = vectors.map((a, i) =>
    vectors.map((b, j) => {
      if (i === j || !a.norm || !b.norm) return 0;
      let dot = 0;
      for (const [t, w] of a.vector) dot += w * (b.vector.get(t) ?? 0);
      return dot / (a.norm * b.norm);
    }),
  );
  const out = weight.map((row) => row.reduce((a, b) => a + b, 0));
  let scores = new Array<number>(count).fill(1 / count);
  for (let iteration = 0; iteration < 100; iteration++) {
    const next = new Array<number>(count).fill(0.15 / count);
    for (let j = 0; j < count; j++) {
      if (!out[j]) continue;
      const share = (0.85 * (scores[j] as number)) / (out[j] as number);
      for (let i = 0; i < count; i++) next[i] = (next[i] as number) + share * ((weight[j] as number[])[i] as number);
    }
    const moved = next.reduce((a, s, i) => a + Math.abs(s - (scores[i] as number)), 0);
    scores = next;
    if (moved < 1e-9) break;
  }
  return scores
    .map((score, index) => ({ score, index }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, n)
    .sort((a, b) => a.index - b.index)
    .map(({ index }) => sentences[index] as string);
}
