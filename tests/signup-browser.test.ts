import type { Server } from 'node:http';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../io/chromium.js';
import { listen } from '../io/listen.js';
import { createSubscriberStore, type SubscriberStore } from '../io/subscriber-store.js';
import { createServeApp, serveOptionsOn } from '../serve/app.js';
import type { Config } from '../src/config.js';
import { confirmToken } from '../src/links/confirm-token.js';
import { testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';

const redis = useTestRedis('signup-browser');
const SECRET = '0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a';

let config: Config;
let ctx: ReturnType<typeof testContext>;
let store: SubscriberStore;
let server: Server;
let base: string;
let browser: Browser;
/** The app's clock runs this far ahead: a test "takes its time" filling the form without waiting. */
let offset = 0;

beforeAll(async () => {
  config = testConfig({
    PUBLIC_URL: 'https://news.example.org',
    UNSUBSCRIBE_SECRET: SECRET,
    SITE_NAME: 'The Daily Example',
  });
  ctx = testContext(redis.url, config);
  store = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
  server = createServeApp(
    serveOptionsOn(ctx, { host: '127.0.0.1', port: 0, now: () => new Date(Date.now() + offset) }),
  );
  const { port } = await listen(server, { host: '127.0.0.1', port: 0, what: 'test', setting: 'none' });
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({ executablePath: chromiumPath(config.CHROMIUM_PATH), args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((done) => server?.close(done));
  await ctx?.close();
});

async function signupMails(): Promise<{ kind: string; email: string }[]> {
  const jobs = await ctx.queues.send.getJobs(['wait', 'delayed', 'prioritized', 'active', 'completed']);
  return jobs
    .filter((job) => job.name === 'signup-mail')
    .sort((a, b) => Number(a.id) - Number(b.id))
    .map((job) => job.data as { kind: string; email: string });
}

/** A page that records what its Content-Security-Policy refused: the pages must need nothing it blocks. */
async function openPage(): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage({ viewport: { width: 800, height: 700 } });
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  return { page, violations };
}

const focused = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute('name') ?? document.activeElement?.tagName);

describe('the hosted sign-up page in Chromium', () => {
  it('is filled in with the keyboard and submitted, then says to check the inbox', async () => {
    const { page, violations } = await openPage();
    try {
      await page.goto(`${base}/subscribe`);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      // What assistive technology meets: the two fields by their labels and the button; never the honeypot.
      const tree = await page.locator('form').ariaSnapshot();
      expect(tree).toContain('textbox "Email address"');
      expect(tree).toContain('textbox "Name (optional)"');
      expect(tree).toContain('button "Join our Weekly Newsletter"');
      expect(tree).not.toMatch(/empty|website/i);
      await expect(page.getByLabel('Email address').getAttribute('type')).resolves.toBe('email');

      // People never see the honeypot: it lies wholly off-screen, and Tab goes past it.
      const trap = await page.locator('input[name="website"]').boundingBox();
      expect(trap && trap.x + trap.width <= 0, JSON.stringify(trap)).toBe(true);
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('email');
      await page.keyboard.type('Reader@Example.org');
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('name');
      await page.keyboard.type('Rae Reader');
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('BUTTON');

      offset += 5000;
      await page.keyboard.press('Enter');
      // The answer is a new page at the same address: wait for it by what it says.
      await page.getByRole('heading', { name: 'Check your inbox' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('main').textContent()).toContain('reader@example.org');
      const reader = await store.get('reader@example.org');
      expect([reader?.status, reader?.name, reader?.source]).toEqual(['pending', 'Rae Reader', 'form']);
      expect(reader?.signupUserAgent).toMatch(/Chrome/);
      expect(await signupMails()).toEqual([{ kind: 'confirm', email: 'reader@example.org' }]);
      expect(violations).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows an address the server refuses next to its field, focused, and keeps what was typed', async () => {
    const { page, violations } = await openPage();
    try {
      await page.goto(`${base}/subscribe`);
      // A browser takes "ana@localhost" as an email address; Dispatch wants a domain with a dot.
      await page.getByLabel('Email address').fill('ana@localhost');
      await page.getByLabel('Name (optional)').fill('Ana');
      offset += 5000;
      await page.getByRole('button').click();
      await page.locator('.dispatch-signup-error').waitFor({ timeout: 10_000 });
      const email = page.getByLabel('Email address');
      expect(await email.getAttribute('aria-invalid')).toBe('true');
      const described = await email.getAttribute('aria-describedby');
      expect(await page.locator(`#${described}`).textContent()).toBe(
        '"ana@localhost" is not an email address: check it and try again.',
      );
      expect(await focused(page)).toBe('email');
      expect(await email.inputValue()).toBe('ana@localhost');
      expect(await page.getByLabel('Name (optional)').inputValue()).toBe('Ana');
      expect(await store.get('ana@localhost')).toBeNull();
      expect(violations).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('confirms from the link only when the Confirm button is pressed', async () => {
    const { page, violations } = await openPage();
    try {
      const nonce = await store.pendingNonce('reader@example.org');
      const token = confirmToken({ email: 'reader@example.org', nonce: nonce ?? '', issuedAt: Date.now() }, SECRET);
      await page.goto(`${base}/confirm/${token}`);
      expect(await page.locator('h1').textContent()).toBe('Confirm your subscription');
      expect((await store.get('reader@example.org'))?.status).toBe('pending');
      await page.getByRole('button', { name: 'Confirm my subscription' }).click();
      await page.getByRole('heading', { name: 'You are subscribed' }).waitFor({ timeout: 10_000 });
      expect((await store.get('reader@example.org'))?.status).toBe('active');
      expect((await signupMails()).map((m) => m.kind)).toEqual(['confirm', 'welcome']);
      expect(violations).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
