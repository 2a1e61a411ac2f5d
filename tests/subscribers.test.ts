import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { createServeApp, serveOptionsOn } from '../serve/app.js';
import { unsubscribeToken } from '../src/links/unsubscribe-token.js';
import { testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { runCli } from './helpers/run-cli.js';

const redis = useTestRedis('subscribers');
const tmp = redis.tmp;

describe('dispatch subscribers', () => {
  it('imports, merges, lists and removes; an unsubscribed address is not resubscribed by a re-import', async () => {
    const config = testConfig();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: config.REDIS_PREFIX };
    const csv = join(tmp, 'list.csv');
    writeFileSync(csv, 'email,name\nana@example.org,Ana\nBEN@example.org,Ben\nana@example.org,\nnot-an-address,X\n');
    const imported = await runCli(['subscribers', 'import', csv], { env });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe('2 added, 0 updated, 1 duplicate(s) merged, 0 kept unsubscribed, 1 rejected\n');
    expect(imported.stderr).toContain('list.csv line 5: not an email address: "not-an-address"');

    const ctx = testContext(redis.url, config);
    try {
      const store = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
      expect(await store.suppress('ben@example.org', new Date())).toBe(true);
      const again = await runCli(['subscribers', 'import', csv], { env });
      expect(again.stdout).toBe('0 added, 2 updated, 1 duplicate(s) merged, 1 kept unsubscribed, 1 rejected\n');
      expect(await store.activeEmails()).toEqual(['ana@example.org']);

      const removed = await runCli(['subscribers', 'remove', 'BEN@example.org'], { env });
      expect(removed.stdout).toBe('removed ben@example.org\n');
      const third = await runCli(['subscribers', 'import', csv], { env });
      expect(third.stdout).toMatch(/^1 added, 1 updated, 1 duplicate\(s\) merged, 1 kept unsubscribed/);
      expect((await store.get('ben@example.org'))?.status).toBe('unsubscribed');

      const list = await runCli(['subscribers', 'list'], { env });
      expect(list.stdout).toBe(
        'ana@example.org\tAna\tactive\nben@example.org\tBen\tunsubscribed\n1 active, 0 pending, 1 unsubscribed, 0 bounced, 0 complained\n',
      );
    } finally {
      await ctx.close();
    }
  });
});

describe('dispatch serve: unsubscribe', () => {
  it('GET only asks, POST (one-click or the form) unsubscribes, a forged token gets 400 and changes nothing', async () => {
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    const store = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
    await store.importSubscribers(
      [
        { email: 'ana@example.org', name: 'Ana', fields: {} },
        { email: 'ben@example.org', name: 'Ben', fields: {} },
      ],
      new Date(),
    );
    const server = createServeApp(serveOptionsOn(ctx, { host: '127.0.0.1', port: 0 }));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ana = unsubscribeToken('ana@example.org', config.UNSUBSCRIBE_SECRET);
      const asked = await fetch(`${base}/unsubscribe/${ana}`);
      expect(asked.status).toBe(200);
      expect(await asked.text()).toContain('Unsubscribe ana@example.org');
      expect((await store.get('ana@example.org'))?.status).toBe('active');

      const oneClick = await fetch(`${base}/unsubscribe/${ana}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(oneClick.status).toBe(200);
      expect((await store.get('ana@example.org'))?.status).toBe('unsubscribed');

      const forged = unsubscribeToken('ben@example.org', 'another-secret-of-16-chars').replace(
        /^[^.]+/,
        Buffer.from('ben@example.org').toString('base64url'),
      );
      const swapped = `${Buffer.from('ben@example.org').toString('base64url')}.${ana.split('.')[1]}`;
      for (const token of [forged, swapped, 'garbage.token', `${ana}x`]) {
        const response = await fetch(`${base}/unsubscribe/${token}`, {
          method: 'POST',
          body: 'List-Unsubscribe=One-Click',
        });
        expect(response.status, token).toBe(400);
      }
      expect((await store.get('ben@example.org'))?.status).toBe('active');
      expect((await fetch(`${base}/unsubscribe/../../etc/passwd`)).status).toBe(404);
      expect((await fetch(`${base}/preferences/${ana}`)).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      await ctx.close();
    }
  });
});
