import net from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { createMailer } from '../io/mailer.js';
import { freePort } from '../io/managed-redis.js';
import { DispatchError, ERROR_CODES } from '../src/errors.js';
import {
  classifySmtpFailure,
  type NodemailerFailure,
  SMTP_FAILURES,
  type SmtpScope,
  smtpScope,
} from '../src/smtp-failures.js';

const SERVER = 'smtp.example.com:587';

/**
 * Failures as nodemailer 10 reports them, copied from real sessions (the live cases below make
 * most of them again, so a nodemailer that changes its fields fails here).
 */
const SHAPES: [string, NodemailerFailure, SmtpScope, string, RegExp][] = [
  [
    '535 at AUTH PLAIN (wrong password)',
    {
      code: 'EAUTH',
      command: 'AUTH PLAIN',
      responseCode: 535,
      response: '535 Authentication credentials invalid',
      message: 'Invalid login: 535 Authentication credentials invalid',
    },
    'send',
    'E_SMTP_AUTH',
    /^the SMTP server at smtp\.example\.com:587 refused the login \(AUTH PLAIN\): 535 Authentication credentials invalid; check the user and password in SMTP_URL$/,
  ],
  [
    'no credentials for the login nodemailer was asked to do',
    { code: 'EAUTH', command: 'API', message: 'Missing credentials for "PLAIN"' },
    'send',
    'E_SMTP_AUTH',
    /refused the login: Missing credentials for "PLAIN"/,
  ],
  [
    '454 at AUTH (a temporary authentication failure)',
    {
      code: 'EAUTH',
      command: 'AUTH PLAIN',
      responseCode: 454,
      response: '454 Temporary auth failure',
      message: 'Invalid login: 454 Temporary auth failure',
    },
    'transient',
    'E_SMTP_TEMPORARY',
    /^the SMTP server answered 454 Temporary auth failure$/,
  ],
  [
    '553 at MAIL FROM (sender refused)',
    {
      code: 'EENVELOPE',
      command: 'MAIL FROM',
      responseCode: 553,
      response: '553 Sender not allowed',
      message: 'Mail command failed: 553 Sender not allowed',
    },
    'send',
    'E_SMTP_MESSAGE_REFUSED',
    /^the SMTP server refused the sender \(MAIL FROM\): 553 Sender not allowed; check MAIL_FROM$/,
  ],
  [
    '550 at RCPT TO for the only recipient',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 550,
      response: '550 No such user',
      message: "Can't send mail - all recipients were rejected: 550 No such user",
    },
    'recipient',
    'E_SMTP_REJECTED',
    /^the SMTP server refused the message: 550 No such user$/,
  ],
  [
    '451 at RCPT TO (greylisting)',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 451,
      response: '451 Try later',
      message: "Can't send mail - all recipients were rejected: 451 Try later",
    },
    'transient',
    'E_SMTP_TEMPORARY',
    /^the SMTP server answered 451 Try later$/,
  ],
  [
    '503 at RCPT TO (bad sequence of commands: not a refusal)',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 503,
      response: '503 Bad sequence of commands',
      message: "Can't send mail - all recipients were rejected: 503 Bad sequence of commands",
    },
    'transient',
    'E_SMTP_TEMPORARY',
    /answered 503/,
  ],
  [
    '421 at RCPT TO (the server closing)',
    {
      code: 'ECONNECTION',
      command: 'CONN',
      responseCode: 421,
      response: '421 closing',
      message: 'Server closed the connection: 421 closing',
    },
    'transient',
    'E_SMTP_TEMPORARY',
    /^the SMTP server answered 421 closing$/,
  ],
  [
    '552 after DATA (message too large)',
    {
      code: 'EMESSAGE',
      command: 'DATA',
      responseCode: 552,
      response: '552 Message too large',
      message: 'Message failed: 552 Message too large',
    },
    'send',
    'E_SMTP_MESSAGE_REFUSED',
    /^the SMTP server refused the message itself \(DATA\): 552 Message too large$/,
  ],
  [
    '554 to the DATA command itself',
    {
      code: 'EENVELOPE',
      command: 'DATA',
      responseCode: 554,
      response: '554 Transaction failed',
      message: 'Data command failed: 554 Transaction failed',
    },
    'send',
    'E_SMTP_MESSAGE_REFUSED',
    /554 Transaction failed/,
  ],
  [
    '451 after DATA',
    {
      code: 'EMESSAGE',
      command: 'DATA',
      responseCode: 451,
      response: '451 Local error',
      message: 'Message failed: 451 Local error',
    },
    'transient',
    'E_SMTP_TEMPORARY',
    /answered 451 Local error/,
  ],
  [
    "larger than the server's SIZE (no reply: nodemailer's own check)",
    { code: 'EMESSAGE', command: 'MAIL FROM', message: 'Message size larger than allowed 1000' },
    'send',
    'E_SMTP_MESSAGE_REFUSED',
    /refused the message itself: Message size larger than allowed 1000/,
  ],
  [
    '554 greeting (the session refused)',
    {
      code: 'EPROTOCOL',
      command: 'CONN',
      responseCode: 554,
      response: '554 No SMTP service here',
      message: 'Invalid greeting. response=554 No SMTP service here: 554 No SMTP service here',
    },
    'send',
    'E_SMTP_MESSAGE_REFUSED',
    /refused the session \(CONN\): 554 No SMTP service here/,
  ],
  [
    'STARTTLS not offered with requireTLS',
    {
      code: 'ETLS',
      command: 'STARTTLS',
      responseCode: 500,
      response: '500 Error: command not recognized',
      message: 'Error upgrading connection with STARTTLS: 500 Error: command not recognized',
    },
    'send',
    'E_SMTP_TLS',
    /^the TLS handshake with the SMTP server at smtp\.example\.com:587 failed: 500 Error: command not recognized$/,
  ],
  [
    'an expired certificate',
    { code: 'ESOCKET', originalCode: 'CERT_HAS_EXPIRED', command: 'CONN', message: 'certificate has expired' },
    'send',
    'E_SMTP_TLS',
    /failed \(CERT_HAS_EXPIRED\): certificate has expired$/,
  ],
  [
    'a certificate for another host',
    {
      code: 'ESOCKET',
      originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
      command: 'CONN',
      message:
        "Hostname/IP does not match certificate's altnames: Host: smtp.example.com. is not in the cert's altnames",
    },
    'send',
    'E_SMTP_TLS',
    /ERR_TLS_CERT_ALTNAME_INVALID/,
  ],
  [
    'smtps:// to a port that does not speak TLS',
    {
      code: 'ESOCKET',
      originalCode: 'ERR_SSL_WRONG_VERSION_NUMBER',
      command: 'CONN',
      message:
        '80ACAE78FE7E0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
    },
    'send',
    'E_SMTP_TLS',
    /\(ERR_SSL_WRONG_VERSION_NUMBER\): wrong version number \(smtps:\/\/ is for a port that speaks TLS at once/,
  ],
  [
    'a refused connection',
    {
      code: 'ESOCKET',
      originalCode: 'ECONNREFUSED',
      command: 'CONN',
      message: 'connect ECONNREFUSED 127.0.0.1:38909',
    },
    'transient',
    'E_SMTP_UNREACHABLE',
    /^cannot connect to the SMTP server at smtp\.example\.com:587 \(ECONNREFUSED\): is it running\? \(SMTP_URL\)$/,
  ],
  [
    'a host that does not resolve',
    {
      code: 'EDNS',
      originalCode: 'ENOTFOUND',
      command: 'CONN',
      message: 'getaddrinfo ENOTFOUND nonexistent.invalid',
    },
    'transient',
    'E_SMTP_UNREACHABLE',
    /\(ENOTFOUND\)/,
  ],
  [
    'no greeting in time',
    { code: 'ETIMEDOUT', command: 'CONN', message: 'Greeting never received' },
    'transient',
    'E_SMTP_TEMPORARY',
    /failed \(ETIMEDOUT\): Greeting never received$/,
  ],
  [
    'connections reset until the pool gives up',
    { code: 'ECONNECTION', message: 'Reached maximum number of retries after connection was closed' },
    'transient',
    'E_SMTP_TEMPORARY',
    /failed \(ECONNECTION\)/,
  ],
  [
    'the pool closed under a message (no code)',
    { message: 'Connection pool was closed' },
    'transient',
    'E_SMTP_TEMPORARY',
    /^Connection pool was closed$/,
  ],
];

