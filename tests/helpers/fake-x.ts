import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twitter from 'twitter-text';

/** One request as a fake network server received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/**
 * What a fake's handler answers: a status, headers and a JSON body; `drop` closes the connection
 * unanswered, `hang` never answers (until the server closes).
 */
export type FakeAnswer = { status: number; headers?: Record<string, string>; json?: unknown } | 'drop' | 'hang';

/** A local HTTP server for the publisher tests; it records every request it gets. */
export interface FakeServer {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** Largest request body a fake reads (Bluesky's blob limit, and some). */
const MAX_BODY = 2_000_000;

/** Starts a fake on 127.0.0.1 and a free port; `handle` answers each request, its body read whole. */
export async function startFakeServer(handle: (request: ReceivedRequest) => FakeAnswer): Promise<FakeServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const request = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(request);
      let answer: FakeAnswer;
      try {
        answer = handle(request);
      } catch (error) {
        answer = { status: 500, json: { error: 'FakeServerBug', message: String(error) } };
      }
      if (answer === 'drop') {
        res.socket?.destroy();
        return;
      }
      if (answer === 'hang') return;
      const body = answer.json === undefined ? '' : JSON.stringify(answer.json);
      res.writeHead(answer.status, {
        ...(answer.json === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        ...answer.headers,
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** RFC 3986 percent-encoding, as RFC 5849 section 3.6 asks: everything but unreserved characters. */
export function oauthEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The parameters of an `Authorization: OAuth k="v", ...` header, decoded. */
function oauthParams(header: string | undefined): Map<string, string> | undefined {
  if (!header?.startsWith('OAuth ')) return undefined;
  const params = new Map<string, string>();
  for (const part of header.slice(6).split(',')) {
    const match = /^\s*([\w.~-]+)="([^"]*)"\s*$/.exec(part);
    if (!match) return undefined;
    params.set(decodeURIComponent(match[1] as string), decodeURIComponent(match[2] as string));
  }
  return params;
}

export interface XCredentials {
  apiKey: string;
  apiSecret: string;
  accessToken: string;
  accessSecret: string;
}

/** A tweet as the fake X holds it. */
export interface StoredTweet {
  id: string;
  /** As X keeps it: every link replaced by a t.co link. */
  text: string;
  /** The text as it was posted. */
  posted: string;
  replyTo?: string;
  createdAt: Date;
}

/** A failure the next `POST /2/tweets` meets. `drop-after-store` stores the tweet and closes the connection unanswered. */
export type XFailure = 'unauthorized' | 'rate-limited' | 'server-error' | 'drop-after-store';

export interface FakeX extends FakeServer {
  tweets: StoredTweet[];
  /** Queues failures for the next posts, in order. */
  failNext(...failures: XFailure[]): void;
  /** The next `count` timeline reads answer as if nothing were posted yet (X's timelines lag). */
  hideTimeline(count: number): void;
  /** The Unix time (seconds) a scripted 429 names in x-rate-limit-reset. */
  rateLimitReset: number;
  /** Requests refused for a bad OAuth 1.0a signature, with why. */
  badSignatures: string[];
}

const ACCOUNT = { id: '1700000000000000001', name: 'The Example Times', username: 'exampletimes' };
const problem = (status: number, title: string, detail: string, type = 'about:blank'): FakeAnswer => ({
  status,
  json: { title, detail, type, status },
});
const escapeEntities = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A local stand-in for the X API v2, checking the requests X documents: `POST /2/tweets` (a JSON
 * object of `text` and optional `reply.in_reply_to_tweet_id`, Content-Type application/json),
 * `GET /2/users/me`, `GET /2/users/:id/tweets` (start_time RFC 3339, max_results 5-100), each signed
 * with OAuth 1.0a HMAC-SHA1: the signature is recomputed per RFC 5849 (the base string of method,
 * base URI and sorted parameters, the key of both secrets) and a wrong one answers 401, as does a
 * stale timestamp or a reused nonce. It keeps tweets with their links as t.co links, refuses a
 * duplicate text with 403, and returns `&`, `<`, `>` as entities, as X does.
 */
export async function startFakeX(credentials: XCredentials): Promise<FakeX> {
  const tweets: StoredTweet[] = [];
  const failures: XFailure[] = [];
  const nonces = new Set<string>();
  const badSignatures: string[] = [];
  let hidden = 0;
  let nextId = 1800000000000000000n;
  let nextLink = 0;

  function checkSignature(request: ReceivedRequest): string | undefined {
    const params = oauthParams(request.headers.authorization);
    if (!params) return 'no OAuth Authorization header';
    const signature = params.get('oauth_signature');
    if (params.get('oauth_signature_method') !== 'HMAC-SHA1') return 'oauth_signature_method is not HMAC-SHA1';
    if (params.has('oauth_version') && params.get('oauth_version') !== '1.0') return 'oauth_version is not 1.0';
    if (params.get('oauth_consumer_key') !== credentials.apiKey) return 'wrong oauth_consumer_key';
    if (params.get('oauth_token') !== credentials.accessToken) return 'wrong oauth_token';
    const timestamp = Number(params.get('oauth_timestamp'));
    if (!(Math.abs(timestamp - Date.now() / 1000) < 300)) return 'oauth_timestamp is not within 5 minutes';
    const nonce = params.get('oauth_nonce') ?? '';
    if (!nonce || nonces.has(nonce)) return 'oauth_nonce is missing or reused';
    nonces.add(nonce);
    const pairs: [string, string][] = [];
    for (const [key, value] of params) if (key !== 'oauth_signature' && key !== 'realm') pairs.push([key, value]);
    for (const [key, value] of request.query) pairs.push([key, value]);
    // RFC 5849 3.4.1.3.1: a form body's parameters are signed too; a JSON body is not.
    if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      for (const [key, value] of new URLSearchParams(request.body.toString('utf8'))) pairs.push([key, value]);
    }
    const normalized = pairs
      .map(([key, value]) => [oauthEncode(key), oauthEncode(value)])
      .sort(([ak, av], [bk, bv]) =>
        ak === bk ? ((av as string) < (bv as string) ? -1 : 1) : (ak as string) < (bk as string) ? -1 : 1,
      )
      .map(([key, value]) => `${key}=${value}`)
      .join('&');
    const baseUri = `http://${(request.headers.host ?? '').toLowerCase()}${request.path}`;
    const base = [request.method.toUpperCase(), oauthEncode(baseUri), oauthEncode(normalized)].join('&');
    const key = `${oauthEncode(credentials.apiSecret)}&${oauthEncode(credentials.accessSecret)}`;
    const expected = createHmac('sha1', key).update(base).digest();
    const given = Buffer.from(signature ?? '', 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the signature does not match';
    return undefined;
  }

  const asJson = (tweet: StoredTweet, fields: string[]) => ({
    id: tweet.id,
    text: escapeEntities(tweet.text),
    edit_history_tweet_ids: [tweet.id],
    ...(fields.includes('referenced_tweets') && tweet.replyTo
      ? { referenced_tweets: [{ type: 'replied_to', id: tweet.replyTo }] }
      : {}),
  });

  function postTweet(request: ReceivedRequest): FakeAnswer {
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return problem(400, 'Invalid Request', 'Content-Type must be application/json');
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      return problem(400, 'Invalid Request', 'the body is not JSON');
    }
    const { text, reply, ...rest } = (body ?? {}) as { text?: unknown; reply?: unknown };
    if (Object.keys(rest).length > 0) return problem(400, 'Invalid Request', `unexpected fields ${Object.keys(rest)}`);
    if (typeof text !== 'string' || !text) return problem(400, 'Invalid Request', '`text` must be a non-empty string');
    let replyTo: string | undefined;
    if (reply !== undefined) {
      const { in_reply_to_tweet_id: id, ...other } = reply as { in_reply_to_tweet_id?: unknown };
      if (typeof id !== 'string' || Object.keys(other).length > 0) {
        return problem(400, 'Invalid Request', '`reply` must be { in_reply_to_tweet_id }');
      }
      if (!tweets.some((tweet) => tweet.id === id))
        return problem(400, 'Invalid Request', `no tweet ${id} to reply to`);
      replyTo = id;
    }
    if (!twitter.parseTweet(text).valid) return problem(400, 'Invalid Request', 'text is too long or invalid');
    const failure = failures.shift();
    if (failure === 'unauthorized') return problem(401, 'Unauthorized', 'Unauthorized');
    if (failure === 'rate-limited') {
      return {
        status: 429,
        headers: {
          'x-rate-limit-limit': '100',
          'x-rate-limit-remaining': '0',
          'x-rate-limit-reset': String(fake.rateLimitReset),
        },
        json: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
      };
    }
    if (failure === 'server-error') return problem(503, 'Service Unavailable', 'Service Unavailable');
    if (tweets.some((tweet) => tweet.posted === text)) {
      return problem(403, 'Forbidden', 'You are not allowed to create a Tweet with duplicate content.');
    }
    let stored = '';
    let at = 0;
    for (const { indices } of twitter.extractUrlsWithIndices(text)) {
      stored += `${text.slice(at, indices[0])}https://t.co/${(nextLink++).toString(36).padStart(10, 'a')}`;
      at = indices[1];
    }
    const tweet: StoredTweet = {
      id: String(nextId++),
      text: stored + text.slice(at),
      posted: text,
      replyTo,
      createdAt: new Date(),
    };
    tweets.push(tweet);
    if (failure === 'drop-after-store') return 'drop';
    return { status: 201, json: { data: asJson(tweet, []) } };
  }

  function timeline(request: ReceivedRequest, id: string): FakeAnswer {
    if (id !== ACCOUNT.id) return problem(403, 'Forbidden', 'not your timeline');
    const start = request.query.get('start_time');
    if (start !== null && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/.test(start)) {
      return problem(400, 'Invalid Request', 'start_time must be YYYY-MM-DDTHH:mm:ssZ');
    }
    const max = Number(request.query.get('max_results') ?? 10);
    if (!Number.isInteger(max) || max < 5 || max > 100) {
      return problem(400, 'Invalid Request', 'max_results must be from 5 to 100');
    }
    const fields = (request.query.get('tweet.fields') ?? '').split(',');
    if (hidden > 0) {
      hidden--;
      return { status: 200, json: { meta: { result_count: 0 } } };
    }
    const since = start === null ? 0 : Date.parse(start);
    const found = tweets
      .filter((tweet) => tweet.createdAt.getTime() >= since)
      .reverse()
      .slice(0, max)
      .map((tweet) => asJson(tweet, fields));
    return {
      status: 200,
      json: found.length > 0 ? { data: found, meta: { result_count: found.length } } : { meta: { result_count: 0 } },
    };
  }

  const server = await startFakeServer((request) => {
    const why = checkSignature(request);
    if (why) {
      badSignatures.push(why);
      return problem(401, 'Unauthorized', 'Unauthorized');
    }
    if (request.method === 'POST' && request.path === '/2/tweets') return postTweet(request);
    if (request.method === 'GET' && request.path === '/2/users/me') return { status: 200, json: { data: ACCOUNT } };
    const match = /^\/2\/users\/(\d+)\/tweets$/.exec(request.path);
    if (request.method === 'GET' && match) return timeline(request, match[1] as string);
    return problem(404, 'Not Found Error', `no route ${request.method} ${request.path}`);
  });
  const fake: FakeX = {
    ...server,
    tweets,
    failNext: (...next) => failures.push(...next),
    hideTimeline: (count) => {
      hidden = count;
    },
    rateLimitReset: Math.floor(Date.now() / 1000) + 900,
    badSignatures,
  };
  return fake;
}

/**
 * A server that misbehaves for the time and size limits: `silent` accepts connections and never
 * answers; `huge` answers 200 with a JSON body of 3 MB.
 */
export async function startMisbehavingServer(kind: 'silent' | 'huge'): Promise<FakeServer> {
  return startFakeServer(() =>
    kind === 'huge' ? { status: 200, json: { data: { id: '1', text: 'x'.repeat(3_000_000) } } } : 'hang',
  );
}
