import { type FakeAnswer, type FakeServer, type ReceivedRequest, startFakeServer } from './fake-x.js';

/** A status as the fake Mastodon holds it. */
export interface StoredStatus {
  id: string;
  /** The text as posted. */
  text: string;
  visibility: string;
  language: string | null;
  inReplyToId: string | null;
  createdAt: Date;
}

/** A failure the next `POST /api/v1/statuses` meets. `drop-after-store` stores the status and closes the connection unanswered. */
export type MastodonFailure = 'unauthorized' | 'rate-limited' | 'refused' | 'server-error' | 'drop-after-store';

export interface FakeMastodon extends FakeServer {
  statuses: StoredStatus[];
  failNext(...failures: MastodonFailure[]): void;
  /** The fake's clock, for how long an Idempotency-Key is kept. */
  now: () => Date;
  /** The time a scripted 429 names in X-RateLimit-Reset. */
  rateLimitReset: Date;
}

const MAX_CHARACTERS = 500;
const URL_WEIGHT = 23;
const LINK = /https?:\/\/[^\s<>"]+/g;
const IDEMPOTENCY_MS = 60 * 60 * 1000;
const FIELDS = new Set(['status', 'visibility', 'in_reply_to_id', 'language', 'sensitive', 'spoiler_text']);

const escapeHtml = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** A link as Mastodon renders it: the scheme and the part past 30 characters hidden in invisible spans. */
function linkHtml(url: string): string {
  const [, scheme, rest] = /^(https?:\/\/(?:www\.)?)(.*)$/.exec(url) ?? ['', '', url];
  const shown = rest.slice(0, 30);
  const hidden = rest.slice(30);
  return `<a href="${escapeHtml(url)}" target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">${escapeHtml(scheme)}</span><span class="${hidden ? 'ellipsis' : ''}">${escapeHtml(shown)}</span><span class="invisible">${escapeHtml(hidden)}</span></a>`;
}

/** A status's `content` as Mastodon's formatter makes it from plain text: paragraphs, line breaks, escaped text, links. */
export function contentHtml(text: string): string {
  const paragraphs = text.split(/\n{2,}/).map((paragraph) => {
    let html = '';
    let at = 0;
    for (const match of paragraph.matchAll(LINK)) {
      html += escapeHtml(paragraph.slice(at, match.index)) + linkHtml(match[0]);
      at = match.index + match[0].length;
    }
    return `<p>${(html + escapeHtml(paragraph.slice(at))).replace(/\n/g, '<br />')}</p>`;
  });
  return paragraphs.join('');
}

/** Mastodon's count: characters (code points), every link as 23. */
const weight = (text: string) => [...text.replace(LINK, 'x'.repeat(URL_WEIGHT))].length;

/**
 * A local stand-in for a Mastodon server: `POST /api/v1/statuses` (a form or JSON body with
 * `status`, `visibility`, `in_reply_to_id`, `language`), `GET /api/v1/accounts/verify_credentials`,
 * `GET /api/v1/accounts/:id/statuses`, `GET /api/v2/instance` (configuration.statuses.max_characters).
 * It checks the Bearer token, refuses a status over 500 characters (links counted as 23) with 422
 * `{ error }`, and honours `Idempotency-Key` as Mastodon does: for an hour a post with the same key
 * by the same account answers the first status instead of making another.
 */
export async function startFakeMastodon(token: string): Promise<FakeMastodon> {
  const statuses: StoredStatus[] = [];
  const failures: MastodonFailure[] = [];
  const keys = new Map<string, { id: string; at: number }>();
  let nextId = 110000000000000000n;
  const account = {
    id: '109000000000000001',
    username: 'exampletimes',
    acct: 'exampletimes',
    display_name: 'The Example Times',
  };

  const error = (status: number, message: string, headers?: Record<string, string>): FakeAnswer => ({
    status,
    headers,
    json: { error: message },
  });

  const asJson = (status: StoredStatus, base: string) => ({
    id: status.id,
    created_at: status.createdAt.toISOString(),
    in_reply_to_id: status.inReplyToId,
    visibility: status.visibility,
    language: status.language,
    uri: `${base}/users/${account.username}/statuses/${status.id}`,
    url: `${base}/@${account.username}/${status.id}`,
    content: contentHtml(status.text),
    account: { ...account, url: `${base}/@${account.username}` },
  });

  function fields(request: ReceivedRequest): Record<string, unknown> | undefined {
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim();
    const text = request.body.toString('utf8');
    if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
    if (type === 'application/json') {
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  function postStatus(request: ReceivedRequest, base: string): FakeAnswer {
    const body = fields(request);
    if (!body) return error(422, 'Validation failed: the body must be a form or JSON');
    const unknown = Object.keys(body).filter((key) => !FIELDS.has(key));
    if (unknown.length > 0) return error(422, `the fake knows no field ${unknown.join(', ')}`);
    const { status: text, visibility = 'public', in_reply_to_id: replyTo, language } = body;
    const idempotencyKey = request.headers['idempotency-key'];
    if (typeof idempotencyKey === 'string') {
      const seen = keys.get(idempotencyKey);
      if (seen && fake.now().getTime() - seen.at < IDEMPOTENCY_MS) {
        const first = statuses.find((s) => s.id === seen.id);
        if (first) return { status: 200, json: asJson(first, base) };
      }
    }
    if (typeof text !== 'string' || !text.trim()) return error(422, "Validation failed: Text can't be blank");
    if (weight(text) > MAX_CHARACTERS) {
      return error(422, `Validation failed: Text character limit of ${MAX_CHARACTERS} exceeded`);
    }
    if (!['public', 'unlisted', 'private', 'direct'].includes(String(visibility))) {
      return error(422, 'Validation failed: Visibility is not included in the list');
    }
    if (replyTo !== undefined && !statuses.some((s) => s.id === replyTo)) return error(404, 'Record not found');
    if (language !== undefined && !/^[a-z]{2,3}$/.test(String(language))) {
      return error(422, 'Validation failed: Language is not a valid ISO 639 code');
    }
    const failure = failures.shift();
    if (failure === 'unauthorized') return error(401, 'The access token is invalid');
    if (failure === 'rate-limited') {
      return error(429, 'Too many requests', {
        'x-ratelimit-limit': '300',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': fake.rateLimitReset.toISOString(),
      });
    }
    if (failure === 'refused') return error(422, 'Validation failed: Text contains a word the server does not allow');
    if (failure === 'server-error') return { status: 503, json: undefined };
    const stored: StoredStatus = {
      id: String(nextId++),
      text,
      visibility: String(visibility),
      language: typeof language === 'string' ? language : null,
      inReplyToId: typeof replyTo === 'string' ? replyTo : null,
      createdAt: fake.now(),
    };
    statuses.push(stored);
    if (typeof idempotencyKey === 'string') keys.set(idempotencyKey, { id: stored.id, at: fake.now().getTime() });
    if (failure === 'drop-after-store') return 'drop';
    return { status: 200, json: asJson(stored, base) };
  }

  const server = await startFakeServer((request) => {
    const base = `http://${request.headers.host}`;
    if (request.method === 'GET' && request.path === '/api/v2/instance') {
      return {
        status: 200,
        json: {
          domain: request.headers.host,
          configuration: { statuses: { max_characters: MAX_CHARACTERS, characters_reserved_per_url: URL_WEIGHT } },
        },
      };
    }
    if (request.headers.authorization !== `Bearer ${token}`) return error(401, 'The access token is invalid');
    if (request.method === 'POST' && request.path === '/api/v1/statuses') return postStatus(request, base);
    if (request.method === 'GET' && request.path === '/api/v1/accounts/verify_credentials') {
      return { status: 200, json: { ...account, url: `${base}/@${account.username}` } };
    }
    const match = /^\/api\/v1\/accounts\/(\d+)\/statuses$/.exec(request.path);
    if (request.method === 'GET' && match) {
      if (match[1] !== account.id) return error(404, 'Record not found');
      const limit = Math.min(40, Number(request.query.get('limit') ?? 20));
      return {
        status: 200,
        json: [...statuses]
          .reverse()
          .slice(0, limit)
          .map((s) => asJson(s, base)),
      };
    }
    return error(404, 'Not Found');
  });
  const fake: FakeMastodon = {
    ...server,
    statuses,
    failNext: (...next) => failures.push(...next),
    now: () => new Date(),
    rateLimitReset: new Date(Date.now() + 120_000),
  };
  return fake;
}
