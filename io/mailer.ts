import nodemailer from 'nodemailer';
import { DispatchError } from '../src/errors.js';
import type { OutgoingMessage } from '../src/newsletter/to-message.js';

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

/**
 * A pooled nodemailer transport for SMTP_URL, built when a sender needs it (never at import).
 * Errors come back classified: a 5xx reply is permanent (E_SMTP_REJECTED, with the server's
 * words); a refused connection (E_SMTP_UNREACHABLE, naming host and port), a 4xx reply or a dropped
 * connection (E_SMTP_TEMPORARY) are transient, for the queue to retry.
 */
export function createMailer(smtpUrl: string, options: { pool?: boolean } = {}): Mailer {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  const port = Number(url.port || (secure ? 465 : 25));
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    pool: options.pool ?? true,
    maxConnections: 5,
    maxMessages: 1000,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    // A local catcher has no trusted certificate; real servers on smtps:// do.
    ignoreTLS: url.hostname === '127.0.0.1' || url.hostname === 'localhost',
  });
  return {
    async send(message) {
      try {
        const info = await transport.sendMail({
          from: message.from,
          to: message.to,
          subject: message.subject,
          html: message.html,
          text: message.text,
          messageId: message.messageId,
          headers: message.headers,
        });
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
        const error = cause as { code?: string; responseCode?: number; response?: string; message: string };
        // nodemailer reports a failed connect as ESOCKET/ECONNECTION with the system error in the message.
        const unreachable = /\b(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)\b/.exec(
          `${error.code} ${error.message}`,
        );
        if (unreachable) {
          throw new DispatchError(
            'E_SMTP_UNREACHABLE',
            `cannot connect to the SMTP server at ${url.hostname}:${port} (${unreachable[1]}): is it running? (SMTP_URL)`,
            { cause, transient: true },
          );
        }
        if (error.responseCode && error.responseCode >= 500) {
          throw new DispatchError(
            'E_SMTP_REJECTED',
            `the SMTP server refused the message: ${error.response ?? error.message}`,
            {
              cause,
            },
          );
        }
        throw new DispatchError(
          'E_SMTP_TEMPORARY',
          error.responseCode ? `the SMTP server answered ${error.response ?? error.responseCode}` : error.message,
          { cause, transient: true },
        );
      }
    },
    close() {
      transport.close();
    },
  };
}
