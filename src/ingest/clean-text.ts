/**
 * Characters article text never keeps: C0 controls (tab, line feed, vertical tab, form feed and
 * carriage return are whitespace and become spaces below; U+0085 "next line" too), DEL, C1 controls;
 * the bidi embeddings, overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, LRM, RLM, ALM),
 * which make text display in another order than it reads (the "Trojan Source" attack); and invisible
 * characters that only hide or split words: zero-width space, word joiner, invisible math operators,
 * the deprecated format controls U+206A-U+206F, interlinear annotation marks, BOM, soft hyphen and
 * the Mongolian vowel separator. ZWJ and ZWNJ stay: emoji sequences, Indic and Persian text need them.
 */
const REMOVED =
  /(?![\t\n\v\f\r\x85])\p{Cc}|[\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu;

/**
 * A character that shows something: not whitespace, not a control or format character (ZWJ, ZWNJ,
 * variation selectors...), not a combining mark on its own, not a lone surrogate, not a default
 * ignorable code point (Hangul fillers) and not the blank braille pattern.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Cs}\p{M}\p{Default_Ignorable_Code_Point}\u2800]/u;

/**
 * Latin letters, general punctuation (curly quotes, dashes, the ellipsis) and currency signs are
 * already NFC; only text with other characters (combining marks, Hangul, presentation forms,
 * compatibility ideographs...) pays for `normalize`.
 */
const NOT_SURELY_NFC = /[^\s!-\u02ff\u2002-\u206f\u20a0-\u20bf]/;

/** True when `text` has at least one character that shows (see {@link cleanText}). */
export function hasVisibleText(text: string): boolean {
  return VISIBLE.test(text);
}

/**
 * One line of article text: no control, bidi or invisible characters, NFC, single spaces (NBSP
 * included), trimmed. Text with nothing visible left (only whitespace, ZWJ, variation selectors,
 * combining marks...) is the empty string, so that callers treat it as absent.
 */
export function cleanText(text: string): string {
  // Removed before NFC: a zero-width space between a letter and its accent would keep them apart.
  const stripped = text.replace(REMOVED, '');
  if (!VISIBLE.test(stripped)) return '';
  const nfc = NOT_SURELY_NFC.test(stripped) ? stripped.normalize('NFC') : stripped;
  return nfc.replace(/[\s\x85]+/g, ' ').trim();
}

/** Counts words the way readers do: runs of letters or digits, with inner apostrophes and hyphens. */
export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0;
}

const ENDS_SENTENCE = /[.!?…。！？]["'”’)\]]*$/u;

/** True when `text` ends as a sentence does: a full stop, question or exclamation mark (CJK ones too), perhaps inside quotes or brackets. */
export function endsAsSentence(text: string): boolean {
  return ENDS_SENTENCE.test(text);
}

const QUOTE_PAIRS: Record<string, string> = { '‘': '’', '“': '”', "'": "'", '"': '"', '«': '»' };

/** Removes one pair of quotes wrapping the whole text: "'Positive opportunity'" -> "Positive opportunity". */
export function stripWrappingQuotes(text: string): string {
  const first = text[0];
  const close = first === undefined ? undefined : QUOTE_PAIRS[first];
  if (close && text.length > 2 && text.endsWith(close)) {
    const inner = text.slice(1, -1);
    if (!inner.includes(first as string) && !inner.includes(close)) return inner.trim();
  }
  return text;
}
