import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A message as the capture received it: its envelope, the raw MIME and the parsed mail. */
export interface CapturedMessage {
  /** MAIL FROM ('' for the null sender). */
  mailFrom: string;
  rcptTo: string[];
  raw: string;
  mail: ParsedMail;
}

export interface SmtpCapture {
  port: number;
  /** Every message accepted, in order, parsed before the 250: a job that completed has its mail here. */
  messages: CapturedMessage[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on a free port that keeps every message it accepts (where startSmtpSink only
 * counts them). `refuse` answers RCPT TO for an address with the code given (5xx: for good, 4xx:
 * try later), `times` times.
 */
export async function startSmtpCapture(
  refuse: Map<string, { code: number; times: number }> = new Map(),
): Promise<SmtpCapture> {
  const messages: CapturedMessage[] = [];
  const server = new SMTPServer({
    // STACK.md: nodemailer upgrades to a self-signed STARTTLS and fails; AUTH is not asked for.
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    size: 2 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      const rule = refuse.get(address.address);
      if (rule && rule.times > 0) {
        rule.times--;
        const error = Object.assign(new Error(rule.code >= 500 ? '5.1.1 no such user' : '4.2.0 try later'), {
          responseCode: rule.code,
        });
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw,
          mail: await simpleParser(raw),
        });
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const port = (server.server.address() as { port: number }).port;
  return { port, messages, close: () => new Promise<void>((done) => server.close(() => done())) };
}

/** The raw value of a header as the message carries it, unfolded (mailparser folds List-* headers into one). */
export function rawHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}
