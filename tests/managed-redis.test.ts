import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRedis, pingRedis, startRedisServer, stopManagedRedis } from '../io/managed-redis.js';
import { runCli } from './helpers/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-redis-'));
afterAll(async () => {
  await stopManagedRedis({ DATA_DIR: join(tmp, 'managed') });
  rmSync(tmp, { recursive: true, force: true });
});

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
});
