import { createSubscriberStore } from '../../io/subscriber-store.js';
import { createServeApp } from '../../serve/app.js';
import { openContext } from '../context.js';

/** `dispatch serve`: the unsubscribe and preferences pages, until Ctrl-C. */
export async function serveCommand(options: { port?: string; host?: string }): Promise<void> {
  const ctx = await openContext();
  const { config } = ctx;
  const url = new URL(config.PUBLIC_URL);
  const port = Number(options.port ?? (url.port || 3001));
  const host = options.host ?? '127.0.0.1';
  const server = createServeApp({
    config,
    subscribers: createSubscriberStore(ctx.redis, config.REDIS_PREFIX),
    host,
    port,
  });
  await new Promise<void>((done) => server.listen(port, host, done));
  process.stdout.write(
    `unsubscribe pages on http://${host}:${port} (readers reach them at ${config.PUBLIC_URL}); Ctrl-C stops it\n`,
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  await ctx.close();
}
