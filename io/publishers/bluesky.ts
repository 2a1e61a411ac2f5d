import { createHash } from 'node:crypto';
import { AtpAgent, type BlobRef, RichText, XRPCError } from '@atproto/api';
import type { Config } from '../../src/config.js';
import { DispatchError } from '../../src/errors.js';
import { parseRetryAfter } from '../../src/net/retry-after.js';
import type { BlueskyFacet, NetworkPost } from '../../src/social/network-post.js';
import { blueskyFacets } from '../../src/social/networks/bluesky.js';
import { fetchUrl } from '../fetch-url.js';
import { type ApiLimits, boundedFetch, oneLine } from './api-fetch.js';
import { PostError } from './post-error.js';
import type { PublishedPost, Publisher, PublishOptions } from './publisher.js';

const BASE32_SORTABLE = '234567abcdefghijklmnopqrstuvwxyz';

/**
 * The record key of the post made for idempotency key `key`: a TID (13 characters of
 * base32-sortable, a 64-bit number whose top bit is 0, then 53 bits of microseconds since 1970,
 * then a 10-bit clock id; app.bsky.feed.post's record key type is tid). Both parts come from a
 * SHA-256 of the key, so every attempt at one post names the same record. The time part keeps to
 * 50 bits, which puts it before 2006: a key derived this way is never mistaken for one from the
 * future. The post's real time is its `createdAt`.
 */
export function tidFromKey(key: string): string {
  const hash = createHash('sha256').update(key).digest();
  const micros = hash.readBigUInt64BE(0) & ((1n << 50n) - 1n);
  const clockId = BigInt(hash.readUInt16BE(8) & 0x3ff);
  let value = (micros << 10n) | clockId;
  let tid = '';
  for (let i = 0; i < 13; i++) {
    tid = BASE32_SORTABLE[Number(value & 31n)] + tid;
    value >>= 5n;
  }
  return tid;
}

/** The image types a card's thumbnail may be, told by their first bytes (a Content-Type can lie). */
function imageType(bytes: Uint8Array): 'image/jpeg' | 'image/png' | 'image/webp' | undefined {
  const head = Buffer.from(bytes.subarray(0, 12));
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/** app.bsky.embed.external's `thumb`: `maxSize: 1000000`. */
export const THUMB_MAX_BYTES = 1_000_000;
const COLLECTION = 'app.bsky.feed.post';
/** Mentions resolved to DIDs per post (each a `resolveHandle` call); a post has room for few. */
const MAX_MENTION_LOOKUPS = 10;
/** XRPC errors of a session the PDS no longer accepts (or never did). */
const AUTH_ERRORS = new Set(['AuthenticationRequired', 'AuthMissing', 'ExpiredToken', 'InvalidToken']);

export interface BlueskyOptions extends ApiLimits {
  /** Fetches a card's image: the one safe fetcher. @defaultValue {@link fetchUrl} */
  fetchImage?: typeof fetchUrl;
  /** Let the card's image come from a private address (`ALLOW_PRIVATE_URLS`). */
  allowPrivate: boolean;
  /** Time limit of the image fetch. */
  imageTimeoutMs: number;
  /** The clock, for `createdAt`. @defaultValue `() => new Date()` */
  now?: () => Date;
  /** Told why a card went without its thumbnail (the post still goes). */
  onWarning?: (message: string) => void;
}

function isAuthFailure(error: unknown): boolean {
  return error instanceof XRPCError && (error.status === 401 || AUTH_ERRORS.has(error.error ?? ''));
}

/** The wait a 429 asks for: `ratelimit-reset` (Unix seconds, Bluesky's headers) or Retry-After. */
function rateLimitWait(headers: Record<string, string | undefined> | undefined, now: Date): number | undefined {
  const reset = Number(headers?.['ratelimit-reset']);
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now.getTime());
  return parseRetryAfter(headers?.['retry-after'], now);
}

