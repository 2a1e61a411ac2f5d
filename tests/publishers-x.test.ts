import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configuredNetworks, createPublishers } from '../io/publishers/index.js';
import { PostError } from '../io/publishers/post-error.js';
import type { Publisher } from '../io/publishers/publisher.js';
import { comparableText } from '../io/publishers/x.js';
import { loadConfig } from '../src/config.js';
import type { NetworkPost } from '../src/social/network-post.js';
import { type FakeX, startFakeX, startMisbehavingServer } from './helpers/fake-x.js';

// These run against a local server that checks the requests X documents (tests/helpers/fake-x.ts), not X itself.

const credentials = {
  apiKey: 'app-key',
  apiSecret: 'app secret/+=',
  accessToken: '1-token',
  accessSecret: 'token&secret',
};
const xPost = (text: string): NetworkPost => ({
  network: 'x',
  kind: 'headline',
  text,
  length: 0,
  limit: 280,
  valid: true,
});

let fake: FakeX;

function publisherFor(overrides: Record<string, string> = {}): Publisher {
  const config = loadConfig({
    X_API_KEY: credentials.apiKey,
    X_API_SECRET: credentials.apiSecret,
    X_ACCESS_TOKEN: credentials.accessToken,
    X_ACCESS_SECRET: credentials.accessSecret,
    X_API_URL: fake.url,
    FETCH_TIMEOUT_MS: '2000',
    ...overrides,
  });
  const publisher = createPublishers(config).x;
  if (!publisher) throw new Error('no X publisher');
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
  fake = await startFakeX(credentials);
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  expect(fake.badSignatures).toEqual([]);
  fake.tweets.length = 0;
  fake.requests.length = 0;
});

