import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../io/chromium.js';
import { freePort } from '../io/managed-redis.js';
import { createSendLedger } from '../io/send-ledger.js';
import { type RunningServe, startServe } from '../serve/app.js';
import type { Config } from '../src/config.js';
import { testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { seedList } from './helpers/seed-list.js';

const redis = useTestRedis('archive-browser');

const NOW = new Date('2026-11-27T09:00:00Z');
const EARLIER = new Date(NOW.getTime() - 14 * 86_400_000);
const WIDTH = 375;
// A name long enough to need two lines in the bar on a phone.
const SITE_NAME = 'The Extraordinarily Long-Named Daily Example Gazette and Evening Courier of Exampleton';

/** Where Chromium is, or why not: without it these tests are skipped, and say so. */
const chromiumFound = (() => {
  try {
    return chromiumPath(process.env.CHROMIUM_PATH);
  } catch (error) {
    process.stderr.write(`archive-browser: skipped: ${(error as Error).message}\n`);
    return null;
  }
})();

let config: Config;
let ctx: ReturnType<typeof testContext>;
let serve: RunningServe;
let browser: Browser;
let weeks: string[];
let subjects: Map<string, string>;

beforeAll(async () => {
  if (!chromiumFound) return;
  // The pages link absolutely under PUBLIC_URL/archive: the app listens at that address.
  const port = await freePort();
  config = testConfig({
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    UNSUBSCRIBE_SECRET: 'archive-browser-secret-6c2e81',
    SITE_NAME,
  });
  ctx = testContext(redis.url, config);
  const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
  const week = await seedList(ctx.redis, config, 2, 'archive-reader', NOW);
  const built = await ctx.store.getIssue(week);
  if (!built) throw new Error(`no stored issue for ${week}`);
  // A second public issue two weeks back: the same build under its own week and subject.
  const earlier = '2026-W46';
  await ctx.store.saveIssue(earlier, {
    ...built,
    subject: `${SITE_NAME} weekly: two weeks earlier`,
    issue: { ...built.issue, id: earlier, week: earlier },
  });
  weeks = [week, earlier];
  subjects = new Map();
  for (const [w, at] of [
    [week, NOW],
    [earlier, EARLIER],
  ] as const) {
    expect(await ledger.start(w, ['archive-reader0@example.org'], { batchSize: 100, rate: 0, now: at })).toBe(true);
    await ctx.store.markIssueSent(w, at);
    subjects.set(w, (await ctx.store.getIssue(w))?.subject ?? '');
  }
  serve = await startServe(ctx, { host: '127.0.0.1', port, what: 'test', setting: 'none' }, () => NOW);
  browser = await chromium.launch({ executablePath: chromiumFound, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  await ctx?.close();
});

/** A phone-sized page that records what its Content-Security-Policy refused. */
async function phone(): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage({ viewport: { width: WIDTH, height: 740 } });
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  return { page, violations };
}

/** How wide the document is laid out: wider than the screen means a sideways scroll. */
const layoutWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

describe.skipIf(!chromiumFound)('the archive in Chromium at 375 px', () => {
  it('the index fits the screen, newest first, and its cards open the issue pages, which fit too', async () => {
    const { page, violations } = await phone();
    try {
      const index = await page.goto(`${serve.url}/archive`);
      expect(index?.status()).toBe(200);
      expect(await layoutWidth(page)).toBeLessThanOrEqual(WIDTH);
      const cards = page.locator('.dispatch-archive-issue h2 a');
      expect(await cards.allTextContents()).toEqual(weeks.map((w) => subjects.get(w)));
      expect(weeks).toEqual(['2026-W48', '2026-W46']);
      // The bar wraps the long name rather than pushing past the edge.
      const bar = await page.locator('.dispatch-archive-bar').boundingBox();
      expect(bar && bar.x === 0 && bar.width <= WIDTH, JSON.stringify(bar)).toBe(true);
      expect(await page.getByRole('link', { name: 'All issues' }).getAttribute('aria-current')).toBe('page');

      for (const [i, week] of weeks.entries()) {
        await page.goto(`${serve.url}/archive`);
        await Promise.all([page.waitForURL(`${serve.url}/archive/${week}`), cards.nth(i).click()]);
        expect(await page.locator('meta[property="og:title"]').getAttribute('content')).toBe(subjects.get(week));
        expect(await page.locator('link[rel="canonical"]').getAttribute('href')).toBe(
          `${config.PUBLIC_URL}/archive/${week}`,
        );
        expect(await layoutWidth(page), week).toBeLessThanOrEqual(WIDTH);
        // The bar is the first thing on the page, across its width.
        const top = await page.locator('.dispatch-archive-bar').boundingBox();
        expect(top && top.y === 0 && top.x === 0 && top.width <= WIDTH, JSON.stringify(top)).toBe(true);
        // The lead story is there, inside the screen.
        const lead = await page.locator('h1, .story-title').first().boundingBox();
        expect(lead && lead.x >= 0 && lead.x + lead.width <= WIDTH, JSON.stringify(lead)).toBe(true);
      }
      // And back to the index from the bar.
      await Promise.all([
        page.waitForURL(`${serve.url}/archive`),
        page.getByRole('link', { name: 'All issues' }).click(),
      ]);
      expect(await cards.count()).toBe(2);
      expect(violations).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("an issue page's Subscribe leads to the sign-up page, and its feed link to the feed", async () => {
    const { page, violations } = await phone();
    try {
      await page.goto(`${serve.url}/archive/${weeks[0]}`);
      const feed = await page.locator('link[rel="alternate"][type="application/atom+xml"]').getAttribute('href');
      expect(feed).toBe(`${config.PUBLIC_URL}/archive/feed.xml`);
      const response = await page.request.get(feed as string);
      expect(response.headers()['content-type']).toBe('application/atom+xml; charset=utf-8');
      expect(await response.text()).toContain(`<id>${config.PUBLIC_URL}/archive/${weeks[0]}</id>`);

      await Promise.all([
        page.waitForURL(`${serve.url}/subscribe`),
        page.locator('.dispatch-archive-bar').getByRole('link', { name: 'Subscribe' }).click(),
      ]);
      await page.getByRole('heading', { name: `Join the weekly newsletter from ${SITE_NAME}` }).waitFor({
        timeout: 10_000,
      });
      expect(violations).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('an unknown week is the 404 page, which fits the screen too', async () => {
    const { page } = await phone();
    try {
      const response = await page.goto(`${serve.url}/archive/2026-W47`);
      expect(response?.status()).toBe(404);
      expect(await page.locator('h1').textContent()).toBe('No such issue');
      expect(await layoutWidth(page)).toBeLessThanOrEqual(WIDTH);
    } finally {
      await page.close();
    }
  });
});
