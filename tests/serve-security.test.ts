import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../io/listen.js';
import { createSubscriberStore, type SubscriberStore } from '../io/subscriber-store.js';
import { createServeApp, SERVE_BODY_BYTES, serveOptionsOn } from '../serve/app.js';
import type { Config } from '../src/config.js';
import { unsubscribeToken } from '../src/links/unsubscribe-token.js';
import { httpRequest, rawExchange } from './helpers/http-request.js';
import { cliEnv, testConfig, testContext, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { runCli, startCli } from './helpers/run-cli.js';

const redis = useTestRedis('serve-security');
const SECRET = 'c2f1b0e9d8a7c6b5a4f3e2d1c0b9a8f7';

let config: Config;
let ctx: ReturnType<typeof testContext>;
let store: SubscriberStore;
let server: Server;
let base: string;
let port: number;

beforeAll(async () => {
  config = testConfig({ PUBLIC_URL: 'https://news.example.org', UNSUBSCRIBE_SECRET: SECRET });
  ctx = testContext(redis.url, config);
  store = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
  await store.importSubscribers(
    ['ana', 'ben', 'cy', 'dee'].map((n) => ({ email: `${n}@example.org`, name: n, fields: {} })),
    new Date(),
  );
  server = createServeApp(serveOptionsOn(ctx, { host: '127.0.0.1', port: 0 }));
  port = (await listen(server, { host: '127.0.0.1', port: 0, what: 'test', setting: 'none' })).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((done) => server?.close(done));
  await ctx?.close();
});

const oneClick = { 'content-type': 'application/x-www-form-urlencoded' };

describe('dispatch serve', () => {
  it('unsubscribes on an RFC 8058 one-click POST from a foreign origin, form-encoded or multipart', async () => {
    const ana = unsubscribeToken('ana@example.org', SECRET);
    const response = await httpRequest(base, `/unsubscribe/${ana}`, {
      method: 'POST',
      headers: { ...oneClick, host: 'news.example.org', origin: 'https://mail.provider.example' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);
    expect((await store.get('ana@example.org'))?.status).toBe('unsubscribed');

    const ben = unsubscribeToken('ben@example.org', SECRET);
    const multipart = await httpRequest(base, `/unsubscribe/${ben}`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ', origin: 'null' },
      body: '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n',
    });
    expect(multipart.status).toBe(200);
    expect((await store.get('ben@example.org'))?.status).toBe('unsubscribed');
  });

  it("answers only to PUBLIC_URL's host, the bound address and the loopback names", async () => {
    const cy = unsubscribeToken('cy@example.org', SECRET);
    for (const host of ['news.example.org', `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await httpRequest(base, `/unsubscribe/${cy}`, { headers: { host } })).status, host).toBe(200);
    }
    for (const host of ['attacker.example', 'news.example.org.attacker.example', 'example.org', '10.0.0.9']) {
      const get = await httpRequest(base, `/unsubscribe/${cy}`, { headers: { host } });
      expect(get.status, host).toBe(403);
      const post = await httpRequest(base, `/unsubscribe/${cy}`, {
        method: 'POST',
        headers: { ...oneClick, host },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(post.status, host).toBe(403);
    }
    expect((await store.get('cy@example.org'))?.status).toBe('active');
  });

  it('refuses a body over the limit with 413 and unsubscribes no one', async () => {
    const dee = unsubscribeToken('dee@example.org', SECRET);
    const big = await httpRequest(base, `/unsubscribe/${dee}`, {
      method: 'POST',
      headers: oneClick,
      body: 'x'.repeat(SERVE_BODY_BYTES + 1),
    });
    expect(big.status).toBe(413);
    const chunked = await rawExchange(
      port,
      `POST /unsubscribe/${dee} HTTP/1.1\r\nHost: news.example.org\r\nTransfer-Encoding: chunked\r\n\r\n${`1000\r\n${'x'.repeat(0x1000)}\r\n`.repeat(4)}`,
    );
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect((await store.get('dee@example.org'))?.status).toBe('active');
  });

  it('sends its pages with a CSP that allows no script and no framing', async () => {
    const page = await httpRequest(base, `/preferences/${unsubscribeToken('dee@example.org', SECRET)}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('dispatch serve and the default UNSUBSCRIBE_SECRET', () => {
  it('refuses to start with the default secret and an https PUBLIC_URL', async () => {
    const local = testConfig();
    const started = Date.now();
    const result = await runCli(['serve', '--port', '0'], {
      env: cliEnv(redis.url, local, { PUBLIC_URL: 'https://news.example.org', UNSUBSCRIBE_SECRET: '' }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'dispatch: E_SECRET_DEFAULT: UNSUBSCRIBE_SECRET is the public development default while PUBLIC_URL is https://news.example.org: set it to a long random value, e.g. UNSUBSCRIBE_SECRET=$(openssl rand -hex 32) in .env',
    ]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('refuses a list send with it and a real SMTP server, before anything is queued', async () => {
    const local = testConfig();
    const result = await runCli(['send', '--week', '2026-W48'], {
      env: cliEnv(redis.url, local, { SMTP_URL: 'smtp://smtp.example.org:587', UNSUBSCRIBE_SECRET: '' }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dispatch: E_SECRET_DEFAULT: .*while SMTP_URL is smtp:\/\/smtp\.example\.org:587: /);
    const probe = testContext(redis.url, local);
    expect(await probe.queues.send.count()).toBe(0);
    await probe.close();
  });

  it('starts with a secret of its own, on the port it was given, and stops on SIGINT', async () => {
    const cli = startCli(['serve', '--port', '0'], {
      env: cliEnv(redis.url, testConfig(), { PUBLIC_URL: 'https://news.example.org', UNSUBSCRIBE_SECRET: SECRET }),
    });
    const { child, exited } = cli;
    const url = await waitFor('dispatch serve to listen', async () =>
      /sign-up page on (http:\/\/127\.0\.0\.1:(\d+))\/subscribe \(readers reach it at https:\/\/news\.example\.org\/subscribe\)/.exec(
        cli.stdout,
      ),
    );
    expect(url?.[2], cli.stdout).not.toBe('0');
    const answer = await httpRequest(url?.[1] ?? '', '/unsubscribe/not.valid');
    expect(answer.status).toBe(400);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
