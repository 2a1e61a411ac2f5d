import { loadEnvironment } from '../../io/load-environment.js';
import { ensureRedis, stopManagedRedis } from '../../io/managed-redis.js';

export async function redisCommand(options: { stop?: boolean }): Promise<void> {
  const config = loadEnvironment();
  if (options.stop) {
    const stopped = await stopManagedRedis(config);
    process.stdout.write(stopped ? 'stopped the managed redis-server\n' : 'no managed redis-server was running\n');
    return;
  }
  const redis = await ensureRedis(config);
  const how = config.REDIS_URL ? 'from REDIS_URL' : redis.started ? `started, data in ${redis.dir}` : 'already running';
  process.stdout.write(`${redis.url} (${how})\n`);
}
