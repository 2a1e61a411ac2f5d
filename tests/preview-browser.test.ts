import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../io/chromium.js';
import { type MailboxServer, mailboxDir, startMailbox } from '../io/mailbox.js';
import { stopSpamd } from '../io/spamd.js';
import { buildWeekIssue } from '../jobs/build-week-issue.js';
import { enqueueArticles } from '../jobs/enqueue-articles.js';
import type { RunningWorker } from '../jobs/run-worker.js';
import { previewOn } from '../preview/on-context.js';
import type { Config } from '../src/config.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { startTestRedis, testConfig, testContext, testWorker, waitFor } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';
import { spamdInstalled } from './helpers/spamd.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-preview-'));
const templatesDir = join(tmp, 'templates');
const NOW = new Date();
const WEEK = isoWeekOf(NOW, 'UTC');

let redis: Awaited<ReturnType<typeof startTestRedis>>;
let mailbox: MailboxServer;
let config: Config;
let ctx: ReturnType<typeof testContext>;
let worker: RunningWorker;
let preview: Awaited<ReturnType<typeof previewOn>>;
let browser: Browser;

beforeAll(async () => {
  cpSync(join(ROOT, 'templates'), templatesDir, { recursive: true });
  redis = await startTestRedis();
  const dataDir = join(tmp, 'data');
  mailbox = await startMailbox({ dir: mailboxDir(dataDir), port: 0 });
  config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`, DATA_DIR: dataDir, TEMPLATES_DIR: templatesDir });
  ctx = testContext(redis.url, config);
  worker = await testWorker(redis.url, config, { templatesDir });
  await enqueueArticles(ctx, [join(ROOT, 'examples')], { publishedNow: true }, NOW);
  await waitFor('examples stored', async () => (await ctx.store.countArticles()) === 5);
  await waitFor('posts', async () => (await ctx.queues.social.getJobCounts('completed')).completed === 5);
  await buildWeekIssue({ store: ctx.store, config, templatesDir }, WEEK, NOW);
  preview = await previewOn(ctx, config, config.PREVIEW_HOST, 0);
  browser = await chromium.launch({ executablePath: chromiumPath(config.CHROMIUM_PATH), args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await preview?.close();
  // The checks panel started the managed spamd under the test's DATA_DIR.
  await stopSpamd(config);
  await worker?.close();
  await ctx?.close();
  await mailbox?.close();
  await redis?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the preview server', () => {
  it('listens on 127.0.0.1 and answers unknown ids and paths with 404', async () => {
    expect(preview.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const path of [
      '/issues/2001-W01',
      '/articles/0123456789abcdef',
      '/articles/..%2F..%2Fetc%2Fpasswd',
      '/../../etc/passwd',
      '/templates/partials/card.mjml.hbs',
      '/mailbox/1-deadbeef',
    ]) {
      const response = await fetch(`${preview.url}${path}`);
      expect(response.status, path).toBe(404);
    }
    expect((await fetch(`${preview.url}/issues/${WEEK}`)).status).toBe(200);
    expect((await fetch(`${preview.url}/queues`)).status).toBe(200);
  });

  it('in a browser: the checks panel fills in with email-client compatibility and the spam score', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${preview.url}/issues/${WEEK}`);
      // The quick checks are on the page at once; the rest arrive from /issues/<week>/checks.
      expect(await page.locator('#checks [data-check="compatibility"]').textContent()).toMatch(
        /Compatibility.*Outlook \(Windows\)/s,
      );
      const spam = page.locator('#checks [data-check="spam"]');
      await spam.waitFor({ timeout: 90_000 });
      expect(await page.locator('#checks-pending').count()).toBe(0);
      const text = (await spam.textContent()) ?? '';
      if (spamdInstalled()) expect(text).toMatch(/Spam-?\d+(\.\d+)? points, threshold 5\.0 \(SpamAssassin 4/);
      else expect(text).toContain('E_SPAM_UNAVAILABLE');
      expect(await page.locator('#checks [data-check="links"]').textContent()).toMatch(/Links\d+ link/);
      expect(await page.locator('#checks [data-check="images"]').textContent()).toMatch(/Images\d+ image/);
    } finally {
      await page.close();
    }
  }, 120_000);

  it('in a browser: mobile width, the text tab, a test send into the mailbox, a template edit rebuilt from the page', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    // The pages work under their Content-Security-Policy: nothing they need is blocked.
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${preview.url}/issues/${WEEK}`);
    await page.getByRole('button', { name: 'Mobile 375' }).click();
    expect(await page.locator('#email').evaluate((el) => (el as HTMLElement).clientWidth)).toBe(375);
    await page.getByRole('tab', { name: 'Text' }).click();
    await expect.poll(() => page.locator('#text-part').isVisible()).toBe(true);
    expect(await page.locator('#text-part').textContent()).toContain('Hi Sam, here is what mattered this week.');
    expect(await page.locator('#checks').textContent()).toContain('Unsubscribe');

    await page.getByRole('tab', { name: 'Email' }).click();
    await page.fill('#send-to', 'pat@example.org');
    await page.getByRole('button', { name: 'Send test' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toMatch(/^Queued a test of .+ to pat@example\.org/);
    await page.goto(`${preview.url}/mailbox`);
    await expect
      .poll(async () => (await page.locator('#mailbox').textContent()) ?? '', { timeout: 15_000 })
      .toMatch(/pat@example\.org.*\[Test\] The Example Times weekly/s);

    // A template edit does not change what the page shows (the stored build, as a send delivers
    // it): the page says the templates changed, and its Rebuild shows the edit.
    await page.goto(`${preview.url}/issues/${WEEK}`);
    const frame = page.frameLocator('#email');
    await expect.poll(() => frame.locator('body').textContent()).toContain('The Weekly · No.');
    expect(await page.locator('#templates-changed').count()).toBe(0);
    const masthead = join(templatesDir, 'partials/masthead.mjml.hbs');
    const original = readFileSync(masthead, 'utf8');
    const rebuild = async () => {
      // The page may reload at once (the build is quick): the POST's answer, not its flash, says it went.
      const posted = page.waitForResponse((r) => r.url().endsWith(`/issues/${WEEK}/rebuild`));
      await page.locator('#templates-changed').getByRole('button', { name: 'Rebuild' }).click();
      expect((await posted).status()).toBe(303);
    };
    writeFileSync(masthead, original.replace('The Weekly · No.', 'The Weekly Edition · No.'));
    await expect
      .poll(() => page.locator('#templates-changed').textContent(), { timeout: 10_000 })
      .toContain('The templates changed since this build');
    expect(await frame.locator('body').textContent()).toContain('The Weekly · No.');
    await rebuild();
    await expect
      .poll(() => frame.locator('body').textContent(), { timeout: 15_000 })
      .toContain('The Weekly Edition · No.');
    await expect.poll(() => page.locator('#templates-changed').count(), { timeout: 10_000 }).toBe(0);

    // A template error shows in the page after a rebuild, with its file; the page keeps the build
    // before, and the server keeps going.
    writeFileSync(masthead, original.replace('{{issue.number}}', '{{#if issue.number}'));
    await expect.poll(() => page.locator('#templates-changed').count(), { timeout: 10_000 }).toBe(1);
    await rebuild();
    await expect
      .poll(
        () =>
          page
            .locator('#render-error')
            .textContent()
            .catch(() => ''),
        { timeout: 15_000 },
      )
      .toMatch(/E_TEMPLATE: .*masthead\.mjml\.hbs/);
    expect(await frame.locator('body').textContent()).toContain('The Weekly Edition · No.');
    writeFileSync(masthead, original);
    await expect.poll(() => page.locator('#render-error').count(), { timeout: 10_000 }).toBe(1);
    await rebuild();
    await expect
      .poll(
        () =>
          frame
            .locator('body')
            .textContent()
            .catch(() => ''),
        { timeout: 15_000 },
      )
      .toContain('The Weekly · No.');

    expect(violations).toEqual([]);
    const shot = join(tmpdir(), `dispatch-preview-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: false });
    console.log(`preview screenshot: ${shot}`);
    await page.close();
  }, 60_000); // a browser, a worker and two rebuilds: slow on a loaded 2-core machine

  it('in a browser: a page of another origin that auto-submits a form to send-test is refused, nothing queued', async () => {
    // What a page on a site the editor visits could do: a form POST to the preview, sent by the
    // editor's own browser. Another port is another origin.
    const target = `${preview.url}/issues/${WEEK}/send-test`;
    const attacker: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<!doctype html><form id="f" method="post" action="${target}" enctype="text/plain">` +
          `<input name="to" value="victim@example.org"></form>` +
          `<form id="g" method="post" action="${target}"><input name="to" value="victim@example.org">` +
          `<input name="token" value="guess"></form>` +
          `<script>document.getElementById(location.hash === '#g' ? 'g' : 'f').submit()</script>`,
      );
    });
    await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
    const attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
    const states = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;
    const before = (await ctx.queues.send.getJobs([...states])).length;
    const page = await browser.newPage();
    try {
      for (const hash of ['#f', '#g']) {
        const answer = page.waitForResponse((r) => r.url() === target);
        await page.goto(`${attackerUrl}${hash}`);
        const response = await answer;
        expect(response.status(), hash).toBe(403);
        expect(response.request().headers().origin).toBe(attackerUrl.replace(/\/$/, ''));
      }
      const jobs = await ctx.queues.send.getJobs([...states]);
      expect(jobs.filter((j) => j.data.to === 'victim@example.org')).toEqual([]);
      expect(jobs.length).toBe(before);
    } finally {
      await page.close();
      attacker.closeAllConnections();
      await new Promise((done) => attacker.close(done));
    }
  });
});
