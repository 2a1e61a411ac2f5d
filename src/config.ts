import { z } from 'zod';
import { DispatchError } from './errors.js';
import { normalizeAddress } from './subscribers/normalize-address.js';
import { zodProblems } from './zod-problems.js';

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as Europe/London' },
);

const httpUrl = z
  .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''));

const port = z.coerce
  .number({ message: 'must be a port number (0-65535)' })
  .int('must be a port number (0-65535)')
  .min(0, 'must be a port number (0-65535)')
  .max(65535, 'must be a port number (0-65535)');

const positiveInt = z.coerce
  .number({ message: 'must be a positive whole number' })
  .int('must be a positive whole number')
  .positive('must be a positive whole number');

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Empty strings in the environment mean "unset", as they do in most shells' `.env` habits. */
const blankToUndefined = (value: unknown) => (value === '' ? undefined : value);

/**
 * Every environment variable Dispatch reads, with its default.
 * `.env.example` and the README list the same variables; keep the three in step.
 */
export const configSchema = z.object({
  /** Redis for queues and the store. Unset: a private redis-server is started under DATA_DIR/redis. */
  REDIS_URL: z.preprocess(
    blankToUndefined,
    z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional(),
  ),
  /** Key prefix for everything Dispatch stores in Redis. @defaultValue `dispatch` */
  REDIS_PREFIX: z
    .string()
    .regex(/^[\w:.-]+$/, 'must be letters, digits, _ : . or -')
    .default('dispatch'),
  /** Where mail goes. @defaultValue the local mailbox that `npm start` runs */
  SMTP_URL: z
    .url({ protocol: /^smtps?$/, message: 'must be an smtp:// or smtps:// URL' })
    .default('smtp://127.0.0.1:2525'),
  /** The From header of every message. */
  MAIL_FROM: z.string().min(3).default('The Example Times <newsletter@example.com>'),
  SITE_NAME: z.string().min(1).default('The Example Times'),
  SITE_URL: httpUrl.default('https://news.example.com'),
  TWITTER_HANDLE: z
    .string()
    .regex(/^@?\w{1,15}$/, 'must be a Twitter handle such as @example')
    .transform((h) => (h.startsWith('@') ? h : `@${h}`))
    .default('@example'),
  NEWSLETTER_SIGNUP_URL: httpUrl.default('https://news.example.com/newsletter'),
  /** Add utm_source/utm_medium/utm_campaign to the links in posts and newsletters. @defaultValue true */
  UTM_PARAMS: booleanFlag.default(true),
  /** Add hashtags from the article's most frequent proper nouns to headline posts, when they fit. @defaultValue false */
  POST_HASHTAGS: booleanFlag.default(false),
  /**
   * Post to the networks that have credentials below, on the schedule (POST_WINDOW,
   * POST_SPACING_MINUTES). Off: posts are composed and shown, never posted. @defaultValue false
   */
  SOCIAL_POSTING: booleanFlag.default(false),
  /** The kinds of post scheduled for each article, comma-separated. @defaultValue headline,keyPoint,quote,thread */
  POST_KINDS: z
    .string()
    .default('headline,keyPoint,quote,thread')
    .transform((v) => [
      ...new Set(
        v
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z.array(
        z.enum(['headline', 'keyPoint', 'quote', 'thread'], {
          message: 'must list post kinds from headline, keyPoint, quote, thread separated by commas',
        }),
      ),
    ),
  /**
   * When posts go out, in TZ: a post due outside the window waits for its next opening. `00:00-24:00`
   * posts at any hour. @defaultValue 07:00-22:00
   */
  POST_WINDOW: z
    .string()
    .regex(/^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/, 'must be a window such as 07:00-22:00')
    .default('07:00-22:00'),
  /** Minutes between an article's posts on one network: the headline first, then the others. @defaultValue 90 */
  POST_SPACING_MINUTES: positiveInt.default(90),
  /** Most posts Dispatch makes per hour on each network (a thread counts once). @defaultValue 12 */
  POST_MAX_PER_HOUR: positiveInt.default(12),
  /** X (Twitter) account, OAuth 1.0a user context: the app's API key, ... */
  X_API_KEY: z.preprocess(blankToUndefined, z.string().optional()),
  /** ... its API key secret, ... */
  X_API_SECRET: z.preprocess(blankToUndefined, z.string().optional()),
  /** ... the account's access token, ... */
  X_ACCESS_TOKEN: z.preprocess(blankToUndefined, z.string().optional()),
  /** ... and its access token secret. */
  X_ACCESS_SECRET: z.preprocess(blankToUndefined, z.string().optional()),
  /** The X API's address. @defaultValue https://api.x.com */
  X_API_URL: httpUrl.default('https://api.x.com'),
  /** Bluesky account: its handle (news.example.com), ... */
  BLUESKY_HANDLE: z.preprocess(blankToUndefined, z.string().optional()),
  /** ... and an app password (Settings, App passwords), never the account's own password. */
  BLUESKY_APP_PASSWORD: z.preprocess(blankToUndefined, z.string().optional()),
  /** The account's PDS. @defaultValue https://bsky.social */
  BLUESKY_SERVICE: httpUrl.default('https://bsky.social'),
  /** Mastodon account: the instance's address (https://mastodon.social), ... */
  MASTODON_URL: z.preprocess(blankToUndefined, httpUrl.optional()),
  /** ... and an access token with the write:statuses and write:media scopes. */
  MASTODON_TOKEN: z.preprocess(blankToUndefined, z.string().optional()),
  /** The publisher's postal address, shown in every newsletter's footer (CAN-SPAM, GDPR). */
  PUBLISHER_ADDRESS: z.string().min(5).default('The Example Times, 1 Example Street, Exampleton EX1 2MP'),
  /** Full article cards in an issue (the lead included); the rest are listed by title. @defaultValue 10 */
  NEWSLETTER_MAX_CARDS: positiveInt.default(10),
  /**
   * Largest personalized HTML an issue may have, in bytes; above it the renderer drops images,
   * bullets, then cards. Gmail clips at 102,400. @defaultValue 100000
   */
  NEWSLETTER_MAX_HTML_BYTES: positiveInt.default(100_000),
  /** Newsletter templates folder. @defaultValue the project's templates/ */
  TEMPLATES_DIR: z.preprocess(blankToUndefined, z.string().optional()),
  /** When the weekly issue is built: a cron pattern in TZ. @defaultValue Fridays at 09:00 */
  NEWSLETTER_CRON: z
    .string()
    .regex(/^\S+( \S+){4,5}$/, 'must be a cron pattern of 5 or 6 fields, e.g. "0 9 * * 5"')
    .default('0 9 * * 5'),
  /**
   * How long after the weekly build the list send starts by itself, unless an editor holds it:
   * a duration such as `0s`, `90m`, `2h` or `1d`. Empty: the issue waits for an editor's approval
   * (`dispatch issue approve`, or Approve in the preview). @defaultValue empty (wait for approval)
   */
  NEWSLETTER_SEND_AFTER: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d{1,6}(s|m|h|d)$/, 'must be a duration such as 0s, 90m, 2h or 1d, or empty to wait for approval')
      .transform((v) => durationMs(v))
      .optional(),
  ),
  /**
   * Who gets the weekly proof (and word of an empty week or a failed build): addresses,
   * comma-separated. @defaultValue none (no proof is sent)
   */
  EDITOR_EMAILS: z
    .string()
    .default('')
    .transform((v) => [
      ...new Set(
        v
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z.array(
        z
          .string()
          .refine((a) => normalizeAddress(a) !== null, 'must list email addresses separated by commas')
          .transform((a) => normalizeAddress(a) as string),
      ),
    ),
  /**
   * The preview's address as editors reach it: the proof links there to approve and edit the issue.
   * @defaultValue http://PREVIEW_HOST:PREVIEW_PORT
   */
  PREVIEW_URL: z.preprocess(blankToUndefined, httpUrl.optional()),
  /**
   * Where readers find the public archive (the "View in browser" links, canonical URLs and the
   * feed point there). `dispatch serve` serves it at PUBLIC_URL/archive; set this when the static
   * `dispatch archive build` is hosted elsewhere. @defaultValue PUBLIC_URL/archive
   */
  ARCHIVE_URL: z.preprocess(blankToUndefined, httpUrl.optional()),
  /** RSS 2.0 or Atom feeds to poll, comma-separated. @defaultValue none */
  FEEDS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/, message: 'must list http(s) URLs separated by commas' }))),
  /** Minutes between two polls of each feed. @defaultValue 30 */
  FEED_POLL_MINUTES: positiveInt.default(30),
  /** Jobs each worker runs at once. @defaultValue 4 */
  WORKER_CONCURRENCY: positiveInt.default(4),
  /** Tries per job before it fails for good (transient errors only; bad input fails at once). @defaultValue 5 */
  JOB_ATTEMPTS: positiveInt.default(5),
  /** First retry delay; doubled each time, with jitter. @defaultValue 1000 */
  JOB_BACKOFF_MS: positiveInt.default(1000),
  /** How long a worker holds a job before others may take it as stalled. @defaultValue 30000 */
  JOB_LOCK_MS: positiveInt.default(30_000),
  /** How often workers look for stalled jobs (those of a worker that died). @defaultValue 30000 */
  JOB_STALLED_INTERVAL_MS: positiveInt.default(30_000),
  /** Days a failed job is kept for inspection. @defaultValue 7 */
  FAILED_JOB_DAYS: positiveInt.default(7),
  /**
   * Where `dispatch serve` (unsubscribe and preferences pages) is reachable by readers; the
   * unsubscribe links in every message point there. @defaultValue http://127.0.0.1:3001
   */
  PUBLIC_URL: httpUrl.default('http://127.0.0.1:3001'),
  /** Signs unsubscribe links. Set a long random value in production. */
  UNSUBSCRIBE_SECRET: z
    .string()
    .min(16, 'must be at least 16 characters')
    .default('dispatch-development-secret-change-me'),
  /**
   * The envelope sender (Return-Path) of every message, where bounces and complaint reports go:
   * each recipient gets its own signed address on it (VERP, `bounces+<tag>@domain`), read by
   * `dispatch bounces`. @defaultValue bounces@ the domain of MAIL_FROM
   */
  BOUNCE_ADDRESS: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(
        /^[a-z0-9._-]{1,20}@[a-z0-9.-]+\.[a-z0-9-]+$/i,
        'must be a plain address such as bounces@example.com, its local part at most 20 characters',
      )
      .optional(),
  ),
  /** The port `dispatch bounces` (and `npm start`) receives bounce and complaint mail on. @defaultValue 2526 */
  BOUNCE_SMTP_PORT: port.default(2526),
  /** Soft bounces (4.x.x, delayed) within BOUNCE_SOFT_WINDOW_DAYS that make a reader bounced. @defaultValue 3 */
  BOUNCE_SOFT_LIMIT: positiveInt.default(3),
  /** The window soft bounces are counted in, in days. @defaultValue 7 */
  BOUNCE_SOFT_WINDOW_DAYS: positiveInt.default(7),
  /**
   * How long a confirmation link works, in hours; a sign-up not confirmed by then is removed
   * (an address that had unsubscribed or bounced goes back to that). @defaultValue 48
   */
  SIGNUP_CONFIRM_HOURS: positiveInt.default(48),
  /** Sign-up posts one IP address may make per hour before it gets 429. @defaultValue 10 */
  SIGNUP_IP_PER_HOUR: positiveInt.default(10),
  /** At most one confirmation mail per address in this many minutes, however often it signs up. @defaultValue 60 */
  SIGNUP_MAIL_WINDOW_MINUTES: positiveInt.default(60),
  /**
   * `dispatch serve` is behind a reverse proxy that appends the client's address to
   * X-Forwarded-For: the last address there is the reader's (for per-IP limits and the consent
   * record). Leave false when readers reach serve directly, or anyone could pick their IP. @defaultValue false
   */
  TRUST_PROXY: booleanFlag.default(false),
  /** DKIM signing of every message, when all three are set: the signing domain, ... */
  DKIM_DOMAIN: z.preprocess(blankToUndefined, z.string().optional()),
  /** ... the selector (the DNS record is <selector>._domainkey.<domain>), ... */
  DKIM_SELECTOR: z.preprocess(blankToUndefined, z.string().optional()),
  /** ... and the file holding the PEM private key. */
  DKIM_PRIVATE_KEY_FILE: z.preprocess(blankToUndefined, z.string().optional()),
  PREVIEW_HOST: z.string().min(1).default('127.0.0.1'),
  PREVIEW_PORT: port.default(3000),
  /** Time zone of the weekly schedule and of ISO weeks. @defaultValue `UTC` */
  TZ: timeZone.default('UTC'),
  /** Chromium for screenshots and browser tests. @defaultValue /usr/bin/chromium (what `npm run setup` installs) */
  CHROMIUM_PATH: z.preprocess(blankToUndefined, z.string().optional()),
  /**
   * Let URL ingest and feeds fetch loopback, private, link-local and unique-local addresses
   * (an intranet install, the project's own tests); cloud metadata addresses stay refused. @defaultValue false
   */
  ALLOW_PRIVATE_URLS: booleanFlag.default(false),
  /** Longest a job may work (parse, summarize, render) before it fails with E_JOB_TIMEOUT. @defaultValue 60000 */
  JOB_TIMEOUT_MS: positiveInt.default(60_000),
  /**
   * A list send pauses itself after this many failed messages in a row, of any kind (a server that
   * refuses everything should not burn the list). @defaultValue 10
   */
  SEND_MAX_ERRORS: positiveInt.default(10),
  /**
   * After SIGTERM a worker lets jobs in flight finish for at most this long, then exits; what is
   * left is taken up again by stall recovery. @defaultValue 10000
   */
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  /** Most addresses one test send (CLI or preview form) may name. @defaultValue 5 */
  TEST_SEND_MAX_RECIPIENTS: positiveInt.default(5),
  /**
   * `dispatch check` fails an issue whose SpamAssassin score is at or over this (SpamAssassin's
   * own default). @defaultValue 5
   */
  SPAM_THRESHOLD: z.coerce.number({ message: 'must be a number' }).positive('must be above 0').default(5),
  /**
   * Extra host names the preview answers to, comma-separated (besides its bind address and the
   * localhost names): for a preview reached through a name of your own. @defaultValue none
   */
  PREVIEW_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ),
  /**
   * The preview's Bull Board at /queues may change the queues (retry, remove, pause, add jobs),
   * from the preview's own pages only. Off, the board is read-only and the preview refuses every
   * change sent to it. @defaultValue false
   */
  PREVIEW_QUEUE_ACTIONS: booleanFlag.default(false),
  /** Largest article input accepted, in bytes. @defaultValue 5 MB */
  MAX_INPUT_BYTES: positiveInt.default(5 * 1024 * 1024),
  /** Time limit for fetching an article or feed URL. @defaultValue 10000 */
  FETCH_TIMEOUT_MS: positiveInt.default(10_000),
  /** Local state: the managed Redis and the local mailbox. @defaultValue `.data` */
  DATA_DIR: z.string().min(1).default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.output<typeof configSchema>;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90m` as milliseconds: a whole number and one unit of s, m, h or d. */
export function durationMs(duration: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(duration);
  if (!match) throw new DispatchError('E_INPUT_FORMAT', `not a duration such as 90m or 2h: "${duration.slice(0, 40)}"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** The preview's address as editors reach it: PREVIEW_URL, else its bind address and port. */
