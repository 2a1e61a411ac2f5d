import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { type CommandContext, contextOn } from '../../cli/context.js';
import { type RedisServer, startRedisServer } from '../../io/managed-redis.js';
import { connectRedis } from '../../io/redis-connection.js';
import { type RunningWorker, startWorker } from '../../jobs/run-worker.js';
import { type Config, loadConfig } from '../../src/config.js';
import { ROOT } from './run-cli.js';

export const silent = pino({ level: 'silent' });

/** A real redis-server for one test file, in its own temporary folder. */
export async function startTestRedis(): Promise<RedisServer & { dir: string; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dispatch-redis-test-'));
  const server = await startRedisServer({ dir });
  return {
    ...server,
    dir,
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For a test file: a real redis-server started before its tests and stopped after, and a
 * temporary folder removed after.
 */
export function useTestRedis(name: string): { readonly url: string; tmp: string } {
  const tmp = mkdtempSync(join(tmpdir(), `dispatch-${name}-`));
  let server: Awaited<ReturnType<typeof startTestRedis>> | undefined;
  beforeAll(async () => {
    server = await startTestRedis();
  });
  afterAll(async () => {
    await server?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });
  return {
    get url() {
      if (!server) throw new Error('the test redis-server is not started yet');
      return server.url;
    },
    tmp,
  };
}

/** The environment that points a `dispatch` command at a test's Redis and settings. */
export function cliEnv(redisUrl: string, config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL: redisUrl, REDIS_PREFIX: config.REDIS_PREFIX, SMTP_URL: config.SMTP_URL, ...extra };
}

let counter = 0;
/** Test settings: a unique key prefix per test (as BullMQ's own suite does), short retries and stall checks. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  counter++;
  return loadConfig({
    REDIS_PREFIX: `t${process.pid}x${counter}x${Date.now().toString(36)}`,
    JOB_BACKOFF_MS: '100',
    JOB_ATTEMPTS: '3',
    JOB_LOCK_MS: '2000',
    JOB_STALLED_INTERVAL_MS: '500',
    WORKER_CONCURRENCY: '4',
    ...overrides,
  });
}

/** What the CLI commands get from openContext, built on a given Redis and configuration. */
export function testContext(redisUrl: string, config: Config): CommandContext {
  return contextOn(connectRedis(redisUrl, 'worker'), redisUrl, config);
}

export function testWorker(
  redisUrl: string,
  config: Config,
  extra: { now?: () => Date; templatesDir?: string } = {},
): Promise<RunningWorker> {
  return startWorker({ config, redisUrl, logger: silent, templatesDir: join(ROOT, 'templates'), ...extra });
}

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}
