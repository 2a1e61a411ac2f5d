import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApiResponseError, TwitterApi } from 'twitter-api-v2';
import twitter from 'twitter-text';
import type { Config } from '../../src/config.js';
import { parseRetryAfter } from '../../src/net/retry-after.js';
import type { NetworkPost } from '../../src/social/network-post.js';
import { type ApiLimits, oneLine } from './api-fetch.js';
import { PostError } from './post-error.js';
import type { PublishedPost, Publisher, PublishOptions } from './publisher.js';

/** How many of the account's posts since the first attempt a retry looks through (X allows 5-100). */
const LOOKBACK = 20;
/**
 * X answers 403 to these problem types when the app or token may not post (read-only app
 * permissions, an app outside a project): a credentials matter, not this post's.
 */
const AUTH_PROBLEMS = /oauth1-permissions|client-not-enrolled|unsupported-authentication/;
const DUPLICATE = /duplicate content/i;

type AgentClass = typeof HttpAgent | typeof HttpsAgent;

/**
 * An agent for one call through twitter-api-v2, which reads answers with node's http(s) and takes
 * no signal: each connection it makes is destroyed once the call passes `timeoutMs` or the answer
 * passes `maxBytes` (counted as it arrives, before anything is parsed).
 */
function limitedAgent(protocol: string, limits: ApiLimits): HttpAgent {
  const Base: AgentClass = protocol === 'http:' ? HttpAgent : HttpsAgent;
  class LimitedAgent extends Base {
    override createConnection(...args: Parameters<HttpAgent['createConnection']>): Duplex | null | undefined {
      const socket = super.createConnection(...args) as Socket;
      const timer = setTimeout(
        () => socket.destroy(new Error(`no answer within ${limits.timeoutMs} ms`)),
        limits.timeoutMs,
      );
      let size = 0;
      socket.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > limits.maxBytes) socket.destroy(new Error(`the answer is over the ${limits.maxBytes}-byte limit`));
      });
      socket.once('close', () => clearTimeout(timer));
      return socket;
    }
  }
  return new LimitedAgent({ keepAlive: false });
}

/** The wait a 429 asks for: `x-rate-limit-reset` (Unix seconds) or Retry-After. */
function rateLimitWait(headers: Record<string, string | string[] | undefined>, now: Date): number | undefined {
  const reset = Number(headers['x-rate-limit-reset']);
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now.getTime());
  const retryAfter = headers['retry-after'];
  return parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, now);
}

interface Problem {
  title?: string;
  detail?: string;
  type?: string;
  errors?: { message?: string }[];
}

