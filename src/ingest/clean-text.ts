/** Zero-width space, LRM/RLM marks, word joiner, BOM and soft hyphen; ZWJ and ZWNJ stay (emoji sequences, Indic and Persian text need them). */
const INVISIBLE = /[\u200b\u200e\u200f\u2060\ufeff\u00ad]/g;

/**
 * Latin letters, general punctuation (curly quotes, dashes, the ellipsis) and currency signs are
 * already NFC; only text with other characters (combining marks, Hangul, presentation forms,
 * compatibility ideographs...) pays for `normalize`.
 */
const NOT_SURELY_NFC = /[^\s!-\u02ff\u2002-\u206f\u20a0-\u20bf]/;

/** One line of article text: NFC, no invisible characters, single spaces (NBSP included), trimmed. */
export function cleanText(text: string): string {
  const nfc = NOT_SURELY_NFC.test(text) ? text.normalize('NFC') : text;
  return nfc.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
}

/** Counts words the way readers do: runs of letters or digits, with inner apostrophes and hyphens. */
export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0;
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
