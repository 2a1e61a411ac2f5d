import type { Redis } from 'ioredis';
import { createStore, type Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { closeQueues, createQueues, type Queues } from './queues.js';

/**
 * What the operations shared by commands, the preview and jobs work on: the configuration, a
 * connected Redis client, the store and the queues.
 */
export interface Context {
  config: Config;
  redisUrl: string;
  redis: Redis;
  store: Store;
  queues: Queues;
  close(): Promise<void>;
}

/** The store and queues on a connected Redis client (closed with the context). */
export function contextOn(redis: Redis, redisUrl: string, config: Config): Context {
  const queues = createQueues(redis, config);
  return {
    config,
    redisUrl,
    redis,
    store: createStore(redis, config.REDIS_PREFIX),
    queues,
    async close() {
      await closeQueues(queues);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
