import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { type ListenAs, listen } from './listen.js';

export interface MailboxServer {
  port: number;
  close(): Promise<void>;
}

/** A received message, as the mailbox view shows it. */
export interface MailboxMessage {
  id: string;
  receivedAt: string;
  from: string;
  to: string;
  subject: string;
  messageId: string | null;
  text: string;
  html: string | null;
  headers: Record<string, string>;
}

/**
 * The local mailbox: an SMTP catcher (smtp-server) that keeps every message it receives as an
 * .eml file under `dir`. No TLS (its built-in certificate has expired) and no auth: it listens
 * on loopback only.
 */
export async function startMailbox(options: {
  dir: string;
  port: number;
  host?: string;
  /** Who listens and the setting that chooses the port, for the E_PORT_IN_USE line. */
  listenAs?: ListenAs;
}): Promise<MailboxServer> {
  mkdirSync(options.dir, { recursive: true });
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    banner: 'Dispatch local mailbox',
    logger: false,
    onData(stream, session, callback) {
      // As a final delivery does (RFC 5321 4.4): the envelope sender on top, so a list message shows
      // the reader's own bounce address, where `dispatch bounces` expects reports about it.
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      const chunks: Buffer[] = [Buffer.from(`Return-Path: <${from}>\r\n`)];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const name = `${Date.now()}-${randomBytes(4).toString('hex')}.eml`;
        writeFile(join(options.dir, name), Buffer.concat(chunks)).then(() => callback(), callback);
      });
    },
  });
  // smtp-server re-emits its socket's errors: the listen error is handled by listen(), and after it
  // listens, a client that drops its connection (a killed worker) is not the mailbox's problem.
  server.on('error', () => {});
  const address = await listen(server.server, {
    host: options.host ?? '127.0.0.1',
    port: options.port,
    ...(options.listenAs ?? { what: 'the local mailbox', setting: "SMTP_URL's port" }),
  });
  return {
    port: address.port,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** The messages in the mailbox folder, newest first. */
export async function listMailbox(dir: string, limit = 50): Promise<MailboxMessage[]> {
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.eml'))
    .sort()
    .reverse();
  const messages: MailboxMessage[] = [];
  for (const name of names.slice(0, limit)) {
    const parsed = await simpleParser(await readFile(join(dir, name)));
    const headers: Record<string, string> = {};
    // Raw header lines, unfolded (RFC 5322 section 2.2.3): mailparser folds List-* into one object.
    for (const line of parsed.headerLines) {
      headers[line.key] = line.line
        .slice(line.line.indexOf(':') + 1)
        .replace(/\r?\n(?=[ \t])/g, '')
        .trim();
    }
    messages.push({
      id: name.replace(/\.eml$/, ''),
      receivedAt: new Date(Number(name.split('-')[0])).toISOString(),
      from: parsed.from?.text ?? '',
      to: Array.isArray(parsed.to) ? parsed.to.map((t) => t.text).join(', ') : (parsed.to?.text ?? ''),
      subject: parsed.subject ?? '',
      messageId: parsed.messageId ?? null,
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : null,
      headers,
    });
  }
  return messages;
}

/** Where the local mailbox keeps what it receives. */
export function mailboxDir(dataDir: string): string {
  return resolve(dataDir, 'mailbox');
}
