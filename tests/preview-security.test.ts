import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeekIssue } from '../jobs/build-week-issue.js';
import { previewOn } from '../preview/on-context.js';
import { PREVIEW_BODY_BYTES } from '../preview/server.js';
import type { Config } from '../src/config.js';
import { httpRequest, rawExchange } from './helpers/http-request.js';
import { NOW, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';
import { startTestRedis, testConfig, testContext } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-preview-security-'));
const SEND = `/issues/${WEEK}/send-test`;
const FORM = 'application/x-www-form-urlencoded';

let redis: Awaited<ReturnType<typeof startTestRedis>>;
let config: Config;
let ctx: ReturnType<typeof testContext>;
let preview: Awaited<ReturnType<typeof previewOn>>;
let port: number;
let origin: string;
let token: string;

/** Test-send jobs waiting in the queue (no worker runs here, so every queued one stays). */
async function queuedTests(): Promise<string[]> {
  const jobs = await ctx.queues.send.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed']);
  return jobs.map((j) => String(j.data.to));
}

function post(headers: Record<string, string>, body: string | Buffer, path = SEND) {
  return httpRequest(origin, path, { method: 'POST', headers, body });
}

beforeAll(async () => {
  redis = await startTestRedis();
  config = testConfig({
    DATA_DIR: join(tmp, 'data'),
    TEMPLATES_DIR: join(ROOT, 'templates'),
    PREVIEW_ALLOWED_HOSTS: 'preview.example.test',
    TEST_SEND_MAX_RECIPIENTS: '3',
  });
  ctx = testContext(redis.url, config);
  for (const article of weekOfArticles(5)) await ctx.store.saveArticle(article);
  await buildWeekIssue({ store: ctx.store, config, templatesDir: join(ROOT, 'templates') }, WEEK, NOW);
  preview = await previewOn(ctx, config, '127.0.0.1', 0);
  port = Number(new URL(preview.url).port);
  origin = preview.url;
  const page = await httpRequest(origin, `/issues/${WEEK}`);
  token =
    /action="\/issues\/[^"/]+\/send-test"><input type="hidden" name="token" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
});

afterAll(async () => {
  await preview?.close();
  await ctx?.close();
  await redis?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the preview answers only to its own host names', () => {
  const routes = [
    '/',
    '/mailbox',
    '/events',
    '/queues',
    '/queues/api/queues',
    '/queues/queue/send',
    `/issues/${WEEK}`,
    `/issues/${WEEK}/email.html`,
    '/preview.js',
  ];
  const allowed = [
    (p: number) => `127.0.0.1:${p}`,
    () => '127.0.0.1',
    (p: number) => `localhost:${p}`,
    (p: number) => `LocalHost:${p}`,
    (p: number) => `app.localhost:${p}`,
    (p: number) => `[::1]:${p}`,
    () => '[0:0:0:0:0:0:0:1]',
    (p: number) => `preview.example.test:${p}`,
  ];
  const refused = [
    () => 'attacker.example',
    (p: number) => `attacker.example:${p}`,
    (p: number) => `127.0.0.1.attacker.example:${p}`,
    (p: number) => `localhost.attacker.example:${p}`,
    () => 'localhost.',
    () => 'preview.example.test.attacker.example',
    (p: number) => `10.0.0.1:${p}`,
    (p: number) => `[::2]:${p}`,
    () => '::1',
    (p: number) => `evil@127.0.0.1:${p}`,
  ];

  it('serves every route to the loopback names, the bound address and PREVIEW_ALLOWED_HOSTS', async () => {
    for (const route of routes) {
      for (const host of allowed) {
        const response = await httpRequest(origin, route, { headers: { host: host(port) }, headOnly: true });
        expect(response.status, `${host(port)} ${route}`).toBe(200);
      }
    }
  });

  it('refuses every route, with 403 and a short text, to any other Host', async () => {
    for (const route of routes) {
      for (const host of refused) {
        const response = await httpRequest(origin, route, { headers: { host: host(port) } });
        expect(response.status, `${host(port)} ${route}`).toBe(403);
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        expect(response.body).toMatch(/PREVIEW_ALLOWED_HOSTS/);
        expect(response.body).not.toMatch(/Mailbox|<html/);
      }
    }
  });

  it('refuses a request with no Host header at all', async () => {
    const http10 = await rawExchange(port, 'GET /mailbox HTTP/1.0\r\n\r\n');
    expect(http10).toMatch(/^HTTP\/1\.1 403 /);
    expect(http10).not.toMatch(/What the local mailbox received/);
    const http11 = await rawExchange(port, 'GET /mailbox HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(http11).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(http11).not.toMatch(/What the local mailbox received/);
    const empty = await rawExchange(port, 'GET /mailbox HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n');
    expect(empty).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(empty).not.toMatch(/What the local mailbox received/);
  });

  it('sends a CSP, frame and sniffing headers with every page, and no script to the email frame', async () => {
    const page = await httpRequest(origin, `/issues/${WEEK}`);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'self'/);
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-inline[^;]*;?\s*$|script-src[^;]*unsafe/);
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('same-origin');
    expect(page.body).not.toMatch(/<script>/);
    const email = await httpRequest(origin, `/issues/${WEEK}/email.html`);
    expect(email.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(email.headers['content-security-policy']).not.toMatch(/script-src/);
  });
});

