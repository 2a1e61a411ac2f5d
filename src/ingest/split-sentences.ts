import sbd from 'sbd';

const SBD_OPTIONS = { newline_boundaries: false, preserve_whitespace: false, sanitize: false } as const;

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
  const pieces = sbd
    .sentences(paragraph, SBD_OPTIONS)
    .map((s) => s.trim())
    .filter(Boolean);
  const starts = [0];
  let cursor = 0;
  for (const piece of pieces.slice(1)) {
    const head = piece.slice(0, 12);
    const at = paragraph.indexOf(head, cursor + 1);
    if (at < 0) continue;
    cursor = at;
    if (/\s/.test(paragraph[at - 1] ?? '') && /[.!?…]["”’)\]]*$/.test(paragraph.slice(0, at).trimEnd())) {
      starts.push(at);
    }
  }
  return starts.map((start, i) => paragraph.slice(start, starts[i + 1] ?? paragraph.length).trim()).filter(Boolean);
}

/** Sentences run on across this many pieces at most while a quotation is open. */
const MAX_QUOTE_MERGE = 4;

/**
 * Splits a paragraph into sentences. sbd handles abbreviations ("U.S.", "Mr.", "p.m.", "No. 10"),
 * initials, decimals and URLs; on top of it, a quotation that sbd split inside
 * ("“We agreed. We will meet,” Kerry said.") is joined back into one sentence.
 */
export function splitSentences(paragraph: string): string[] {
  const pieces = sbdSentences(paragraph);
  const sentences: string[] = [];
  let i = 0;
  while (i < pieces.length) {
    let sentence = pieces[i] as string;
    let j = i + 1;
    if (openQuotes(sentence) > 0) {
      let joined = sentence;
      for (let k = i + 1; k < pieces.length && k - i < MAX_QUOTE_MERGE; k++) {
        joined = `${joined} ${pieces[k]}`;
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
  return sentences;
}
