import { Redis } from 'ioredis';
import { DispatchError } from '../src/errors.js';

/**
 * A Redis connection. Workers (`role: 'worker'`) wait for Redis for as long as it takes, as
 * BullMQ requires (`maxRetriesPerRequest: null`); commands (`role: 'command'`) fail fast with
 * E_REDIS_UNAVAILABLE so a person at a terminal is not left waiting.
 */
export function connectRedis(url: string, role: 'worker' | 'command', onError?: (error: Error) => void): Redis {
  const redis =
    role === 'worker'
      ? new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true })
      : new Redis(url, {
          maxRetriesPerRequest: 1,
          connectTimeout: 3000,
          retryStrategy: (attempt) => (attempt > 3 ? null : 200 * attempt),
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
