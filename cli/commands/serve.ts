import { parsePort } from '../../io/listen.js';
import { loadEnvironment } from '../../io/load-environment.js';
import { startServe } from '../../serve/app.js';
import { DispatchError } from '../../src/errors.js';
import { defaultSecretProblem } from '../../src/links/default-secret-problem.js';
import { openContext } from '../context.js';

/** `dispatch serve`: the sign-up, confirm, unsubscribe, preferences and archive pages, until Ctrl-C. */
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

  const ctx = await openContext({ role: 'server' });
  try {
    const serve = await startServe(ctx, {
      host,
      port,
      what: 'dispatch serve',
      setting: options.port === undefined ? '--port (default: the port of PUBLIC_URL, else 3001)' : '--port',
    });
    process.stdout.write(`${serve.banner}; Ctrl-C stops it\n`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await serve.close();
  } finally {
    await ctx.close();
  }
}
