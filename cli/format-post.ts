import type { Post } from '../src/social/post.js';

/** A post with its kind and weighted length out of 280. */
export function formatPost(post: Post): string {
  const part = post.part ? ` ${post.part.index}/${post.part.total}` : '';
  const mark = post.valid ? 'ok' : 'TOO LONG';
  return `[${post.kind}${part}] ${post.weightedLength}/280 ${mark}\n${post.text}\n`;
}
