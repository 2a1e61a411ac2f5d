import sbd from 'sbd';

const SBD_OPTIONS = { newline_boundaries: false, preserve_whitespace: false, sanitize: false } as const;

/**
 * sbd reads at most this much of a paragraph at once: a longer "paragraph" (a scraped page with no
 * line breaks, a run of "a.a.a.") is cut into pieces first, after a sentence end where there is
 * one. The dev sets' longest paragraph (a whole CNN story on one line) has about 10,000 characters.
 */
const MAX_CHUNK_CHARS = 20_000;
/** No sentence is longer than this: a longer one is cut at whitespace (or, without any, between characters). */
export const MAX_SENTENCE_CHARS = 2_000;

const WHITESPACE = /\s/;
const CLOSERS = new Set(['"', '”', '’', ')', ']']);
const TERMINALS = new Set(['.', '!', '?', '…']);
const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/**
 * True when the text before `at`, trailing whitespace aside, ends a sentence: `.`, `!`, `?` or `…`,
 * then perhaps closing quotes or brackets (what `/[.!?…]["”’)\]]*$/` finds, without scanning from the start).
 */
function endsSentence(text: string, at: number): boolean {
  let i = at;
  while (i > 0 && WHITESPACE.test(text[i - 1] as string)) i--;
  while (i > 0 && CLOSERS.has(text[i - 1] as string)) i--;
  return i > 0 && TERMINALS.has(text[i - 1] as string);
}

/** The last grapheme boundary at or before `limit` (and after `start`), so a cut never splits an emoji or a letter and its accents. */
function graphemeBoundary(text: string, start: number, limit: number): number {
  const from = Math.max(start, limit - 64);
  let best = start;
  for (const { index } of graphemes.segment(text.slice(from, limit + 1))) {
    if (from + index > limit) break;
    if (index > 0) best = from + index;
  }
  if (best > start) return best;
  // One grapheme longer than the window (a letter under hundreds of marks): keep surrogate pairs whole.
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/**
 * Where to end a piece of `text` that starts at `start` and may run to `limit`: after the last
 * sentence end in its second half, else at its last whitespace there, else between two graphemes.
 */
function pieceEnd(text: string, start: number, limit: number, preferSentences: boolean): number {
  const floor = start + Math.floor((limit - start) / 2);
  let space = -1;
  for (let i = limit; i > floor; ) {
    if (!WHITESPACE.test(text[i] as string)) {
      i--;
      continue;
    }
    // Each run of whitespace is looked at once, from its first character.
    let first = i;
    while (first > start && WHITESPACE.test(text[first - 1] as string)) first--;
    if (!preferSentences || endsSentence(text, first)) return i;
    if (space < 0) space = i;
    i = first - 1;
  }
  return space >= 0 ? space : graphemeBoundary(text, start, limit);
}

/** `text` in trimmed pieces of at most `max` characters (see {@link pieceEnd}). */
function pieces(text: string, max: number, preferSentences: boolean): string[] {
  if (text.length <= max) return [text];
  const out: string[] = [];
  let start = 0;
  while (text.length - start > max) {
    const end = pieceEnd(text, start, start + max, preferSentences);
    out.push(text.slice(start, end).trim());
    start = end;
  }
  out.push(text.slice(start).trim());
  return out.filter(Boolean);
}

/** Opening minus closing double quotes: above zero means a quotation is still open. */
function openQuotes(text: string): number {
  const curly = (text.match(/“/g)?.length ?? 0) - (text.match(/”/g)?.length ?? 0);
  const straight = (text.match(/"/g)?.length ?? 0) % 2;
  return curly + straight;
}

/**
 * sbd's sentences, as slices of the paragraph itself: sbd may drop or change characters (a full
 * stop inside "http://a.io"), so each boundary it reports is kept only where the paragraph has
 * whitespace after sentence punctuation; anything else joins the pieces back together.
 */
function sbdSentences(paragraph: string): string[] {
  const found = sbd
    .sentences(paragraph, SBD_OPTIONS)
    .map((s) => s.trim())
    .filter(Boolean);
  const starts = [0];
  let cursor = 0;
  for (const piece of found.slice(1)) {
    const head = piece.slice(0, 12);
    const at = paragraph.indexOf(head, cursor + 1);
    if (at < 0) continue;
    cursor = at;
    if (WHITESPACE.test(paragraph[at - 1] ?? '') && endsSentence(paragraph, at)) starts.push(at);
  }
  return starts.map((start, i) => paragraph.slice(start, starts[i + 1] ?? paragraph.length).trim()).filter(Boolean);
}

/** Sentences run on across this many pieces at most while a quotation is open. */
const MAX_QUOTE_MERGE = 4;

/**
 * Splits a paragraph into sentences. sbd handles abbreviations ("U.S.", "Mr.", "p.m.", "No. 10"),
 * initials, decimals and URLs; on top of it, a quotation that sbd split inside
 * ("“We agreed. We will meet,” Kerry said.") is joined back into one sentence. The work stays
 * linear in the paragraph's length: see {@link MAX_CHUNK_CHARS} and {@link MAX_SENTENCE_CHARS}.
 */
export function splitSentences(paragraph: string): string[] {
  const found = pieces(paragraph, MAX_CHUNK_CHARS, true).flatMap(sbdSentences);
  const sentences: string[] = [];
  let i = 0;
  while (i < found.length) {
    let sentence = found[i] as string;
    let j = i + 1;
    if (openQuotes(sentence) > 0) {
      let joined = sentence;
      for (let k = i + 1; k < found.length && k - i < MAX_QUOTE_MERGE; k++) {
        joined = `${joined} ${found[k]}`;
        if (openQuotes(joined) <= 0) {
          sentence = joined;
          j = k + 1;
          break;
        }
      }
    }
    sentences.push(sentence);
    i = j;
  }
  return sentences.flatMap((s) => pieces(s, MAX_SENTENCE_CHARS, false));
}
