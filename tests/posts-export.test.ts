import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { createPostPlanStore } from '../io/post-plan.js';
import { planArticle, planDepsOf } from '../jobs/plan-posts.js';
import type { Config } from '../src/config.js';
import type { Article } from '../src/ingest/article.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { isoWeekOf, wallClock } from '../src/newsletter/iso-week.js';
import { composeAllNetworks } from '../src/social/compose-network-posts.js';
import { BUFFER_COLUMNS, type ExportPost, exportRows, toCsv } from '../src/social/export-csv.js';
import type { NetworkPost } from '../src/social/network-post.js';
import { postGroups } from '../src/social/schedule/plan-posts.js';
import { summarize } from '../src/summarize/summarize.js';
import { cliEnv, testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';

const redis = useTestRedis('posts-export');
const COMMANDS = pathToFileURL(join(ROOT, 'cli/commands/posts-schedule.ts')).href;
const TSX = import.meta.resolve('tsx');

const csvRows = (csv: string): string[][] => parse(csv, { relax_column_count: false }) as string[][];

function post(text: string, extra: Partial<NetworkPost> = {}): NetworkPost {
  return { network: 'x', kind: 'headline', text, length: text.length, limit: 280, valid: true, ...extra };
}

describe('exportRows (pure)', () => {
  const thread: ExportPost = {
    network: 'bluesky',
    kind: 'thread',
    at: '2026-07-01T09:02:00Z',
    image: null,
    parts: [1, 2, 3].map((i) =>
      post(`part ${i}/3, "quoted"\nsecond line`, { kind: 'thread', part: { index: i, total: 3 } }),
    ),
  };
  const hostile: ExportPost = {
    network: 'x',
    kind: 'headline',
    at: '2026-07-01T08:00:00Z',
    image: 'javascript:alert(1)',
    parts: [post('=HYPERLINK("https://evil.example","click") ferry returns')],
  };
  const withImage: ExportPost = {
    network: 'x',
    kind: 'keyPoint',
    at: '2026-07-01T12:00:00Z',
    image: 'https://news.example.com/ferry.jpg',
    parts: [post('+44 passengers on the first day')],
  };

  it('Buffer: its header, one row per post and per thread part (a minute apart), local times, formula-safe cells', () => {
    const csv = toCsv(exportRows('buffer', [thread, hostile, withImage], 'Europe/London'));
    const rows = csvRows(csv);
    expect(rows[0]).toEqual([...BUFFER_COLUMNS]);
    expect(rows.slice(1)).toEqual([
      [`'=HYPERLINK("https://evil.example","click") ferry returns`, '', 'x,headline', '2026-07-01 09:00'],
      ['part 1/3, "quoted"\nsecond line', '', 'bluesky,thread', '2026-07-01 10:02'],
      ['part 2/3, "quoted"\nsecond line', '', 'bluesky,thread', '2026-07-01 10:03'],
      ['part 3/3, "quoted"\nsecond line', '', 'bluesky,thread', '2026-07-01 10:04'],
      [`'+44 passengers on the first day`, 'https://news.example.com/ferry.jpg', 'x,keyPoint', '2026-07-01 13:00'],
    ]);
    // Every cell quoted, lines ended by CRLF.
    expect(csv.startsWith('"Text","Image URL","Tags","Posting Time"\r\n')).toBe(true);
  });

  it('Hootsuite: no header; DD/MM/YYYY HH:mm with minutes rounded up to a multiple of 5; parts five minutes apart', () => {
    const rows = csvRows(toCsv(exportRows('hootsuite', [thread, hostile], 'Europe/London')));
    expect(rows).toEqual([
      ['01/07/2026 09:00', `'=HYPERLINK("https://evil.example","click") ferry returns`, ''],
      ['01/07/2026 10:05', 'part 1/3, "quoted"\nsecond line', ''],
      ['01/07/2026 10:10', 'part 2/3, "quoted"\nsecond line', ''],
      ['01/07/2026 10:15', 'part 3/3, "quoted"\nsecond line', ''],
    ]);
  });
});

function exampleArticle(file: string, now: Date, edit: (a: Article) => Article = (a) => a): Article {
  const article = parseArticle(readFileSync(join(ROOT, 'examples', file)), { receivedAt: now });
  return edit({ ...article, publishedAt: now.toISOString() });
}

/** What a command printed. */
interface Printed {
  stdout: string;
  stderr: string;
}

const MARK = '\u0000next\u0000';

/**
 * Runs commands of cli/commands/posts-schedule.ts one after the other in one process of their own,
 * as `dispatch` would run each (one process: each start costs a second or two), and splits what
 * each printed.
 */
function runCommands(calls: [string, unknown[]][], env: Record<string, string>) {
  const script = [
    `const m = await import(${JSON.stringify(COMMANDS)});`,
    `for (const [fn, args] of ${JSON.stringify(calls)}) {`,
    '  await m[fn](...args);',
    `  process.stdout.write(${JSON.stringify(MARK)}); process.stderr.write(${JSON.stringify(MARK)});`,
    '}',
  ].join('\n');
  const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], {
    cwd: redis.tmp,
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise<{ code: number | null; printed: Printed[] }>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill();
      fail(new Error(`the commands did not finish in 20 s: ${stderr}`));
    }, 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const outs = stdout.split(MARK);
      const errs = stderr.split(MARK);
      done({ code, printed: calls.map((_, i) => ({ stdout: outs[i] ?? '', stderr: errs[i] ?? '' })) });
    });
  });
}

