/**
 * Text from outside as one safe line: control characters, lone surrogates, line and paragraph
 * separators and bidi overrides become spaces (they end header lines, add lines to a text part, or
 * forge how a line reads in a terminal or a table), runs of white space one space, trimmed, and at
 * most `max` characters (code points, never half of one). Bounded: at most 4 × `max` UTF-16 units
 * are read.
 */
export function oneLine(value: string, max = Number.POSITIVE_INFINITY): string {
  const flat = (Number.isFinite(max) ? value.slice(0, max * 4) : value)
    // \p{Cs}: a lone surrogate, what cutting UTF-16 in the middle of a character leaves.
    .replace(/[\p{Cc}\p{Cs}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return Number.isFinite(max) ? Array.from(flat).slice(0, max).join('').trim() : flat;
}
