import { checkTweet } from '../../text/fits-tweet.js';
import type { NetworkRule } from './network-rule.js';

/** X: twitter-text's weighted length, at most 280; every link counts 23, CJK and emoji 2. */
export const xRule: NetworkRule = {
  network: 'x',
  limit: 280,
  hasThreads: true,
  maxLinkChars: 1_000,
  render: (plain) => plain,
  measure(text) {
    const { weightedLength, valid } = checkTweet(text);
    return { length: weightedLength, valid };
  },
};
