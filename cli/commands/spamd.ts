import { loadEnvironment } from '../../io/load-environment.js';
import { ensureSpamd, stopSpamd } from '../../io/spamd.js';

/** `dispatch spamd [--stop]`: the managed spamd that `dispatch check` and the preview score with. */
export async function spamdCommand(options: { stop?: boolean }): Promise<void> {
  const config = loadEnvironment();
  if (options.stop) {
    const stopped = await stopSpamd(config);
    process.stdout.write(stopped ? 'stopped the managed spamd\n' : 'no managed spamd was running\n');
    return;
  }
  const spamd = await ensureSpamd(config);
  process.stdout.write(`spamd on 127.0.0.1:${spamd.port} (${spamd.started ? 'started' : 'already running'})\n`);
}
