import { join } from 'node:path';
import { loadEnvironment } from '../../io/load-environment.js';
import { listMailbox, mailboxDir, startMailbox } from '../../io/mailbox.js';
import { DispatchError } from '../../src/errors.js';
import { terminalSafe } from '../../src/text/terminal-safe.js';

/** `dispatch mailbox`: the local SMTP catcher on SMTP_URL's port; `--list` shows what it holds. */
export async function mailboxCommand(options: { list?: boolean }): Promise<void> {
  const config = loadEnvironment();
  const dir = mailboxDir(config.DATA_DIR);
  if (options.list) {
    const messages = await listMailbox(dir);
    if (messages.length === 0) process.stdout.write(`no messages in ${dir}\n`);
    for (const m of messages)
      process.stdout.write(`${m.receivedAt}  ${terminalSafe(m.to)}  ${terminalSafe(m.subject)}\n`);
    return;
  }
  const url = new URL(config.SMTP_URL);
  if (!['127.0.0.1', 'localhost'].includes(url.hostname)) {
    throw new DispatchError(
      'E_CONFIG',
      `SMTP_URL points to ${url.host}, not to this machine: the local mailbox listens on 127.0.0.1`,
    );
  }
  const server = await startMailbox({
    dir,
    port: Number(url.port || 25),
    listenAs: { what: 'dispatch mailbox', setting: "SMTP_URL's port (SMTP_URL=smtp://127.0.0.1:PORT)" },
  });
  process.stdout.write(
    `local mailbox on smtp://127.0.0.1:${server.port}, keeping messages in ${join(dir)}; Ctrl-C stops it\n`,
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.close();
}
