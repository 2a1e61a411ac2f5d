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
