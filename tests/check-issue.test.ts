import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../io/check-issue.js';
import { stopSpamd } from '../io/spamd.js';
import type { StoredIssue } from '../io/store.js';
import { buildWeekIssue } from '../jobs/build-week-issue.js';
import type { Config } from '../src/config.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { GMAIL_CLIP_BYTES } from '../src/newsletter/limits.js';
import { NOW, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';
import { cliEnv, testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { ROOT, runCli } from './helpers/run-cli.js';
import { spamdInstalled } from './helpers/spamd.js';

// `dispatch check` as a publisher's CI runs it: against the week's stored build, with the real
// spamd this machine runs (started on demand under the test's DATA_DIR, stopped after).

const redis = useTestRedis('check-issue');
const dataDir = join(redis.tmp, 'data');
let config: Config;
let ctx: ReturnType<typeof testContext>;
let env: Record<string, string>;
let stored: StoredIssue;

/** The GTUBE line: SpamAssassin's own test pattern, scored 1000 by its standard rules. */
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** Stores a variant of the sample build as another week, so each case has its own issue. */
async function storeVariant(week: string, change: (issue: StoredIssue) => Partial<StoredIssue>): Promise<void> {
  const variant = { ...stored, ...change(stored) };
  await ctx.store.saveIssue(week, { ...variant, issue: { ...variant.issue, week } });
}

async function check(week: string, ...flags: string[]) {
  const result = await runCli(['check', week, ...flags], { env });
  const report = flags.includes('--json') && result.stdout ? (JSON.parse(result.stdout) as CheckReport) : null;
  return { ...result, report };
}

const byId = (report: CheckReport | null, id: string) => report?.checks.find((c) => c.id === id);

beforeAll(async () => {
  config = testConfig({ DATA_DIR: dataDir });
  env = cliEnv(redis.url, config, { DATA_DIR: dataDir });
  ctx = testContext(redis.url, config);
  for (const article of weekOfArticles(5)) await ctx.store.saveArticle(article);
  await buildWeekIssue({ store: ctx.store, config, templatesDir: join(ROOT, 'templates') }, WEEK, NOW);
  stored = (await ctx.store.getIssue(WEEK)) as StoredIssue;
}, 60_000);

afterAll(async () => {
  await stopSpamd({ DATA_DIR: dataDir });
  await ctx?.close();
});

describe('dispatch check', () => {
  it('passes the sample issue: every check runs, and SpamAssassin scores it under the threshold', async () => {
    const { code, stdout, stderr } = await check(WEEK, '--offline');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Checks of ${WEEK} as .+@.+ gets it`));
    for (const name of [
      'Size',
      'MJML',
      'Subject',
      'Preheader',
      'Unsubscribe',
      'Compatibility',
      'Links',
      'Images',
      'Spam',
    ])
      expect(stdout).toMatch(new RegExp(`^. ${name}\\b`, 'm'));
    expect(stdout).not.toMatch(/check\(s\) failed/);
    const json = await check(WEEK, '--offline', '--json');
    expect(json.code, json.stderr).toBe(0);
    const spam = byId(json.report, 'spam');
    if (!spamdInstalled()) {
      expect(spam?.state).toBe('unchecked');
      return;
    }
    expect(spam?.state, spam?.summary).not.toBe('unchecked');
    const score = Number(/^(-?[\d.]+) points/.exec(spam?.summary ?? '')?.[1]);
    expect(score).toBeLessThan(config.SPAM_THRESHOLD);
    expect(spam?.summary).toContain(`threshold ${config.SPAM_THRESHOLD.toFixed(1)}`);
  }, 120_000);

  it.skipIf(!spamdInstalled())(
    'exits 1 when SpamAssassin scores the message at or over SPAM_THRESHOLD, naming the rule',
    async () => {
      const week = '2026-W47';
      await storeVariant(week, (s) => ({ html: s.html.replace('</body>', `<p>${GTUBE}</p></body>`) }));
      const { code, stdout, report } = await check(week, '--offline', '--json');
      expect(code).toBe(1);
      const spam = byId(report, 'spam');
      expect(spam?.state).toBe('fail');
      expect(spam?.findings.map((f) => f.rule)).toContain('GTUBE');
      expect(report?.state).toBe('fail');
      expect(stdout.length).toBeGreaterThan(0);
      // The words as a person reads them, with the verdict last.
      const text = await check(week, '--offline');
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^✗ Spam +\d+(\.\d+)? points, threshold 5\.0/m);
      expect(text.stdout).toMatch(/GTUBE: .+/);
      expect(text.stdout.trim().split('\n').at(-1)).toMatch(/^\d check\(s\) failed: .*Spam/);
    },
    120_000,
  );

  it('exits 1 for an issue over Gmail’s clip, and reports a broken link and an image without alt', async () => {
    const week = '2026-W40';
    const padding = `<p>${'x'.repeat(GMAIL_CLIP_BYTES)}</p>`;
    await storeVariant(week, (s) => ({
      html: s.html.replace(
        '</body>',
        `<a href="https//broken.example.com/story">broken</a><img src="https://example.com/a.png" width="100" height="50">${padding}</body>`,
      ),
    }));
    const { code, report } = await check(week, '--offline', '--json');
    expect(code).toBe(1);
    expect(byId(report, 'size')?.state).toBe('fail');
    const links = byId(report, 'links');
    expect(links?.state).toBe('fail');
    expect(links?.findings.some((f) => f.state === 'fail' && f.url?.includes('broken.example.com'))).toBe(true);
    const images = byId(report, 'images');
    expect(
      images?.findings.some((f) => f.state !== 'ok' && f.url === 'https://example.com/a.png' && /alt/i.test(f.text)),
    ).toBe(true);
  }, 120_000);

  it('reports a CSS feature Outlook lacks that a template uses, with where', async () => {
    const templatesDir = join(redis.tmp, 'templates');
    cpSync(join(ROOT, 'templates'), templatesDir, { recursive: true });
    const main = join(templatesDir, 'newsletter.mjml.hbs');
    // A block laid out with flexbox: Outlook for Windows renders with Word and has no flex.
    const source = readFileSync(main, 'utf8');
    expect(source).toContain('css-class="body">');
    writeFileSync(
      main,
      source.replace('css-class="body">', 'css-class="body">\n<mj-raw><div style="display:flex">flex</div></mj-raw>'),
    );
    const flexConfig = testConfig({
      DATA_DIR: dataDir,
      REDIS_PREFIX: config.REDIS_PREFIX,
      TEMPLATES_DIR: templatesDir,
    });
    const twoWeeks = 14 * 86_400_000;
    const week = isoWeekOf(new Date(NOW.getTime() - twoWeeks), 'UTC');
    const articles = weekOfArticles(5).map((a) => ({
      ...a,
      id: `f${a.id.slice(1)}`,
      publishedAt: new Date(Date.parse(a.publishedAt) - twoWeeks).toISOString(),
    }));
    for (const article of articles) await ctx.store.saveArticle(article);
    await buildWeekIssue(
      { store: ctx.store, config: flexConfig, templatesDir },
      week,
      new Date(NOW.getTime() - twoWeeks),
    );
    const { report, stderr } = await check(week, '--offline', '--json');
    expect(report, stderr).not.toBeNull();
    const compatibility = byId(report, 'compatibility');
    const flex = compatibility?.findings.filter((f) => /display:flex/.test(f.text)) ?? [];
    expect(flex.map((f) => f.client)).toContain('Outlook (Windows)');
    expect(flex.every((f) => f.where !== undefined)).toBe(true);
    expect(byId(report, 'compatibility')?.state).toBe('warn');
  }, 120_000);

  it('says what is wrong in one line and exits 2 for a week with no issue or no week at all', async () => {
    const missing = await check('2013-W37');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^dispatch: E_NOT_FOUND: no stored issue for 2013-W37 \(issues: .*2026-W48/);
    const bad = await check('2026-48');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^dispatch: E_WEEK_INVALID: /);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
