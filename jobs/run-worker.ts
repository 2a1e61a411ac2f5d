import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { DelayedError, type Job, type Processor, WaitingError, Worker } from 'bullmq';
import type { Logger } from '../io/logger.js';
import { createMailer, type Mailer } from '../io/mailer.js';
import { connectRedis, endParked, isParked } from '../io/redis-connection.js';
import { createSendLedger } from '../io/send-ledger.js';
import { createStore } from '../io/store.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import type { Config } from '../src/config.js';
import { DispatchError } from '../src/errors.js';
import { CpuPoolClosedError, type CpuPoolStats, createCpuPool } from './cpu-pool.js';
import { feedsJob, marksFeedItems } from './feeds.job.js';
import { ingestJob } from './ingest.job.js';
import { toJobError } from './job-error.js';
import { newsletterJob } from './newsletter.job.js';
import { closeQueues, createQueues, QUEUE_NAMES, type QueueName, queuePrefix } from './queues.js';
import { delayForRetryAfter } from './retry-after.js';
import { batchJob, sendJob } from './send.job.js';
import { socialJob } from './social.job.js';

/** A worker idle this long while its queue has waiting jobs is replaced. */
const IDLE_RESTART_MS = 10_000;
const IDLE_CHECK_MS = 5_000;
/** On close, CPU work in flight gets this long to finish before its thread is stopped. */
const CPU_CLOSE_GRACE_MS = 1_000;

export interface WorkerOptions {
  config: Config;
  redisUrl: string;
  logger: Logger;
  /** Which queues this process works. @defaultValue all of them */
  queues?: readonly QueueName[];
  /** Jobs at once, per queue. @defaultValue config.WORKER_CONCURRENCY */
  concurrency?: number;
  templatesDir: string;
  /** The clock; tests may pass their own. */
  now?: () => Date;
  /** Threads for the jobs' CPU work (parse, summarize, render). @defaultValue concurrency, at most the cores available */
  cpuThreads?: number;
  /** Modules whose `cpuTasks` add to or replace the CPU tasks in every thread (tests). */
  cpuTaskModules?: readonly URL[];
}

export interface RunningWorker {
  workers: Worker[];
  /** The CPU thread pool's threads, busy ones and queue. */
  cpuStats(): CpuPoolStats;
  /**
   * Waits for the jobs in flight, then disconnects. Work in a CPU thread gets a second to finish;
   * then its thread is stopped and its job goes back to the queue, unchanged, for the next worker.
   */
  close(): Promise<void>;
}

/**
 * Closes a BullMQ worker, waiting for its jobs in flight. Its close waits for the blocking
 * connection's "end", which never comes when that connection was waiting to reconnect (BullMQ's
 * own blocking-read watchdog drops it when the event loop stalls under load): see `isParked`.
 * While the close waits, a parked blocking client is ended as ioredis would have ended it.
 */
export async function closeWorker(worker: Worker, force = false): Promise<void> {
  const closing = worker.close(force);
  // Not awaited: with Redis unreachable the blocking client may never finish initializing.
  let client: object | undefined;
  worker.backend.blockingClient?.then(
    (c) => {
      client = c;
    },
    () => {},
  );
  const guard = setInterval(() => {
    if (client && isParked(client)) endParked(client);
  }, 200);
  try {
    await closing;
  } finally {
    clearInterval(guard);
  }
}

/** A processor that hands each job to the one for its name (a queue may carry several kinds). */
function byName(processors: Record<string, Processor>): Processor {
  return async (job, token) => {
    const processor = processors[job.name];
    if (!processor) throw new DispatchError('E_JOB_PAYLOAD', `no processor for "${job.name}" jobs`);
    return await processor(job, token);
  };
}

