import type { NetworkPost, PublishableNetwork } from '../../src/social/network-post.js';

/** A post as a network holds it once posted. */
export interface PublishedPost {
  /** The network's own id: a tweet id, an at:// URI, a Mastodon status id. */
  remoteId: string;
  /** Where a reader sees it. */
  url: string;
  /** Bluesky: the record's CID (a reply names its parent by URI and CID). */
  cid?: string;
}

export interface PublishOptions {
  /**
   * Stable for this post across every retry and re-run: the idempotency key. Bluesky derives the
   * record key from it, Mastodon sends it as Idempotency-Key, X looks for a post of the same text
   * made since `since` before posting again.
   */
  key: string;
  /** The thread post this one replies to (a thread's earlier part). */
  replyTo?: PublishedPost;
  /** The thread's first post (Bluesky's reply root). */
  root?: PublishedPost;
  /** True when an earlier attempt at this post may have reached the network. */
  retry: boolean;
  /** When the first attempt at this post began: the earliest time a copy of it could have been made. */
  since: Date;
}

/** Posts to one network's account. Created only for a network whose credentials are configured. */
export interface Publisher {
  readonly network: PublishableNetwork;
  /**
   * Posts `post` and returns the network's record of it; when `options.retry` and a copy made by an
   * earlier attempt is found, returns that copy instead, posting nothing new. Throws a
   * DispatchError: E_POST_AUTH (credentials refused), E_POST_RATE_LIMITED (transient, with
   * `retryAfterMs`), E_POST_REFUSED (the network's own message), E_POST_UNREACHABLE (transient).
   */
  publish(post: NetworkPost, options: PublishOptions): Promise<PublishedPost>;
  /** Checks the credentials (a login or an authenticated read); throws as `publish` does. */
  verify(): Promise<{ account: string }>;
}
