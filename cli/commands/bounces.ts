import { hostPort, parsePort } from '../../io/listen.js';
import { loadEnvironment } from '../../io/load-environment.js';
import { createLogger } from '../../io/logger.js';
import { ensureRedis } from '../../io/managed-redis.js';
import { connectRedis, ensureConnected } from '../../io/redis-connection.js';
import { createSubscriberStore } from '../../io/subscriber-store.js';
import { bounceSecretProblem, startBounceServer } from '../../serve/bounce-server.js';
import { DispatchError } from '../../src/errors.js';

/** `dispatch bounces`: receives bounce and complaint reports for BOUNCE_ADDRESS by SMTP until Ctrl-C. */
export async function bouncesCommand(options: { port?: string; host?: string }): Promise<void> {
  const config = loadEnvironment();
  const port = parsePort(
    options.port ?? config.BOUNCE_SMTP_PORT,
    options.port === undefined ? 'BOUNCE_SMTP_PORT' : '--port',
  );
  const host = options.host ?? '127.0.0.1';
  // Settings first, before Redis is opened: a refusal leaves nothing running.
  const problem = bounceSecretProblem(config, host);
  if (problem) throw new DispatchError('E_SECRET_DEFAULT', problem);
  const logger = createLogger(config.LOG_LEVEL, process.stderr);
  const { url } = await ensureRedis(config, { warn: (line) => logger.warn(line) });
  // A command's connection first: if Redis is not there, one line says so and nothing listens.
  const probe = connectRedis(url, 'command');
  await ensureConnected(probe, url);
  await probe.quit().catch(() => probe.disconnect());
  // The server's own connection waits out a Redis restart instead of giving up after a few
  // tries; a report that arrives meanwhile is answered 451 after REPORT_TIMEOUT_MS and comes again.
  const redis = connectRedis(url, 'worker', (error) => logger.warn({ err: error }, 'redis connection error'));
  try {
    const server = await startBounceServer({
      config,
      subscribers: createSubscriberStore(redis, config.REDIS_PREFIX),
      host,
      port,
      logger,
      listenAs: {
        what: 'dispatch bounces',
        setting: options.port === undefined ? '--port or BOUNCE_SMTP_PORT' : '--port',
      },
    });
    process.stdout.write(
      `bounce and complaint reports for ${server.bounceAddress} on smtp://${hostPort(host, server.port)}; Ctrl-C stops it\n`,
    );
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await server.close();
  } finally {
    // Not quit(): with Redis gone it would wait for a reconnect that may never come.
    redis.disconnect();
  }
}
