import { Redis } from 'ioredis';
import { DispatchError } from '../src/errors.js';
import type { Logger } from './logger.js';

/** The longest a worker's connection waits between two attempts to reconnect. */
export const RECONNECT_MAX_MS = 2000;

/**
 * ioredis 6's default backoff grows to 5 s (plus jitter): a worker would notice that Redis is back
 * up to 5 s late, and BullMQ duplicates the worker's connection for its blocking reads, so each of
 * those would too. 50 ms doubling up to RECONNECT_MAX_MS, less up to a quarter of jitter so that
 * many workers do not all knock at once.
 */
function workerRetryDelay(attempt: number): number {
  const delay = Math.min(50 * 2 ** Math.min(attempt - 1, 10), RECONNECT_MAX_MS);
  return Math.round(delay * (0.75 + Math.random() * 0.25));
}

/**
 * A Redis connection. Workers (`role: 'worker'`) wait for Redis for as long as it takes, as
 * BullMQ requires (`maxRetriesPerRequest: null`), trying again at most RECONNECT_MAX_MS apart (the
 * copies BullMQ makes of a connection keep its options); commands (`role: 'command'`) fail fast
 * with E_REDIS_UNAVAILABLE so a person at a terminal is not left waiting; servers (`role: 'server'`)
 * fail each request fast too but never stop reconnecting.
 */
export function connectRedis(
  url: string,
  role: 'worker' | 'command' | 'server',
  onError?: (error: Error) => void,
): Redis {
  const redis =
    role === 'worker'
      ? new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: workerRetryDelay })
      : new Redis(url, {
          maxRetriesPerRequest: 1,
          connectTimeout: 3000,
          // A long-running server (`dispatch serve`) reconnects for as long as it takes, and each
          // request meanwhile fails fast (a 500 page), instead of giving up for good after a Redis restart.
          retryStrategy: role === 'server' ? workerRetryDelay : (attempt) => (attempt > 3 ? null : 200 * attempt),
          lazyConnect: true,
        });
  // ioredis reconnects by itself; without a listener each failed attempt would print a stack.
  // Commands still fail (or, for workers, wait) as they should.
  redis.on('error', onError ?? (() => {}));
  return redis;
}

/** Connects a command's client, or says in one line that Redis is not there. */
export async function ensureConnected(redis: Redis, url: string): Promise<void> {
  if (redis.status === 'ready') return;
  try {
    if (redis.status === 'wait') await redis.connect();
    await redis.ping();
  } catch (cause) {
    redis.disconnect();
    throw new DispatchError('E_REDIS_UNAVAILABLE', `Redis at ${url} does not answer (${(cause as Error).message})`, {
      cause,
    });
  }
}

/**
 * The parts of an ioredis client that finishing a stuck disconnect needs: internals, not in its
 * typings, as of ioredis 6.0.0 (the lockfile's). tests/queue.test.ts parks a worker's client and
 * fails if this stops working after an upgrade.
 */
interface ClientInternals {
  status: string;
  reconnectTimeout?: unknown;
  setStatus(status: string): void;
  offlineQueue?: { length: number; shift(): { command: { reject(error: Error): void } } | undefined };
  commandQueue?: ClientInternals['offlineQueue'];
  prevCommandQueue?: ClientInternals['offlineQueue'];
}

/**
 * True when a client was told to disconnect while it waited to reconnect: ioredis then clears its
 * retry timer but never emits "end" (redis/ioredis#1830), so whoever waits for "end" waits forever
 * (BullMQ's Worker.close: taskforcesh/bullmq#4065, #4656).
 */
export function isParked(client: object): boolean {
  const internals = client as unknown as ClientInternals;
  return internals.status === 'reconnecting' && !internals.reconnectTimeout;
}

/**
 * Ends a parked client the way ioredis ends a client closed by hand: status "end" (and its event),
 * and every command still waiting on it rejected, the one left over from the lost socket included.
 */
export function endParked(client: object): void {
  const internals = client as unknown as ClientInternals;
  internals.setStatus('end');
  const error = new Error('Connection is closed.');
  for (const queue of [internals.offlineQueue, internals.commandQueue, internals.prevCommandQueue]) {
    for (let item = queue?.shift(); item; item = queue?.shift()) item.command.reject(error);
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * True for the errors of a lost or unreachable Redis (as opposed to a bad command or a bug): a
 * socket error code, or the messages ioredis and BullMQ use for a connection that went away.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code } = error as NodeJS.ErrnoException;
  if (code && CONNECTION_ERROR_CODES.has(code)) return true;
  if (error.name === 'ConnectionClosedError' || error.name === 'MaxRetriesPerRequestError') return true;
  return /Connection is closed|Stream isn't writeable|Socket closed unexpectedly|ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(
    error.message,
  );
}

/** An error in a few words: Node's "happy eyeballs" AggregateError has a code but no message. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message || (error as NodeJS.ErrnoException).code || error.name;
}

/** What the health state needs of a client: ioredis's, or the copies BullMQ hands out. */
interface WatchedClient {
  status: string;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/**
 * Whether a process has its Redis, told once each way: `redis connection lost; retrying` (with
 * the error) when the first connection fails, `redis connection back` (with `downMs`) once every
 * connection it follows is ready again. Without it each BullMQ worker and queue, and each
 * connection, logs every failed attempt to reconnect: several lines a second per queue.
 */
export interface RedisHealth {
  /** Follows a client: any error of its own counts as Redis lost, and its "ready" may mean it is back. */
  watch(client: object): void;
  /**
   * An error from elsewhere (a BullMQ worker's or queue's "error" event). Returns true when it is
   * a connection error, which the health state has taken (the caller logs nothing); false for any
   * other error, which is the caller's to log.
   */
  report(error: unknown): boolean;
  /** True from "lost" until "back". */
  readonly lost: boolean;
  /** Stops following (its timer). */
  close(): void;
}

/** One per process: see RedisHealth. */
export function createRedisHealth(logger: Pick<Logger, 'warn'>, options: { checkMs?: number } = {}): RedisHealth {
  const clients = new Set<WatchedClient>();
  let lostAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  // An ended client is gone for good and a parked one will not come back by itself (the worker's
  // idle watchdog replaces its worker): neither may hold the "back" line forever.
  const allReady = () => {
    const live = [...clients].filter((c) => c.status !== 'end' && !isParked(c));
    return live.length > 0 && live.every((c) => c.status === 'ready');
  };
  const check = () => {
    if (lostAt === undefined || !allReady()) return;
    // At the level of the "lost" line, so that whoever saw that one (`dispatch dev` logs warnings
    // only) sees this one too.
    logger.warn({ downMs: Date.now() - lostAt }, 'redis connection back');
    lostAt = undefined;
    clearInterval(timer);
    timer = undefined;
  };
  const lose = (error: unknown) => {
    if (lostAt !== undefined) return;
    lostAt = Date.now();
    logger.warn({ err: describeError(error) }, 'redis connection lost; retrying');
    // Also checked on a timer: a client may become ready while another one ends or parks.
    timer = setInterval(check, options.checkMs ?? 500);
    timer.unref();
  };
  return {
    watch(client) {
      const watched = client as WatchedClient;
      if (clients.has(watched)) return;
      clients.add(watched);
      watched.on('error', lose);
      watched.on('ready', check);
    },
    report(error) {
      if (!isConnectionError(error)) return false;
      // Mostly the echo of an error a followed client has already had; one arriving late, when
      // every client is ready again, is not a new outage.
      if (!allReady()) lose(error);
      return true;
    },
    get lost() {
      return lostAt !== undefined;
    },
    close() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
