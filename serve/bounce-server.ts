import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { type ListenAs, listen } from '../io/listen.js';
import type { Logger } from '../io/logger.js';
import { type AppliedReport, type ApplyReportDeps, applyReport } from '../jobs/apply-report.js';
import { isBounceRecipient } from '../src/bounces/bounce-recipient.js';
import { MIME_LIMITS } from '../src/bounces/read-mime.js';
import { readReport } from '../src/bounces/read-report.js';
import type { Config } from '../src/config.js';
import { DispatchError } from '../src/errors.js';
import { isLoopbackHost } from '../src/http/allowed-host.js';
import { DEFAULT_UNSUBSCRIBE_SECRET, defaultSecretProblem } from '../src/links/default-secret-problem.js';
import { bounceAddressOf } from '../src/links/mail-tags.js';

/** Largest report taken (announced as SIZE; more is refused with 552): a bounce with its message is a few KiB to some hundred. */
export const MAX_REPORT_BYTES = MIME_LIMITS.maxBytes;
/** Recipients per transaction: a report goes to one bounce address; a few more is tolerated. */
export const MAX_RECIPIENTS = 5;
/** Refused recipients before the connection is closed: a client guessing addresses is not a mail server with a report. */
export const MAX_REFUSED_RECIPIENTS = 3;
/** Idle time before a connection is dropped. */
export const SOCKET_TIMEOUT_MS = 60_000;
/** Connections at once. */
export const MAX_CLIENTS = 50;
/** Time to read and apply one report; past it the sender is told to try again (451). */
export const REPORT_TIMEOUT_MS = 10_000;

export interface BounceServerOptions {
  config: ApplyReportDeps['config'] & Pick<Config, 'PUBLIC_URL' | 'SMTP_URL'>;
  /** The subscriber store (createSubscriberStore), or the part of it reports change. */
  subscribers: ApplyReportDeps['subscribers'];
  /** @defaultValue 127.0.0.1 */
  host?: string;
  /** 0: any free port. */
  port: number;
  logger: Logger;
  /** Who listens and the setting that chooses the port, for the E_PORT_IN_USE line. */
  listenAs?: ListenAs;
  /** The clock, for tests. @defaultValue () => new Date() */
  now?: () => Date;
}

export interface BounceServer {
  port: number;
  /** The address it takes mail for (and its `+tag` forms). */
  bounceAddress: string;
  close(): Promise<void>;
}

/** An error whose code smtp-server sends as the reply; 421 also closes the connection. */
function reply(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer from the store within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Why receiving reports with this configuration would let anyone bounce any reader, or null:
 * with the public default secret anyone can sign a bounce address. As for links
 * (defaultSecretProblem), and also when the server listens beyond this machine.
 */
export function bounceSecretProblem(
  config: Pick<Config, 'UNSUBSCRIBE_SECRET' | 'PUBLIC_URL' | 'SMTP_URL'>,
  host: string,
): string | null {
  const problem = defaultSecretProblem(config);
  if (problem || config.UNSUBSCRIBE_SECRET !== DEFAULT_UNSUBSCRIBE_SECRET) return problem;
  if (isLoopbackHost(host.includes(':') ? `[${host}]` : host)) return null;
  return (
    `UNSUBSCRIBE_SECRET is the public development default while dispatch bounces listens on ${host}: ` +
    'set it to a long random value, e.g. UNSUBSCRIBE_SECRET=$(openssl rand -hex 32) in .env'
  );
}

/**
 * `dispatch bounces` (and `npm start`): an SMTP server for mail to the bounce address, which
 * reads each message as a delivery status notification or a complaint report and updates its
 * reader (jobs/apply-report.ts). Every message it takes is answered 250, even one it cannot read
 * or will not believe: a mail server told 4xx or 5xx about a bounce would retry it for days or
 * bounce the bounce. Only a store that does not answer gets 451, so the report comes again later.
 * No TLS (smtp-server's built-in certificate has expired) and no AUTH: put it behind the MX, or
 * on port 25 of a host of its own.
 */
export async function startBounceServer(options: BounceServerOptions): Promise<BounceServer> {
  const { config, logger } = options;
  const host = options.host ?? '127.0.0.1';
  const problem = bounceSecretProblem(config, host);
  if (problem) throw new DispatchError('E_SECRET_DEFAULT', problem);
  const now = options.now ?? (() => new Date());
  const bounceAddress = bounceAddressOf(config);
  const deps: ApplyReportDeps = { config, subscribers: options.subscribers };
  const refused = new Map<string, number>();

  const handle = async (message: Buffer, session: SMTPServerSession): Promise<AppliedReport[]> => {
    const rcptTo = session.envelope.rcptTo.map((r) => r.address);
    let report: ReturnType<typeof readReport>;
    try {
      report = readReport(message);
    } catch (error) {
      // readReport is built not to throw; if it ever does, the report is lost, not the server.
      logger.error({ err: error, client: session.remoteAddress }, 'bounce report: could not be read');
      return [];
    }
    return await withTimeout(applyReport(deps, report, rcptTo, now()), REPORT_TIMEOUT_MS);
  };

  const server = new SMTPServer({
    banner: 'Dispatch bounce receiver',
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    disableReverseLookup: true,
    size: MAX_REPORT_BYTES,
    rejectOversized: true,
    maxRecipients: MAX_RECIPIENTS,
    maxClients: MAX_CLIENTS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    closeTimeout: 2000,
    onRcptTo(address, session, callback) {
      if (isBounceRecipient(address.address, bounceAddress)) return callback();
      const count = (refused.get(session.id) ?? 0) + 1;
      refused.set(session.id, count);
      if (count >= MAX_REFUSED_RECIPIENTS) return callback(reply(421, 'too many unknown recipients, closing'));
      callback(reply(550, `5.1.1 no such recipient here: this server takes mail for ${bounceAddress} only`));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        // Past the limit the rest is only drained: rejectOversized answers 552 for it.
        if (bytes > MAX_REPORT_BYTES) return;
        bytes += chunk.length;
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(reply(552, `5.3.4 message larger than ${MAX_REPORT_BYTES} bytes`));
          return;
        }
        handle(Buffer.concat(chunks), session).then(
          (results) => {
            for (const result of results) {
              const level = result.outcome === 'unverified' ? 'warn' : 'info';
              logger[level](
                {
                  kind: result.kind,
                  outcome: result.outcome,
                  reader: result.readerId,
                  week: result.week,
                  via: result.via,
                  status: result.status,
                  detail: result.detail,
                  client: session.remoteAddress,
                },
                `bounce report: ${result.outcome}`,
              );
            }
            callback(null, 'report received');
          },
          (error: Error) => {
            logger.error(
              { err: error, client: session.remoteAddress },
              'bounce report: the store failed; asked to retry',
            );
            callback(reply(451, '4.3.0 temporary failure, try again later'));
          },
        );
      });
    },
    onClose(session) {
      refused.delete(session.id);
    },
  });
  // smtp-server re-emits socket errors (a client that drops its connection): the listen error is
  // handled by listen(), anything after it is one client's problem.
  server.on('error', (error: Error) => logger.debug({ err: error }, 'bounce server: connection error'));
  const address = await listen(server.server, {
    host,
    port: options.port,
    ...(options.listenAs ?? { what: 'dispatch bounces', setting: '--port or BOUNCE_SMTP_PORT' }),
  });
  return {
    port: address.port,
    bounceAddress,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
