import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlueskyPublisher } from '../io/publishers/bluesky.js';
import type { PublishedPost } from '../io/publishers/publisher.js';
import { loadConfig } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { composeNetworkPosts } from '../src/social/compose-network-posts.js';
import { summarize } from '../src/summarize/summarize.js';
import { ROOT } from './helpers/run-cli.js';

// The reference Bluesky PDS (@atproto/pds), installed apart by `npm run setup:pds` (CI does).
const PDS_DIR = resolve(ROOT, 'tests/pds');
const hasPds = existsSync(resolve(PDS_DIR, 'node_modules/@atproto/pds/package.json'));
const note = hasPds ? '' : ' [skipped: no local PDS; `npm run setup:pds` installs it]';

/** A valid 1x1 PNG: the PDS reads the blob's type from its bytes. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

interface PdsInfo {
  url: string;
  handle: string;
  did: string;
  password: string;
  appPassword: string;
}

describe.skipIf(!hasPds)(`the Bluesky publisher against a local PDS${note}`, () => {
  let pds: ChildProcess;
  let info: PdsInfo;
  let images: Server;
  let imageUrl: string;

  beforeAll(async () => {
    pds = spawn(process.execPath, ['start-pds.mjs'], { cwd: PDS_DIR, stdio: ['pipe', 'pipe', 'inherit'] });
    const firstLine = new Promise<string>((done, fail) => {
      const lines = createInterface({ input: pds.stdout as NodeJS.ReadableStream });
      lines.once('line', done);
      pds.once('exit', (code) => fail(new Error(`the PDS exited (${code}) before it was ready`)));
    });
    info = JSON.parse(await firstLine) as PdsInfo;
    images = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    });
    await new Promise<void>((done) => images.listen(0, '127.0.0.1', done));
    imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/river.png`;
  }, 60_000);

  afterAll(async () => {
    images?.close();
    if (pds && pds.exitCode === null) {
      const exited = new Promise((done) => pds.once('exit', done));
      pds.kill('SIGTERM');
      await exited;
    }
  });

  const config = () =>
    loadConfig({
      BLUESKY_SERVICE: info.url,
      BLUESKY_HANDLE: info.handle,
      BLUESKY_APP_PASSWORD: info.appPassword,
      ALLOW_PRIVATE_URLS: 'true',
    });
  const publisherFor = (password = info.appPassword) =>
    createBlueskyPublisher(
      { ...config(), BLUESKY_APP_PASSWORD: password },
      { timeoutMs: 10_000, maxBytes: 2_000_000, allowPrivate: true, imageTimeoutMs: 5_000 },
    );

  function composed() {
    const article = parseArticle(readFileSync(resolve(ROOT, 'examples/river-cleanup.html')), {
      receivedAt: new Date('2026-12-02T10:00:00Z'),
      url: 'https://news.example.com/river-wend-cleanup',
    });
    const withImage = { ...article, image: { url: imageUrl, alt: null } };
    return composeNetworkPosts('bluesky', withImage, summarize(withImage), config());
  }

  async function getRecord(post: PublishedPost): Promise<{ value: Record<string, unknown>; cid: string }> {
    const rkey = post.remoteId.split('/').at(-1) as string;
    const query = new URLSearchParams({ repo: info.did, collection: 'app.bsky.feed.post', rkey });
    const response = await fetch(`${info.url}/xrpc/com.atproto.repo.getRecord?${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as { value: Record<string, unknown>; cid: string };
  }

  async function postCount(): Promise<number> {
    const query = new URLSearchParams({ repo: info.did, collection: 'app.bsky.feed.post', limit: '100' });
    const response = await fetch(`${info.url}/xrpc/com.atproto.repo.listRecords?${query}`);
    return ((await response.json()) as { records: unknown[] }).records.length;
  }

  it('posts the headline with its facets and a link card whose thumbnail the PDS stored', async () => {
    const headline = composed().find((p) => p.kind === 'headline');
    if (!headline) throw new Error('no headline post');
    expect(headline.card).toBeDefined();
    const before = await postCount();
    const posted = await publisherFor().publish(headline, {
      key: 'pds-headline',
      retry: false,
      since: new Date(),
    });
    expect(posted.remoteId).toMatch(new RegExp(`^at://${info.did}/app\\.bsky\\.feed\\.post/[2-7a-z]{13}$`));
    expect(posted.url).toBe(`https://bsky.app/profile/${info.handle}/post/${posted.remoteId.split('/').at(-1)}`);
    const { value, cid } = await getRecord(posted);
    expect(cid).toBe(posted.cid);
    expect(value.text).toBe(headline.text);
    expect(value.facets ?? []).toEqual(headline.facets ?? []);
    const embed = value.embed as { $type: string; external: Record<string, unknown> };
    expect(embed.$type).toBe('app.bsky.embed.external');
    expect(embed.external.uri).toBe(headline.card?.uri);
    expect(embed.external.title).toBe(headline.card?.title);
    const thumb = embed.external.thumb as { mimeType: string; size: number; ref: { $link: string } };
    expect(thumb).toMatchObject({ mimeType: 'image/png', size: PNG.length });
    // The blob is there, byte for byte.
    const blob = await fetch(
      `${info.url}/xrpc/com.atproto.sync.getBlob?${new URLSearchParams({ did: info.did, cid: thumb.ref.$link })}`,
    );
    expect(Buffer.from(await blob.arrayBuffer()).equals(PNG)).toBe(true);
    expect(await postCount()).toBe(before + 1);
  });

  it('a retry of a post that reached the PDS posts nothing new', async () => {
    // A post with a link in its text: its facet must slice the link from the UTF-8 bytes.
    const quote = composed().find((p) => (p.facets ?? []).length > 0);
    if (!quote) throw new Error('no post with a facet');
    const since = new Date();
    const first = await publisherFor().publish(quote, { key: 'pds-retry', retry: false, since });
    const before = await postCount();
    // As a worker that died after the PDS answered, before the answer was stored, tries again.
    const again = await publisherFor().publish(quote, { key: 'pds-retry', retry: true, since });
    expect(again.remoteId).toBe(first.remoteId);
    expect(again.cid).toBe(first.cid);
    const { value } = await getRecord(first);
    expect(value.facets).toEqual(quote.facets);
    const bytes = Buffer.from(quote.text);
    for (const facet of quote.facets ?? []) {
      const feature = facet.features[0];
      const sliced = bytes.subarray(facet.index.byteStart, facet.index.byteEnd).toString();
      if (feature?.$type === 'app.bsky.richtext.facet#link') expect(sliced).toBe(feature.uri);
      if (feature?.$type === 'app.bsky.richtext.facet#tag') expect(sliced).toBe(`#${feature.tag}`);
    }
    // Even told it is a first attempt, the fixed record key keeps a second post out.
    const third = await publisherFor()
      .publish(quote, { key: 'pds-retry', retry: false, since })
      .catch((error: unknown) => error);
    if (!isDispatchError(third)) expect((third as PublishedPost).remoteId).toBe(first.remoteId);
    expect(await postCount()).toBe(before);
  });

  it('posts a thread as a chain of replies under its first post', async () => {
    const parts = composed().filter((p) => p.kind === 'thread');
    expect(parts.length).toBeGreaterThan(0);
    const publisher = publisherFor();
    const posted: PublishedPost[] = [];
    for (const [i, part] of parts.entries()) {
      posted.push(
        await publisher.publish(part, {
          key: `pds-thread-${i}`,
          retry: false,
          since: new Date(),
          replyTo: posted[i - 1],
          root: posted[0],
        }),
      );
    }
    for (const [i, post] of posted.entries()) {
      const { value } = await getRecord(post);
      expect(value.text).toBe(parts[i]?.text);
      if (i === 0) expect(value.reply).toBeUndefined();
      else {
        expect(value.reply).toEqual({
          root: { uri: posted[0]?.remoteId, cid: posted[0]?.cid },
          parent: { uri: posted[i - 1]?.remoteId, cid: posted[i - 1]?.cid },
        });
      }
    }
  });

  it('a wrong app password is E_POST_AUTH', async () => {
    const headline = composed()[0];
    if (!headline) throw new Error('no post');
    const error = await publisherFor('wrong-password')
      .publish(headline, { key: 'pds-auth', retry: false, since: new Date() })
      .catch((e: unknown) => e);
    expect(isDispatchError(error, 'E_POST_AUTH')).toBe(true);
    await expect(publisherFor().verify()).resolves.toMatchObject({ account: expect.stringContaining(info.handle) });
  });
});