describe('SMTP_FAILURES on the shapes nodemailer reports', () => {
  it.each(SHAPES)('%s', (_, failure, scope, code, message) => {
    const classified = classifySmtpFailure(Object.assign(new Error(failure.message), failure), SERVER);
    expect({ scope: classified.scope, code: classified.code }).toEqual({ scope, code });
    expect(classified.message).toMatch(message);
  });

  it('every row has a documented code, and each code belongs to one scope (so the code alone decides)', () => {
    const scopes = new Map<string, SmtpScope>();
    for (const row of SMTP_FAILURES) {
      expect(ERROR_CODES[row.code]).toBeTruthy();
      expect(scopes.get(row.code) ?? row.scope, `${row.code} in two scopes`).toBe(row.scope);
      scopes.set(row.code, row.scope);
    }
    expect(Object.fromEntries(scopes)).toEqual({
      E_SMTP_TEMPORARY: 'transient',
      E_SMTP_UNREACHABLE: 'transient',
      E_SMTP_REJECTED: 'recipient',
      E_SMTP_AUTH: 'send',
      E_SMTP_MESSAGE_REFUSED: 'send',
      E_SMTP_TLS: 'send',
    });
  });

  it('smtpScope reads the scope back from a DispatchError, and knows nothing of other errors', () => {
    expect(smtpScope(new DispatchError('E_SMTP_AUTH', 'x'))).toBe('send');
    expect(smtpScope(new DispatchError('E_SMTP_REJECTED', 'x'))).toBe('recipient');
    expect(smtpScope(new DispatchError('E_SMTP_UNREACHABLE', 'x', { transient: true }))).toBe('transient');
    expect(smtpScope(new DispatchError('E_TEMPLATE', 'x'))).toBeNull();
    expect(smtpScope(Object.assign(new Error('raw'), { code: 'EAUTH' }))).toBeNull();
    expect(smtpScope(null)).toBeNull();
  });
});

