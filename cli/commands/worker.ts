import { loadEnvironment } from '../../io/load-environment.js';
import { createLogger } from '../../io/logger.js';
import { ensureRedis } from '../../io/managed-redis.js';
import { templatesDirOf } from '../../io/paths.js';
import { QUEUE_NAMES, type QueueName } from '../../jobs/queues.js';
import { startWorker } from '../../jobs/run-worker.js';
import { DispatchError } from '../../src/errors.js';

export interface WorkerCommandOptions {
  concurrency?: string;
  queues?: string;
}

export function parseQueueList(list: string | undefined): QueueName[] {
  if (!list) return [...QUEUE_NAMES];
  const names = list.split(',').map((q) => q.trim());
  for (const name of names) {
    if (!(QUEUE_NAMES as readonly string[]).includes(name)) {
      throw new DispatchError('E_INPUT_FORMAT', `unknown queue "${name}" (queues: ${QUEUE_NAMES.join(', ')})`);
    }
  }
  return names as QueueName[];
}

/** Of SHUTDOWN_TIMEOUT_MS, what is kept back for dropping the connections and logging. */
const EXIT_RESERVE_MS = 500;
/** The exit code of a worker that had to leave jobs in flight (or could not close cleanly). */
const EXIT_UNCLEAN = 1;
/** The exit code after a second signal, as a shell reports a process ended by Ctrl-C. */
const EXIT_SECOND_SIGNAL = 130;

/**
 * `dispatch worker`: works the queues until SIGINT/SIGTERM, then finishes the jobs in flight and
 * exits 0, at the latest SHUTDOWN_TIMEOUT_MS after the signal, Redis or not: what is still in
 * flight then is left to stall recovery, and the exit code is 1. A second signal exits at once.
 */
export async function workerCommand(options: WorkerCommandOptions): Promise<void> {
  const config = loadEnvironment();
  const concurrency = options.concurrency ? Number(options.concurrency) : config.WORKER_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new DispatchError(
      'E_INPUT_FORMAT',
      `--concurrency must be a whole number of at least 1 (got "${options.concurrency}")`,
    );
  }
  const queues = parseQueueList(options.queues);
  const logger = createLogger(config.LOG_LEVEL);
  const { url } = await ensureRedis(config, { warn: (line) => logger.warn(line) });

  // Listening from before the worker starts: starting waits for Redis, and a signal meanwhile
  // must still end the process within SHUTDOWN_TIMEOUT_MS.
  let signalledAt: number | undefined;
  const signalled = new Promise<void>((done) => {
    const stop = (signal: string) => {
      if (signalledAt !== undefined) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(EXIT_SECOND_SIGNAL);
      }
      signalledAt = performance.now();
      logger.info(
        { signal, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
        'finishing the jobs in flight (signal again to exit at once)',
      );
      // The last resort, should closing itself hang (or the worker never get Redis to start).
      setTimeout(() => {
        logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown did not finish in time: exiting');
        exitSoon(EXIT_UNCLEAN);
      }, config.SHUTDOWN_TIMEOUT_MS).unref();
      done();
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  const worker = await startWorker({
    config,
    redisUrl: url,
    logger,
    queues,
    concurrency,
    templatesDir: templatesDirOf(config),
  });
  await signalled;
  const since = performance.now() - (signalledAt ?? performance.now());
  const report = await worker.close({
    timeoutMs: Math.max(config.SHUTDOWN_TIMEOUT_MS - EXIT_RESERVE_MS - since, 0),
  });
  const ms = Math.round(performance.now() - (signalledAt ?? 0));
  logger.info({ clean: report.clean, ms }, 'worker stopped');
  // Exit now rather than when the event loop empties: a connection dropped without Redis may
  // still hold a timer or socket for a while.
  exitSoon(report.clean ? 0 : EXIT_UNCLEAN);
}

/** Exits once the log lines written so far are out (pino-pretty writes through a stream). */
function exitSoon(code: number): void {
  setImmediate(() => process.exit(code));
}
