import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { DispatchError } from '../src/errors.js';
import { base64Part } from '../src/newsletter/base64-part.js';
import type { OutgoingMessage } from '../src/newsletter/to-message.js';
import { classifySmtpFailure } from '../src/smtp-failures.js';

export interface SentMessage {
  messageId: string;
  accepted: string[];
  rejected: string[];
  response: string;
}

/** Sends messages over SMTP; one pooled connection set per Mailer. */
export interface Mailer {
  send(message: OutgoingMessage): Promise<SentMessage>;
  close(): void;
}

/** The DKIM_* settings of Config (all three, or none). */
export interface DkimSettings {
  DKIM_DOMAIN?: string;
  DKIM_SELECTOR?: string;
  DKIM_PRIVATE_KEY_FILE?: string;
}

/** nodemailer's DKIM options when all of DKIM_* are set; E_CONFIG when only some are, or the key is unreadable. */
function dkimOptions(settings: DkimSettings) {
  const { DKIM_DOMAIN: domainName, DKIM_SELECTOR: keySelector, DKIM_PRIVATE_KEY_FILE: file } = settings;
  if (!domainName && !keySelector && !file) return undefined;
  if (!domainName || !keySelector || !file) {
    throw new DispatchError(
      'E_CONFIG',
      'DKIM signing needs all of DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE',
    );
  }
  try {
    return { domainName, keySelector, privateKey: readFileSync(file, 'utf8') };
  } catch (cause) {
    throw new DispatchError('E_CONFIG', `DKIM_PRIVATE_KEY_FILE cannot be read: ${file}`, { cause });
  }
}

/** What nodemailer is handed for a message: one place, so the checks read the message a send writes. */
function mailOptions(message: OutgoingMessage) {
  return {
    from: message.from,
    to: message.to,
    subject: message.subject,
    // Both parts come base64-encoded in one piece: several times cheaper than nodemailer's
    // streaming encoders, which were most of a list send's CPU per message.
    text: { raw: base64Part('text/plain; charset=utf-8', message.text) },
    html: { raw: base64Part('text/html; charset=utf-8', message.html) },
    messageId: message.messageId,
    headers: message.headers,
    envelope: message.envelopeFrom ? { from: message.envelopeFrom, to: message.to } : undefined,
  };
}

/**
 * The complete MIME message a send would hand to SMTP, headers included and DKIM-signed when
 * DKIM_* is set: nodemailer's own composer and signer, written to a buffer instead of a socket.
 */
export async function rawMessage(message: OutgoingMessage, options: { dkim?: DkimSettings } = {}): Promise<Buffer> {
  const transport = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    dkim: dkimOptions(options.dkim ?? {}),
  });
  const info = await transport.sendMail(mailOptions(message));
  return info.message as Buffer;
}

/** SMTP connections per pooled transport (per worker process). */
export const POOL_CONNECTIONS = 5;

/**
 * A pooled nodemailer transport for SMTP_URL, built when a sender needs it (never at import),
 * signing with DKIM when DKIM_* is set.
 * Errors come back as a DispatchError whose code says where the failure happened (see
 * SMTP_FAILURES in src/smtp-failures.ts, and `smtpScope`): one recipient refused
 * (E_SMTP_REJECTED, with the server's words); the login, the sender, the message or TLS refused
 * (E_SMTP_AUTH, E_SMTP_MESSAGE_REFUSED, E_SMTP_TLS); or transient, for the queue to retry
 * (E_SMTP_UNREACHABLE naming host and port, E_SMTP_TEMPORARY for a 4xx or a dropped connection).
 */
export function createMailer(smtpUrl: string, options: { pool?: boolean; dkim?: DkimSettings } = {}): Mailer {
  const dkim = dkimOptions(options.dkim ?? {});
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  const port = Number(url.port || (secure ? 465 : 25));
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    pool: options.pool ?? true,
    maxConnections: POOL_CONNECTIONS,
    maxMessages: 1000,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    dkim,
    // A local catcher has no trusted certificate; real servers on smtps:// do.
    ignoreTLS: url.hostname === '127.0.0.1' || url.hostname === 'localhost',
  });
  return {
    async send(message) {
      try {
        const info = await transport.sendMail(mailOptions(message));
        return {
          messageId: info.messageId,
          accepted: (info.accepted as (string | { address: string })[]).map((a) =>
            typeof a === 'string' ? a : a.address,
          ),
          rejected: (info.rejected as (string | { address: string })[]).map((a) =>
            typeof a === 'string' ? a : a.address,
          ),
          response: info.response,
        };
      } catch (cause) {
        // One table says what each failure means (src/smtp-failures.ts): the scope travels as the code.
        const failure = classifySmtpFailure(cause, `${url.hostname}:${port}`);
        throw new DispatchError(failure.code, failure.message, { cause, transient: failure.scope === 'transient' });
      }
    },
    close() {
      transport.close();
    },
  };
}
