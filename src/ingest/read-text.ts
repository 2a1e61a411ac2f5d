import { DispatchError } from '../errors.js';
import { cleanText } from './clean-text.js';
import type { Block } from './structure-blocks.js';

const TERMINAL = /[.!?:;"”’)\]…]$/;

/**
 * A block of lines is hard-wrapped prose when its lines are long and most do not end a sentence:
 * join them. Otherwise (a share bar, a list of links, one paragraph per line) each line stands alone.
 */
function blockLines(block: string): string[] {
  const lines = block
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length < 2) return lines;
  // A fold, not Math.max(...lines): spreading 100,000 lines overflows the call stack.
  const longest = lines.reduce((n, l) => Math.max(n, l.length), 0);
  const wrapped =
    longest >= 50 &&
    lines.slice(0, -1).every((l) => l.length >= longest * 0.6) &&
    lines.slice(0, -1).filter((l) => !TERMINAL.test(l)).length >= (lines.length - 1) / 2;
  return wrapped ? [lines.join(' ')] : lines;
}

/** Plain text as scraped: the first non-empty line is the title, then paragraphs. */
export function readText(text: string, source = 'input'): { title: string; blocks: Block[] } {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t\u00a0]*\n/)
    .flatMap(blockLines);
  const titleIndex = lines.findIndex((l) => cleanText(l).length > 0);
  const title = titleIndex === -1 ? '' : cleanText(lines[titleIndex] as string);
  if (!title) throw new DispatchError('E_ARTICLE_NO_TITLE', `${source}: no title line`);
  return { title, blocks: lines.slice(titleIndex + 1).map((l) => ({ text: l })) };
}
