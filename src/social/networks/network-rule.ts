import type { Network } from '../network-post.js';

/** A text's length as a network counts it, and whether the network accepts it. */
export interface Measure {
  length: number;
  valid: boolean;
}

/**
 * What one network allows in a post: the rule composition cuts to and the check every post
 * carries. Composition works on plain text; `render` turns it into the text as posted.
 */
export interface NetworkRule {
  network: Network;
  /** The most the network accepts of its own count (see `measure`). */
  limit: number;
  /** The network chains replies into a thread. */
  hasThreads: boolean;
  /**
   * The longest link shared in a post's text; a longer one gives way to the site's link. Networks
   * that count a link's every character get a short one, so a post keeps room for words.
   */
  maxLinkChars: number;
  /** The composed text as it is posted (LinkedIn escapes its reserved characters). @defaultValue as it is */
  render(plain: string): string;
  /** The posted text's length as the network counts it, and whether it passes every rule. */
  measure(text: string): Measure;
}

/** True when the composed `plain` text, as posted, passes the network's rule. */
export function fitsNetwork(rule: NetworkRule, plain: string): boolean {
  return rule.measure(rule.render(plain)).valid;
}

const graphemeSegmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });

/** The number of user-perceived characters (extended grapheme clusters) of `text`. */
export function graphemeCount(text: string): number {
  let count = 0;
  for (const _ of graphemeSegmenter.segment(text)) count++;
  return count;
}

/** Each grapheme of `text`, in order. */
export function graphemes(text: string): Iterable<string> {
  return (function* () {
    for (const { segment } of graphemeSegmenter.segment(text)) yield segment;
  })();
}