/** A failed call as a PostError; `what` names the call. */
function sortError(error: unknown, what: string, now: Date): PostError {
  if (error instanceof PostError) return error;
  if (!(error instanceof ApiResponseError)) {
    // twitter-api-v2 1.29 keeps a request's own error as `_options.error`, though its `requestError` getter reads another name.
    const failed = error as { requestError?: unknown; responseError?: unknown; _options?: { error?: unknown } };
    const cause = failed.requestError ?? failed._options?.error ?? failed.responseError ?? error;
    return new PostError('x', 'E_POST_UNREACHABLE', `${what} failed (${oneLine(cause)})`, { cause: error });
  }
  const status = error.code;
  const problem = (error.data ?? {}) as Problem;
  const said = problem.detail ?? problem.errors?.[0]?.message ?? problem.title ?? '';
  const message = oneLine(`${what}: ${status}${said ? ` ${said}` : ''}`);
  if (status === 401 || (status === 403 && AUTH_PROBLEMS.test(problem.type ?? ''))) {
    return new PostError('x', 'E_POST_AUTH', message, { status, cause: error });
  }
  if (status === 429) {
    return new PostError('x', 'E_POST_RATE_LIMITED', message, {
      status,
      retryAfterMs: rateLimitWait(error.headers, now),
      cause: error,
    });
  }
  if (status >= 500) return new PostError('x', 'E_POST_UNREACHABLE', message, { status, cause: error });
  return new PostError('x', 'E_POST_REFUSED', message, { status, cause: error });
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>' };

/**
 * A post's text as X's copy of it is compared: X keeps `&`, `<` and `>` as HTML entities and
 * replaces every link (also a bare `example.com/x`) with a t.co link, so each link, as
 * twitter-text finds it, becomes one marker, entities are decoded and whitespace runs squeezed.
 * Two posts match when these forms are equal and they reply to the same post.
 */
export function comparableText(text: string): string {
  const decoded = text.replace(/&(amp|lt|gt);/g, (entity) => ENTITIES[entity] ?? entity).normalize('NFC');
  let out = '';
  let at = 0;
  for (const { indices } of twitter.extractUrlsWithIndices(decoded)) {
    out += `${decoded.slice(at, indices[0])}\u0000link\u0000`;
    at = indices[1];
  }
  return (out + decoded.slice(at)).replace(/\s+/g, ' ').trim();
}

interface Tweet {
  id: string;
  text: string;
  referenced_tweets?: { type: string; id: string }[];
}

/** RFC 3339 to the second, as X's `start_time` takes it. */
function startTime(since: Date): string {
  return `${new Date(Math.floor(since.getTime() / 1000) * 1000 - 1000).toISOString().slice(0, 19)}Z`;
}

/**
 * Posts to an X account with the v2 API (`POST /2/tweets`) through twitter-api-v2, signed with
 * OAuth 1.0a user context (the app's key and secret, the account's access token and secret).
 * X_API_URL is the API's base: each request names it as its `prefix`.
 *
 * X has no idempotency key. A retry (`options.retry`) first looks among the account's own posts
 * since `options.since` (`GET /2/users/:id/tweets`) for one that matches ({@link comparableText},
 * the same reply target) and returns it; so does a retry that X answers 403 "duplicate content".
 */
export function createXPublisher(
  config: Pick<Config, 'X_API_KEY' | 'X_API_SECRET' | 'X_ACCESS_TOKEN' | 'X_ACCESS_SECRET' | 'X_API_URL'>,
  options: ApiLimits & { now?: () => Date },
): Publisher {
  const prefix = `${config.X_API_URL}/2/`;
  const protocol = new URL(config.X_API_URL).protocol;
  const now = options.now ?? (() => new Date());
  const tokens = {
    appKey: config.X_API_KEY as string,
    appSecret: config.X_API_SECRET as string,
    accessToken: config.X_ACCESS_TOKEN as string,
    accessSecret: config.X_ACCESS_SECRET as string,
  };
  let account: { id: string; username: string } | undefined;

  /** A client per call: its agent's limits count from the call's start. Compression is off so `maxBytes` is what is read. */
  const client = () => new TwitterApi(tokens, { httpAgent: limitedAgent(protocol, options), compression: 'identity' });
  const requestOptions = { prefix, timeout: options.timeoutMs };

  async function me(): Promise<{ id: string; username: string }> {
    if (account) return account;
    try {
      const { data } = await client().get<{ data: { id: string; username: string } }>(
        'users/me',
        undefined,
        requestOptions,
      );
      account = data;
      return data;
    } catch (error) {
      throw sortError(error, 'GET /2/users/me', now());
    }
  }

  const published = (id: string): PublishedPost => ({ remoteId: id, url: `https://x.com/i/web/status/${id}` });

  async function findCopy(post: NetworkPost, publish: PublishOptions): Promise<PublishedPost | undefined> {
    const { id } = await me();
    let tweets: Tweet[];
    try {
      const answer = await client().get<{ data?: Tweet[] }>(
        `users/${encodeURIComponent(id)}/tweets`,
        {
          start_time: startTime(publish.since),
          max_results: LOOKBACK,
          exclude: 'retweets',
          'tweet.fields': 'referenced_tweets',
        },
        requestOptions,
      );
      tweets = answer.data ?? [];
    } catch (error) {
      throw sortError(error, 'GET /2/users/:id/tweets', now());
    }
    const wanted = comparableText(post.text);
    const copy = tweets.find(
      (tweet) =>
        comparableText(tweet.text) === wanted &&
        tweet.referenced_tweets?.find((ref) => ref.type === 'replied_to')?.id === publish.replyTo?.remoteId,
    );
    return copy ? published(copy.id) : undefined;
  }

  return {
    network: 'x',
    async publish(post, publish) {
      if (publish.retry) {
        const copy = await findCopy(post, publish);
        if (copy) return copy;
      }
      const body: { text: string; reply?: { in_reply_to_tweet_id: string } } = { text: post.text };
      if (publish.replyTo) body.reply = { in_reply_to_tweet_id: publish.replyTo.remoteId };
      try {
        // JSON whatever X_API_URL's path: twitter-api-v2 picks JSON only for paths starting /2/.
        const answer = await client().post<{ data?: { id?: unknown } } | null>('tweets', body, {
          ...requestOptions,
          forceBodyMode: 'json',
        });
        const id = answer?.data?.id;
        if (typeof id !== 'string' || !id) {
          throw new PostError('x', 'E_POST_UNREACHABLE', 'POST /2/tweets answered without a post id');
        }
        return published(id);
      } catch (error) {
        const sorted = sortError(error, 'POST /2/tweets', now());
        // The first attempt's post may only now show in the account's timeline.
        if (publish.retry && sorted.status === 403 && DUPLICATE.test(sorted.message)) {
          const copy = await findCopy(post, publish);
          if (copy) return copy;
        }
        throw sorted;
      }
    },
    async verify() {
      const { username } = await me();
      return { account: `@${username}` };
    },
  };
}
