import { loadEnvironment } from '../io/load-environment.js';
import { ensureRedis } from '../io/managed-redis.js';
import { connectRedis, ensureConnected } from '../io/redis-connection.js';
import { type Context, contextOn } from '../jobs/context.js';

export type CommandContext = Context;
export { contextOn };

/** What a command that needs Redis opens: the configuration, the (managed) Redis, the store and the queues. */
export async function openContext(): Promise<CommandContext> {
  const config = loadEnvironment();
  const { url } = await ensureRedis(config);
  const redis = connectRedis(url, 'command');
  await ensureConnected(redis, url);
  return contextOn(redis, url, config);
}
