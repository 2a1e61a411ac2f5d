import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../io/managed-redis.js';
import { enqueueArticles } from '../jobs/enqueue-articles.js';
import { startWorker } from '../jobs/run-worker.js';
import type { Config } from '../src/config.js';
import {
  cliEnv,
  startTestRedis,
  testConfig,
  testContext,
  testWorker,
  useTestRedis,
  waitFor,
} from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';

const SHUTDOWN_TIMEOUT_MS = 3000;
/** Past SHUTDOWN_TIMEOUT_MS, what a loaded test machine may add before the exit is seen. */
const EXIT_MARGIN_MS = 1000;

const redis = useTestRedis('shutdown');

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real `dispatch worker` process, its JSON log lines, and when and how it exited. */
interface WorkerProcess {
  child: ChildProcessWithoutNullStreams;
  lines: LogLine[];
  waitForLine(msg: string, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
}

function spawnWorker(redisUrl: string, config: Config, extra: Record<string, string> = {}): WorkerProcess {
  const env = cliEnv(redisUrl, config, {
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    LOG_LEVEL: 'info',
    ALLOW_PRIVATE_URLS: 'true',
    FETCH_TIMEOUT_MS: '60000',
    ...extra,
  });
  const child = spawn(process.execPath, [join(ROOT, 'bin/dispatch.js'), 'worker', '--queues', 'ingest'], {
    env: { ...process.env, ...env },
  });
  const lines: LogLine[] = [];
  let rest = '';
  child.stdout.on('data', (chunk) => {
    rest += chunk;
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as LogLine);
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  // Timed at "exit"; settled at "close", once its output has all been read.
  let exitedAt = 0;
  child.once('exit', () => {
    exitedAt = performance.now();
  });
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((done) =>
    child.once('close', (code, signal) => done({ code, signal, at: exitedAt })),
  );
  return {
    child,
    lines,
    exited,
    waitForLine: (msg, timeoutMs = 30_000) =>
      waitFor(
        `log line "${msg}" (stderr: ${stderr.slice(-500)})`,
        async () => lines.find((l) => l.msg.startsWith(msg)),
        timeoutMs,
      ),
  };
}

/** A slow news site: it holds each page until told to answer, so a job stays in flight. */
function startSlowSite() {
  const held: ServerResponse[] = [];
  const para = (n: number) =>
    `<p>Paragraph ${n} of a story about the harbour wall: the council met, argued about money, and agreed to repair the wall before the winter storms arrive in the bay.</p>`;
  const page = `<html><head><title>Harbour wall repairs agreed</title></head><body><article><h1>Harbour wall repairs agreed</h1>${para(1)}${para(2)}${para(3)}</article></body></html>`;
  let answerAtOnce = false;
  const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  const server = createServer((_req, res) => {
    if (answerAtOnce) answer(res);
    else held.push(res);
  });
  return {
    held,
    async listen(): Promise<string> {
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    /** Answers the pages held so far. */
    release() {
      for (const res of held.splice(0)) answer(res);
    },
    /** From now on, answers every request at once. */
    answerAll() {
      answerAtOnce = true;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** Enqueues one article by URL (fetched by the worker), returning its job id. */
async function enqueueUrl(redisUrl: string, config: Config, url: string): Promise<string> {
  const ctx = testContext(redisUrl, config);
  try {
    const report = await enqueueArticles(ctx, [url], {});
    const [job] = await ctx.queues.ingest.getJobs(['waiting', 'active', 'delayed']);
    expect(report.added).toHaveLength(1);
    return String(job?.id);
  } finally {
    await ctx.close();
  }
}

describe('dispatch worker and SIGTERM (real redis-server, real processes)', () => {
  let site: ReturnType<typeof startSlowSite>;
  let base = '';
  beforeEach(async () => {
    site = startSlowSite();
    base = await site.listen();
  });
  afterEach(async () => {
    await site.close();
  });

  it('Redis gone, no job in flight: one SIGTERM ends it, with exit code 0, well within SHUTDOWN_TIMEOUT_MS', async () => {
    const server = await startTestRedis();
    const worker = spawnWorker(server.url, testConfig());
    try {
      await worker.waitForLine('worker ready');
      await server.stop();
      await worker.waitForLine('redis connection lost', 10_000);
      const signalled = performance.now();
      worker.child.kill('SIGTERM');
      const exit = await worker.exited;
      const ms = exit.at - signalled;
      console.info(`exit after SIGTERM, Redis down, nothing in flight: ${Math.round(ms)} ms`);
      expect(exit.code).toBe(0);
      expect(ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
    } finally {
      worker.child.kill('SIGKILL');
      await server.cleanup();
    }
  });

  it('Redis gone with a job in flight: one SIGTERM ends it by SHUTDOWN_TIMEOUT_MS, exit code 1, the job left to stall recovery', async () => {
    const server = await startTestRedis();
    const config = testConfig({ ALLOW_PRIVATE_URLS: 'true' });
    const worker = spawnWorker(server.url, config);
    try {
      await worker.waitForLine('worker ready');
      await enqueueUrl(server.url, config, `${base}/redis-down`);
      await waitFor('the page requested', async () => site.held.length > 0);
      await server.stop();
      await worker.waitForLine('redis connection lost', 10_000);
      const signalled = performance.now();
      worker.child.kill('SIGTERM');
      const exit = await worker.exited;
      const ms = exit.at - signalled;
      console.info(`exit after SIGTERM, Redis down, a job in flight: ${Math.round(ms)} ms`);
      expect(exit.code).toBe(1);
      expect(ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
      const left = worker.lines.find((l) => l.msg.startsWith('closed with 1 job(s) still in flight'));
      expect(left?.msg).toMatch(/stall recovery/);
      expect(left).toMatchObject({ redisLost: true, abandoned: [expect.stringMatching(/^ingest:/)] });
    } finally {
      worker.child.kill('SIGKILL');
      await server.cleanup();
    }
  });

  it('Redis up, a job in flight that finishes in time: it completes, then the worker exits 0', async () => {
    const config = testConfig({ ALLOW_PRIVATE_URLS: 'true' });
    const worker = spawnWorker(redis.url, config);
    try {
      await worker.waitForLine('worker ready');
      // A first article warms a parsing thread: a cold one starting from the TypeScript sources
      // on a busy machine can take longer than the second a CPU step gets during shutdown.
      await enqueueUrl(redis.url, config, `${base}/warm-up`);
      await waitFor('the warm-up page requested', async () => site.held.length > 0);
      site.release();
      await worker.waitForLine('job done');
      const jobId = await enqueueUrl(redis.url, config, `${base}/finishes`);
      await waitFor('the page requested', async () => site.held.length > 0);
      const signalled = performance.now();
      worker.child.kill('SIGTERM');
      await worker.waitForLine('finishing the jobs in flight');
      await sleep(1000);
      site.release();
      const exit = await worker.exited;
      const ms = exit.at - signalled;
      expect(exit.code).toBe(0);
      expect(ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
      const msgs = worker.lines.map((l) => l.msg);
      expect(msgs.lastIndexOf('job done')).toBeGreaterThan(
        msgs.indexOf('finishing the jobs in flight (signal again to exit at once)'),
      );
      expect(msgs.indexOf('worker stopped')).toBeGreaterThan(msgs.lastIndexOf('job done'));
      const ctx = testContext(redis.url, config);
      try {
        expect(await ctx.queues.ingest.getJobState(jobId)).toBe('completed');
        expect(await ctx.store.countArticles()).toBe(2);
      } finally {
        await ctx.close();
      }
    } finally {
      worker.child.kill('SIGKILL');
    }
  });

  it('Redis up, a job that outlives SHUTDOWN_TIMEOUT_MS: exit code 1 in time, and another worker runs the job after the stall check', async () => {
    const lock = { JOB_LOCK_MS: '1500', JOB_STALLED_INTERVAL_MS: '500' };
    const config = testConfig({ ALLOW_PRIVATE_URLS: 'true', ...lock });
    const worker = spawnWorker(redis.url, config, lock);
    try {
      await worker.waitForLine('worker ready');
      const jobId = await enqueueUrl(redis.url, config, `${base}/outlives`);
      await waitFor('the page requested', async () => site.held.length > 0);
      const signalled = performance.now();
      worker.child.kill('SIGTERM');
      const exit = await worker.exited;
      expect(exit.code).toBe(1);
      expect(exit.at - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
      expect(worker.lines.some((l) => l.msg.startsWith('closed with 1 job(s) still in flight'))).toBe(true);

      // The site answers again only now that the first worker has gone.
      site.answerAll();
      const next = await testWorker(redis.url, config);
      const ctx = testContext(redis.url, config);
      try {
        await waitFor('the job run again', async () => (await ctx.queues.ingest.getJobState(jobId)) === 'completed');
        expect(await ctx.store.countArticles()).toBe(1);
      } finally {
        await ctx.close();
        await next.close();
      }
    } finally {
      worker.child.kill('SIGKILL');
    }
  });

  it('a second signal during shutdown exits at once', async () => {
    const config = testConfig({ ALLOW_PRIVATE_URLS: 'true' });
    const worker = spawnWorker(redis.url, config);
    try {
      await worker.waitForLine('worker ready');
      await enqueueUrl(redis.url, config, `${base}/second-signal`);
      await waitFor('the page requested', async () => site.held.length > 0);
      worker.child.kill('SIGTERM');
      await worker.waitForLine('finishing the jobs in flight');
      const signalled = performance.now();
      worker.child.kill('SIGTERM');
      const exit = await worker.exited;
      expect(exit.code).toBe(130);
      expect(exit.at - signalled).toBeLessThan(EXIT_MARGIN_MS);
    } finally {
      worker.child.kill('SIGKILL');
    }
  });
});

describe('a worker through a 30 s Redis outage (real redis-server)', () => {
  it('logs one "lost" and one "back" (a handful of lines in all), then works a job enqueued after', {
    timeout: 80_000,
  }, async () => {
    const first = await startTestRedis();
    let server: RedisServer = first;
    const lines: LogLine[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
    const config = testConfig();
    // Every queue: "per process", not per queue.
    const worker = await startWorker({ config, redisUrl: first.url, logger, templatesDir: join(ROOT, 'templates') });
    const ctx = testContext(first.url, config);
    try {
      const from = lines.length;
      await server.stop();
      await sleep(30_000);
      server = await startRedisServer({ dir: first.dir, port: first.port });
      await waitFor('back', async () => lines.some((l) => l.msg === 'redis connection back'), 15_000);
      await sleep(2000); // anything logged late still counts
      const outage = lines.slice(from);
      console.info(`log lines during the 30 s outage: ${outage.length}: ${outage.map((l) => l.msg).join(' | ')}`);
      expect(outage.length).toBeLessThanOrEqual(5);
      const lost = outage.filter((l) => l.msg === 'redis connection lost; retrying');
      const back = outage.filter((l) => l.msg === 'redis connection back');
      expect(lost).toHaveLength(1);
      expect(lost[0]?.err).toEqual(expect.any(String));
      expect(back).toHaveLength(1);
      expect(back[0]?.downMs).toBeGreaterThanOrEqual(29_000);
      expect(worker.redisLost()).toBe(false);

      const file = join(first.dir, 'after-outage.json');
      writeFileSync(
        file,
        JSON.stringify({
          title: 'Ferry returns after the storm',
          url: 'https://news.example.com/outage/ferry',
          body: [
            'The harbour ferry returned to service on Monday after a week of storms kept it in port.',
            'Officials said the timetable would be back to normal by Wednesday, with extra sailings at the weekend.',
            '“We are glad to have it back,” said one regular passenger, who commutes across the bay every day.',
          ],
        }),
      );
      await enqueueArticles(ctx, [file], {});
      await waitFor('the article stored', async () => (await ctx.store.countArticles()) === 1, 20_000);
    } finally {
      await ctx.close();
      await worker.close();
      await server.stop();
      rmSync(first.dir, { recursive: true, force: true });
    }
  });
});