/** The scheduler id of a feed: stable per URL, so every worker upserts the same one. */
export function feedSchedulerId(url: string): string {
  return `feed-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}

/**
 * Starts BullMQ workers for the queues and upserts the schedulers (the weekly issue, each feed).
 * Safe to run in many processes on many machines against one Redis: schedulers are upserted by
 * fixed ids, jobs are claimed by one worker each, and all state is in Redis.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const names = options.queues ?? QUEUE_NAMES;
  let lastRedisError = '';
  const connect = () => {
    const redis = connectRedis(options.redisUrl, 'worker', (error) => {
      // Once per distinct error, not once per reconnection attempt.
      if (error.message !== lastRedisError) logger.warn({ err: error.message }, 'redis connection error; retrying');
      lastRedisError = error.message;
    });
    redis.on('ready', () => {
      if (lastRedisError) logger.info('redis connection back');
      lastRedisError = '';
    });
    return redis;
  };
  // BullMQ defines its ~50 Lua scripts on the connection it is given, and ioredis copies every one
  // into each pipeline made on that connection: Dispatch's own reads and writes (several per
  // message of a list send) go through a connection of their own.
  const connection = connect();
  const data = connect();
  const store = createStore(data, config.REDIS_PREFIX);
  const queues = createQueues(connection, config);
  const concurrency = options.concurrency ?? config.WORKER_CONCURRENCY;
  // Parsing, summarizing and rendering run in worker threads, so that however long they take this
  // thread keeps renewing the jobs' locks and serving the other queues. More threads than cores
  // would only share the same cores.
  const cpuThreads = options.cpuThreads ?? Math.min(concurrency, availableParallelism());
  const cpu = createCpuPool({
    size: cpuThreads,
    timeoutMs: config.JOB_TIMEOUT_MS,
    taskModules: options.cpuTaskModules,
  });

  let mailer: Mailer | undefined;
  const getMailer = () => {
    mailer ??= createMailer(config.SMTP_URL, { dkim: config });
    return mailer;
  };
  const processors: Record<QueueName, Processor> = {
    send: byName({
      send: sendJob({ store, config, mailer: getMailer }),
      batch: batchJob({
        store,
        ledger: createSendLedger(data, config.REDIS_PREFIX),
        subscribers: createSubscriberStore(data, config.REDIS_PREFIX),
        config,
        mailer: getMailer,
        now,
      }),
    }),
    ingest: marksFeedItems(store, ingestJob({ store, queues, config, cpu })),
    social: socialJob({ store, config, now, cpu }),
    // MJML (some 60 MB) loads only in a CPU thread, on the first render.
    newsletter: newsletterJob({ store, config, templatesDir: options.templatesDir, now, cpu }),
    feeds: feedsJob({ store, queues, config, now, cpu }),
  };

  const createWorker = (name: QueueName): Worker => {
    const processor = processors[name];
    const worker = new Worker(
      name,
      async (job: Job, token?: string) => {
        try {
          return await processor(job, token);
        } catch (error) {
          if (error instanceof DelayedError) throw error;
          if (error instanceof CpuPoolClosedError && token) {
            // Stopped by this worker's shutdown, not by anything in the job: back to the queue
            // without spending an attempt.
            await job.moveToWait(token);
            throw new WaitingError();
          }
          throw (await delayForRetryAfter(job, token, error)) ?? toJobError(error);
        }
      },
      {
        connection,
        prefix: queuePrefix(config),
        concurrency,
        lockDuration: config.JOB_LOCK_MS,
        stalledInterval: config.JOB_STALLED_INTERVAL_MS,
        // A job whose worker died is run again, up to as many times as a job is tried at all
        // (BullMQ's default of once would fail a batch whose worker dies twice).
        maxStalledCount: config.JOB_ATTEMPTS,
      },
    );
    const health = { inFlight: 0, lastActivity: Date.now() };
    healthOf.set(worker, health);
    const touch = (delta: number) => {
      health.inFlight = Math.max(0, health.inFlight + delta);
      health.lastActivity = Date.now();
    };
    worker.on('active', () => touch(1));
    worker.on('drained', () => touch(0));
    worker.on('error', (error) => logger.error({ queue: name, err: error.message }, 'worker error'));
    worker.on('failed', (job, error) => {
      touch(-1);
      logger.warn({ queue: name, jobId: job?.id, attempt: job?.attemptsMade, reason: error.message }, 'job failed');
    });
    worker.on('completed', (job, result) => {
      touch(-1);
      logger.info({ queue: name, jobId: job.id, result }, 'job done');
    });
    worker.on('stalled', (jobId) => logger.warn({ queue: name, jobId }, 'job stalled; it will run again'));
    return worker;
  };
  const healthOf = new WeakMap<Worker, { inFlight: number; lastActivity: number }>();
  const workers = names.map(createWorker);

  // BullMQ leaves reconnection to ioredis, and a blocking client can stay parked after a Redis
  // outage (taskforcesh/bullmq#4585, #2964). Its maintainers' advice: a worker that idles while
  // jobs wait, with Redis back, is replaced by a new one. Nothing is lost: it holds no job.
  const watchdog = setInterval(async () => {
    for (const [i, worker] of workers.entries()) {
      const health = healthOf.get(worker);
      const name = names[i] as QueueName;
      if (!health || health.inFlight > 0 || Date.now() - health.lastActivity < IDLE_RESTART_MS) continue;
      if (connection.status !== 'ready') continue;
      const waiting = await queues[name].getWaitingCount().catch(() => 0);
      if (waiting === 0) {
        health.lastActivity = Date.now();
        continue;
      }
      logger.warn({ queue: name, waiting }, 'worker idle while jobs wait; replacing it');
      workers[i] = createWorker(name);
      await closeWorker(worker, true).catch(() => {});
    }
  }, IDLE_CHECK_MS);
  watchdog.unref();

  if (names.includes('newsletter')) {
    await queues.newsletter.upsertJobScheduler(
      'weekly-newsletter',
      { pattern: config.NEWSLETTER_CRON, tz: config.TZ },
      { name: 'newsletter', data: {} },
    );
  }
  if (names.includes('feeds')) {
    for (const url of config.FEEDS) {
      await queues.feeds.upsertJobScheduler(
        feedSchedulerId(url),
        { every: config.FEED_POLL_MINUTES * 60_000 },
        { name: 'feeds', data: { url } },
      );
    }
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  logger.info({ queues: names, concurrency, cpuThreads }, 'worker ready');

  return {
    workers,
    cpuStats: () => cpu.stats(),
    async close() {
      clearInterval(watchdog);
      // The workers stop taking jobs first; then the threads stop, and the jobs waiting on them
      // are put back (see the processor above) before the workers finish closing.
      const closing = Promise.all(workers.map((w) => closeWorker(w)));
      await cpu.close(CPU_CLOSE_GRACE_MS);
      await closing;
      mailer?.close();
      await closeQueues(queues);
      for (const redis of [connection, data]) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