export function previewUrlOf(config: Pick<Config, 'PREVIEW_URL' | 'PREVIEW_HOST' | 'PREVIEW_PORT'>): string {
  if (config.PREVIEW_URL) return config.PREVIEW_URL;
  const host = config.PREVIEW_HOST.includes(':') ? `[${config.PREVIEW_HOST}]` : config.PREVIEW_HOST;
  return `http://${host}:${config.PREVIEW_PORT}`;
}

/** Where the public archive lives: ARCHIVE_URL, else PUBLIC_URL/archive (what `dispatch serve` serves). */
export function archiveUrlOf(config: Pick<Config, 'ARCHIVE_URL' | 'PUBLIC_URL'>): string {
  return config.ARCHIVE_URL ?? `${config.PUBLIC_URL}/archive`;
}

/**
 * Validates the environment into a typed {@link Config}. Every bad variable is reported in one
 * error, e.g. `Invalid configuration: SMTP_URL must be an smtp:// or smtps:// URL (got "localhost")`.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const known = Object.fromEntries(Object.keys(configSchema.shape).map((key) => [key, blankToUndefined(env[key])]));
  const result = configSchema.safeParse(known);
  if (result.success) return result.data;
  // A variable's name, what is wrong with it, and what was given.
  const problems = zodProblems(result.error, '?', (path, message) => {
    const key = path.split('.')[0] as string;
    const got = env[key];
    return `${key} ${message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
  });
  throw new DispatchError('E_CONFIG', `Invalid configuration: ${problems.join(', ')}`);
}
