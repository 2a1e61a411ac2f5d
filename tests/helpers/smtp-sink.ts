import { SMTPServer } from 'smtp-server';

/** A local SMTP server that counts what each address receives, and can stop listening for a while. */
export interface SmtpSink {
  readonly port: number;
  received: Map<string, number>;
  total(): number;
  /** Stops listening (connections are refused) until `open` is called again. */
  close(): Promise<void>;
  open(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const received = new Map<string, number>();
  let port = 0;
  let server: SMTPServer;
  const open = async () => {
    server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onData(stream, session, callback) {
        stream.on('data', () => {});
        stream.on('end', () => {
          for (const r of session.envelope.rcptTo) received.set(r.address, (received.get(r.address) ?? 0) + 1);
          callback();
        });
      },
    });
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', () => done()));
    server.on('error', () => {}); // connections reset by a killed worker
    port = (server.server.address() as { port: number }).port;
  };
  await open();
  return {
    get port() {
      return port;
    },
    received,
    total: () => [...received.values()].reduce((a, b) => a + b, 0),
    close: () => new Promise<void>((done) => server.close(() => done())),
    open,
  };
}
