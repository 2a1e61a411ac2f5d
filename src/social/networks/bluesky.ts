import { RichText } from '@atproto/api';
import type { BlueskyFacet } from '../network-post.js';
import type { NetworkRule } from './network-rule.js';

/** Bluesky's limits on a post's text (app.bsky.feed.post: maxGraphemes 300, maxLength 3000 bytes). */
const MAX_GRAPHEMES = 300;
const MAX_BYTES = 3_000;
/** Every UTF-16 unit takes at least one UTF-8 byte: a longer text is over 3,000 bytes, and is not read whole. */
const MAX_CHECK_CHARS = 3_000;

/**
 * Bluesky: at most 300 graphemes and 3,000 UTF-8 bytes, counted by `@atproto/api`'s RichText.
 * A link counts every character, so shared links stay short (a long one gives way to the site's).
 */
export const blueskyRule: NetworkRule = {
  network: 'bluesky',
  limit: MAX_GRAPHEMES,
  hasThreads: true,
  maxLinkChars: 150,
  render: (plain) => plain,
  measure(text) {
    if (text.length > MAX_CHECK_CHARS) return { length: Number.POSITIVE_INFINITY, valid: false };
    const rich = new RichText({ text });
    return { length: rich.graphemeLength, valid: rich.graphemeLength <= MAX_GRAPHEMES && rich.length <= MAX_BYTES };
  },
};

/**
 * The link and hashtag facets of `text` at UTF-8 byte offsets, as RichText detects them; each
 * is kept only when its bytes are exactly the link (or a bare domain RichText prefixes with
 * https://) or `#` and the tag. Mentions are left out: their facet needs the account's DID, which
 * only the network can resolve (the publisher does).
 */
export function blueskyFacets(text: string): BlueskyFacet[] {
  const rich = new RichText({ text });
  rich.detectFacetsWithoutResolution();
  const bytes = Buffer.from(text, 'utf8');
  const facets: BlueskyFacet[] = [];
  for (const facet of rich.facets ?? []) {
    const { byteStart, byteEnd } = facet.index;
    const slice = bytes.subarray(byteStart, byteEnd).toString('utf8');
    const features: BlueskyFacet['features'] = [];
    for (const feature of facet.features) {
      if (feature.$type === 'app.bsky.richtext.facet#link') {
        const uri = (feature as { uri: string }).uri;
        if (uri === slice || uri === `https://${slice}`) features.push({ $type: feature.$type, uri });
      } else if (feature.$type === 'app.bsky.richtext.facet#tag') {
        const tag = (feature as { tag: string }).tag;
        if (slice === `#${tag}` || slice === `＃${tag}`) features.push({ $type: feature.$type, tag });
      }
    }
    if (features.length) facets.push({ index: { byteStart, byteEnd }, features });
  }
  return facets;
}