/** A real smtp-server on a free port, with the given hooks; plain connections (no STARTTLS) unless told. */
async function smtpServer(options: Partial<SMTPServerOptions>) {
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onAuth: (_auth, _session, callback) => callback(null, { user: 'user' }),
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback());
    },
    ...options,
  });
  server.on('error', () => {});
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const port = (server.server.address() as { port: number }).port;
  return { port, close: () => new Promise<void>((done) => server.close(() => done())) };
}

const refuse = (responseCode: number, text: string) => Object.assign(new Error(text), { responseCode });
const MESSAGE = {
  from: 'news@example.com',
  to: 'ana@example.org',
  subject: 'Hello',
  text: 'Hi',
  html: '<p>Hi</p>',
  messageId: '<t.1@example.com>',
  headers: {},
};

describe('the mailer against a real smtp-server: what it throws', () => {
  it.each<[string, Partial<SMTPServerOptions>, string, SmtpScope, Record<string, unknown>, RegExp]>([
    [
      '535 at AUTH',
      { authOptional: false, onAuth: (_a, _s, cb) => cb(refuse(535, 'Authentication credentials invalid')) },
      'E_SMTP_AUTH',
      'send',
      { code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535 },
      /refused the login \(AUTH PLAIN\): 535 Authentication credentials invalid/,
    ],
    [
      '553 at MAIL FROM',
      { onMailFrom: (_a, _s, cb) => cb(refuse(553, 'Sender not allowed')) },
      'E_SMTP_MESSAGE_REFUSED',
      'send',
      { code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 553 },
      /553 Sender not allowed/,
    ],
    [
      '550 at RCPT TO',
      { onRcptTo: (_a, _s, cb) => cb(refuse(550, 'No such user')) },
      'E_SMTP_REJECTED',
      'recipient',
      { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550 },
      /^the SMTP server refused the message: 550 No such user$/,
    ],
    [
      '451 at RCPT TO',
      { onRcptTo: (_a, _s, cb) => cb(refuse(451, 'Try later')) },
      'E_SMTP_TEMPORARY',
      'transient',
      { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 451 },
      /451 Try later/,
    ],
    [
      '421 at RCPT TO',
      { onRcptTo: (_a, _s, cb) => cb(refuse(421, 'Closing')) },
      'E_SMTP_TEMPORARY',
      'transient',
      { code: 'ECONNECTION', command: 'CONN', responseCode: 421 },
      /421 Closing/,
    ],
    [
      '552 after DATA',
      {
        onData(stream, _s, cb) {
          stream.resume();
          stream.on('end', () => cb(refuse(552, 'Message too large')));
        },
      },
      'E_SMTP_MESSAGE_REFUSED',
      'send',
      { code: 'EMESSAGE', command: 'DATA', responseCode: 552 },
      /552 Message too large/,
    ],
    [
      '554 greeting',
      { onConnect: (_s, cb) => cb(refuse(554, 'No SMTP service here')) },
      'E_SMTP_MESSAGE_REFUSED',
      'send',
      { code: 'EPROTOCOL', command: 'CONN', responseCode: 554 },
      /refused the session/,
    ],
  ])('%s', async (_, options, code, scope, nodemailerFields, message) => {
    const server = await smtpServer(options);
    const mailer = createMailer(`smtp://user:secret@127.0.0.1:${server.port}`);
    try {
      const error = await mailer.send(MESSAGE).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DispatchError);
      const failure = error as DispatchError;
      expect({ code: failure.code, scope: smtpScope(failure), transient: failure.transient }).toEqual({
        code,
        scope,
        transient: scope === 'transient',
      });
      expect(failure.message).toMatch(message);
      expect(failure.cause).toMatchObject(nodemailerFields);
    } finally {
      mailer.close();
      await server.close();
    }
  });

  it('smtps:// to a plain port: E_SMTP_TLS, naming the likely mix-up', async () => {
    const server = await smtpServer({});
    const mailer = createMailer(`smtps://127.0.0.1:${server.port}`);
    try {
      const error = (await mailer.send(MESSAGE).catch((e: unknown) => e)) as DispatchError;
      expect(error.code).toBe('E_SMTP_TLS');
      expect(error.cause).toMatchObject({ code: 'ESOCKET', originalCode: 'ERR_SSL_WRONG_VERSION_NUMBER' });
      expect(error.message).toMatch(/failed \(ERR_SSL_WRONG_VERSION_NUMBER\): wrong version number \(smtps:\/\//);
    } finally {
      mailer.close();
      await server.close();
    }
  });

  it('a refused connection: E_SMTP_UNREACHABLE naming host and port, transient', async () => {
    const port = await freePort();
    const mailer = createMailer(`smtp://127.0.0.1:${port}`);
    try {
      const error = (await mailer.send(MESSAGE).catch((e: unknown) => e)) as DispatchError;
      expect({ code: error.code, transient: error.transient, message: error.message }).toEqual({
        code: 'E_SMTP_UNREACHABLE',
        transient: true,
        message: `cannot connect to the SMTP server at 127.0.0.1:${port} (ECONNREFUSED): is it running? (SMTP_URL)`,
      });
    } finally {
      mailer.close();
    }
  });

  it('a server that resets every connection: transient', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const mailer = createMailer(`smtp://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    try {
      const error = (await mailer.send(MESSAGE).catch((e: unknown) => e)) as DispatchError;
      expect({ code: error.code, scope: smtpScope(error) }).toEqual({ code: 'E_SMTP_TEMPORARY', scope: 'transient' });
    } finally {
      mailer.close();
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  // The mailer skips STARTTLS on 127.0.0.1 (a local catcher has no trusted certificate), so these
  // go through nodemailer directly, as a real server's would through the mailer.
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['STARTTLS with a bad certificate', { requireTLS: true }, { code: 'ESOCKET', originalCode: 'CERT_HAS_EXPIRED' }],
    ['STARTTLS required, not offered', { requireTLS: true, noStartTls: true }, { code: 'ETLS', command: 'STARTTLS' }],
  ])('%s: E_SMTP_TLS', async (_, options, nodemailerFields) => {
    const { noStartTls, ...transportOptions } = options;
    const server = await smtpServer({ disabledCommands: noStartTls ? ['STARTTLS'] : [] });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.port, ...transportOptions });
    try {
      const cause = await transport.sendMail(MESSAGE).catch((e: unknown) => e);
      expect(cause).toMatchObject(nodemailerFields);
      expect(classifySmtpFailure(cause, 'x:1')).toMatchObject({ scope: 'send', code: 'E_SMTP_TLS' });
    } finally {
      transport.close();
      await server.close();
    }
  });
});
