import type { Post } from '../src/social/post.js';
import { terminalSafe } from '../src/text/terminal-safe.js';

/** A post with its kind and weighted length out of 280; its text keeps its line breaks and nothing else that drives a terminal. */
export function formatPost(post: Post): string {
  const part = post.part ? ` ${post.part.index}/${post.part.total}` : '';
  const mark = post.valid ? 'ok' : 'TOO LONG';
  return `[${terminalSafe(post.kind)}${part}] ${post.weightedLength}/280 ${mark}\n${terminalSafe(post.text, { multiline: true })}\n`;
}