describe('X publisher', () => {
  it('posts the text as POST /2/tweets, a JSON body signed with OAuth 1.0a', async () => {
    const text = 'Rates rise again & markets <wobble> https://news.example.com/a?utm_source=x';
    const posted = await publisherFor().publish(xPost(text), { key: 'a1', retry: false, since: new Date() });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/2/tweets');
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    expect(request?.headers.authorization).toMatch(/^OAuth /);
    expect(JSON.parse(request?.body.toString('utf8') ?? '')).toEqual({ text });
    expect(fake.tweets).toHaveLength(1);
    expect(posted).toEqual({
      remoteId: fake.tweets[0]?.id,
      url: `https://x.com/i/web/status/${fake.tweets[0]?.id}`,
    });
  });

  it('chains a thread: each later part replies to the one before', async () => {
    const publisher = publisherFor();
    const since = new Date();
    const first = await publisher.publish(xPost('1/3 The first part'), { key: 't1', retry: false, since });
    const second = await publisher.publish(xPost('2/3 The second part'), {
      key: 't2',
      retry: false,
      since,
      replyTo: first,
      root: first,
    });
    await publisher.publish(xPost('3/3 The third part'), {
      key: 't3',
      retry: false,
      since,
      replyTo: second,
      root: first,
    });
    expect(fake.tweets.map((t) => t.replyTo)).toEqual([undefined, first.remoteId, second.remoteId]);
    expect(JSON.parse(fake.requests[1]?.body.toString('utf8') ?? '')).toEqual({
      text: '2/3 The second part',
      reply: { in_reply_to_tweet_id: first.remoteId },
    });
  });

  it('verify() reads GET /2/users/me', async () => {
    expect(await publisherFor().verify()).toEqual({ account: '@exampletimes' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /2/users/me']);
  });

  it('a wrong secret makes a wrong signature: the fake answers 401, the publisher E_POST_AUTH', async () => {
    const error = await failure(
      publisherFor({ X_ACCESS_SECRET: 'not-the-secret' }).publish(xPost('Wrong key'), {
        key: 'w',
        retry: false,
        since: new Date(),
      }),
    );
    expect(error.code).toBe('E_POST_AUTH');
    expect(error.status).toBe(401);
    expect(fake.badSignatures).toEqual(['the signature does not match']);
    fake.badSignatures.length = 0;
    expect(fake.tweets).toHaveLength(0);
  });

  it.each([
    ['unauthorized', 'E_POST_AUTH', 401],
    ['rate-limited', 'E_POST_RATE_LIMITED', 429],
    ['server-error', 'E_POST_UNREACHABLE', 503],
  ] as const)('sorts a scripted %s answer as %s', async (script, code, status) => {
    fake.failNext(script);
    const error = await failure(
      publisherFor().publish(xPost(`Scripted ${script}`), { key: script, retry: false, since: new Date() }),
    );
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.message).toMatch(/^x: POST \/2\/tweets: /);
    if (code === 'E_POST_RATE_LIMITED') {
      // x-rate-limit-reset is 900 s ahead.
      expect(error.retryAfterMs).toBeGreaterThan(890_000);
      expect(error.retryAfterMs).toBeLessThanOrEqual(900_000);
    }
    expect(fake.tweets).toHaveLength(0);
  });

  it('a duplicate on a first attempt is E_POST_REFUSED with X’s own message', async () => {
    const publisher = publisherFor();
    await publisher.publish(xPost('Same words'), { key: 'd1', retry: false, since: new Date() });
    const error = await failure(publisher.publish(xPost('Same words'), { key: 'd2', retry: false, since: new Date() }));
    expect(error.code).toBe('E_POST_REFUSED');
    expect(error.message).toBe('x: POST /2/tweets: 403 You are not allowed to create a Tweet with duplicate content.');
  });

  it('a text X refuses (too long) is E_POST_REFUSED', async () => {
    const error = await failure(
      publisherFor().publish(xPost('x'.repeat(300)), { key: 'long', retry: false, since: new Date() }),
    );
    expect(error.code).toBe('E_POST_REFUSED');
    expect(error.status).toBe(400);
  });

  it('a server that does not answer is E_POST_UNREACHABLE within the time limit', async () => {
    const closed = await startFakeX(credentials);
    const url = closed.url;
    await closed.close();
    const error = await failure(
      publisherFor({ X_API_URL: url }).publish(xPost('Nobody'), { key: 'n', retry: false, since: new Date() }),
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
        publisherFor({ X_API_URL: server.url, FETCH_TIMEOUT_MS: kind === 'huge' ? '10000' : '300' }).publish(
          xPost('Limits'),
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

  it('a retry after a crash that followed X’s success finds the post and posts nothing new', async () => {
    const publisher = publisherFor();
    const since = new Date(Date.now() - 2000);
    const text = 'Crash after success https://news.example.com/crash';
    fake.failNext('drop-after-store');
    const error = await failure(publisher.publish(xPost(text), { key: 'c', retry: false, since }));
    expect(error.code).toBe('E_POST_UNREACHABLE');
    expect(fake.tweets).toHaveLength(1);
    const again = await publisher.publish(xPost(text), { key: 'c', retry: true, since });
    expect(fake.tweets).toHaveLength(1);
    expect(again.remoteId).toBe(fake.tweets[0]?.id);
    const timeline = fake.requests.find((r) => r.path.endsWith('/tweets') && r.method === 'GET');
    expect(timeline?.path).toBe('/2/users/1700000000000000001/tweets');
    expect(timeline?.query.get('max_results')).toBe('20');
    expect(timeline?.query.get('start_time')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a retry whose post the timeline does not show yet meets 403 duplicate, looks again and returns it', async () => {
    const publisher = publisherFor();
    const since = new Date(Date.now() - 2000);
    fake.failNext('drop-after-store');
    await failure(publisher.publish(xPost('Lagging timeline'), { key: 'l', retry: false, since }));
    fake.hideTimeline(1);
    const again = await publisher.publish(xPost('Lagging timeline'), { key: 'l', retry: true, since });
    expect(again.remoteId).toBe(fake.tweets[0]?.id);
    expect(fake.tweets).toHaveLength(1);
  });

  it('a retry does not take a post of the same text that replies elsewhere', async () => {
    const publisher = publisherFor();
    const since = new Date(Date.now() - 2000);
    const root = await publisher.publish(xPost('Root post'), { key: 'r0', retry: false, since });
    await publisher.publish(xPost('Standalone words'), { key: 'r1', retry: false, since });
    // The reply with the same words is new: X itself refuses the duplicate text, and the publisher says so.
    const error = await failure(
      publisher.publish(xPost('Standalone words'), { key: 'r2', retry: true, since, replyTo: root, root }),
    );
    expect(error.code).toBe('E_POST_REFUSED');
    expect(fake.tweets).toHaveLength(2);
  });
});

describe('comparableText', () => {
  it.each([
    ['a link and its t.co form', 'Read https://news.example.com/a-long-path?x=1 now', 'Read https://t.co/abc123 now'],
    ['a bare domain link', 'See example.com/x today', 'See https://t.co/zzz today'],
    ['X’s entities', 'Tom & Jerry <3', 'Tom &amp; Jerry &lt;3'],
    ['squeezed whitespace', 'One\n\ntwo', 'One two'],
  ])('matches %s', (_name, posted, stored) => {
    expect(comparableText(stored)).toBe(comparableText(posted));
  });

  it('tells different words apart', () => {
    expect(comparableText('Read https://t.co/a now')).not.toBe(comparableText('Read https://t.co/a later'));
  });
});

describe('configuredNetworks', () => {
  it('needs all four X keys: some of them is a configuration mistake naming the missing ones', () => {
    const config = loadConfig({ X_API_KEY: 'k', X_ACCESS_TOKEN: 't' });
    expect(() => configuredNetworks(config)).toThrow(
      /Invalid configuration: x needs X_API_SECRET and X_ACCESS_SECRET \(X_API_KEY, X_ACCESS_TOKEN set\)/,
    );
    expect(() => createPublishers(config)).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });

  it('lists the networks whose credentials are all set, and no others', () => {
    expect(configuredNetworks(loadConfig({}))).toEqual([]);
    const config = loadConfig({
      X_API_KEY: 'k',
      X_API_SECRET: 's',
      X_ACCESS_TOKEN: 't',
      X_ACCESS_SECRET: 'a',
      MASTODON_URL: 'https://mastodon.example',
      MASTODON_TOKEN: 'm',
    });
    expect(configuredNetworks(config)).toEqual(['x', 'mastodon']);
    expect(Object.keys(createPublishers(config)).sort()).toEqual(['mastodon', 'x']);
  });
});
