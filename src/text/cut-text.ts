import twitter from 'twitter-text';

/** Where a text may be cut, best first: after a sentence, after a clause, between words. */
export type BoundaryKind = 'sentence' | 'clause' | 'word';

export interface CutPoint {
  /** The text is cut to `text.slice(0, at)` (then trimmed). */
  at: number;
  kind: BoundaryKind;
}

const NO_SPACE_SCRIPTS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;
const SENTENCE_END = /(?:[.!?。！？]|\.\.\.)["”’)\]]*$/u;
const CLAUSE_END = /[,;:，、；：]["”’)\]]*$|\s[–—-]$/u;
const wordSegmenter = new Intl.Segmenter('und', { granularity: 'word' });

function kindAt(text: string, at: number): BoundaryKind {
  const before = text.slice(Math.max(0, at - 4), at).trimEnd();
  if (SENTENCE_END.test(before)) return 'sentence';
  if (CLAUSE_END.test(before) || /^\s*[–—]/.test(text.slice(at, at + 3))) return 'clause';
  return 'word';
}

/**
 * Every place `text` may be cut without splitting a word, URL, @mention, #hashtag or $cashtag:
 * between words (whitespace), and between words of scripts written without spaces (CJK, Thai),
 * as ICU's word segmenter finds them.
 */
export function cutPoints(text: string): CutPoint[] {
  const entities = twitter.extractEntitiesWithIndices(text);
  const inside = (at: number) => entities.some(({ indices: [start, end] }) => at > start && at < end);
  const points = new Set<number>();
  for (const match of text.matchAll(/\S(?=\s)/gu)) points.add(match.index + match[0].length);
  if (NO_SPACE_SCRIPTS.test(text)) {
    for (const { index } of wordSegmenter.segment(text)) {
      if (index === 0) continue;
      const around = text.slice(Math.max(0, index - 1), index + 1);
      if (NO_SPACE_SCRIPTS.test(around) && !/\s/.test(around)) points.add(index);
    }
  }
  return [...points]
    .filter((at) => at > 0 && at < text.length && !inside(at))
    .sort((a, b) => a - b)
    .map((at) => ({ at, kind: kindAt(text, at) }));
}

export interface CutOptions {
  /** Appended when the cut is not at a sentence end. @defaultValue "…" */
  ellipsis?: string;
  /** A sentence end this close to the longest cut (as a share of it) is preferred to it. @defaultValue 0.6 */
  sentenceSlack?: number;
  /** A clause end this close to the longest cut is preferred to a word boundary. @defaultValue 0.75 */
  clauseSlack?: number;
}

const CLAUSE_PUNCTUATION = new Set([',', ';', ':', '，', '、', '；', '：']);
const DASHES = new Set(['–', '—', '-']);
const WHITESPACE = /\s/;

/**
 * `head` without the punctuation that ends a clause ("Monday," or a spaced dash), never a word's
 * own characters: what `head.replace(/(?:[,;:，、；：]|\s+[–—-])+$/u, '')` removes, found by walking
 * back from the end, because that pattern retries from every character of a long run of commas.
 */
function dropClauseEnd(head: string): string {
  let end = head.length;
  for (;;) {
    const last = head[end - 1] ?? '';
    if (CLAUSE_PUNCTUATION.has(last)) {
      end--;
    } else if (DASHES.has(last) && WHITESPACE.test(head[end - 2] ?? '')) {
      end -= 2;
      while (end > 0 && WHITESPACE.test(head[end - 1] as string)) end--;
    } else return head.slice(0, end);
  }
}

/** The text cut at `point`: whole sentences stand as they are, anything shorter gets an ellipsis. */
function render(text: string, point: CutPoint, ellipsis: string): string {
  const head = text.slice(0, point.at).trimEnd();
  if (point.kind === 'sentence') return head;
  return `${dropClauseEnd(head)}${ellipsis}`;
}

/**
 * Cuts are looked for in this many first characters of the text, so that the work (and every
 * string `fits` sees) stays bounded however long the text is: no post, title or bullet is longer.
 */
export const CUT_WINDOW_CHARS = 2_000;
/** Read past the window so that a link or hashtag across its end is still seen whole. */
const WINDOW_MARGIN_CHARS = 256;

/**
 * The longest cut of `text` for which `fits` holds, preferring a sentence end, then a clause end,
 * then a word boundary; never inside a word, URL, mention or hashtag. `text` itself when it fits;
 * null when not even the first word does. A text longer than {@link CUT_WINDOW_CHARS} is taken as
 * not fitting whole and is cut within its first {@link CUT_WINDOW_CHARS} characters.
 */
export function cutToFit(text: string, fits: (candidate: string) => boolean, options: CutOptions = {}): string | null {
  const long = text.length > CUT_WINDOW_CHARS;
  if (!long && fits(text)) return text;
  const ellipsis = options.ellipsis ?? '…';
  const points = long
    ? cutPoints(text.slice(0, CUT_WINDOW_CHARS + WINDOW_MARGIN_CHARS)).filter((p) => p.at <= CUT_WINDOW_CHARS)
    : cutPoints(text);
  // Binary search: a longer cut never weighs less than a shorter one.
  let low = 0;
  let high = points.length - 1;
  let best = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (fits(render(text, points[mid] as CutPoint, ellipsis))) {
      best = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  if (best < 0) return null;
  const longest = points[best] as CutPoint;
  const preferred = (kind: BoundaryKind, slack: number) =>
    points.slice(0, best + 1).findLast((p) => p.kind === kind && p.at >= longest.at * slack);
  const choice =
    preferred('sentence', options.sentenceSlack ?? 0.6) ?? preferred('clause', options.clauseSlack ?? 0.75) ?? longest;
  const cut = render(text, choice, ellipsis);
  return fits(cut) ? cut : render(text, longest, ellipsis);
}
