/** Characters that render as nothing and only get in the way of matching. */
const INVISIBLE = /[\u200b-\u200f\u2060\ufeff\u00ad]/g;

/**
 * Only combining marks and a few singletons (Ω Å K, CJK compatibility ideographs) change under NFC;
 * skipping `normalize` for text without them halves the cost of cleaning.
 */
const MAY_CHANGE_UNDER_NFC = /[\p{M}\u2126\u212a\u212b\uf900-\ufaff]/u;

/** One line of article text: NFC, no invisible characters, single spaces (NBSP included), trimmed. */
export function cleanText(text: string): string {
  const nfc = MAY_CHANGE_UNDER_NFC.test(text) ? text.normalize('NFC') : text;
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
