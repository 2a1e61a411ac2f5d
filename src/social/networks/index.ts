import type { Network } from '../network-post.js';
import { blueskyRule } from './bluesky.js';
import { linkedinRule } from './linkedin.js';
import { MASTODON_DEFAULT_LIMIT, mastodonRule } from './mastodon.js';
import type { NetworkRule } from './network-rule.js';
import { threadsRule } from './threads.js';
import { xRule } from './x.js';

export { blueskyFacets } from './bluesky.js';
export { escapeLinkedIn } from './linkedin.js';
export { MASTODON_DEFAULT_LIMIT, mastodonLength } from './mastodon.js';
export { fitsNetwork, type Measure, type NetworkRule } from './network-rule.js';
export { THREADS_MAX_LINKS, threadsLength, uniqueLinks } from './threads.js';

export interface RuleOptions {
  /** The Mastodon instance's character limit. @defaultValue 500 */
  mastodonLimit?: number;
}

/** The rule a network's posts are composed for and checked by. */
export function networkRule(network: Network, options: RuleOptions = {}): NetworkRule {
  switch (network) {
    case 'x':
      return xRule;
    case 'bluesky':
      return blueskyRule;
    case 'mastodon':
      return mastodonRule(options.mastodonLimit ?? MASTODON_DEFAULT_LIMIT);
    case 'threads':
      return threadsRule;
    case 'linkedin':
      return linkedinRule;
  }
}
