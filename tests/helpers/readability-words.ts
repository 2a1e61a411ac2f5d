import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import type { Article } from '../../src/ingest/article.js';
import { cleanText } from '../../src/ingest/clean-text.js';

/**
 * What the recall test and bench:extraction compare Dispatch with: plain Readability's title and
 * `textContent` on the same decoded page, with its default options.
 */
export function plainReadability(html: string): { title: string; text: string } | null {
  const { document } = parseHTML(html) as unknown as { document: Document };
  const parsed = new Readability(document).parse();
  return parsed ? { title: cleanText(parsed.title ?? ''), text: parsed.textContent ?? '' } : null;
}

/** Lowercase word tokens, after the same clean-up Dispatch gives every string (NFC, invisible characters gone). */
export function wordTokens(text: string): string[] {
  return (
    cleanText(text)
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** What Dispatch keeps of a page as text: its title, then each section's heading and paragraphs. */
export function articleTexts(article: Article): string[] {
  return [article.title, ...article.sections.flatMap((s) => [s.heading ?? '', ...s.paragraphs])];
}

/** Recall of `reference` tokens (as a multiset) in `kept`, and the reference tokens not kept, in reading order. */
export function recall(reference: readonly string[], kept: readonly string[]): { recall: number; missing: string[] } {
  const counts = new Map<string, number>();
  for (const token of kept) counts.set(token, (counts.get(token) ?? 0) + 1);
  const missing: string[] = [];
  for (const token of reference) {
    const n = counts.get(token) ?? 0;
    if (n > 0) counts.set(token, n - 1);
    else missing.push(token);
  }
  return { recall: reference.length === 0 ? 1 : 1 - missing.length / reference.length, missing };
}

/** `reference` without the first run of tokens equal to `phrase`'s, or null when it has no such run. */
export function withoutPhrase(reference: readonly string[], phrase: readonly string[]): string[] | null {
  for (let i = 0; i + phrase.length <= reference.length; i++) {
    if (phrase.every((token, j) => reference[i + j] === token)) {
      return [...reference.slice(0, i), ...reference.slice(i + phrase.length)];
    }
  }
  return null;
}
