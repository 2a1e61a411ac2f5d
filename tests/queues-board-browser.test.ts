import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../io/chromium.js';
import { QUEUE_NAMES } from '../jobs/queues.js';
import { previewOn } from '../preview/on-context.js';
import { QUEUES_BOARD_TITLE } from '../preview/queues-board.js';
import type { Config } from '../src/config.js';
import { startTestRedis, testConfig, testContext, testWorker, waitFor } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-queues-browser-'));
const FAILED = 'bad-send';

let redis: Awaited<ReturnType<typeof startTestRedis>>;
let config: Config;
let ctx: ReturnType<typeof testContext>;
let readOnly: Awaited<ReturnType<typeof previewOn>>;
let actions: Awaited<ReturnType<typeof previewOn>>;
let browser: Browser;
let reason: string;

const stateOfFailed = async () => (await ctx.queues.send.getJob(FAILED))?.getState();

/** A page that records what the board's policy blocked, what failed, and what it asked of other origins. */
async function watchedPage(base: string) {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(`${base}/`) && !r.url().startsWith('data:')) problems.push(`other origin: ${r.url()}`);
  });
  return { page, problems };
}

/** The job's card on its page: its error, as the board shows it. */
const jobError = (page: Page) => page.getByText(reason.split('\n')[0] as string, { exact: false }).first();

beforeAll(async () => {
  redis = await startTestRedis();
  config = testConfig({ DATA_DIR: join(tmp, 'data'), TEMPLATES_DIR: join(ROOT, 'templates') });
  ctx = testContext(redis.url, config);
  // A job a real worker fails (bad data: E_JOB_PAYLOAD, not retried); the worker is gone before
  // the tests, so a retried job waits.
  const worker = await testWorker(redis.url, config);
  try {
    await ctx.queues.send.add('send', { nonsense: true }, { jobId: FAILED });
    await waitFor('the job to fail', async () => (await stateOfFailed()) === 'failed');
  } finally {
    await worker.close();
  }
  reason = (await ctx.queues.send.getJob(FAILED))?.failedReason ?? '';
  readOnly = await previewOn(ctx, config, '127.0.0.1', 0);
  actions = await previewOn(ctx, { ...config, PREVIEW_QUEUE_ACTIONS: true }, '127.0.0.1', 0);
  browser = await chromium.launch({ executablePath: chromiumPath(config.CHROMIUM_PATH), args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await readOnly?.close();
  await actions?.close();
  await ctx?.close();
  await redis?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('Bull Board in a browser', () => {
  it('shows every queue, and the failed job with its reason, under its CSP, with no button to change it', async () => {
    expect(reason).toMatch(/^E_JOB_PAYLOAD: send job/);
    const { page, problems } = await watchedPage(readOnly.url);
    try {
      await page.goto(`${readOnly.url}/queues`);
      await expect.poll(() => page.title()).toBe(QUEUES_BOARD_TITLE);
      const sidebar = page.locator('#bull-board-sidebar');
      for (const name of QUEUE_NAMES) {
        await expect.poll(() => sidebar.getByRole('link', { name, exact: true }).count(), { timeout: 10_000 }).toBe(1);
      }

      // From the front page of the board to the failed job: the queue, its Failed tab, the job.
      await sidebar.getByRole('link', { name: 'send', exact: true }).click();
      await page.getByRole('link', { name: /^failed/i }).click();
      await expect.poll(() => jobError(page).isVisible(), { timeout: 10_000 }).toBe(true);
      await page.goto(`${readOnly.url}/queues/queue/send/${FAILED}`);
      await expect.poll(() => jobError(page).isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await page.locator('body').textContent()).toContain(FAILED);
      // Read-only: no retry (nor any other change) offered.
      expect(await page.locator('button:has(svg.lucide-refresh-cw)').count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
    expect(await stateOfFailed()).toBe('failed');
  });

  it('with PREVIEW_QUEUE_ACTIONS on, the board’s own Retry goes through the gate and the job leaves failed', async () => {
    const { page, problems } = await watchedPage(actions.url);
    try {
      await page.goto(`${actions.url}/queues/queue/send/${FAILED}`);
      await expect.poll(() => jobError(page).isVisible(), { timeout: 10_000 }).toBe(true);
      await page.locator('button:has(svg.lucide-refresh-cw)').first().click();
      const dialog = page.getByRole('alertdialog').or(page.getByRole('dialog'));
      await expect.poll(() => dialog.textContent()).toMatch(/retry this job/);
      const put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`/${FAILED}/retry`));
      await page.getByRole('button', { name: 'Confirm' }).click();
      expect((await put).status()).toBe(204);
      await expect.poll(stateOfFailed, { timeout: 10_000 }).toBe('waiting');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
