import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPublishers } from '../io/publishers/index.js';
import { statusText } from '../io/publishers/mastodon.js';
import { PostError } from '../io/publishers/post-error.js';
import type { Publisher } from '../io/publishers/publisher.js';
import { loadConfig } from '../src/config.js';
import type { NetworkPost } from '../src/social/network-post.js';
import { contentHtml, type FakeMastodon, startFakeMastodon } from './helpers/fake-mastodon.js';
import { startMisbehavingServer } from './helpers/fake-x.js';

// These run against a local server that checks the requests Mastodon documents (tests/helpers/fake-mastodon.ts), not a Mastodon server.

const TOKEN = 'mastodon-token';
let fake: FakeMastodon;
let clock = Date.now();

const toot = (text: string): NetworkPost => ({
  network: 'mastodon',
  kind: 'headline',
  text,
  length: 0,
  limit: 500,
  valid: true,
});

function publisherFor(overrides: Record<string, string> = {}): Publisher {
  const config = loadConfig({ MASTODON_URL: fake.url, MASTODON_TOKEN: TOKEN, FETCH_TIMEOUT_MS: '2000', ...overrides });
  const publisher = createPublishers(config, { now: () => new Date(clock) }).mastodon;
  if (!publisher) throw new Error('no Mastodon publisher');
  return publisher;
}

async function failure(promise: Promise<unknown>): Promise<PostError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PostError);
  return error as PostError;
}

beforeAll(async () => {
  fake = await startFakeMastodon(TOKEN);
  fake.now = () => new Date(clock);
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.statuses.length = 0;
  fake.requests.length = 0;
  clock = Date.now();
});

