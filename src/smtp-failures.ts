import type { ErrorCode } from './errors.js';

/**
 * Where an SMTP failure happened, which decides what a list send does with it:
 * - `recipient`: the server refused this one address (a 5xx at RCPT TO). That recipient is marked
 *   failed and bounced; the send goes on.
 * - `send`: the server refused something every message shares (the login, the sender, the message
 *   itself, TLS). Nobody is marked failed; the send pauses until a person fixes the cause.
 * - `transient`: it may pass on its own (a 4xx, a timeout, a dropped or refused connection). The
 *   recipient goes back to pending and the batch is retried with backoff.
 */
export type SmtpScope = 'recipient' | 'send' | 'transient';

export type SmtpErrorCode = Extract<ErrorCode, `E_SMTP_${string}`>;

/**
 * The fields nodemailer sets on a failed send (smtp-connection's `_formatError`, smtp-pool):
 * `code` is its own (EAUTH, EENVELOPE, EMESSAGE, ETLS, ESOCKET, ECONNECTION, ETIMEDOUT, EDNS,
 * EPROTOCOL), `originalCode` the system error it replaced (ECONNREFUSED, CERT_HAS_EXPIRED),
 * `command` what was in flight ('AUTH PLAIN', 'MAIL FROM', 'RCPT TO', 'DATA', 'STARTTLS', 'CONN'
 * for the connection itself, 'API' for a check nodemailer made before sending anything).
 */
export interface NodemailerFailure {
  code?: string;
  originalCode?: string;
  command?: string;
  responseCode?: number;
  response?: string;
  message: string;
}

export interface SmtpFailureRow {
  /** The failure as nodemailer reports it, with an example: this column is the documentation. */
  when: string;
  scope: SmtpScope;
  code: SmtpErrorCode;
  matches(failure: NodemailerFailure): boolean;
  /** The one line a person reads; `server` is "host:port". */
  describe(failure: NodemailerFailure, server: string): string;
}

/** The server's words on one line (a multi-line reply is folded), or nodemailer's message when it got no reply. */
function reply(failure: NodemailerFailure): string {
  return (failure.response ?? failure.message).replace(/\s+/g, ' ').trim();
}

const replyClass = (failure: NodemailerFailure) => Math.floor((failure.responseCode ?? 0) / 100);
const isAuthCommand = (command: string | undefined) => command?.startsWith('AUTH') ?? false;

/** Node's codes for a failed TLS handshake or certificate check, as nodemailer keeps them in `originalCode`. */
const TLS_SYSTEM_CODE =
  /^(ERR_SSL_|ERR_TLS_|CERT_|CRL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$|INVALID_CA$)/;
/** Node's codes for a server that cannot be reached at all. */
const UNREACHABLE_SYSTEM_CODE = /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/;

/** OpenSSL's messages name the routine and source line; the reason alone is what a person can use. */
function tlsReason(failure: NodemailerFailure): string {
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(failure.message);
  const reason = openssl?.[1] ?? failure.message.trim();
  return failure.originalCode === 'ERR_SSL_WRONG_VERSION_NUMBER'
    ? `${reason} (smtps:// is for a port that speaks TLS at once, usually 465; use smtp:// for 25 or 587)`
    : reason;
}

/**
 * What each SMTP failure means, first match wins. Sources: nodemailer's smtp-connection
 * (`_actionAUTHComplete`, `_actionMAIL`, `_envelopeError`, `_actionSMTPStream`, `_onError`) and
 * smtp-pool; tests/smtp-failures.test.ts produces each shape from a real server. A 5xx nobody
 * expected pauses the send rather than failing a recipient: a pause can be resumed, a failed
 * ledger line is never sent again.
 */
