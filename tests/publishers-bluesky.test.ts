import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tidFromKey } from '../io/publishers/bluesky.js';
import { createPublishers } from '../io/publishers/index.js';
import { PostError } from '../io/publishers/post-error.js';
import type { Publisher } from '../io/publishers/publisher.js';
import { loadConfig } from '../src/config.js';
import type { BlueskyFacet, LinkCard, NetworkPost } from '../src/social/network-post.js';
import { type FakeBluesky, startFakeBluesky } from './helpers/fake-bluesky.js';
import { startMisbehavingServer } from './helpers/fake-x.js';

// These run against a local server that checks the XRPC calls a PDS documents (tests/helpers/fake-bluesky.ts), not Bluesky itself.

const account = { handle: 'news.example.com', password: 'abcd-efgh-ijkl-mnop' };
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);

let fake: FakeBluesky;
let images: Server;
let imageBase: string;
let warnings: string[] = [];

function facetFor(text: string, part: string, feature: BlueskyFacet['features'][number]): BlueskyFacet {
  const start = Buffer.byteLength(text.slice(0, text.indexOf(part)), 'utf8');
  return { index: { byteStart: start, byteEnd: start + Buffer.byteLength(part, 'utf8') }, features: [feature] };
}

function skeet(text: string, extra: { facets?: BlueskyFacet[]; card?: LinkCard } = {}): NetworkPost {
  return { network: 'bluesky', kind: 'headline', text, length: 0, limit: 300, valid: true, facets: [], ...extra };
}

