import type { ArticleFormat } from './article.js';

/**
 * Guesses the format from the text itself: JSON starts with `{`, HTML has tags near the top,
 * anything else is plain text as scraped.
 */
export function detectFormat(text: string): ArticleFormat {
  const head = text.trimStart().slice(0, 2048);
  if (head.startsWith('{')) return 'json';
  if (/^<(?:!doctype html|html|head|body|meta|article|div|p|h1|section|main)\b/i.test(head)) return 'html';
  if (/<(?:html|body|article|p)\b[^>]*>/i.test(head) && /<\/(?:p|div|article|body|html)>/i.test(text)) return 'html';
  return 'text';
}
