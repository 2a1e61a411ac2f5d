import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRedis, pingRedis, portIsFree, startRedisServer, stopManagedRedis } from '../io/managed-redis.js';
import { enqueueArticles } from '../jobs/enqueue-articles.js';
import { testConfig, testContext, testWorker, waitFor } from './helpers/queue-harness.js';
import { runCli } from './helpers/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-redis-'));
const dataDirs = ['managed', 'kept', 'taken', 'foreign', 'e2e'].map((name) => join(tmp, name));
afterAll(async () => {
  for (const DATA_DIR of dataDirs) await stopManagedRedis({ DATA_DIR });
  rmSync(tmp, { recursive: true, force: true });
});

const portOf = (url: string) => Number(new URL(url).port);
const portFile = (dataDir: string) => Number(readFileSync(join(dataDir, 'redis', 'redis.port'), 'utf8'));

describe('managed Redis', () => {
  it('starts a private server on a free port for a test and stops it', async () => {
    const server = await startRedisServer({ dir: join(tmp, 'private') });
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await pingRedis(server.port)).toBe(true);
    await server.stop();
    expect(await pingRedis(server.port)).toBe(false);
  });

  it('starts one under DATA_DIR/redis when REDIS_URL is unset, then reuses it', async () => {
    const config = { DATA_DIR: join(tmp, 'managed') };
    const first = await ensureRedis(config);
    expect(first.started).toBe(true);
    expect(first.dir).toBe(join(tmp, 'managed', 'redis'));
    const second = await ensureRedis(config);
    expect(second).toEqual({ ...first, started: false });
    expect(await stopManagedRedis(config)).toBe(true);
    expect(await pingRedis(Number(new URL(first.url).port))).toBe(false);
    expect(await stopManagedRedis(config)).toBe(false);
  });

  it('uses REDIS_URL as given without starting anything', async () => {
    const redis = await ensureRedis({ REDIS_URL: 'redis://redis.example:6379', DATA_DIR: join(tmp, 'unused') });
    expect(redis).toMatchObject({ url: 'redis://redis.example:6379', started: false });
  });

  it('says to run npm run setup when redis-server is missing', async () => {
    const result = await runCli(['redis'], { env: { PATH: join(tmp, 'empty-path'), DATA_DIR: join(tmp, 'nobin') } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'dispatch: E_REDIS_MISSING: redis-server is not on PATH: run `npm run setup` to install it, or set REDIS_URL to an existing Redis',
    );
  });

  it('dispatch redis prints the URL and --stop stops it', async () => {
    const env = { DATA_DIR: join(tmp, 'cli') };
    const started = await runCli(['redis'], { env });
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^redis:\/\/127\.0\.0\.1:\d+ \(started, data in .*cli\/redis\)\n$/);
    const again = await runCli(['redis'], { env });
    expect(again.stdout).toMatch(/\(already running\)/);
    const stopped = await runCli(['redis', '--stop'], { env });
    expect(stopped.stdout).toBe('stopped the managed redis-server\n');
  });

  it('keeps its port from one start to the next', async () => {
    const config = { DATA_DIR: join(tmp, 'kept') };
    const first = await ensureRedis(config);
    expect(await stopManagedRedis(config)).toBe(true);
    const again = await ensureRedis(config);
    expect(again).toEqual({ ...first, started: true });
    expect(portFile(config.DATA_DIR)).toBe(portOf(first.url));
  });

  it('its port taken by another listener meanwhile: a new port, the file rewritten, and it says so', async () => {
    const config = { DATA_DIR: join(tmp, 'taken') };
    const first = await ensureRedis(config);
    const old = portOf(first.url);
    await stopManagedRedis(config);
    // Another program on the port: it hangs up on whoever connects (so it closes when told to).
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((done) => squatter.listen(old, '127.0.0.1', done));
    try {
      const warnings: string[] = [];
      const moved = await ensureRedis(config, { warn: (line) => warnings.push(line) });
      const port = portOf(moved.url);
      expect(port).not.toBe(old);
      expect(moved).toMatchObject({ started: true, movedFrom: old });
      expect(portFile(config.DATA_DIR)).toBe(port);
      expect(await pingRedis(port)).toBe(true);
      expect(warnings).toEqual([
        `port ${old} of the managed Redis is taken by another program; starting it on port ${port} instead (restart workers still connected to ${old})`,
      ]);
    } finally {
      await new Promise((done) => squatter.close(done));
    }
  });

  it('its port taken by another Redis (another data folder): that one is not used', async () => {
    const config = { DATA_DIR: join(tmp, 'foreign') };
    const first = await ensureRedis(config);
    const old = portOf(first.url);
    await stopManagedRedis(config);
    const other = await startRedisServer({ dir: join(tmp, 'other-redis'), port: old });
    try {
      const moved = await ensureRedis(config, { warn: () => {} });
      expect(portOf(moved.url)).not.toBe(old);
      expect(moved).toMatchObject({ started: true, movedFrom: old });
    } finally {
      await other.stop();
    }
  });

  it('a worker on the managed Redis: `dispatch redis --stop`, then any command, and the same worker runs a new job', {
    timeout: 60_000,
  }, async () => {
    const dataDir = join(tmp, 'e2e');
    const managed = await ensureRedis({ DATA_DIR: dataDir });
    const config = testConfig();
    const worker = await testWorker(managed.url, config);
    const ctx = testContext(managed.url, config);
    try {
      expect(await stopManagedRedis({ DATA_DIR: dataDir })).toBe(true);
      await waitFor('the worker to see Redis gone', async () => worker.redisLost());
      expect(await portIsFree(portOf(managed.url))).toBe(true);
      // What every command does first.
      const again = await ensureRedis({ DATA_DIR: dataDir });
      expect(again).toEqual({ ...managed, started: true });
      await waitFor('the worker back', async () => !worker.redisLost(), 10_000);
      const file = join(tmp, 'after-restart.json');
      writeFileSync(
        file,
        JSON.stringify({
          title: 'Ferry returns after the storm',
          url: 'https://news.example.com/managed/ferry',
          body: [
            'The harbour ferry returned to service on Monday after a week of storms kept it in port.',
            'Officials said the timetable would be back to normal by Wednesday, with extra sailings at the weekend.',
            '“We are glad to have it back,” said one regular passenger, who commutes across the bay every day.',
          ],
        }),
      );
      const report = await enqueueArticles(ctx, [file], {});
      expect(report.added).toHaveLength(1);
      // The only worker there is: the one started before the restart.
      await waitFor(
        'the article stored by the same worker',
        async () => (await ctx.store.countArticles()) === 1,
        20_000,
      );
    } finally {
      await ctx.close();
      await worker.close();
    }
  });
});