function publisherFor(overrides: Record<string, string> = {}): Publisher {
  const config = loadConfig({
    BLUESKY_HANDLE: account.handle,
    BLUESKY_APP_PASSWORD: account.password,
    BLUESKY_SERVICE: fake.url,
    FETCH_TIMEOUT_MS: '2000',
    ALLOW_PRIVATE_URLS: 'true',
    ...overrides,
  });
  const publisher = createPublishers(config, { onWarning: (m) => warnings.push(m) }).bluesky;
  if (!publisher) throw new Error('no Bluesky publisher');
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

const bodyOf = (nsid: string) => {
  const request = fake.requests.findLast((r) => r.path === `/xrpc/${nsid}`);
  return JSON.parse(request?.body.toString('utf8') ?? 'null');
};

beforeAll(async () => {
  fake = await startFakeBluesky(account);
  fake.handles.set('reporter.example.com', 'did:plc:reporterreporterreporter');
  images = createServer((req, res) => {
    if (req.url === '/image.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else if (req.url === '/huge.png')
      res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.concat([PNG, Buffer.alloc(1_000_000)]));
    else if (req.url === '/page.png')
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not an image</html>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await fake.close();
  images.closeAllConnections();
  await new Promise((resolve) => images.close(resolve));
});
afterEach(() => {
  fake.records.clear();
  fake.blobs.length = 0;
  fake.requests.length = 0;
  fake.refuseLogins = false;
  warnings = [];
});

describe('Bluesky publisher', () => {
  it('logs in with the app password and creates an app.bsky.feed.post record at the key’s TID', async () => {
    const text =
      'Café prices rise 🚀 https://news.example.com/a #Economy says @reporter.example.com, not @nobody.example.com';
    const facets = [
      facetFor(text, 'https://news.example.com/a', {
        $type: 'app.bsky.richtext.facet#link',
        uri: 'https://news.example.com/a',
      }),
      facetFor(text, '#Economy', { $type: 'app.bsky.richtext.facet#tag', tag: 'Economy' }),
    ];
    const posted = await publisherFor().publish(skeet(text, { facets }), {
      key: 'post-1',
      retry: false,
      since: new Date(),
    });

    expect(bodyOf('com.atproto.server.createSession')).toEqual({
      identifier: account.handle,
      password: account.password,
    });
    const rkey = tidFromKey('post-1');
    const input = bodyOf('com.atproto.repo.createRecord');
    expect(input).toMatchObject({ repo: fake.did, collection: 'app.bsky.feed.post', rkey });
    expect(input.record.$type).toBe('app.bsky.feed.post');
    expect(input.record.text).toBe(text);
    expect(new Date(input.record.createdAt).toISOString()).toBe(input.record.createdAt);
    // The link and tag as given, and the one mention the network resolves; the other stays plain text.
    expect(input.record.facets).toEqual([
      ...facets,
      facetFor(text, '@reporter.example.com', {
        $type: 'app.bsky.richtext.facet#mention',
        did: 'did:plc:reporterreporterreporter',
      }),
    ]);
    expect(fake.count('com.atproto.identity.resolveHandle')).toBe(2);
    const stored = fake.records.get(rkey);
    expect(posted).toEqual({
      remoteId: `at://${fake.did}/app.bsky.feed.post/${rkey}`,
      cid: stored?.cid,
      url: `https://bsky.app/profile/${account.handle}/post/${rkey}`,
    });
  });

  it('keeps one session across posts, and chains a thread by root and parent', async () => {
    const publisher = publisherFor();
    const since = new Date();
    const before = fake.count('com.atproto.server.createSession');
    const first = await publisher.publish(skeet('1/3 First'), { key: 'th-1', retry: false, since });
    const second = await publisher.publish(skeet('2/3 Second'), {
      key: 'th-2',
      retry: false,
      since,
      replyTo: first,
      root: first,
    });
    await publisher.publish(skeet('3/3 Third'), { key: 'th-3', retry: false, since, replyTo: second, root: first });
    expect(fake.count('com.atproto.server.createSession') - before).toBe(1);
    expect(bodyOf('com.atproto.repo.createRecord').record.reply).toEqual({
      root: { uri: first.remoteId, cid: first.cid },
      parent: { uri: second.remoteId, cid: second.cid },
    });
    expect(fake.records.size).toBe(3);
  });

  it('verify() logs in and reads the session', async () => {
    expect(await publisherFor().verify()).toEqual({ account: `@${account.handle}` });
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/xrpc/com.atproto.server.createSession',
      '/xrpc/com.atproto.server.getSession',
    ]);
  });

  describe('the link card', () => {
    const card = (image: string | null): LinkCard => ({
      uri: 'https://news.example.com/a',
      title: 'A title',
      description: 'A description',
      image,
    });

    it('fetches the card’s image, uploads it and names the blob as the thumb', async () => {
      await publisherFor().publish(skeet('With a card', { card: card(`${imageBase}/image.png`) }), {
        key: 'card-1',
        retry: false,
        since: new Date(),
      });
      expect(fake.blobs).toEqual([expect.objectContaining({ mimeType: 'image/png', size: PNG.length })]);
      const upload = fake.requests.find((r) => r.path === '/xrpc/com.atproto.repo.uploadBlob');
      expect(upload?.body.equals(PNG)).toBe(true);
      expect(bodyOf('com.atproto.repo.createRecord').record.embed).toEqual({
        $type: 'app.bsky.embed.external',
        external: {
          uri: 'https://news.example.com/a',
          title: 'A title',
          description: 'A description',
          thumb: { $type: 'blob', ref: { $link: fake.blobs[0]?.cid }, mimeType: 'image/png', size: PNG.length },
        },
      });
      expect(warnings).toEqual([]);
    });

    it.each([
      ['an image at a private address while ALLOW_PRIVATE_URLS=false', '/image.png', 'false', /loopback|private/i],
      ['an image over 1,000,000 bytes', '/huge.png', 'true', /over the 1000000-byte limit/],
      ['a page that is not an image', '/page.png', 'true', /not a JPEG, PNG or WebP image/],
      ['an image that is not there', '/missing.png', 'true', /404/],
    ])('leaves out %s, and the post still goes with its card', async (_name, path, allowPrivate, why) => {
      const posted = await publisherFor({ ALLOW_PRIVATE_URLS: allowPrivate }).publish(
        skeet('Card without thumb', { card: card(`${imageBase}${path}`) }),
        { key: `card-${path}-${allowPrivate}`, retry: false, since: new Date() },
      );
      expect(posted.remoteId).toMatch(/^at:\/\//);
      expect(fake.blobs).toEqual([]);
      expect(bodyOf('com.atproto.repo.createRecord').record.embed.external).toEqual({
        uri: 'https://news.example.com/a',
        title: 'A title',
        description: 'A description',
      });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(why);
    });
  });

  describe('errors', () => {
    it('a wrong app password is E_POST_AUTH, and nothing is posted', async () => {
      const error = await failure(
        publisherFor({ BLUESKY_APP_PASSWORD: 'wrong' }).publish(skeet('x'), {
          key: 'e1',
          retry: false,
          since: new Date(),
        }),
      );
      expect(error.code).toBe('E_POST_AUTH');
      expect(error.message).toBe('bluesky: createSession: AuthenticationRequired Invalid identifier or password');
      expect(fake.records.size).toBe(0);
    });

    it('429 is E_POST_RATE_LIMITED with the wait ratelimit-reset asks for', async () => {
      fake.failNext('rate-limited');
      const error = await failure(
        publisherFor().publish(skeet('slow down'), { key: 'e2', retry: false, since: new Date() }),
      );
      expect(error.code).toBe('E_POST_RATE_LIMITED');
      expect(error.retryAfterMs).toBeGreaterThan(290_000);
      expect(error.retryAfterMs).toBeLessThanOrEqual(300_000);
    });

    it('5xx is E_POST_UNREACHABLE (after looking for the record, which is not there)', async () => {
      fake.failNext('server-error');
      const error = await failure(
        publisherFor().publish(skeet('down'), { key: 'e3', retry: false, since: new Date() }),
      );
      expect(error.code).toBe('E_POST_UNREACHABLE');
      expect(error.status).toBe(502);
      expect(fake.count('com.atproto.repo.getRecord')).toBeGreaterThan(0);
    });

    it('a record the PDS refuses is E_POST_REFUSED with its message', async () => {
      const error = await failure(
        publisherFor().publish(skeet('x'.repeat(301)), { key: 'e4', retry: false, since: new Date() }),
      );
      expect(error.code).toBe('E_POST_REFUSED');
      expect(error.message).toMatch(/^bluesky: createRecord: InvalidRequest Invalid app\.bsky\.feed\.post record: /);
    });

    it('a PDS that never answers is E_POST_UNREACHABLE within the time limit', async () => {
      const server = await startMisbehavingServer('silent');
      try {
        const started = Date.now();
        const error = await failure(
          publisherFor({ BLUESKY_SERVICE: server.url, FETCH_TIMEOUT_MS: '300' }).publish(skeet('x'), {
            key: 'e6',
            retry: false,
            since: new Date(),
          }),
        );
        expect(error.code).toBe('E_POST_UNREACHABLE');
        expect(error.message).toBe('bluesky: createSession failed (no answer within 300 ms)');
        expect(Date.now() - started).toBeLessThan(2000);
      } finally {
        await server.close();
      }
    });

    it('a PDS that is not there is E_POST_UNREACHABLE', async () => {
      const gone = await startFakeBluesky(account);
      await gone.close();
      const error = await failure(
        publisherFor({ BLUESKY_SERVICE: gone.url }).publish(skeet('x'), { key: 'e5', retry: false, since: new Date() }),
      );
      expect(error.code).toBe('E_POST_UNREACHABLE');
    });
  });

  describe('sessions', () => {
    it('an expired access token is refreshed (refreshSession), not logged in again', async () => {
      const publisher = publisherFor();
      await publisher.publish(skeet('one'), { key: 's1', retry: false, since: new Date() });
      const logins = fake.count('com.atproto.server.createSession');
      const refreshes = fake.count('com.atproto.server.refreshSession');
      fake.expireAccessToken();
      await publisher.publish(skeet('two'), { key: 's2', retry: false, since: new Date() });
      expect(fake.count('com.atproto.server.refreshSession') - refreshes).toBe(1);
      expect(fake.count('com.atproto.server.createSession')).toBe(logins);
      expect(fake.records.size).toBe(2);
    });

    it('a session that cannot be refreshed gets a fresh login', async () => {
      const publisher = publisherFor();
      await publisher.publish(skeet('one'), { key: 's3', retry: false, since: new Date() });
      const logins = fake.count('com.atproto.server.createSession');
      fake.expireSession();
      await publisher.publish(skeet('two'), { key: 's4', retry: false, since: new Date() });
      expect(fake.count('com.atproto.server.createSession') - logins).toBe(1);
      expect(fake.records.size).toBe(2);
    });

    it('an expired session that a fresh login does not cure is E_POST_AUTH', async () => {
      const publisher = publisherFor();
      await publisher.publish(skeet('one'), { key: 's5', retry: false, since: new Date() });
      fake.expireSession();
      fake.refuseLogins = true;
      const error = await failure(publisher.publish(skeet('two'), { key: 's6', retry: false, since: new Date() }));
      expect(error.code).toBe('E_POST_AUTH');
      expect(fake.records.size).toBe(1);
    });
  });

  describe('never twice', () => {
    it('a crash after the PDS stored the record: the attempt and its retry name the one record', async () => {
      const publisher = publisherFor();
      const since = new Date();
      fake.failNext('drop-after-store');
      const first = await publisher.publish(skeet('Crash after success'), { key: 'crash', retry: false, since });
      const again = await publisher.publish(skeet('Crash after success'), { key: 'crash', retry: true, since });
      expect(fake.records.size).toBe(1);
      expect(again).toEqual(first);
      expect(first.remoteId).toBe(`at://${fake.did}/app.bsky.feed.post/${tidFromKey('crash')}`);
      // The retry read the record first and made no second create.
      expect(fake.requests.filter((r) => r.path === '/xrpc/com.atproto.repo.createRecord')).toHaveLength(1);
    });

    it('a second attempt not marked as a retry meets the taken key (500) and returns the first record', async () => {
      const publisher = publisherFor();
      const first = await publisher.publish(skeet('Twice?'), { key: 'twice', retry: false, since: new Date() });
      const second = await publisher.publish(skeet('Twice?'), { key: 'twice', retry: false, since: new Date() });
      expect(second).toEqual(first);
      expect(fake.records.size).toBe(1);
    });
  });
});

describe('tidFromKey', () => {
  it('is a valid TID, the same for the same key, different for others', () => {
    const tids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const tid = tidFromKey(`article-${i}:bluesky:headline`);
      expect(tid).toMatch(/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/);
      expect(tidFromKey(`article-${i}:bluesky:headline`)).toBe(tid);
      tids.add(tid);
    }
    expect(tids.size).toBe(2000);
  });
});
