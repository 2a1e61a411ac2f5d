import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { postsCommand } from '../cli/commands/posts.js';
import { mastodonCharacterLimit } from '../io/mastodon-instance.js';
import { loadConfig } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { NETWORKS, type NetworkPost } from '../src/social/network-post.js';
import type { Summary } from '../src/summarize/summarize.js';
import { expectNetworkValid } from './helpers/network-post-checks.js';
import { ROOT } from './helpers/run-cli.js';
import { hasSharedData, SHARED_DATA, sharedDataNote } from './helpers/shared-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-posts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface PostsRecord {
  id: string | number;
  summary: Summary;
  posts: NetworkPost[];
}

/** Runs the command as `dispatch posts` would, with its output captured. */
async function run(
  input: string | undefined,
  options: Parameters<typeof postsCommand>[1],
  env: Record<string, string> = {},
) {
  let stdout = '';
  let stderr = '';
  await postsCommand(input, options, {
    config: loadConfig(env),
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { stdout, stderr };
}

function readRecords(path: string): PostsRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PostsRecord);
}

/** A local HTTP server answering each request with `handler`; every request's method and path is kept. */
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
});
async function instance(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('dispatch posts', () => {
  it('prints every network’s posts, each with its length out of the limit', async () => {
    const { stdout } = await run(join(ROOT, 'examples/tram-strike.html'), {});
    expect(stdout).toMatch(
      /^Tram drivers vote to strike over new rotas\n\n== x \(\d+ posts\) ==\n\n\[headline\] \d+\/280 ok\n/,
    );
    for (const network of NETWORKS) expect(stdout).toMatch(new RegExp(`== ${network} \\(\\d+ posts\\) ==`));
    expect(stdout).toMatch(/\[headline\] \d+\/300 ok\nTram drivers/);
    expect(stdout).toMatch(/\(card: https:\/\/news\.example\.com\/transport\/tram-strike-vote\?utm_source=bluesky/);
    expect(stdout).toMatch(/\[thread 1\/\d\] \d+\/500 ok/);
    expect(stdout).toMatch(/\[headline\] \d+\/3000 ok/);
    expect(stdout).not.toMatch(/INVALID/);
  });

  it('--network bluesky --json gives {id, summary, posts} of Bluesky posts with facets and a card', async () => {
    const url = 'https://news.example.com/ferry-returns';
    const { stdout } = await run(join(ROOT, 'examples/harbour-ferry-returns.txt'), {
      network: 'bluesky',
      json: true,
      url,
    });
    const record = JSON.parse(stdout) as PostsRecord;
    expect(record.id).toMatch(/^[0-9a-f]{16}$/);
    expect(record.summary.oneLine.length).toBeGreaterThan(0);
    expect(record.posts.length).toBeGreaterThan(3);
    for (const post of record.posts) {
      expect(post.network).toBe('bluesky');
      expectNetworkValid(post);
    }
    expect(record.posts[0]?.card?.uri).toMatch(/^https:\/\/news\.example\.com\/ferry-returns\?utm_source=bluesky/);
    expect(
      record.posts.some((p) => p.facets?.some((f) => f.features[0]?.$type === 'app.bsky.richtext.facet#link')),
    ).toBe(true);
  });

  it('refuses a network it does not know', async () => {
    await expect(run(join(ROOT, 'examples/tram-strike.html'), { network: 'myspace' })).rejects.toThrow(
      /--network must be one of x, bluesky, mastodon, threads, linkedin or all \(got "myspace"\)/,
    );
  });

  it('--jsonl writes a line per good record, reports bad lines by number, and sums up each network', async () => {
    const out = join(tmp, 'posts.jsonl');
    const { stdout, stderr } = await run(undefined, {
      jsonl: join(ROOT, 'tests/fixtures/posts/articles.jsonl'),
      out,
    });
    const records = readRecords(out);
    expect(records.map((r) => r.id)).toEqual(['ferry', 2, 'scraped', 'html']);
    for (const record of records) {
      expect([...new Set(record.posts.map((p) => p.network))]).toEqual([...NETWORKS]);
      for (const post of record.posts) expectNetworkValid(post);
    }
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/articles\.jsonl line 4: E_INPUT_FORMAT: invalid JSON/),
      expect.stringMatching(/articles\.jsonl line 5: E_INPUT_FORMAT: not an article record \(needs one of body/),
      expect.stringMatching(/articles\.jsonl line 8: E_INPUT_FORMAT: not an article record \(id: /),
    ]);
    const count = (network: string) => records.flatMap((r) => r.posts).filter((p) => p.network === network).length;
    expect(stdout).toBe(
      `wrote 4 records to ${out}; skipped 3 bad line(s), listed above\n` +
        NETWORKS.map((n) => `${n}: ${count(n)} posts, all valid\n`).join(''),
    );
  });

  it('--jsonl --network threads writes Threads posts only', async () => {
    const out = join(tmp, 'threads.jsonl');
    const { stdout } = await run(undefined, {
      jsonl: join(ROOT, 'tests/fixtures/posts/articles.jsonl'),
      out,
      network: 'threads',
    });
    expect(readRecords(out).flatMap((r) => r.posts.map((p) => p.network))).toEqual(expect.arrayContaining(['threads']));
    expect(new Set(readRecords(out).flatMap((r) => r.posts.map((p) => p.network)))).toEqual(new Set(['threads']));
    expect(stdout).toMatch(/\nthreads: \d+ posts, all valid\n$/);
  });

  it('--jsonl without --out is a usage error', async () => {
    await expect(run(undefined, { jsonl: join(ROOT, 'tests/fixtures/posts/articles.jsonl') })).rejects.toThrow(
      /--jsonl needs --out FILE/,
    );
  });

  it.skipIf(!existsSync('/dev/full'))('a write that fails (a full disk) is E_OUTPUT_WRITE, not a crash', async () => {
    const failed = await run(undefined, {
      jsonl: join(ROOT, 'tests/fixtures/posts/articles.jsonl'),
      out: '/dev/full',
    }).catch((error: unknown) => error);
    expect(isDispatchError(failed, 'E_OUTPUT_WRITE'), String(failed)).toBe(true);
  });

  it('composes Mastodon posts for the limit MASTODON_URL’s instance gives', async () => {
    const server = await instance((req, res) =>
      req.url === '/api/v2/instance'
        ? json(res, 200, { configuration: { statuses: { max_characters: 1000 } } })
        : json(res, 404, {}),
    );
    const { stdout, stderr } = await run(
      join(ROOT, 'examples/tram-strike.html'),
      { network: 'mastodon', json: true },
      { MASTODON_URL: server.url },
    );
    expect(stderr).toBe('');
    expect(server.seen).toEqual(['GET /api/v2/instance']);
    const { posts } = JSON.parse(stdout) as PostsRecord;
    expect(posts.every((p) => p.limit === 1000 && p.valid)).toBe(true);
  });

  it('warns in one line and composes for 500 when the instance does not answer', async () => {
    const server = await instance((_req, res) => json(res, 502, {}));
    const { stdout, stderr } = await run(
      join(ROOT, 'examples/tram-strike.html'),
      { network: 'mastodon', json: true },
      { MASTODON_URL: server.url },
    );
    expect(stderr).toMatch(
      /^dispatch: warning: E_POST_UNREACHABLE: .*; Mastodon posts are composed for 500 characters\n$/,
    );
    expect((JSON.parse(stdout) as PostsRecord).posts.every((p) => p.limit === 500)).toBe(true);
  });
});

describe('mastodonCharacterLimit', () => {
  it('reads /api/v2/instance, then /api/v1/instance, else 500', async () => {
    const v1 = await instance((req, res) =>
      req.url === '/api/v1/instance'
        ? json(res, 200, { configuration: { statuses: { max_characters: 700 } } })
        : json(res, 404, {}),
    );
    expect(await mastodonCharacterLimit(`${v1.url}/`, { timeoutMs: 2000 })).toBe(700);
    expect(v1.seen).toEqual(['GET /api/v2/instance', 'GET /api/v1/instance']);
    const none = await instance((_req, res) => json(res, 200, { title: 'an instance', configuration: {} }));
    expect(await mastodonCharacterLimit(none.url, { timeoutMs: 2000 })).toBe(500);
    const odd = await instance((_req, res) =>
      json(res, 200, { configuration: { statuses: { max_characters: '9000' } } }),
    );
    expect(await mastodonCharacterLimit(odd.url, { timeoutMs: 2000 })).toBe(500);
  });

  it('fails with E_POST_UNREACHABLE when the instance is down, too slow or answers too much', async () => {
    const down = await instance((_req, res) => json(res, 503, {}));
    const expectUnreachable = async (url: string, timeoutMs: number) => {
      const error = await mastodonCharacterLimit(url, { timeoutMs }).catch((e: unknown) => e);
      expect(isDispatchError(error, 'E_POST_UNREACHABLE'), String(error)).toBe(true);
      return (error as Error).message;
    };
    expect(await expectUnreachable(down.url, 2000)).toMatch(/answered 503/);
    const slow = await instance(() => {}); // never answers
    const started = Date.now();
    expect(await expectUnreachable(slow.url, 200)).toMatch(/did not answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
    const huge = await instance((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"pad":"${'x'.repeat(2_000_000)}"}`);
    });
    expect(await expectUnreachable(huge.url, 5000)).toMatch(/limit/);
  });
});

describe(`dispatch posts --jsonl over the dev sets${sharedDataNote}`, () => {
  /** Records read from each dev file: enough to meet every kind of article, quick enough for the suite. */
  const CAP = 25;
  it.skipIf(!hasSharedData)('composes only valid posts on every network', { timeout: 60_000 }, async () => {
    const lines = ['dev-cnndm.jsonl', 'dev-summaries.jsonl'].flatMap((file) =>
      readFileSync(join(SHARED_DATA, file), 'utf8').split('\n').filter(Boolean).slice(0, CAP),
    );
    const input = join(tmp, 'dev.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = join(tmp, 'dev-posts.jsonl');
    const { stdout } = await run(undefined, { jsonl: input, out });
    const records = readRecords(out);
    expect(records.length).toBeGreaterThan(CAP * 2 - 3);
    for (const network of NETWORKS) {
      const posts = records.flatMap((r) => r.posts).filter((p) => p.network === network);
      expect(posts.length, network).toBeGreaterThan(records.length * 3);
      expect(
        posts.filter((p) => !p.valid),
        network,
      ).toEqual([]);
      expect(stdout).toContain(`${network}: ${posts.length} posts, all valid`);
    }
    for (const post of records.flatMap((r) => r.posts)) expectNetworkValid(post);
  });
});
