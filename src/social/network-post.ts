import type { PostKind } from './post.js';

/** The networks Dispatch writes posts for. */
export const NETWORKS = ['x', 'bluesky', 'mastodon', 'threads', 'linkedin'] as const;
export type Network = (typeof NETWORKS)[number];

/** The networks Dispatch can post to itself (the others are for export to a scheduling tool). */
export const PUBLISHABLE_NETWORKS = ['x', 'bluesky', 'mastodon'] as const;
export type PublishableNetwork = (typeof PUBLISHABLE_NETWORKS)[number];

export function isNetwork(value: string): value is Network {
  return (NETWORKS as readonly string[]).includes(value);
}

export function isPublishable(network: Network): network is PublishableNetwork {
  return (PUBLISHABLE_NETWORKS as readonly string[]).includes(network);
}

/** A Bluesky rich-text facet: a link, mention or hashtag at UTF-8 byte offsets of the text. */
export interface BlueskyFacet {
  index: { byteStart: number; byteEnd: number };
  features: (
    | { $type: 'app.bsky.richtext.facet#link'; uri: string }
    | { $type: 'app.bsky.richtext.facet#mention'; did: string }
    | { $type: 'app.bsky.richtext.facet#tag'; tag: string }
  )[];
}

/** A link card (Bluesky's `app.bsky.embed.external`): the article's URL, title, description and image. */
export interface LinkCard {
  uri: string;
  title: string;
  description: string;
  /** The article's image, fetched and uploaded as the card's thumbnail when it is posted. */
  image: string | null;
}

/** A post composed for one network, checked by that network's own rule. */
export interface NetworkPost {
  network: Network;
  kind: PostKind;
  text: string;
  /** The text's length as the network counts it (twitter-text weight, graphemes, characters). */
  length: number;
  /** The network's limit on that count. */
  limit: number;
  /** The text passes every rule of the network (length, bytes, links). */
  valid: boolean;
  /** For thread posts: this post's place in the thread, from 1. */
  part?: { index: number; total: number };
  /** Bluesky: links, mentions and hashtags as facets. */
  facets?: BlueskyFacet[];
  /** Bluesky: the link card shown under the post. */
  card?: LinkCard;
}
