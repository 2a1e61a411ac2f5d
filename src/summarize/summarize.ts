import type { Article, Quote } from '../ingest/article.js';
import { countWords } from '../ingest/clean-text.js';
import { cutToFit } from '../text/cut-text.js';
import { fitsTweet, weightedChars } from '../text/fits-tweet.js';
import { contentTerms } from '../text/tokenize.js';
import { MAX_CANDIDATE_SENTENCES, type RankedSentence, rankSentences, termSimilarity } from './rank-sentences.js';

/** What the newsletter and the posts say about an article. */
export interface Summary {
  /** The best sentence (or two short ones), short enough to share a post with a link. */
  oneLine: string;
  /**
   * Up to three key points that do not repeat each other, in article order: whole sentences of at
   * most `bulletMaxChars`; a sentence is cut (at a clause, with "…") only when none is that short.
   */
  bullets: string[];
  /** The whole sentences of the bullets, in the same order (a bullet differs only when it was cut). */
  points: string[];
  /** The strongest direct quote, with its speaker when known. */
  keyQuote?: Quote;
}

export interface SummarizeOptions {
  /** @defaultValue 3 */
  bullets?: number;
  /**
   * The longest bullet, in characters as X weighs them (CJK count 2): a card line that still reads
   * at a glance, and a key-point post that fits whole with its link. @defaultValue 200
   */
  bulletMaxChars?: number;
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

/**
 * A sentence with a penalty below this (a fragment of under six words, a bare attribution, a label)
 * is a summary only when the article has nothing better, not even a longer sentence to cut.
 */
const MIN_PENALTY = 0.25;
/**
 * twitter-text is slow: at most this many of the best sentences are checked for a post. Beyond
 * them, a cut of the best says more than a whole sentence that ranks that low.
 */
const MAX_FIT_CHECKS = 20;

/**
 * The sentences worth summarizing, in tiers: those that read as statements, then any that score
 * above zero (boilerplate never does). The first tier with a sentence is used.
 */
function tiers(ranked: readonly RankedSentence[], score: (s: RankedSentence) => number): RankedSentence[][] {
  const positive = ranked.filter((s) => score(s) > 0);
  return [positive.filter((s) => s.penalty >= MIN_PENALTY), positive].filter((tier) => tier.length > 0);
}

/**
 * The sentence that best stands for the article among those that fit a post whole (with a link),
 * joined with the next best when both are short; only when none of the best fits is the best one cut.
 */
function pickOneLine(ranked: readonly RankedSentence[]): string {
  const byGist = (list: RankedSentence[]) => [...list].sort((a, b) => b.gist - a.gist || a.index - b.index);
  const scored = byGist(ranked.filter((s) => s.gist > 0));
  for (const tier of tiers(ranked, (s) => s.gist)) {
    const sorted = byGist(tier);
    const best = sorted.slice(0, MAX_FIT_CHECKS).find((s) => fitsWithLink(s.text));
    if (!best) {
      const cut = cutToFit((sorted[0] as RankedSentence).text, fitsWithLink);
      if (cut) return cut;
      continue;
    }
    // Two short sentences say more than one: "The bridge reopened. Traffic was light." The next
    // best that fits joins a short best when it is short too.
    if (best.words < SHORT_SENTENCE_WORDS) {
      const second = scored.slice(0, MAX_FIT_CHECKS).find((s) => s !== best && fitsWithLink(s.text));
      const joined =
        second &&
        second.text !== best.text &&
        second.words < SHORT_SENTENCE_WORDS * 2 &&
        [best, second]
          .sort((a, b) => a.index - b.index)
          .map((s) => s.text)
          .join(' ');
      if (joined && fitsWithLink(joined)) return joined;
    }
    return best.text;
  }
  return '';
}

/**
 * Up to `count` key points by maximal marginal relevance over `keyPoint`, skipping any too like one
 * already chosen, from the sentences that fit a card whole. Only when no sentence fits is the best
 * one cut, at a clause where it can be.
 */
function pickPoints(
  ranked: readonly RankedSentence[],
  count: number,
  maxChars: number,
): [point: string, bullet: string][] {
  // Weighed as X weighs it (CJK counts twice): the key-point post made from it must fit whole with a link.
  const fits = (text: string) => weightedChars(text) <= maxChars;
  for (const candidates of tiers(ranked, (s) => s.keyPoint)) {
    const whole = candidates.filter((s) => fits(s.text));
    const chosen: RankedSentence[] = [];
    while (chosen.length < count) {
      let best: { sentence: RankedSentence; value: number } | undefined;
      for (const sentence of whole) {
        if (chosen.includes(sentence)) continue;
        const similarity = Math.max(0, ...chosen.map((c) => termSimilarity(c.termSet, sentence.termSet)));
        if (similarity > MAX_BULLET_SIMILARITY) continue;
        const value = MMR_LAMBDA * sentence.keyPoint - (1 - MMR_LAMBDA) * similarity;
        if (!best || value > best.value) best = { sentence, value };
      }
      if (!best) break;
      chosen.push(best.sentence);
    }
    if (chosen.length) return chosen.sort((a, b) => a.index - b.index).map((s) => [s.text, s.text]);
    const [top] = [...candidates].sort((a, b) => b.keyPoint - a.keyPoint || a.index - b.index);
    const cut = top && cutToFit(top.text, fits, { clauseSlack: 0.5 });
    if (top && cut) return [[top.text, cut]];
  }
  return [];
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
 * An extractive summary of an article: pure and deterministic. The one line is the sentence that
 * best stands for the whole article; the bullets are the points the story puts first and develops
 * (see `rankSentences`). Questions, fragments, bare attributions and leftover boilerplate rank low.
 */
export function summarize(article: Article, options: SummarizeOptions = {}): Summary {
  const ranked = rankSentences(article);
  const picked = pickPoints(ranked, options.bullets ?? 3, options.bulletMaxChars ?? 200);
  const summary: Summary = {
    oneLine: pickOneLine(ranked),
    bullets: picked.map(([, bullet]) => bullet),
    points: picked.map(([point]) => point),
  };
  const keyQuote = pickKeyQuote(article, ranked);
  if (keyQuote) summary.keyQuote = keyQuote;
  return summary;
}
