import type { Config } from '../../src/config.js';
import { DispatchError } from '../../src/errors.js';
import { PUBLISHABLE_NETWORKS, type PublishableNetwork } from '../../src/social/network-post.js';
import type { fetchUrl } from '../fetch-url.js';
import { createBlueskyPublisher } from './bluesky.js';
import { createMastodonPublisher } from './mastodon.js';
import type { Publisher } from './publisher.js';
import { createXPublisher } from './x.js';

/** The configuration the publishers read. */
export type PublisherConfig = Pick<
  Config,
  | 'X_API_KEY'
  | 'X_API_SECRET'
  | 'X_ACCESS_TOKEN'
  | 'X_ACCESS_SECRET'
  | 'X_API_URL'
  | 'BLUESKY_HANDLE'
  | 'BLUESKY_APP_PASSWORD'
  | 'BLUESKY_SERVICE'
  | 'MASTODON_URL'
  | 'MASTODON_TOKEN'
  | 'FETCH_TIMEOUT_MS'
  | 'ALLOW_PRIVATE_URLS'
>;

/** The variables each network needs, all of them: a network with only some set is a mistake. */
const CREDENTIALS = {
  x: ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_SECRET'],
  bluesky: ['BLUESKY_HANDLE', 'BLUESKY_APP_PASSWORD'],
  mastodon: ['MASTODON_URL', 'MASTODON_TOKEN'],
} as const satisfies Record<PublishableNetwork, readonly (keyof PublisherConfig)[]>;

/** Largest answer read from a network's API (a page of 40 Mastodon statuses is about 200 KB). */
const API_MAX_BYTES = 2_000_000;

export interface PublishersOptions {
  /** Fetches a Bluesky card's image. @defaultValue io/fetch-url.ts `fetchUrl` */
  fetchImage?: typeof fetchUrl;
  /** The clock. @defaultValue `() => new Date()` */
  now?: () => Date;
  /** Told why a post went with less than it was composed with (a card without its image). */
  onWarning?: (message: string) => void;
}

/**
 * The networks whose credentials are all set, in PUBLISHABLE_NETWORKS order. Throws E_CONFIG
 * naming the missing variables of a network that has only some of them.
 */
export function configuredNetworks(config: PublisherConfig): PublishableNetwork[] {
  const problems: string[] = [];
  const networks = PUBLISHABLE_NETWORKS.filter((network) => {
    const names: readonly (keyof PublisherConfig)[] = CREDENTIALS[network];
    const missing = names.filter((name) => !config[name]);
    if (missing.length > 0 && missing.length < names.length) {
      problems.push(
        `${network} needs ${missing.join(' and ')} (${names.filter((n) => !missing.includes(n)).join(', ')} set)`,
      );
    }
    return missing.length === 0;
  });
  if (problems.length > 0) throw new DispatchError('E_CONFIG', `Invalid configuration: ${problems.join('; ')}`);
  return networks;
}

/**
 * One publisher per network whose credentials are all set (see {@link configuredNetworks}). Every
 * call to a network's API is limited to FETCH_TIMEOUT_MS and a 2 MB answer.
 */
export function createPublishers(
  config: PublisherConfig,
  options: PublishersOptions = {},
): Partial<Record<PublishableNetwork, Publisher>> {
  const limits = { timeoutMs: config.FETCH_TIMEOUT_MS, maxBytes: API_MAX_BYTES, now: options.now };
  const publishers: Partial<Record<PublishableNetwork, Publisher>> = {};
  for (const network of configuredNetworks(config)) {
    if (network === 'x') publishers.x = createXPublisher(config, limits);
    if (network === 'bluesky') {
      publishers.bluesky = createBlueskyPublisher(config, {
        ...limits,
        fetchImage: options.fetchImage,
        allowPrivate: config.ALLOW_PRIVATE_URLS,
        imageTimeoutMs: config.FETCH_TIMEOUT_MS,
        onWarning: options.onWarning,
      });
    }
    if (network === 'mastodon') publishers.mastodon = createMastodonPublisher(config, limits);
  }
  return publishers;
}