describe('a POST to send-test', () => {
  const good = (extra: Record<string, string> = {}) => ({ origin, 'content-type': FORM, ...extra });
  const form = (to: string, t = token) => new URLSearchParams({ token: t, to }).toString();

  it('is refused from another origin, and nothing is queued', async () => {
    expect(token).toMatch(/^[\w-]{20,}$/);
    for (const other of [
      'http://attacker.example',
      `http://127.0.0.1:${port + 1}`,
      `https://localhost:${port}`,
      'null',
    ]) {
      const response = await post(good({ origin: other }), form('victim@example.org'));
      expect(response.status, other).toBe(403);
    }
    expect(await queuedTests()).toEqual([]);
  });

  it('is refused without an Origin unless Sec-Fetch-Site says same-origin', async () => {
    const noOrigin = { 'content-type': FORM };
    expect((await post(noOrigin, form('victim@example.org'))).status).toBe(403);
    expect((await post({ ...noOrigin, 'sec-fetch-site': 'cross-site' }, form('victim@example.org'))).status).toBe(403);
    expect((await post({ ...noOrigin, 'sec-fetch-site': 'same-site' }, form('victim@example.org'))).status).toBe(403);
    expect(await queuedTests()).toEqual([]);
  });

  it('is refused without the page token, with a wrong one, or with the token of another path', async () => {
    expect((await post(good(), new URLSearchParams({ to: 'victim@example.org' }).toString())).status).toBe(403);
    expect((await post(good(), form('victim@example.org', 'x'.repeat(token.length)))).status).toBe(403);
    expect((await post(good(), form('victim@example.org', `${token}x`))).status).toBe(403);
    // A token is bound to its form's path: this week's token does not send another week.
    const other = await post(good(), form('victim@example.org'), '/issues/2026-W47/send-test');
    expect(other.status).toBe(403);
    expect(await queuedTests()).toEqual([]);
  });

  it('takes only a form: text/plain, JSON, multipart and no type are 415', async () => {
    for (const type of ['text/plain', 'application/json', 'multipart/form-data; boundary=x', '']) {
      const headers = type ? good({ 'content-type': type }) : { origin };
      const response = await post(headers, form('victim@example.org'));
      expect(response.status, type).toBe(415);
    }
    expect(await queuedTests()).toEqual([]);
  });

  it('refuses a body over the limit with 413, declared or chunked', async () => {
    const big = form(`${'a'.repeat(PREVIEW_BODY_BYTES)}@example.org`);
    expect((await post(good(), big)).status).toBe(413);
    const chunked = await rawExchange(
      port,
      `POST ${SEND} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${origin}\r\nContent-Type: ${FORM}\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n${`1000\r\n${'a'.repeat(0x1000)}\r\n`.repeat(PREVIEW_BODY_BYTES / 0x1000 + 1)}`,
    );
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect(await queuedTests()).toEqual([]);
  });

  it('with the right origin, type, size and token: 303 back to the page and a job queued', async () => {
    const response = await post(good(), form('pat@example.org'));
    expect(response.status).toBe(303);
    expect(decodeURIComponent(String(response.headers.location))).toMatch(/Queued a test of .* to pat@example\.org/);
    expect(await queuedTests()).toEqual(['pat@example.org']);
    // A browser that sends no Origin but Sec-Fetch-Site: same-origin is one of the preview's pages.
    const fetchSite = await post({ 'content-type': FORM, 'sec-fetch-site': 'same-origin' }, form('sam@example.org'));
    expect(fetchSite.status).toBe(303);
    expect((await queuedTests()).sort()).toEqual(['pat@example.org', 'sam@example.org']);
  });

  it('more addresses than TEST_SEND_MAX_RECIPIENTS: the error in the flash, and nothing queued', async () => {
    const before = (await queuedTests()).length;
    const many = Array.from({ length: 200 }, (_, i) => `r${i}@example.org`).join(',');
    const response = await post(good(), form(many));
    expect(response.status).toBe(303);
    expect(decodeURIComponent(String(response.headers.location))).toMatch(/E_TOO_MANY_RECIPIENTS: .*at most 3/);
    expect((await queuedTests()).length).toBe(before);
  });
});

describe('a POST to rebuild', () => {
  const REBUILD = `/issues/${WEEK}/rebuild`;
  const newsletterJobs = async () =>
    (await ctx.queues.newsletter.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed']))
      .length;

  it('goes through the same gate: another origin, no token, or the send-test form’s token queue no build', async () => {
    const before = await newsletterJobs();
    const body = (t: string) => new URLSearchParams({ token: t }).toString();
    expect((await post({ origin: 'http://attacker.example', 'content-type': FORM }, body(token), REBUILD)).status).toBe(
      403,
    );
    expect((await post({ origin, 'content-type': FORM }, '', REBUILD)).status).toBe(403);
    // `token` is the send-test form's: a token is bound to its form's path.
    expect((await post({ origin, 'content-type': FORM }, body(token), REBUILD)).status).toBe(403);
    expect((await post({ origin, 'content-type': 'text/plain' }, body(token), REBUILD)).status).toBe(415);
    expect(await newsletterJobs()).toBe(before);
  });

  it('is not offered while the issue was built with the templates as they are', async () => {
    const page = await httpRequest(origin, `/issues/${WEEK}`);
    expect(page.body).not.toContain(REBUILD);
    expect(page.body).not.toContain('id="templates-changed"');
  });
});
