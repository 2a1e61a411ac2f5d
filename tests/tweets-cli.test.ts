import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twitter from 'twitter-text';
import { afterAll, describe, expect, it } from 'vitest';
import type { TweetsRecord } from '../src/social/tweets-for-record.js';
import { runCli } from './helpers/run-cli.js';
import { hasSharedData, SHARED_DATA, sharedDataNote } from './helpers/shared-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-tweets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function readRecords(path: string): TweetsRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TweetsRecord);
}

describe('dispatch tweets', () => {
  it('prints each post with its weighted length out of 280', async () => {
    const result = await runCli(['tweets', 'examples/tram-strike.html']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Tram drivers vote to strike over new rotas\n\n\[headline\] \d+\/280 ok\n/);
    for (const kind of ['keyPoint', 'quote', 'thread 1/', 'newsletterCta']) expect(result.stdout).toContain(`[${kind}`);
  });

  it('--json with --url gives {id, summary, posts} linking that URL', async () => {
    const url = 'https://news.example.com/ferry-returns';
    const result = await runCli(['tweets', 'examples/harbour-ferry-returns.txt', '--url', url, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const record = JSON.parse(result.stdout) as TweetsRecord;
    expect(record.posts[0]?.text).toMatch(
      /^Harbour ferry returns after two-year repair https:\/\/news\.example\.com\/ferry-returns\?utm_source=twitter/,
    );
    expect(record.posts.every((p) => twitter.parseTweet(p.text).valid)).toBe(true);
  });

  it('--jsonl writes a line per good record in order and reports bad lines by number', async () => {
    const out = join(tmp, 'posts.jsonl');
    const result = await runCli(['tweets', '--jsonl', 'tests/fixtures/posts/articles.jsonl', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readRecords(out).map((r) => r.id)).toEqual(['ferry', 2, 'scraped', 'html']);
    for (const record of readRecords(out)) {
      expect(record.posts.length).toBeGreaterThan(0);
      expect(record.posts.every((p) => twitter.parseTweet(p.text).valid)).toBe(true);
    }
    const errors = result.stderr.trim().split('\n');
    expect(errors).toEqual([
      expect.stringMatching(/articles\.jsonl line 4: E_INPUT_FORMAT: invalid JSON/),
      expect.stringMatching(
        /articles\.jsonl line 5: E_INPUT_FORMAT: not an article record \(needs one of body, article, text or html\)/,
      ),
      expect.stringMatching(/articles\.jsonl line 8: E_INPUT_FORMAT: not an article record \(id: /),
    ]);
    expect(result.stdout).toBe(
      `wrote 4 records with ${readRecords(out).reduce((n, r) => n + r.posts.length, 0)} posts to ${out}: all posts valid; skipped 3 bad line(s), listed above\n`,
    );
  });

  it('--jsonl without --out is a usage error', async () => {
    const result = await runCli(['tweets', '--jsonl', 'tests/fixtures/posts/articles.jsonl']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dispatch: E_INPUT_NOT_FOUND: --jsonl needs --out FILE/);
  });
});

describe(`dispatch tweets --jsonl over the dev set${sharedDataNote}`, () => {
  it.skipIf(!hasSharedData)('takes the dev lines as they are: every post valid', async () => {
    const out = join(tmp, 'dev-posts.jsonl');
    const result = await runCli(['tweets', '--jsonl', join(SHARED_DATA, 'dev-summaries.jsonl'), '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const records = readRecords(out);
    // One dev line holds only a "Last updated" stamp: it is reported, the other 120 are composed.
    expect(records).toHaveLength(120);
    expect(result.stderr).toMatch(/line 103: E_ARTICLE_NO_BODY/);
    const posts = records.flatMap((r) => r.posts);
    expect(posts.length).toBeGreaterThan(600);
    expect(posts.filter((p) => !twitter.parseTweet(p.text).valid)).toEqual([]);
    expect(result.stdout).toMatch(/all posts valid/);
  });
});
