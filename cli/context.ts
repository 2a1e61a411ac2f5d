import type { Redis } from 'ioredis';
import { loadEnvironment } from '../io/load-environment.js';
import { ensureRedis } from '../io/managed-redis.js';
import { connectRedis, ensureConnected } from '../io/redis-connection.js';
import { createStore, type Store } from '../io/store.js';
import { closeQueues, createQueues, type Queues } from '../jobs/queues.js';
import type { Config } from '../src/config.js';

export interface CommandContext {
  config: Config;
  redisUrl: string;
  redis: Redis;
  store: Store;
  queues: Queues;
  close(): Promise<void>;
}

/** What a command that needs Redis opens: the configuration, the (managed) Redis, the store and the queues. */
export async function openContext(): Promise<CommandContext> {
  const config = loadEnvironment();
  const { url } = await ensureRedis(config);
  const redis = connectRedis(url, 'command');
  await ensureConnected(redis, url);
  return contextOn(redis, url, config);
}

/** The store and queues of a command, on a connected Redis client (closed with the context). */
export function contextOn(redis: Redis, redisUrl: string, config: Config): CommandContext {
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
