import type { Config } from '../../src/config.js';
import { parseRetryAfter } from '../../src/net/retry-after.js';
import type { NetworkPost } from '../../src/social/network-post.js';
import { type ApiLimits, boundedFetch, oneLine } from './api-fetch.js';
import { PostError } from './post-error.js';
import type { PublishedPost, Publisher, PublishOptions } from './publisher.js';

/** Mastodon keeps an Idempotency-Key for an hour: within it a retry returns the first status. */
const IDEMPOTENCY_MS = 60 * 60 * 1000;
/** How many of the account's latest statuses a retry past that hour looks through. */
const LOOKBACK = 40;

interface Status {
  id: string;
  url: string | null;
  uri: string;
  content: string;
  created_at: string;
  in_reply_to_id: string | null;
}

interface Account {
  id: string;
  acct: string;
  username: string;
}

export interface MastodonOptions extends ApiLimits {
  /** The clock, for the age of a post being retried. @defaultValue `() => new Date()` */
  now?: () => Date;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * The plain text of a status's HTML `content` as Mastodon renders it: paragraphs become blank
 * lines, `<br>` a line break, links their full text (Mastodon hides part of a long link's text in
 * invisible spans, which are still there), entities decoded.
 */
export function statusText(html: string): string {
  return html
    .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
      }
      return ENTITIES[name.toLowerCase()] ?? entity;
    })
    .trim();
}

/** Whitespace runs as one space, so a status compares equal to its text whatever the rendering did to spacing. */
function sameText(a: string, b: string): boolean {
  // Mastodon shows a remote mention `@user@domain` as `@user` in `content`: compare both so.
  const squeeze = (text: string) =>
    text
      .normalize('NFC')
      .replace(/(?<![\p{L}\p{N}_])(@[\w]+)@[\p{L}\p{N}_.-]+/gu, '$1')
      .replace(/\s+/g, ' ')
      .trim();
  return squeeze(a) === squeeze(b);
}

/**
 * How long Mastodon asks a client to wait: X-RateLimit-Reset is an ISO 8601 time (Mastodon's
 * rate-limit headers), Retry-After the standard form; the later of the two wins.
 */
function rateLimitWait(headers: Headers, now: Date): number | undefined {
  const reset = headers.get('x-ratelimit-reset');
  const at = reset ? Date.parse(reset) : Number.NaN;
  const fromReset = Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
  const fromRetryAfter = parseRetryAfter(headers.get('retry-after') ?? undefined, now);
  if (fromReset === undefined) return fromRetryAfter;
  return Math.max(fromReset, fromRetryAfter ?? 0);
}

/**
 * Posts to a Mastodon account with its REST API: `POST /api/v1/statuses` (form fields `status`,
 * `visibility=public`, `in_reply_to_id` for a thread's later parts) with `Idempotency-Key: <key>`.
 *
 * The calls go through {@link boundedFetch}, not masto's client: masto can send a header per
 * request (`requestInit.headers`), but it reads every answer whole with no size limit, and its
 * errors drop the rate-limit headers this publisher needs.
 */
export function createMastodonPublisher(
  config: Pick<Config, 'MASTODON_URL' | 'MASTODON_TOKEN'>,
  options: MastodonOptions,
): Publisher {
  const base = config.MASTODON_URL as string;
  const token = config.MASTODON_TOKEN as string;
  const now = options.now ?? (() => new Date());
  const fetchApi = boundedFetch(options);
  let account: Account | undefined;

  async function call<T>(method: 'GET' | 'POST', path: string, body?: URLSearchParams, key?: string): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (key) headers['idempotency-key'] = key;
    let response: Response;
    try {
      response = await fetchApi(`${base}${path}`, { method, headers, body });
    } catch (cause) {
      throw new PostError('mastodon', 'E_POST_UNREACHABLE', `${method} ${path} failed (${oneLine(cause)})`, { cause });
    }
    const text = await response.text();
    if (response.ok) {
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new PostError('mastodon', 'E_POST_UNREACHABLE', `${method} ${path} answered something not JSON`, {
          cause,
          status: response.status,
        });
      }
    }
    const status = response.status;
    let message = `${status} ${response.statusText}`.trim();
    try {
      const error = (JSON.parse(text) as { error?: unknown }).error;
      if (typeof error === 'string' && error) message = `${status} ${error}`;
    } catch {
      // A proxy's HTML error page: the status line says enough.
    }
    message = oneLine(message);
    if (status === 401) throw new PostError('mastodon', 'E_POST_AUTH', message, { status });
    if (status === 429) {
      throw new PostError('mastodon', 'E_POST_RATE_LIMITED', message, {
        status,
        retryAfterMs: rateLimitWait(response.headers, now()),
      });
    }
    if (status >= 500) throw new PostError('mastodon', 'E_POST_UNREACHABLE', message, { status });
    // 403 here is a scope the token lacks or a suspended account: not a login problem, and a retry answers the same.
    throw new PostError('mastodon', 'E_POST_REFUSED', message, { status });
  }

  async function me(): Promise<Account> {
    account ??= await call<Account>('GET', '/api/v1/accounts/verify_credentials');
    return account;
  }

  const published = (status: Status | null): PublishedPost => {
    if (!status || typeof status.id !== 'string' || !status.id) {
      throw new PostError('mastodon', 'E_POST_UNREACHABLE', 'the instance answered without a status id');
    }
    return { remoteId: status.id, url: status.url ?? status.uri };
  };

  /** A status of the account made since `since` with this text, replying to the same post. */
  async function findCopy(post: NetworkPost, publish: PublishOptions): Promise<Status | undefined> {
    const { id } = await me();
    const statuses = await call<Status[]>(
      'GET',
      `/api/v1/accounts/${encodeURIComponent(id)}/statuses?limit=${LOOKBACK}&exclude_reblogs=true`,
    );
    return statuses.find(
      (status) =>
        Date.parse(status.created_at) >= publish.since.getTime() - 1000 &&
        (status.in_reply_to_id ?? undefined) === publish.replyTo?.remoteId &&
        sameText(statusText(status.content), post.text),
    );
  }

  return {
    network: 'mastodon',
    async publish(post, publish) {
      // Within the hour the Idempotency-Key answers a retry with the first status; past it, look first.
      if (publish.retry && now().getTime() - publish.since.getTime() > IDEMPOTENCY_MS) {
        const copy = await findCopy(post, publish);
        if (copy) return published(copy);
      }
      const form = new URLSearchParams({ status: post.text, visibility: 'public' });
      if (publish.replyTo) form.set('in_reply_to_id', publish.replyTo.remoteId);
      return published(await call<Status>('POST', '/api/v1/statuses', form, publish.key));
    },
    async verify() {
      const { acct } = await me();
      return { account: `@${acct}@${new URL(base).host}` };
    },
  };
}
