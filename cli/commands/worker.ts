import { join } from 'node:path';
import { loadEnvironment } from '../../io/load-environment.js';
import { createLogger } from '../../io/logger.js';
import { ensureRedis } from '../../io/managed-redis.js';
import { PROJECT_ROOT } from '../../io/paths.js';
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

/** `dispatch worker`: works the queues until SIGINT/SIGTERM, then finishes the jobs in flight. */
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
  const { url } = await ensureRedis(config);
  const worker = await startWorker({
    config,
    redisUrl: url,
    logger,
    queues,
    concurrency,
    templatesDir: config.TEMPLATES_DIR ?? join(PROJECT_ROOT, 'templates'),
  });
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'finishing the jobs in flight (signal again to exit at once)');
      worker.close().then(done, (error) => {
        logger.error({ err: (error as Error).message }, 'error while closing');
        done();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  logger.info('worker stopped');
}
