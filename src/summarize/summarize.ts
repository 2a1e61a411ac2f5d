import type { Article, Quote } from '../ingest/article.js';
import { countWords } from '../ingest/clean-text.js';
import { cutToFit } from '../text/cut-text.js';
import { fitsTweet } from '../text/fits-tweet.js';
import { contentTerms } from '../text/tokenize.js';
import {
  DEFAULT_WEIGHTS,
  MAX_CANDIDATE_SENTENCES,
  type RankedSentence,
  type RankWeights,
  rankSentences,
  termSimilarity,
} from './rank-sentences.js';

/** What the newsletter and the posts say about an article. */
export interface Summary {
  /** The best sentence (or two short ones), short enough to share a post with a link. */
  oneLine: string;
  /** Up to three key points that do not repeat each other, each about 160 characters at most, in article order. */
  bullets: string[];
  /** The whole sentences the bullets were cut from, in the same order. */
  points: string[];
  /** The strongest direct quote, with its speaker when known. */
  keyQuote?: Quote;
}

export interface SummarizeOptions {
  /** @defaultValue 3 */
  bullets?: number;
  /** @defaultValue 160 */
  bulletMaxChars?: number;
  /** Sentence score weights. @defaultValue {@link DEFAULT_WEIGHTS} */
  weights?: RankWeights;
}

/** A stand-in link: twitter-text weighs every URL as 23, whatever its length. */
const LINK = 'https://t.co/xxxxxxxxxx';
/** Balances a bullet's score against its similarity to bullets already chosen (maximal marginal relevance). */
const MMR_LAMBDA = 0.7;
const MAX_BULLET_SIMILARITY = 0.5;
const SHORT_SENTENCE_WORDS = 12;

function fitsWithLink(text: string): boolean {
  return fitsTweet(`${text} ${LINK}`);
}

function pickOneLine(ranked: readonly RankedSentence[]): string {
  const [best, second] = [...ranked].sort((a, b) => b.score - a.score || a.index - b.index);
  if (!best) return '';
  let chosen = best.text;
  // Two short sentences say more than one: "The bridge reopened. Traffic was light."
  if (best.words < SHORT_SENTENCE_WORDS && second && second.words < SHORT_SENTENCE_WORDS * 2) {
    const pair = [best, second].sort((a, b) => a.index - b.index);
    const joined = pair.map((s) => s.text).join(' ');
    if (fitsWithLink(joined)) chosen = joined;
  }
  return cutToFit(chosen, fitsWithLink) ?? '';
}

function pickPoints(ranked: readonly RankedSentence[], count: number): string[] {
  const candidates = ranked.filter((s) => s.score > 0);
  const chosen: RankedSentence[] = [];
  while (chosen.length < count) {
    let best: { sentence: RankedSentence; value: number } | undefined;
    for (const sentence of candidates) {
      if (chosen.includes(sentence)) continue;
      const similarity = Math.max(0, ...chosen.map((c) => termSimilarity(c.termSet, sentence.termSet)));
      if (similarity > MAX_BULLET_SIMILARITY) continue;
      const value = MMR_LAMBDA * sentence.score - (1 - MMR_LAMBDA) * similarity;
      if (!best || value > best.value) best = { sentence, value };
    }
    if (!best) break;
    chosen.push(best.sentence);
  }
  return chosen.sort((a, b) => a.index - b.index).map((s) => s.text);
}

/** A point cut to about `maxChars` at a clause boundary where there is one, never mid-word. */
function toBullet(point: string, maxChars: number): string | null {
  return cutToFit(point, (t) => t.length <= maxChars, { clauseSlack: 0.5 });
}

/** Only this many first quotes are candidates for the key quote (the dev sets' articles have 27 at most). */
const MAX_CANDIDATE_QUOTES = 200;

/**
 * How often the article's candidate sentences name a speaker (by the last word of the name), to
 * prefer its main figures; counted once per name.
 */
function mentionCounter(article: Article): (speaker: string) => number {
  const sentences = article.sentences.slice(0, MAX_CANDIDATE_SENTENCES);
  const counts = new Map<string, number>();
  return (speaker) => {
    const name = speaker.split(/\s+/).pop() ?? speaker;
    let n = counts.get(name);
    if (n === undefined) {
      n = sentences.reduce((k, s) => k + (s.includes(name) ? 1 : 0), 0);
      counts.set(name, n);
    }
    return n;
  };
}

/**
 * The quote a reader would share: a whole sentence or more (4 to 45 words), said by someone the
 * article names often, and about what the article is about (similar to its central sentences).
 */
function pickKeyQuote(article: Article, ranked: readonly RankedSentence[]): Quote | undefined {
  const central = [...ranked].sort((a, b) => b.centrality - a.centrality).slice(0, 5);
  const centralTerms = new Set(central.flatMap((s) => s.terms));
  const quotes = article.quotes.slice(0, MAX_CANDIDATE_QUOTES).filter((q) => {
    const words = countWords(q.text);
    return words >= 4 && words <= 45;
  });
  const mentions = mentionCounter(article);
  const prominence = quotes.map((q) => (q.speaker ? mentions(q.speaker) : 0));
  const mostNamed = prominence.reduce((a, b) => Math.max(a, b), 1);
  let best: { quote: Quote; value: number } | undefined;
  quotes.forEach((quote, i) => {
    const value =
      (quote.speaker ? 0.5 + (0.5 * (prominence[i] as number)) / mostNamed : 0.3) *
      (/^[\p{Lu}\p{N}]/u.test(quote.text) ? 1 : 0.6) *
      (0.5 + termSimilarity(new Set(contentTerms(quote.text)), centralTerms));
    if (!best || value > best.value) best = { quote, value };
  });
  return best?.quote;
}

/**
 * An extractive summary of an article: pure and deterministic. Sentences are ranked by position,
 * TextRank centrality and overlap with the title, with penalties for questions, fragments,
 * bare attributions and leftover boilerplate (see `rankSentences`).
 */
export function summarize(article: Article, options: SummarizeOptions = {}): Summary {
  const ranked = rankSentences(article, options.weights ?? DEFAULT_WEIGHTS);
  const maxChars = options.bulletMaxChars ?? 160;
  const points: string[] = [];
  const bullets: string[] = [];
  for (const point of pickPoints(ranked, options.bullets ?? 3)) {
    const bullet = toBullet(point, maxChars);
    if (bullet) {
      points.push(point);
      bullets.push(bullet);
    }
  }
  const summary: Summary = { oneLine: pickOneLine(ranked), bullets, points };
  const keyQuote = pickKeyQuote(article, ranked);
  if (keyQuote) summary.keyQuote = keyQuote;
  return summary;
}
