import { loadEnvironment } from '../io/load-environment.js';
import { ensureRedis } from '../io/managed-redis.js';
import { connectRedis, ensureConnected } from '../io/redis-connection.js';
import { type Context, contextOn } from '../jobs/context.js';

export type CommandContext = Context;
export { contextOn };

/**
 * What a command that needs Redis opens: the configuration, the (managed) Redis, the store and the
 * queues. Either way a Redis that is not there at the start is one E_REDIS_UNAVAILABLE line;
 * `role: 'server'` (a command that serves until stopped) then reconnects after any later outage.
 */
export async function openContext(options: { role?: 'command' | 'server' } = {}): Promise<CommandContext> {
  const config = loadEnvironment();
  const { url } = await ensureRedis(config);
  const redis = connectRedis(url, options.role ?? 'command');
  await ensureConnected(redis, url);
  return contextOn(redis, url, config);
}