describe('Mastodon publisher', () => {
  it('posts POST /api/v1/statuses as a form with the Bearer token and the Idempotency-Key', async () => {
    const text =
      'Rates rise <again> & again https://news.example.com/a-rather-long-path-to-an-article?utm_source=mastodon';
    const posted = await publisherFor().publish(toot(text), { key: 'key-1', retry: false, since: new Date() });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(`${request?.method} ${request?.path}`).toBe('POST /api/v1/statuses');
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers['idempotency-key']).toBe('key-1');
    expect(request?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(request?.body.toString('utf8')))).toEqual({
      status: text,
      visibility: 'public',
    });
    const [stored] = fake.statuses;
    expect(posted).toEqual({ remoteId: stored?.id, url: `${fake.url}/@exampletimes/${stored?.id}` });
  });

  it('chains a thread with in_reply_to_id', async () => {
    const publisher = publisherFor();
    const since = new Date();
    const first = await publisher.publish(toot('1/2 First'), { key: 'th-1', retry: false, since });
    await publisher.publish(toot('2/2 Second'), { key: 'th-2', retry: false, since, replyTo: first, root: first });
    expect(fake.statuses.map((s) => s.inReplyToId)).toEqual([null, first.remoteId]);
  });

  it('verify() reads verify_credentials', async () => {
    expect(await publisherFor().verify()).toEqual({ account: `@exampletimes@${new URL(fake.url).host}` });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/accounts/verify_credentials']);
  });

  it.each([
    ['unauthorized', 'E_POST_AUTH', 401, 'mastodon: 401 The access token is invalid'],
    ['rate-limited', 'E_POST_RATE_LIMITED', 429, 'mastodon: 429 Too many requests'],
    [
      'refused',
      'E_POST_REFUSED',
      422,
      'mastodon: 422 Validation failed: Text contains a word the server does not allow',
    ],
    ['server-error', 'E_POST_UNREACHABLE', 503, 'mastodon: 503 Service Unavailable'],
  ] as const)('sorts a scripted %s answer as %s', async (script, code, status, message) => {
    fake.failNext(script);
    const error = await failure(
      publisherFor().publish(toot(`Scripted ${script}`), { key: script, retry: false, since: new Date() }),
    );
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.message).toBe(message);
    if (code === 'E_POST_RATE_LIMITED') {
      // X-RateLimit-Reset is an ISO time two minutes ahead of the clock the publisher was given.
      expect(error.retryAfterMs).toBe(fake.rateLimitReset.getTime() - clock);
    }
    expect(fake.statuses).toHaveLength(0);
  });

  it('a wrong token is E_POST_AUTH; a text over the limit is E_POST_REFUSED with the server’s words', async () => {
    const wrong = await failure(
      publisherFor({ MASTODON_TOKEN: 'nope' }).publish(toot('hi'), { key: 'w', retry: false, since: new Date() }),
    );
    expect(wrong.code).toBe('E_POST_AUTH');
    const long = await failure(
      publisherFor().publish(toot('x'.repeat(501)), { key: 'l', retry: false, since: new Date() }),
    );
    expect(long.code).toBe('E_POST_REFUSED');
    expect(long.message).toBe('mastodon: 422 Validation failed: Text character limit of 500 exceeded');
  });

  it('a server that is not there is E_POST_UNREACHABLE', async () => {
    const gone = await startFakeMastodon(TOKEN);
    await gone.close();
    const error = await failure(
      publisherFor({ MASTODON_URL: gone.url }).publish(toot('hi'), { key: 'g', retry: false, since: new Date() }),
    );
    expect(error.code).toBe('E_POST_UNREACHABLE');
  });

  it.each([
    ['never answers', 'silent', /no answer within 300 ms/],
    ['answers 3 MB', 'huge', /over the 2000000-byte limit/],
  ] as const)('a server that %s is E_POST_UNREACHABLE, cut off by the limit', async (_name, kind, why) => {
    const server = await startMisbehavingServer(kind);
    try {
      const started = Date.now();
      const error = await failure(
        publisherFor({ MASTODON_URL: server.url, FETCH_TIMEOUT_MS: kind === 'huge' ? '10000' : '300' }).publish(
          toot('Limits'),
          {
            key: kind,
            retry: false,
            since: new Date(),
          },
        ),
      );
      expect(error.code).toBe('E_POST_UNREACHABLE');
      expect(error.message).toMatch(why);
      // Cut off by the limit it met, not left to run: well within the other limit's time.
      expect(Date.now() - started).toBeLessThan(kind === 'huge' ? 9000 : 2000);
    } finally {
      await server.close();
    }
  });

  describe('never twice', () => {
    it('a retry within the hour after a crash that followed success gets the first status back (Idempotency-Key)', async () => {
      const publisher = publisherFor();
      const since = new Date(clock);
      fake.failNext('drop-after-store');
      const error = await failure(
        publisher.publish(toot('Crash after success'), { key: 'crash', retry: false, since }),
      );
      expect(error.code).toBe('E_POST_UNREACHABLE');
      clock += 10 * 60_000;
      const again = await publisher.publish(toot('Crash after success'), { key: 'crash', retry: true, since });
      expect(fake.statuses).toHaveLength(1);
      expect(again.remoteId).toBe(fake.statuses[0]?.id);
      // Within the hour the key is enough: no timeline read.
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /api/v1/statuses',
        'POST /api/v1/statuses',
      ]);
    });

    it('a retry past the hour finds the first status among the account’s own and posts nothing', async () => {
      const publisher = publisherFor();
      const since = new Date(clock);
      const text = 'Past the hour:\n\n<b>bold</b> & a link https://news.example.com/a-rather-long-path-to-an-article';
      fake.failNext('drop-after-store');
      await failure(publisher.publish(toot(text), { key: 'late', retry: false, since }));
      clock += 2 * 60 * 60_000;
      const again = await publisher.publish(toot(text), { key: 'late', retry: true, since });
      expect(fake.statuses).toHaveLength(1);
      expect(again.remoteId).toBe(fake.statuses[0]?.id);
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /api/v1/statuses',
        'GET /api/v1/accounts/verify_credentials',
        'GET /api/v1/accounts/109000000000000001/statuses',
      ]);
    });

    it('past the hour, a status with the same text replying elsewhere is not taken for this one', async () => {
      const publisher = publisherFor();
      const since = new Date(clock);
      const root = await publisher.publish(toot('Root'), { key: 'root', retry: false, since });
      await publisher.publish(toot('Same words'), { key: 'plain', retry: false, since });
      clock += 2 * 60 * 60_000;
      await publisher.publish(toot('Same words'), { key: 'reply', retry: true, since, replyTo: root, root });
      expect(fake.statuses).toHaveLength(3);
      expect(fake.statuses[2]?.inReplyToId).toBe(root.remoteId);
    });
  });
});

describe('statusText', () => {
  it.each([
    ['plain text', 'Hello world'],
    ['markup-like text', 'Tom & Jerry <3 "quoted" it\'s'],
    ['paragraphs and lines', 'One\n\nTwo\nthree'],
    ['a long link', 'Read https://news.example.com/a-rather-long-path-to-an-article?utm_source=mastodon now'],
  ])('reads back %s from the content HTML Mastodon renders', (_name, text) => {
    expect(statusText(contentHtml(text))).toBe(text);
  });
});
