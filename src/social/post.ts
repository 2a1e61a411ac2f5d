/** What a post is for. */
export type PostKind = 'headline' | 'keyPoint' | 'quote' | 'thread' | 'newsletterCta';

/** A tweet-sized post, checked with twitter-text: `valid` is its `parseTweet(text).valid`. */
export interface Post {
  kind: PostKind;
  text: string;
  /** twitter-text's weighted length: 280 is the limit; URLs count 23, emoji and CJK 2. */
  weightedLength: number;
  valid: boolean;
  /** For thread posts: this post's place in the thread, from 1. */
  part?: { index: number; total: number };
}
