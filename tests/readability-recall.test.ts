import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeInput } from '../src/ingest/decode-input.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import {
  articleTexts,
  plainReadability,
  recall,
  wordTokens as tokens,
  withoutPhrase,
} from './helpers/readability-words.js';
import { ROOT } from './helpers/run-cli.js';

/** Share of plain Readability's words that Dispatch's title and body must keep. */
const MIN_RECALL = 0.99;

/**
 * A fixture's reason for keeping less than {@link MIN_RECALL}: Readability keeps some furniture that
 * Dispatch drops (a dateline, a share line) or moves out of the body (the standfirst, the byline).
 */
interface RecallException {
  min: number;
  why: string;
  /** The phrases of Readability's text that Dispatch leaves out of the title and body, each as it reads there. */
  dropped: string[];
}

/** Lines that are never article text, on any fixture page. */
const BOILERPLATE = [
  'follow us on Twitter',
  'Join our Weekly Newsletter',
  'Related Items',
  'Related stories',
  'Most Read',
  'Leave a Reply',
  'Your email address will not be published',
  'Required fields are marked',
  '14 + three =',
  '2 x five =',
  'Share this with',
  'Copy this link',
  'Post Comment',
];
/** Whole paragraphs that are share buttons or ad labels. */
const BOILERPLATE_PARAGRAPHS = ['Advertisement', 'Email', 'Facebook', 'Twitter', 'WhatsApp', 'Share this:'];

const dir = join(ROOT, 'tests/fixtures/html');
const pages = readdirSync(dir)
  .filter((f) => f.endsWith('.html'))
  .sort();
const receivedAt = new Date('2026-11-27T09:00:00Z');

describe('Dispatch keeps every word plain Readability finds on a fixture page', () => {
  it('has the fixture pages', () => {
    expect(pages.length).toBeGreaterThanOrEqual(19);
  });

  it.each(pages)('%s', (page) => {
    const bytes = readFileSync(join(dir, page));
    const expected = JSON.parse(readFileSync(join(dir, page.replace(/\.html$/, '.expected.json')), 'utf8')) as {
      readabilityRecall?: RecallException;
    };
    // Readability reads the same text Dispatch does: the page decoded by its charset.
    const readability = plainReadability(decodeInput(bytes, { source: page }));
    expect(readability?.text, `${page}: plain Readability finds no article`).toBeTruthy();
    const reference = tokens(readability?.text ?? '');

    const article = parseArticle(bytes, { receivedAt, source: page });
    const kept = articleTexts(article);
    const keptTokens = tokens(kept.join('\n'));
    const exception = expected.readabilityRecall;
    const floor = exception?.min ?? MIN_RECALL;
    const measured = recall(reference, keptTokens);
    expect(
      measured.recall,
      `${page}: recall ${measured.recall.toFixed(4)} of Readability's words; first missing: ${measured.missing.slice(0, 20).join(' ')}`,
    ).toBeGreaterThanOrEqual(floor);

    if (exception) {
      expect(exception.why.length, `${page}: readabilityRecall.why says why`).toBeGreaterThan(20);
      expect(measured.recall, `${page}: the exception is no longer needed`).toBeLessThan(MIN_RECALL);
      // What the fixture says is left out is left out, and nothing else is: without those phrases,
      // Readability's words are all kept.
      let rest = reference;
      for (const phrase of exception.dropped) {
        const shorter = withoutPhrase(rest, tokens(phrase));
        expect(shorter, `${page}: "${phrase}" is not in Readability's text`).not.toBeNull();
        rest = shorter ?? rest;
        for (const text of kept) expect(text, `${page}: "${phrase}" is kept`).not.toContain(phrase);
      }
      const others = recall(rest, keptTokens);
      expect(
        others.recall,
        `${page}: recall ${others.recall.toFixed(4)} without the dropped phrases; first missing: ${others.missing.slice(0, 20).join(' ')}`,
      ).toBeGreaterThanOrEqual(MIN_RECALL);
    }

    for (const text of kept) {
      for (const phrase of BOILERPLATE) expect(text, `${page}: boilerplate "${phrase}" kept`).not.toContain(phrase);
      expect(BOILERPLATE_PARAGRAPHS, `${page}: boilerplate paragraph kept`).not.toContain(text);
    }
  });
});