/** A failed XRPC call as a PostError: `what` names the call. */
function sortError(error: unknown, what: string, now: Date): PostError {
  if (error instanceof PostError) return error;
  if (!(error instanceof XRPCError)) {
    return new PostError('bluesky', 'E_POST_UNREACHABLE', `${what} failed (${oneLine(error)})`, { cause: error });
  }
  // XRPCError's status is the HTTP status, or below 100 for no HTTP answer at all (1: Unknown, 2: InvalidResponse).
  const status = error.status >= 100 ? error.status : undefined;
  const message =
    status === undefined
      ? `${what} failed (${oneLine(error)})`
      : oneLine(`${what}: ${error.error ?? status}${error.message ? ` ${error.message}` : ''}`);
  if (isAuthFailure(error)) return new PostError('bluesky', 'E_POST_AUTH', message, { status, cause: error });
  if (error.status === 429 || error.error === 'RateLimitExceeded') {
    return new PostError('bluesky', 'E_POST_RATE_LIMITED', message, {
      status,
      retryAfterMs: rateLimitWait(error.headers, now),
      cause: error,
    });
  }
  // No HTTP answer (a refused connection, a timeout, an answer over the limit), one that is not
  // XRPC, or 5xx: the PDS failed.
  if (status === undefined || status < 400 || status >= 500) {
    return new PostError('bluesky', 'E_POST_UNREACHABLE', message, { status, cause: error });
  }
  return new PostError('bluesky', 'E_POST_REFUSED', message, { status, cause: error });
}

/** Facets sorted by where they start; one that overlaps the one before is dropped (a facet may not nest). */
function orderFacets(facets: BlueskyFacet[]): BlueskyFacet[] {
  const sorted = [...facets].sort((a, b) => a.index.byteStart - b.index.byteStart);
  const kept: BlueskyFacet[] = [];
  for (const facet of sorted) {
    const last = kept[kept.length - 1];
    if (!last || facet.index.byteStart >= last.index.byteEnd) kept.push(facet);
  }
  return kept;
}

/**
 * Posts to a Bluesky account through its PDS (BLUESKY_SERVICE) with `@atproto/api`'s AtpAgent:
 * one login (com.atproto.server.createSession with the app password) kept for every post, refreshed
 * by the agent when the PDS answers ExpiredToken, and replaced by a fresh login when even that fails.
 *
 * A post is a `com.atproto.repo.createRecord` of an `app.bsky.feed.post` whose record key comes from
 * the idempotency key ({@link tidFromKey}), so a second attempt meets the first one's record: it is
 * read back with `com.atproto.repo.getRecord` and returned instead of a second post.
 */