export const SMTP_FAILURES: readonly SmtpFailureRow[] = [
  {
    when: 'a 4xx reply to any command: 450/451/452 at RCPT TO or after DATA, 454 at AUTH, 421 (ECONNECTION, the server closing)',
    scope: 'transient',
    code: 'E_SMTP_TEMPORARY',
    matches: (f) => replyClass(f) === 4,
    describe: (f) => `the SMTP server answered ${reply(f)}`,
  },
  {
    when: '503 (bad sequence of commands): the session was in the wrong state, not a refusal (nodemailer: not permanent)',
    scope: 'transient',
    code: 'E_SMTP_TEMPORARY',
    matches: (f) => f.responseCode === 503,
    describe: (f) => `the SMTP server answered ${reply(f)}`,
  },
  {
    when: 'a 5xx at RCPT TO: the one recipient refused (EENVELOPE, "550 No such user")',
    scope: 'recipient',
    code: 'E_SMTP_REJECTED',
    matches: (f) => replyClass(f) === 5 && f.command === 'RCPT TO',
    describe: (f) => `the SMTP server refused the message: ${reply(f)}`,
  },
  {
    when: 'EAUTH: the login refused ("535 Authentication credentials invalid" at AUTH PLAIN/LOGIN/CRAM-MD5), or no credentials for it',
    scope: 'send',
    code: 'E_SMTP_AUTH',
    matches: (f) => f.code === 'EAUTH' || (replyClass(f) === 5 && isAuthCommand(f.command)),
    describe: (f, server) =>
      `the SMTP server at ${server} refused the login${isAuthCommand(f.command) ? ` (${f.command})` : ''}: ${reply(f)}; check the user and password in SMTP_URL`,
  },
  {
    when: 'a 5xx at MAIL FROM: the sender refused (EENVELOPE, "553 Sender not allowed")',
    scope: 'send',
    code: 'E_SMTP_MESSAGE_REFUSED',
    matches: (f) => replyClass(f) === 5 && f.command === 'MAIL FROM',
    describe: (f) => `the SMTP server refused the sender (MAIL FROM): ${reply(f)}; check MAIL_FROM`,
  },
  {
    when: 'a 5xx at or after DATA (EMESSAGE "552 Message too large", "554 rejected as spam"), or EMESSAGE: larger than the SIZE the server announced',
    scope: 'send',
    code: 'E_SMTP_MESSAGE_REFUSED',
    matches: (f) => (replyClass(f) === 5 && f.command === 'DATA') || (f.code === 'EMESSAGE' && !f.responseCode),
    describe: (f) => `the SMTP server refused the message itself${f.command === 'DATA' ? ' (DATA)' : ''}: ${reply(f)}`,
  },
  {
    when: 'ETLS or EREQUIRETLS: STARTTLS refused or failed, or the connection closed during the handshake',
    scope: 'send',
    code: 'E_SMTP_TLS',
    matches: (f) => f.code === 'ETLS' || f.code === 'EREQUIRETLS',
    describe: (f, server) => `the TLS handshake with the SMTP server at ${server} failed: ${reply(f)}`,
  },
  {
    when: 'ESOCKET with a TLS error under it (originalCode CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID, ERR_SSL_WRONG_VERSION_NUMBER)',
    scope: 'send',
    code: 'E_SMTP_TLS',
    matches: (f) => TLS_SYSTEM_CODE.test(f.originalCode ?? ''),
    describe: (f, server) =>
      `the TLS handshake with the SMTP server at ${server} failed (${f.originalCode}): ${tlsReason(f)}`,
  },
  {
    when: 'any other 5xx: the session refused at the greeting or HELO ("554 No SMTP service here")',
    scope: 'send',
    code: 'E_SMTP_MESSAGE_REFUSED',
    matches: (f) => replyClass(f) === 5,
    describe: (f, server) => `the SMTP server at ${server} refused the session (${f.command ?? 'CONN'}): ${reply(f)}`,
  },
  {
    when: 'ESOCKET or EDNS with ECONNREFUSED, ENOTFOUND, EHOSTUNREACH, ENETUNREACH or EAI_AGAIN under it: no server to talk to',
    scope: 'transient',
    code: 'E_SMTP_UNREACHABLE',
    matches: (f) => UNREACHABLE_SYSTEM_CODE.test(f.originalCode ?? f.code ?? ''),
    describe: (f, server) =>
      `cannot connect to the SMTP server at ${server} (${f.originalCode ?? f.code}): is it running? (SMTP_URL)`,
  },
  {
    when: 'ECONNECTION, ESOCKET, ETIMEDOUT, EDNS, EPROTOCOL without a reply: the connection dropped, reset or timed out',
    scope: 'transient',
    code: 'E_SMTP_TEMPORARY',
    matches: (f) => ['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'EPROTOCOL'].includes(f.code ?? ''),
    describe: (f, server) =>
      `the connection to the SMTP server at ${server} failed (${f.code}${f.originalCode ? ` ${f.originalCode}` : ''}): ${reply(f)}`,
  },
  {
    when: 'anything else (the pool closed, a stream error): taken as transient; a batch still failing at its last attempt pauses the send',
    scope: 'transient',
    code: 'E_SMTP_TEMPORARY',
    matches: () => true,
    describe: (f) => reply(f),
  },
];

export interface SmtpFailure {
  scope: SmtpScope;
  code: SmtpErrorCode;
  message: string;
}

/** Which row of {@link SMTP_FAILURES} a failed send falls under, and its message. */
export function classifySmtpFailure(error: unknown, server: string): SmtpFailure {
  const failure: NodemailerFailure =
    typeof error === 'object' && error !== null
      ? { ...(error as Partial<NodemailerFailure>), message: String((error as { message?: unknown }).message ?? '') }
      : { message: String(error) };
  // The last row matches anything.
  const row = SMTP_FAILURES.find((r) => r.matches(failure)) as SmtpFailureRow;
  return { scope: row.scope, code: row.code, message: row.describe(failure, server) };
}

/** Each SMTP code belongs to one scope (tests/smtp-failures.test.ts checks that the table keeps it so). */
const SCOPE_OF_CODE = new Map<string, SmtpScope>(SMTP_FAILURES.map((row) => [row.code, row.scope]));

/** The scope of an error the mailer threw (read from its code), or null for an error that is not an SMTP failure. */
export function smtpScope(error: unknown): SmtpScope | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? (SCOPE_OF_CODE.get(code) ?? null) : null;
}
