import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandInputs } from '../io/expand-inputs.js';
import { createStore } from '../io/store.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { cliEnv, testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { ROOT, runCli } from './helpers/run-cli.js';

const redis = useTestRedis('terminal-output');
/** A control character other than line feed and tab, or a bidi override or isolate: what must not reach a terminal raw. */
const TERMINAL_UNSAFE = /(?![\n\t])[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const HOSTILE = '\x1b[2J\x1b]0;pwned\x07\x9b31m\u202e';

describe('dispatch show', () => {
  it('an article stored with raw escapes (from before ingest removed them) prints none of them', async () => {
    const config = testConfig();
    const clean = parseArticle(readFileSync(join(ROOT, 'examples/harbour-ferry-returns.txt')), {
      receivedAt: new Date('2026-11-27T09:00:00Z'),
    });
    const article = {
      ...clean,
      title: `${clean.title}${HOSTILE}`,
      byline: `Ana${HOSTILE}`,
      siteName: `Gazette\r${HOSTILE}`,
      sections: clean.sections.map((s) => ({
        ...s,
        heading: `Heading${HOSTILE}`,
        paragraphs: [`p${HOSTILE}\nforged`],
      })),
      quotes: [{ text: `quote${HOSTILE}`, speaker: `Kerry${HOSTILE}` }],
    };
    const ctx = testContext(redis.url, config);
    try {
      const store = createStore(ctx.redis, config.REDIS_PREFIX);
      await store.saveArticle(article);
      await store.saveSocial(article.id, {
        summary: { oneLine: `one${HOSTILE}`, bullets: [], points: [] },
        posts: [{ kind: 'headline', text: `post${HOSTILE}\nsecond line`, weightedLength: 20, valid: true }],
        composedAt: new Date().toISOString(),
      });
    } finally {
      await ctx.close();
    }
    const env = cliEnv(redis.url, config);
    const shown = await runCli(['show', article.id], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).not.toMatch(TERMINAL_UNSAFE);
    expect(shown.stdout).toContain(`${clean.title}\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202e`);
    expect(shown.stdout).toContain('site        Gazette\\r\\x1b[2J');
    expect(shown.stdout).toContain('p\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202e\\nforged');
    // A post keeps its own line breaks.
    expect(shown.stdout).toContain('post\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202e\nsecond line');

    const json = await runCli(['show', article.id, '--json'], { env });
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).not.toMatch(TERMINAL_UNSAFE);
    expect((JSON.parse(json.stdout) as { article: { title: string } }).article.title).toBe(article.title);
  });
});

describe('dispatch enqueue', () => {
  const unreadable = process.getuid?.() === 0 ? it.skip : it;

  it('a missing path among good ones: the good ones are enqueued, the missing one reported with its code, exit 2', async () => {
    const config = testConfig();
    const missing = join(redis.tmp, 'no-such-article.txt');
    const result = await runCli(
      ['enqueue', join(ROOT, 'examples/harbour-ferry-returns.txt'), missing, join(ROOT, 'examples/bakery-prize.json')],
      { env: cliEnv(redis.url, config) },
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `skipped ${missing}: E_INPUT_NOT_FOUND: no such file or folder: ${missing}`,
    ]);
    expect(result.stdout).toBe('2 new, 0 duplicate(s) (already stored or queued), 1 skipped (bad input, above)\n');
    const ctx = testContext(redis.url, config);
    try {
      const counts = await ctx.queues.ingest.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      expect(Object.values(counts).reduce((n, c) => n + c, 0)).toBe(2);
    } finally {
      await ctx.close();
    }
  });

  it('a URL of an internal address is refused at once with E_URL_BLOCKED, the rest enqueued', async () => {
    const config = testConfig();
    const result = await runCli(
      ['enqueue', 'http://127.0.0.1:6379/', 'http://[::ffff:10.0.0.1]/x', 'https://news.example.com/story'],
      { env: cliEnv(redis.url, config) },
    );
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^skipped http:\/\/127\.0\.0\.1:6379\/: E_URL_BLOCKED: 127\.0\.0\.1 /);
    expect(lines[1]).toMatch(/^skipped http:\/\/\[::ffff:10\.0\.0\.1\]\/x: E_URL_BLOCKED: /);
    expect(result.stdout).toMatch(/^1 new, .*2 skipped/);
  });

  it('a bad file is reported the same way and also exits 2; a path with escapes is shown, not obeyed', async () => {
    const config = testConfig();
    const bad = join(redis.tmp, `empty\x1b[2J.txt`);
    writeFileSync(bad, '   \n');
    const result = await runCli(['enqueue', bad, join(ROOT, 'examples/library-night-shift.txt')], {
      env: cliEnv(redis.url, config),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^skipped .*empty\\x1b\[2J\.txt: E_INPUT_EMPTY: /);
    expect(result.stderr).not.toMatch(TERMINAL_UNSAFE);
    expect(result.stdout).toMatch(/^1 new, .*1 skipped/);
  });

  unreadable('a folder that cannot be read is reported with E_INPUT_NOT_FOUND, the rest enqueued', async () => {
    const config = testConfig();
    const locked = join(redis.tmp, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o000);
    try {
      const result = await runCli(['enqueue', locked, join(ROOT, 'examples/tram-strike.html')], {
        env: cliEnv(redis.url, config),
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^skipped .*locked: E_INPUT_NOT_FOUND: cannot read the folder .*locked \(EACCES\)/);
      expect(result.stdout).toMatch(/^1 new, /);
    } finally {
      chmodSync(locked, 0o700);
    }
  });
});

describe('expandInputs', () => {
  it('a missing path throws E_INPUT_NOT_FOUND, or with onError is reported and left out', async () => {
    const missing = join(redis.tmp, 'gone');
    const good = join(ROOT, 'examples/tram-strike.html');
    await expect(expandInputs([good, missing], { urls: false })).rejects.toMatchObject({ code: 'E_INPUT_NOT_FOUND' });
    const reported: string[] = [];
    const files = await expandInputs([missing, good, 'https://news.example.com/a'], {
      urls: true,
      onError: (input, error) => reported.push(`${input}: ${error.code}`),
    });
    expect(files).toEqual([good, 'https://news.example.com/a']);
    expect(reported).toEqual([`${missing}: E_INPUT_NOT_FOUND`]);
  });
});

describe('dispatch mailbox --list', () => {
  it('a message whose subject and recipient hold escapes prints none of them', async () => {
    const { startMailbox } = await import('../io/mailbox.js');
    const nodemailer = (await import('nodemailer')).default;
    const dataDir = join(redis.tmp, 'mailbox-data');
    const mailbox = await startMailbox({ dir: join(dataDir, 'mailbox'), port: 0 });
    try {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mailbox.port, ignoreTLS: true });
      await transport.sendMail({
        from: 'x@example.com',
        to: `"Eve${HOSTILE}" <eve@example.org>`,
        subject: `Hello${HOSTILE}\nBcc: forged`,
        text: 'hi',
      });
      transport.close();
    } finally {
      await mailbox.close();
    }
    const result = await runCli(['mailbox', '--list'], { env: { DATA_DIR: dataDir } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Hello');
    expect(result.stdout).toContain('\\x1b');
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).not.toMatch(TERMINAL_UNSAFE);
  });
});
