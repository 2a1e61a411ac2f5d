/**
 * Every failure Dispatch reports on purpose carries one of these stable codes.
 * The table is the documentation: README's "Error codes" section lists the same entries.
 */
export const ERROR_CODES = {
  E_CONFIG: 'an environment variable is missing or invalid',
  E_INPUT_NOT_FOUND: 'the input file does not exist or cannot be read',
  E_INPUT_EMPTY: 'the input is empty or only whitespace',
  E_INPUT_BINARY: 'the input contains NUL bytes: it is binary, not text',
  E_INPUT_ENCODING: 'the input cannot be decoded with its declared (or the default UTF-8) charset',
  E_INPUT_TOO_LARGE: 'the input is larger than the configured limit (MAX_INPUT_BYTES)',
  E_INPUT_FORMAT: 'the input is not valid in the format given or detected (e.g. malformed JSON)',
  E_HTML_NO_ARTICLE: 'the HTML page has no readable article',
  E_ARTICLE_NO_TITLE: 'no title could be found for the article',
  E_ARTICLE_NO_BODY: 'the article has a title but no body paragraphs',
  E_URL_INVALID: 'a URL is malformed or not http(s)',
  E_URL_BLOCKED:
    'a URL (or a redirect) leads to a loopback, private, link-local or other non-public address; ALLOW_PRIVATE_URLS=true allows them',
  E_FETCH_TIMEOUT: 'fetching a URL took longer than FETCH_TIMEOUT_MS',
  E_FETCH_STATUS: 'fetching a URL answered with a non-2xx status',
  E_FETCH_FAILED: 'a URL could not be fetched (DNS, refused connection, TLS)',
  E_WEEK_INVALID: 'a week is not in the ISO form 2013-W37',
  E_ISSUE_EMPTY: 'no articles were published in the requested week',
  E_TEMPLATE: 'a newsletter template is missing or does not compile',
  E_MJML_INVALID: 'the newsletter MJML does not validate',
  E_FEED_INVALID: 'a feed is not valid RSS 2.0 or Atom',
  E_JOB_PAYLOAD: 'a job carries data its queue does not accept',
  E_JOB_TIMEOUT: 'a job worked longer than JOB_TIMEOUT_MS and was stopped',
  E_INTERNAL: 'an unexpected failure inside Dispatch (a bug): the message says where',
  E_NOT_FOUND: 'no stored article or issue has that id or week',
  E_REDIS_UNAVAILABLE: 'Redis does not answer at REDIS_URL (or the managed server)',
  E_SMTP_UNREACHABLE: 'the SMTP server at SMTP_URL cannot be reached',
  E_SMTP_TEMPORARY: 'the SMTP server deferred a message (a 4xx reply) or dropped the connection; it is retried',
  E_SMTP_REJECTED: 'the SMTP server refused one recipient for good (a 5xx reply at RCPT TO)',
  E_SMTP_AUTH: 'the SMTP server refused the login (wrong user or password in SMTP_URL): the send pauses',
  E_SMTP_MESSAGE_REFUSED:
    'the SMTP server refused the sender or the message itself (a 5xx at MAIL FROM or DATA): the send pauses',
  E_SMTP_TLS: 'the TLS handshake with the SMTP server failed: the send pauses',
  E_SEND_PAUSED: 'a list send that `dispatch send --wait` follows paused (by hand or by itself): the message says why',
  E_PORT_IN_USE: 'a port Dispatch wants to listen on is taken',
  E_PORT_INVALID: 'a port is not a whole number from 0 to 65535',
  E_TOO_MANY_RECIPIENTS: 'a test send names more addresses than TEST_SEND_MAX_RECIPIENTS',
  E_SECRET_DEFAULT:
    'UNSUBSCRIBE_SECRET is the public development default while PUBLIC_URL or SMTP_URL is not local, or `dispatch bounces` listens beyond this machine',
  E_ISSUE_SENT:
    "the week's issue has gone to the list (its send started): it is frozen, and hold, edit and approve no longer apply",
  E_ISSUE_HELD: "the week's issue is held: `dispatch issue release <week>` lets it go out",
  E_OUTPUT_WRITE: 'an output file (`--out`) cannot be written',
  E_IMPORT_REJECTED: 'a subscriber import rejected every row',
  E_POST_AUTH: "a network refused Dispatch's credentials: posting to it pauses until `dispatch posts resume <network>`",
  E_POST_RATE_LIMITED: 'a network asked Dispatch to slow down: the post waits as long as it asked, then goes',
  E_POST_REFUSED: 'a network refused a post for good (too long, a duplicate, against its rules): its message says why',
  E_POST_POSTED: 'a planned post cannot be cancelled: it is already on the network (delete it there)',
  E_POST_UNREACHABLE: "a network's API could not be reached or failed (5xx): the post is retried",
  E_REDIS_MISSING: 'REDIS_URL is unset and no redis-server binary is on PATH',
  E_REDIS_START: 'the managed redis-server did not start',
  E_SPAM_UNAVAILABLE:
    'SpamAssassin could not score a message: spamd is not installed (`npm run setup` installs it), does not answer, or refused the request',
  E_SPAM_START: 'the managed spamd did not start in time: its log (DATA_DIR/spamd/spamd.log) says why',
  E_SPAM_TIMEOUT: 'spamd took longer than the time limit to score a message',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The one error class for expected failures: bad input, bad configuration, unreachable services.
 * `message` is one line that quotes the bad value and says where; `code` never changes meaning.
 */
export class DispatchError extends Error {
  readonly code: ErrorCode;
  /** True for failures that may pass on their own (a server down, a 4xx reply): jobs retry these. */
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, options);
    this.name = 'DispatchError';
    this.code = code;
    this.transient = options?.transient ?? false;
  }
}

/** True for a {@link DispatchError}, optionally of one code. */
export function isDispatchError(error: unknown, code?: ErrorCode): error is DispatchError {
  return error instanceof DispatchError && (code === undefined || error.code === code);
}
