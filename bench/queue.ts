// npm run bench:queue: 2,000 articles (the dev set repeated, each copy with its own URL and so its
// own id) through ingest and social by one `dispatch worker` process, beside a no-op BullMQ worker
// draining as many jobs in the same run. Prints both rates, the ratio, and the worker's peak RSS.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startRedisServer } from '../io/managed-redis.js';
import { queuePrefix } from '../jobs/queues.js';
import { loadConfig } from '../src/config.js';

const root = resolve(import.meta.dirname, '..');
const devSet = resolve(root, '../shared/data/dev-summaries.jsonl');
const ARTICLES = Number(process.env.ARTICLES ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);

function payloads(): { input: string; format: 'json'; source: string; receivedAt: string }[] {
  const lines = existsSync(devSet)
    ? readFileSync(devSet, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { article: string; url: string })
    : [
        {
          article: readFileSync(join(root, 'examples/harbour-ferry-returns.txt'), 'utf8'),
          url: 'https://news.example.com/ferry',
        },
      ];
  const usable = lines.filter((l) => l.article.split(/\s+/).length > 30);
  const receivedAt = new Date().toISOString();
  return Array.from({ length: ARTICLES }, (_, i) => {
    const line = usable[i % usable.length] as { article: string; url: string };
    const title = line.article.split(/\s+/).slice(0, 10).join(' ');
    const input = JSON.stringify({ title, body: line.article, url: `${line.url}?copy=${i}` });
    return { input, format: 'json', source: `dev ${i}`, receivedAt };
  });
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function drain(
  queue: Queue,
  done: () => Promise<boolean>,
  jobs: { name: string; data: unknown }[],
): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < jobs.length; i += 500) await queue.addBulk(jobs.slice(i, i + 500));
  while (!(await done())) await sleep(25);
  return (performance.now() - start) / 1000;
}

const dir = mkdtempSync(join(tmpdir(), 'dispatch-bench-queue-'));
const redis = await startRedisServer({ dir });
const children: ChildProcess[] = [];
try {
  const data = payloads();
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });

  // Baseline: a no-op worker, the same number of jobs of the same size (twice: ingest + social).
  const noopPrefix = 'noop';
  const noop = fork(join(root, 'bench/noop-worker.ts'), [redis.url, noopPrefix, 'noop', String(CONCURRENCY)], {
    execArgv: ['--import', 'tsx'],
    stdio: 'ignore',
  });
  children.push(noop);
  await new Promise((ready) => noop.once('message', ready));
  const noopQueue = new Queue('noop', { connection, prefix: noopPrefix });
  const noopJobs = [...data, ...data].map((d) => ({
    name: 'noop',
    data: d,
    opts: { removeOnComplete: { count: 1000 } },
  }));
  const noopSeconds = await drain(
    noopQueue,
    async () => Object.values(await noopQueue.getJobCounts('wait', 'active', 'delayed')).every((n) => n === 0),
    noopJobs,
  );
  noop.kill('SIGTERM');

  // Dispatch: one `dispatch worker` process on ingest and social.
  const config = loadConfig({ REDIS_PREFIX: 'bench' });
  const worker = spawn(
    process.execPath,
    [join(root, 'bin/dispatch.js'), 'worker', '--queues', 'ingest,social', '--concurrency', String(CONCURRENCY)],
    {
      env: { ...process.env, REDIS_URL: redis.url, REDIS_PREFIX: 'bench', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  children.push(worker);
  const ingest = new Queue('ingest', { connection, prefix: queuePrefix(config) });
  const social = new Queue('social', { connection, prefix: queuePrefix(config) });
  await sleep(1500); // the worker starting up
  const jobs = data.map((d, i) => ({
    name: 'ingest',
    data: d,
    opts: { jobId: `bench-${i}`, removeOnComplete: { count: 1000 } },
  }));
  const seconds = await drain(
    ingest,
    async () => {
      const stored = await connection.zcard('bench:articles:published');
      const socialLeft = await social.getJobCounts('wait', 'active', 'delayed');
      return stored === ARTICLES && Object.values(socialLeft).every((n) => n === 0);
    },
    jobs,
  );
  const rss = peakRssMb(worker.pid as number);
  const failedJobs = await ingest.getFailed();
  const failed = failedJobs.length;
  for (const job of failedJobs.slice(0, 3)) console.log(`failed: ${job.data.source}: ${job.failedReason}`);
  worker.kill('SIGTERM');

  const noopRate = (2 * ARTICLES) / noopSeconds;
  const rate = (2 * ARTICLES) / seconds;
  console.log(`${ARTICLES} articles, concurrency ${CONCURRENCY}, one worker process each, redis-server ${redis.url}`);
  console.log(`no-op BullMQ worker:          ${noopRate.toFixed(0)} jobs/s`);
  console.log(
    `dispatch ingest + social:     ${rate.toFixed(0)} jobs/s (${(ARTICLES / seconds).toFixed(0)} articles/s), ${failed} failed`,
  );
  console.log(`ratio dispatch / no-op:       ${(rate / noopRate).toFixed(2)}`);
  console.log(`dispatch worker peak RSS:     ${rss.toFixed(0)} MB`);
  await Promise.all([noopQueue.close(), ingest.close(), social.close()]);
  await connection.quit();
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