describe('dispatch posts export and schedule (the commands, against a real Redis)', () => {
  it("exports the stored plan's times for planned posts, the planner's for the rest, and lists the schedule", async () => {
    const now = new Date();
    const settings = {
      SOCIAL_POSTING: 'true',
      X_API_KEY: 'k',
      X_API_SECRET: 's',
      X_ACCESS_TOKEN: 't',
      X_ACCESS_SECRET: 'a',
      POST_WINDOW: '00:00-24:00',
      POST_SPACING_MINUTES: '60',
      TZ: 'Europe/London',
    };
    const config: Config = testConfig(settings);
    const ctx = testContext(redis.url, config);
    const env = cliEnv(redis.url, config, settings);
    try {
      const week = isoWeekOf(now, config.TZ);
      const hostile = exampleArticle('harbour-ferry-returns.txt', now, (a) => ({
        ...a,
        title: `=HYPERLINK("https://evil.example") ${a.title}`,
        image: { url: 'javascript:alert(1)', alt: null },
      }));
      const plain = exampleArticle('tram-strike.html', now);
      const socials = new Map<string, NetworkPost[]>();
      for (const article of [hostile, plain]) {
        await ctx.store.saveArticle(article);
        const summary = summarize(article);
        const networks = composeAllNetworks(article, summary, config);
        socials.set(article.id, networks);
        await ctx.store.saveSocial(article.id, { summary, posts: [], networks, composedAt: now.toISOString() });
      }
      // Only the first article is planned (on X, the one network with credentials).
      const stored = await planArticle(planDepsOf(ctx), hostile, { networks: socials.get(hostile.id) }, now);
      expect(stored.length).toBeGreaterThan(0);

      const out = join(redis.tmp, 'x.csv');
      const run = await runCommands(
        [
          ['postsExportCommand', [{ format: 'csv', tool: 'buffer', network: 'x', out }]],
          ['postsExportCommand', [{ format: 'csv', tool: 'hootsuite', network: 'linkedin' }]],
          ['postsScheduleCommand', [{ week }]],
          ['postsScheduleCommand', [{ week, dryRun: true, json: true }]],
        ],
        env,
      );
      expect(run.code).toBe(0);
      const [buffer, hootsuite, schedule, dry] = run.printed as [Printed, Printed, Printed, Printed];
      expect(buffer.stderr).toContain(`written to ${out}`);
      const rows = csvRows(readFileSync(out, 'utf8'));
      expect(rows[0]).toEqual([...BUFFER_COLUMNS]);
      const expectedRows = [hostile, plain].reduce(
        (n, a) => n + postGroups(socials.get(a.id) ?? [], 'x', config.POST_KINDS).flat().length,
        0,
      );
      expect(rows).toHaveLength(1 + expectedRows);
      // No cell starts a formula; the javascript: image is dropped.
      for (const row of rows.slice(1)) {
        for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
        expect(row[1]).not.toContain('javascript');
      }
      const headline = stored.find((p) => p.kind === 'headline');
      const headlineRow = rows.find((r) => r[0] === `'${headline?.parts[0]?.text}`);
      // The stored plan's time, as Buffer reads it: local in TZ.
      const at = wallClock(new Date(headline?.at ?? 0), config.TZ);
      const two = (n: number) => String(n).padStart(2, '0');
      expect(headlineRow?.[3]).toBe(`${at.year}-${two(at.month)}-${two(at.day)} ${two(at.hour)}:${two(at.minute)}`);
      expect(headlineRow?.[2]).toBe('x,headline');

      const linkedin = csvRows(hootsuite.stdout);
      const linkedinPosts = [hostile, plain].flatMap((a) =>
        postGroups(socials.get(a.id) ?? [], 'linkedin', config.POST_KINDS),
      );
      expect(linkedin).toHaveLength(linkedinPosts.flat().length);
      for (const row of linkedin) expect(row[0]).toMatch(/^\d{2}\/\d{2}\/\d{4} \d{2}:[0-5][05]$/);

      expect(schedule.stdout).toContain(`${week}: ${stored.length} planned post(s) (times in Europe/London)`);
      for (const p of stored) expect(schedule.stdout).toContain(p.id);
      expect(schedule.stdout).toMatch(/^ {2}x {9}active$/m);
      expect(schedule.stdout).toMatch(/^ {2}bluesky {3}no credentials$/m);

      // The dry run plans the article with no plan yet, and stores nothing.
      const plan = JSON.parse(dry.stdout) as { posts: { articleId: string; network: string }[] };
      expect(new Set(plan.posts.map((p) => p.articleId))).toEqual(new Set([plain.id]));
      expect(plan.posts.length).toBe(postGroups(socials.get(plain.id) ?? [], 'x', config.POST_KINDS).length);
      expect(await createPostPlanStore(ctx.redis, config.REDIS_PREFIX).havePlans([plain.id])).toEqual([false]);
    } finally {
      await ctx.close();
    }
  });
});
