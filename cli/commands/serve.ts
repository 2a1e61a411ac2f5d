import { hostPort, listen, parsePort } from '../../io/listen.js';
import { loadEnvironment } from '../../io/load-environment.js';
import { createSubscriberStore } from '../../io/subscriber-store.js';
import { createServeApp } from '../../serve/app.js';
import { DispatchError } from '../../src/errors.js';
import { defaultSecretProblem } from '../../src/links/default-secret-problem.js';
import { openContext } from '../context.js';

/** `dispatch serve`: the unsubscribe and preferences pages, until Ctrl-C. */
export async function serveCommand(options: { port?: string; host?: string }): Promise<void> {
  // Settings first, before Redis is opened: a refusal leaves nothing running.
  const settings = loadEnvironment();
  const problem = defaultSecretProblem(settings);
  if (problem) throw new DispatchError('E_SECRET_DEFAULT', problem);
  const url = new URL(settings.PUBLIC_URL);
  const port = parsePort(
    options.port ?? (url.port || 3001),
    options.port === undefined ? 'the port of PUBLIC_URL' : '--port',
  );
  const host = options.host ?? '127.0.0.1';

  const ctx = await openContext();
  try {
    const { config } = ctx;
    const server = createServeApp({
      config,
      subscribers: createSubscriberStore(ctx.redis, config.REDIS_PREFIX),
      host,
      port,
    });
    const address = await listen(server, {
      host,
      port,
      what: 'dispatch serve',
      setting: options.port === undefined ? '--port (default: the port of PUBLIC_URL, else 3001)' : '--port',
    });
    process.stdout.write(
      `unsubscribe pages on http://${hostPort(host, address.port)} (readers reach them at ${config.PUBLIC_URL}); Ctrl-C stops it\n`,
    );
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  } finally {
    await ctx.close();
  }
}
