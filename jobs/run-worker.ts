import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, type Job, type Processor, type Queue, RateLimitError, WaitingError, Worker } from 'bullmq';
import { createIssueEdits } from '../io/issue-edits.js';
import { createIssueFlow } from '../io/issue-flow.js';
import type { Logger } from '../io/logger.js';
import { createMailer, type Mailer } from '../io/mailer.js';
import { mastodonCharacterLimit } from '../io/mastodon-instance.js';
import { createPostPlanStore } from '../io/post-plan.js';
import type { Publisher } from '../io/publishers/publisher.js';
import { connectRedis, createRedisHealth, endParked, isParked } from '../io/redis-connection.js';
import { createSendLedger } from '../io/send-ledger.js';
import { createStore } from '../io/store.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import type { Config } from '../src/config.js';
import { DispatchError } from '../src/errors.js';
import { PUBLISHABLE_NETWORKS, type PublishableNetwork } from '../src/social/network-post.js';
import type { Context } from './context.js';
import { CpuPoolClosedError, type CpuPoolStats, createCpuPool } from './cpu-pool.js';
import type { CpuRunner } from './cpu-tasks.js';
import { editorNoticeJob } from './editor-notice.job.js';
import { feedsJob, marksFeedItems } from './feeds.job.js';
import { ingestJob } from './ingest.job.js';
import { toJobError } from './job-error.js';
import { listSendJob } from './list-send.job.js';
import { newsletterJob } from './newsletter.job.js';
import { postJob } from './post.job.js';
import {
  closeQueues,
  createQueues,
  EXPIRE_PENDING_EVERY_MS,
  postQueueName,
  QUEUE_NAMES,
  type QueueName,
  queuePrefix,
} from './queues.js';
import { delayForRetryAfter } from './retry-after.js';
import { batchJob, sendJob } from './send.job.js';
import { expirePendingJob, signupMailJob } from './signup-mail.job.js';
import { socialJob } from './social.job.js';

/** A worker idle this long while its queue has waiting jobs is replaced. */
const IDLE_RESTART_MS = 10_000;
const IDLE_CHECK_MS = 5_000;
/**
 * On close, a CPU step gets this long to finish, from the signal or from its own start if later
 * (a job that was fetching when the signal came still gets its parse); then the threads stop.
 */
const CPU_CLOSE_GRACE_MS = 1_000;
/** Before the close's deadline, the threads stop this long early, so their jobs can go back to the queue. */
const CPU_STOP_RESERVE_MS = 500;
/** While closing with Redis lost, how often to look whether any job is still in flight. */
const CLOSE_POLL_MS = 100;

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
  /**
   * Who posts to each network. @defaultValue `createPublishers(config)`, made on the first post job
   * (the networks whose credentials are all set)
   */
  publishers?: Partial<Record<PublishableNetwork, Publisher>>;
}

/** A post queue's worker takes at most POST_MAX_PER_HOUR jobs per this long (a thread is one job). */
const POST_LIMIT_WINDOW_MS = 3_600_000;

export interface WorkerCloseOptions {
  /**
   * Longest wait for the jobs in flight and a clean disconnect; then the connections are dropped
   * and what is still in flight is left to BullMQ's stall recovery. @defaultValue config.SHUTDOWN_TIMEOUT_MS
   */
  timeoutMs?: number;
}

export interface WorkerCloseReport {
  /** True when every job in flight finished (or went back to its queue) and all closed in time. */
  clean: boolean;
  /** The jobs (`queue:id`) still running, or whose outcome had not reached Redis, when the wait ended. */
  abandoned: string[];
  /** Whether Redis was lost when the wait ended. */
  redisLost: boolean;
}

export interface RunningWorker {
  workers: Worker[];
  /** The CPU thread pool's threads, busy ones and queue. */
  cpuStats(): CpuPoolStats;
  /** True while the process has lost its Redis (between the "lost" and "back" log lines). */
  redisLost(): boolean;
  /**
   * Stops taking jobs, waits for the jobs in flight, then disconnects. A CPU step gets a second to
   * finish, from the call or from its own start if later; then the threads are stopped and the
   * jobs waiting on them go back to the queue, unchanged, for the next worker. Returns at the
   * latest after `timeoutMs`, also without Redis (BullMQ's close would wait for it forever), and
   * at once when Redis is lost and no job is in flight.
   */
  close(options?: WorkerCloseOptions): Promise<WorkerCloseReport>;
}