export function createBlueskyPublisher(
  config: Pick<Config, 'BLUESKY_HANDLE' | 'BLUESKY_APP_PASSWORD' | 'BLUESKY_SERVICE'>,
  options: BlueskyOptions,
): Publisher {
  const identifier = (config.BLUESKY_HANDLE as string).replace(/^@/, '');
  const password = config.BLUESKY_APP_PASSWORD as string;
  const now = options.now ?? (() => new Date());
  const fetchImage = options.fetchImage ?? fetchUrl;
  const agent = new AtpAgent({ service: config.BLUESKY_SERVICE, fetch: boundedFetch(options) });
  let loggingIn: Promise<void> | undefined;

  /** One login at a time, shared by the calls that wait for it. */
  function login(): Promise<void> {
    loggingIn ??= agent
      .login({ identifier, password })
      .then(() => undefined)
      .catch((error: unknown) => {
        throw sortError(error, 'createSession', now());
      })
      .finally(() => {
        loggingIn = undefined;
      });
    return loggingIn;
  }

  /**
   * Runs `call` with a session. The agent refreshes an expired access token itself
   * (refreshSession); a session it cannot refresh gets one fresh login and one more try.
   */
  async function withSession<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (!agent.hasSession) await login();
    try {
      return await call();
    } catch (error) {
      if (!isAuthFailure(error)) throw sortError(error, what, now());
    }
    await login();
    try {
      return await call();
    } catch (error) {
      throw sortError(error, what, now());
    }
  }

  function session(): { did: string; handle: string } {
    const current = agent.session;
    if (!current) throw new PostError('bluesky', 'E_POST_AUTH', 'no session after login');
    return current;
  }

  const published = (uri: string, cid: string, rkey: string): PublishedPost => ({
    remoteId: uri,
    cid,
    url: `https://bsky.app/profile/${session().handle}/post/${rkey}`,
  });

  /** The record at `rkey`, if the account has one: an earlier attempt's post. */
  async function existing(rkey: string): Promise<PublishedPost | undefined> {
    try {
      const { data } = await withSession('getRecord', () =>
        agent.com.atproto.repo.getRecord({ repo: session().did, collection: COLLECTION, rkey }),
      );
      if (!data.cid) return undefined;
      return published(data.uri, data.cid, rkey);
    } catch (error) {
      const cause = error instanceof PostError ? error.cause : error;
      // RecordNotFound is the lexicon's error; older PDSes answered InvalidRequest "Could not locate record".
      if (
        cause instanceof XRPCError &&
        (cause.error === 'RecordNotFound' || /could not locate record/i.test(cause.message))
      ) {
        return undefined;
      }
      throw error;
    }
  }

  /** The post's own facets (links, tags) and its mentions, each resolved to the account's DID. */
  async function facetsOf(post: NetworkPost): Promise<BlueskyFacet[]> {
    const facets = [...(post.facets ?? blueskyFacets(post.text))];
    const rich = new RichText({ text: post.text });
    rich.detectFacetsWithoutResolution();
    let lookups = 0;
    for (const facet of rich.facets ?? []) {
      const feature = facet.features[0] as { $type?: string; did?: string } | undefined;
      if (feature?.$type !== 'app.bsky.richtext.facet#mention' || !feature.did) continue;
      // Article text may hold any number of @handles: a few are resolved, the rest stay text.
      if (++lookups > MAX_MENTION_LOOKUPS) break;
      try {
        const { data } = await withSession('resolveHandle', () =>
          agent.com.atproto.identity.resolveHandle({ handle: feature.did as string }),
        );
        facets.push({
          index: { byteStart: facet.index.byteStart, byteEnd: facet.index.byteEnd },
          features: [{ $type: 'app.bsky.richtext.facet#mention', did: data.did }],
        });
      } catch (error) {
        if (error instanceof PostError && error.code !== 'E_POST_REFUSED') throw error;
        // A handle the network does not know stays plain text.
      }
    }
    return orderFacets(facets);
  }

  /** The card's image, fetched under the address policy and uploaded; on any failure, none. */
  async function thumbnail(image: string): Promise<BlobRef | undefined> {
    try {
      const page = await fetchImage(image, {
        timeoutMs: options.imageTimeoutMs,
        maxBytes: THUMB_MAX_BYTES,
        allowPrivate: options.allowPrivate,
      });
      const type = imageType(page.bytes);
      const declared = page.contentType.split(';')[0]?.trim().toLowerCase();
      if (!type || type !== declared) {
        throw new Error(`not a JPEG, PNG or WebP image (Content-Type "${oneLine(declared, 60)}")`);
      }
      const { data } = await withSession('uploadBlob', () => agent.uploadBlob(page.bytes, { encoding: type }));
      return data.blob;
    } catch (error) {
      options.onWarning?.(`the card's image ${oneLine(image, 200)} was left out: ${oneLine(error)}`);
      return undefined;
    }
  }

  async function record(post: NetworkPost, publish: PublishOptions): Promise<Record<string, unknown>> {
    const value: Record<string, unknown> = { $type: COLLECTION, text: post.text, createdAt: now().toISOString() };
    const facets = await facetsOf(post);
    if (facets.length > 0) value.facets = facets;
    if (post.card) {
      const { uri, title, description, image } = post.card;
      const thumb = image ? await thumbnail(image) : undefined;
      value.embed = {
        $type: 'app.bsky.embed.external',
        external: { uri, title, description, ...(thumb ? { thumb } : {}) },
      };
    }
    if (publish.replyTo) {
      const parent = publish.replyTo;
      const root = publish.root ?? parent;
      if (!parent.cid || !root.cid) {
        throw new DispatchError(
          'E_INTERNAL',
          `bluesky: a reply to ${parent.remoteId} needs the CIDs of its parent and root`,
        );
      }
      value.reply = { root: { uri: root.remoteId, cid: root.cid }, parent: { uri: parent.remoteId, cid: parent.cid } };
    }
    return value;
  }

  return {
    network: 'bluesky',
    async publish(post, publish) {
      const rkey = tidFromKey(publish.key);
      if (publish.retry) {
        const found = await existing(rkey);
        if (found) return found;
      }
      const value = await record(post, publish);
      try {
        const { data } = await withSession('createRecord', () =>
          agent.com.atproto.repo.createRecord({ repo: session().did, collection: COLLECTION, rkey, record: value }),
        );
        return published(data.uri, data.cid, rkey);
      } catch (error) {
        // A PDS answers a create at a record key already taken with 500 InternalServerError
        // (bluesky-social/atproto#3718), and a lost answer may hide a stored record: look before failing.
        if (error instanceof PostError && (error.code === 'E_POST_UNREACHABLE' || error.code === 'E_POST_REFUSED')) {
          const found = await existing(rkey).catch(() => undefined);
          if (found) return found;
        }
        throw error;
      }
    },
    async verify() {
      const { data } = await withSession('getSession', () => agent.com.atproto.server.getSession());
      return { account: `@${data.handle}` };
    },
  };
}