/**
 * Closes a BullMQ worker, waiting for its jobs in flight. Its close waits for the blocking
 * connection's "end", which never comes when that connection was waiting to reconnect (BullMQ's
 * own blocking-read watchdog drops it when the event loop stalls under load): see `isParked`.
 * While the close waits, a parked blocking client is ended as ioredis would have ended it.
 */
export async function closeWorker(worker: Worker, force = false, signal?: AbortSignal): Promise<void> {
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
  // Aborted by a caller that has stopped waiting: the guard goes, the close is left to itself.
  const abandoned = new Promise<void>((done) => signal?.addEventListener('abort', () => done(), { once: true }));
  try {
    await Promise.race([closing, abandoned]);
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

/**
 * Upserts a job scheduler. Workers starting at the same moment upsert the same one, and BullMQ
 * may then refuse the later call because the earlier one has just added the same next job
 * ("job ID already exists"): the scheduler and its next run are there, which is all either wanted.
 */
async function upsertScheduler(
  queue: Queue,
  id: string,
  repeat: Parameters<Queue['upsertJobScheduler']>[1],
  template: Parameters<Queue['upsertJobScheduler']>[2],
): Promise<void> {
  try {
    await queue.upsertJobScheduler(id, repeat, template);
  } catch (error) {
    if (!/job ID already exists/i.test((error as Error).message)) throw error;
    if (!(await queue.getJobScheduler(id))) throw error;
  }
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
  // With posting off no post job is taken (any left wait, untouched, until it is on again): the
  // post queues get no worker of their own unless asked for by name.
  const names = options.queues ?? QUEUE_NAMES.filter((name) => config.SOCIAL_POSTING || !name.startsWith('post-'));
  // Every connection's errors, and the workers' and queues' echoes of them, go to one health
  // state: one line when Redis is lost and one when it is back, however many queues and retries.
  const health = createRedisHealth(logger);
  const clients = new Set<object>();
  const follow = (client: object) => {
    clients.add(client);
    health.watch(client);
  };
  const connect = () => {
    const redis = connectRedis(options.redisUrl, 'worker');
    follow(redis);
    return redis;
  };
  // BullMQ defines its ~50 Lua scripts on the connection it is given, and ioredis copies every one
  // into each pipeline made on that connection: Dispatch's own reads and writes (several per
  // message of a list send) go through a connection of their own.
  const connection = connect();
  const data = connect();
  const store = createStore(data, config.REDIS_PREFIX);
  const queues = createQueues(connection, config, (error) => {
    if (!health.report(error)) logger.error({ err: error.message }, 'queue error');
  });
  const concurrency = options.concurrency ?? config.WORKER_CONCURRENCY;
  // Parsing, summarizing and rendering run in worker threads, so that however long they take this
  // thread keeps renewing the jobs' locks and serving the other queues. More threads than cores
  // would only share the same cores.
  const cpuThreads = options.cpuThreads ?? Math.min(concurrency, availableParallelism());
  const pool = createCpuPool({
    size: cpuThreads,
    timeoutMs: config.JOB_TIMEOUT_MS,
    taskModules: options.cpuTaskModules,
  });
  // When each CPU step still running was handed to the pool: what close's grace counts from.
  const steps = new Set<{ since: number }>();
  const cpu: CpuRunner = {
    run(task, args, runOptions) {
      const step = { since: performance.now() };
      steps.add(step);
      return pool.run(task, args, runOptions).finally(() => steps.delete(step));
    },
  };
  let cpuStopping: Promise<void> | undefined;
  const stopCpu = () => {
    cpuStopping ??= pool.close(0);
    return cpuStopping;
  };

  let mailer: Mailer | undefined;
  const getMailer = () => {
    mailer ??= createMailer(config.SMTP_URL, { dkim: config });
    return mailer;
  };
  const ledger = createSendLedger(data, config.REDIS_PREFIX);
  const subscribers = createSubscriberStore(data, config.REDIS_PREFIX);
  const plans = createPostPlanStore(data, config.REDIS_PREFIX);
  // Made on the first post job, not at start: a worker of other queues needs no credentials.
  // (Their module, three API clients, loads then too: about a second.)
  let publishers = options.publishers;
  const publisherOf = async (network: PublishableNetwork) => {
    if (!publishers && config.SOCIAL_POSTING) {
      const { createPublishers } = await import('../io/publishers/index.js');
      publishers ??= createPublishers(config, { onWarning: (message) => logger.warn({ network }, message) });
    }
    return publishers?.[network];
  };
  // The Mastodon instance's character limit, read once (again after a failure: 500 meanwhile).
  let mastodonLimit: Promise<number | undefined> | undefined;
  const instanceLimit = () => {
    if (!config.MASTODON_URL) return Promise.resolve(undefined);
    mastodonLimit ??= mastodonCharacterLimit(config.MASTODON_URL, { timeoutMs: config.FETCH_TIMEOUT_MS }).catch(
      (error: Error) => {
        mastodonLimit = undefined;
        logger.warn({ err: error.message }, 'Mastodon instance limit unknown; composing for 500 characters');
        return undefined;
      },
    );
    return mastodonLimit;
  };
  // What the weekly loop's operations work on, as a command's context does: this worker's own
  // connection, store and queues (closed with the worker, not by the loop).
  const loopCtx: Context = { config, redisUrl: options.redisUrl, redis: data, store, queues, close: async () => {} };
  const processors: Record<QueueName, Processor> = {
    send: byName({
      send: sendJob({ store, config, mailer: getMailer, flow: createIssueFlow(data, config.REDIS_PREFIX) }),
      'list-send': listSendJob({ ctx: loopCtx, now, log: logger, cpu }),
      'editor-notice': editorNoticeJob({ config, mailer: getMailer }),
      batch: batchJob({ store, ledger, subscribers, config, mailer: getMailer, now }),
      'signup-mail': signupMailJob({
        store,
        ledger,
        subscribers,
        config,
        mailer: getMailer,
        templatesDir: options.templatesDir,
        now,
        cpu,
      }),
      'expire-pending': expirePendingJob({ subscribers, now }),
    }),
    ingest: marksFeedItems(store, ingestJob({ store, queues, config, cpu })),
    social: socialJob({
      store,
      config,
      now,
      cpu,
      mastodonLimit: instanceLimit,
      planning: { config, plans, queues },
    }),
    // MJML (some 60 MB) loads only in a CPU thread, on the first render.
    newsletter: newsletterJob({
      store,
      config,
      templatesDir: options.templatesDir,
      now,
      cpu,
      edits: createIssueEdits(data, config.REDIS_PREFIX),
      loop: { ctx: loopCtx, log: logger },
    }),
    feeds: feedsJob({ store, queues, config, now, cpu }),
    ...(Object.fromEntries(
      PUBLISHABLE_NETWORKS.map((network) => [
        postQueueName(network),
        postJob({
          network,
          plans,
          queue: queues[postQueueName(network)],
          publisher: () => publisherOf(network),
          now,
        }),
      ]),
    ) as Record<`post-${PublishableNetwork}`, Processor>),
  };

  // The jobs this process has taken and whose outcome Redis does not have yet: from the start of
  // their processor to their "completed" or "failed" event (or their move back to wait or delayed).
  const inFlight = new Set<string>();
  const createWorker = (name: QueueName): Worker => {
    const processor = processors[name];
    const worker = new Worker(
      name,
      async (job: Job, token?: string) => {
        const key = `${name}:${job.id}`;
        inFlight.add(key);
        try {
          return await processor(job, token);
        } catch (error) {
          // Back to the queue (delayed, waiting or rate-limited) without spending an attempt.
          if (error instanceof DelayedError || error instanceof WaitingError || error instanceof RateLimitError) {
            inFlight.delete(key);
            throw error;
          }
          if (error instanceof CpuPoolClosedError && token) {
            // Stopped by this worker's shutdown, not by anything in the job: back to the queue
            // without spending an attempt.
            await job.moveToWait(token);
            inFlight.delete(key);
            throw new WaitingError();
          }
          const delayed = await delayForRetryAfter(job, token, error);
          if (delayed) {
            inFlight.delete(key);
            throw delayed;
          }
          throw toJobError(error);
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
        // Each network's own rate limit, across every worker of its queue.
        ...(name.startsWith('post-')
          ? { limiter: { max: config.POST_MAX_PER_HOUR, duration: POST_LIMIT_WINDOW_MS } }
          : {}),
      },
    );
    // Its blocking connection is BullMQ's copy of `connection`: followed too, once it exists.
    worker.backend.blockingClient?.then(follow, () => {});
    const activity = { lastActivity: Date.now() };
    activityOf.set(worker, activity);
    const touch = () => {
      activity.lastActivity = Date.now();
    };
    worker.on('active', touch);
    worker.on('drained', touch);
    worker.on('error', (error) => {
      if (!health.report(error)) logger.error({ queue: name, err: error.message }, 'worker error');
    });
    worker.on('failed', (job, error) => {
      touch();
      if (job) inFlight.delete(`${name}:${job.id}`);
      logger.warn({ queue: name, jobId: job?.id, attempt: job?.attemptsMade, reason: error.message }, 'job failed');
    });
    worker.on('completed', (job, result) => {
      touch();
      inFlight.delete(`${name}:${job.id}`);
      logger.info({ queue: name, jobId: job.id, result }, 'job done');
    });
    worker.on('stalled', (jobId) => logger.warn({ queue: name, jobId }, 'job stalled; it will run again'));
    return worker;
  };
  const activityOf = new WeakMap<Worker, { lastActivity: number }>();
  const busy = (name: QueueName) => [...inFlight].some((key) => key.startsWith(`${name}:`));
  const workers = names.map(createWorker);

  // BullMQ leaves reconnection to ioredis, and a blocking client can stay parked after a Redis
  // outage (taskforcesh/bullmq#4585, #2964). Its maintainers' advice: a worker that idles while
  // jobs wait, with Redis back, is replaced by a new one. Nothing is lost: it holds no job.
  const watchdog = setInterval(async () => {
    for (const [i, worker] of workers.entries()) {
      const activity = activityOf.get(worker);
      const name = names[i] as QueueName;
      if (!activity || busy(name) || Date.now() - activity.lastActivity < IDLE_RESTART_MS) continue;
      if (connection.status !== 'ready') continue;
      const waiting = await queues[name].getWaitingCount().catch(() => 0);
      if (waiting === 0) {
        activity.lastActivity = Date.now();
        continue;
      }
      logger.warn({ queue: name, waiting }, 'worker idle while jobs wait; replacing it');
      workers[i] = createWorker(name);
      await closeWorker(worker, true).catch(() => {});
    }
  }, IDLE_CHECK_MS);
  watchdog.unref();

  if (names.includes('newsletter')) {
    await upsertScheduler(
      queues.newsletter,
      'weekly-newsletter',
      { pattern: config.NEWSLETTER_CRON, tz: config.TZ },
      { name: 'newsletter', data: {} },
    );
  }
  if (names.includes('send')) {
    // Every worker of the send queue upserts the same scheduler: one job per period, whoever takes
    // it. The slots are fixed multiples of the period (BullMQ's `offset`, a millisecond past each
    // slot, is what aligns them; without it the first job would run at once), so a starting worker
    // adds no run of its own and every worker agrees on when the next one is.
    await upsertScheduler(
      queues.send,
      'expire-pending',
      { every: EXPIRE_PENDING_EVERY_MS, offset: 1 },
      { name: 'expire-pending', data: {} },
    );
  }
  if (names.includes('feeds')) {
    for (const url of config.FEEDS) {
      await upsertScheduler(
        queues.feeds,
        feedSchedulerId(url),
        { every: config.FEED_POLL_MINUTES * 60_000 },
        { name: 'feeds', data: { url } },
      );
    }
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  logger.info({ queues: names, concurrency, cpuThreads }, 'worker ready');

  // Drops every connection without waiting for Redis: pending commands fail, nothing waits on.
  const dropConnections = () => {
    for (const client of clients) {
      const redis = client as { status: string; disconnect(): void };
      if (redis.status === 'end') continue;
      redis.disconnect();
      // A client waiting to reconnect would otherwise stay parked, its commands never settled.
      if (isParked(client)) endParked(client);
    }
  };

  let closing: Promise<WorkerCloseReport> | undefined;
  const close = async (timeoutMs: number): Promise<WorkerCloseReport> => {
    clearInterval(watchdog);
    const signalledAt = performance.now();
    const stopWaiting = new AbortController();
    // The workers stop taking jobs; the jobs in flight go on, CPU steps included, except that a
    // step past its grace (or the deadline near) stops the threads, and the jobs waiting on them
    // are put back (see the processor above) before the workers finish closing.
    const cpuStopAt = signalledAt + Math.max(timeoutMs - CPU_STOP_RESERVE_MS, timeoutMs / 2);
    const cpuWatch = setInterval(() => {
      const now = performance.now();
      const late = [...steps].some((step) => now - Math.max(step.since, signalledAt) >= CPU_CLOSE_GRACE_MS);
      if (late || now >= cpuStopAt) void stopCpu();
    }, CLOSE_POLL_MS);
    const graceful = (async () => {
      await Promise.all(workers.map((w) => closeWorker(w, false, stopWaiting.signal)));
      clearInterval(cpuWatch);
      await stopCpu();
      if (stopWaiting.signal.aborted) return 'late' as const;
      mailer?.close();
      await closeQueues(queues);
      for (const redis of [connection, data]) await redis.quit().catch(() => redis.disconnect());
      return 'closed' as const;
    })().catch((error: Error) => {
      logger.error({ err: error.message }, 'error while closing');
      return 'failed' as const;
    });
    let timer: NodeJS.Timeout | undefined;
    let poll: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      graceful,
      new Promise<'timeout'>((done) => {
        timer = setTimeout(() => done('timeout'), timeoutMs);
      }),
      // With Redis lost and nothing in flight there is nothing to wait for.
      new Promise<'idle'>((done) => {
        poll = setInterval(() => {
          if (health.lost && inFlight.size === 0) done('idle');
        }, CLOSE_POLL_MS);
      }),
    ]);
    clearTimeout(timer);
    clearInterval(poll);
    clearInterval(cpuWatch);
    health.close();
    if (outcome === 'closed') return { clean: true, abandoned: [], redisLost: false };

    stopWaiting.abort();
    const abandoned = [...inFlight];
    const redisLost = health.lost;
    mailer?.close();
    dropConnections();
    // Threads still running are stopped (the close above may not have got that far).
    await Promise.race([stopCpu(), sleep(CPU_CLOSE_GRACE_MS, undefined, { ref: false })]).catch(() => {});
    if (abandoned.length > 0) {
      logger.warn(
        { abandoned, redisLost, timeoutMs },
        `closed with ${abandoned.length} job(s) still in flight; BullMQ's stall recovery runs them again on another worker once their lock expires`,
      );
    } else if (outcome !== 'failed') {
      logger.warn(
        { redisLost },
        redisLost
          ? 'closed without waiting for Redis; no job was in flight'
          : 'closed without waiting for BullMQ to finish closing; no job was in flight',
      );
    }
    return { clean: abandoned.length === 0 && outcome !== 'failed', abandoned, redisLost };
  };

  return {
    workers,
    cpuStats: () => pool.stats(),
    redisLost: () => health.lost,
    close(closeOptions = {}) {
      closing ??= close(closeOptions.timeoutMs ?? config.SHUTDOWN_TIMEOUT_MS);
      return closing;
    },
  };
}
