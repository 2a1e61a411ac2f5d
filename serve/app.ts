import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostPort, type ListenTarget, listen } from '../io/listen.js';
import { readBody, refuseBody } from '../io/read-body.js';
import { createSendLedger, type SendLedger } from '../io/send-ledger.js';
import { createSignupLimits, type SignupLimits } from '../io/signup-limits.js';
import type { Store } from '../io/store.js';
import { createSubscriberStore, type SubscriberStatus, type SubscriberStore } from '../io/subscriber-store.js';
import { createArchive } from '../jobs/archive-site.js';
import type { Context } from '../jobs/context.js';
import { type Queues, queueSignupMail } from '../jobs/queues.js';
import { html, type Raw, raw } from '../preview/html.js';
import type { Config } from '../src/config.js';
import { hostAllowed } from '../src/http/allowed-host.js';
import { checkConfirmToken } from '../src/links/confirm-token.js';
import { verifyUnsubscribeToken } from '../src/links/unsubscribe-token.js';
import { clientIp, ipLimitKey } from '../src/signup/client-ip.js';
import { checkFillTime, fillTimeToken } from '../src/signup/fill-time.js';
import { invalidAddressMessage, signupFields, USER_AGENT_MAX } from '../src/signup/signup-fields.js';
import { signupForm } from '../src/signup/signup-form.js';
import { oneLine } from '../src/text/one-line.js';
import { archiveResponse } from './archive-page.js';

export interface ServeOptions {
  config: Config;
  subscribers: SubscriberStore;
  /** The article store and the send ledger: the archive pages read issues and what was sent. */
  store: Store;
  ledger: SendLedger;
  /** Where sign-up mails are queued (job "signup-mail" on the send queue; a worker sends them). */
  queues: Pick<Queues, 'send'>;
  /** Per-IP and per-address sign-up limits (createSignupLimits). */
  limits: SignupLimits;
  host: string;
  port: number;
  /** The clock: sign-ups, confirmations and the sign-up page's fill time. @defaultValue the system clock */
  now?: () => Date;
}

/** Largest body read: a sign-up is an address and a name, a one-click POST `List-Unsubscribe=One-Click`. */
export const SERVE_BODY_BYTES = 8 * 1024;
/** Longest a body may take to arrive. */
export const SERVE_BODY_TIMEOUT_MS = 10_000;

/** No script, no framing (clickjacking of the buttons), forms back to this origin only. */
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // The token in the URL is the reader's key to these pages: never send it on as a Referer.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

/**
 * The archive's pages are public: caches may keep them (archive-page.ts sets how long). An issue
 * is the newsletter's own HTML: its inline styles, and images from anywhere on https.
 */
const ARCHIVE_HEADERS = {
  ...SECURITY_HEADERS,
  'content-security-policy':
    "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

const TOKEN_ROUTE = /^\/(unsubscribe|preferences)\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
// checkConfirmToken reads the token; this only bounds it.
const CONFIRM_ROUTE = /^\/confirm\/([A-Za-z0-9._-]{1,600})$/;

const STYLE = `body{font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;max-width:560px;margin:40px auto;padding:0 20px;color:#1a1a1a}
button{font:inherit;padding:10px 18px;background:#0b57d0;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
label{font-weight:600}
input[type=email],input[type=text]{font:inherit;width:100%;box-sizing:border-box;padding:8px 10px;margin-top:4px;border:1px solid #5f6368;border-radius:4px}
input[aria-invalid=true]{border:2px solid #b3261e}
.dispatch-signup-error{color:#b3261e;font-weight:600;margin-top:-8px}
.dispatch-signup-note{color:#444;font-size:14px}`;

function page(
  status: number,
  title: string,
  body: Raw,
  res: ServerResponse,
  headers: Record<string, string | number> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-type': 'text/html; charset=utf-8' });
  res.end(
    html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title><style>${raw(STYLE)}</style></head>
<body><main>${body}</main></body></html>`.value,
  );
}

function json(
  status: number,
  value: unknown,
  res: ServerResponse,
  headers: Record<string, string | number> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
}

/** The media type of a Content-Type header, lowercase, without parameters. */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The caller asked for JSON: application/json in Accept (and not refused with q=0). */
function acceptsJson(accept: string | undefined): boolean {
  return (accept ?? '')
    .slice(0, 1000)
    .split(',')
    .some((part) => {
      const [type, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
      return type === 'application/json' && !params.some((p) => /^q=0(\.0*)?$/.test(p));
    });
}

/** Where a reader stands, in plain words, for the preferences and unsubscribe pages. */
function standing(email: string, status: SubscriberStatus | undefined, site: string): Raw {
  const newsletter = `the weekly newsletter from ${site}`;
  switch (status) {
    case 'active':
      return html`${email} is subscribed to ${newsletter}.`;
    case 'pending':
      return html`${email} has signed up for ${newsletter} but has not confirmed yet: use the link in the confirmation email.`;
    case 'unsubscribed':
      return html`${email} is unsubscribed from ${newsletter}.`;
    case 'bounced':
      return html`${email} no longer gets ${newsletter}: its mail server refused our messages.`;
    case 'complained':
      return html`${email} no longer gets ${newsletter}: one of our messages to it was reported as spam.`;
    default:
      return html`${email} is not on the list for ${newsletter}.`;
  }
}

/**
 * The small public app that sits behind the publisher's site, at PUBLIC_URL:
 *
 * - `GET /subscribe` the sign-up page; `POST /subscribe` a sign-up (form-encoded from the hosted or
 *   embedded form, or JSON), answered the same whether the address is new, pending or on the list;
 * - `GET /confirm/:token` asks, `POST` confirms (double opt-in);
 * - `GET /unsubscribe/:token` asks, `POST` unsubscribes, from the page's button or from a mail
 *   client's RFC 8058 one-click POST; `GET /preferences/:token` shows the reader's status;
 * - `GET /archive` the index of sent issues, `/archive/:week` one of them, `/archive/feed.xml` their
 *   Atom feed (HEAD too; see archive-page.ts).
 *
 * A GET never changes anything (link scanners follow GETs). A bad, forged or expired token gets a
 * clear page and changes nothing. It answers only to PUBLIC_URL's host, the bound address and the
 * loopback names (403 otherwise), and reads at most SERVE_BODY_BYTES of a body (413). There is no
 * Origin check: one-click POSTs come from mail providers' servers and the embedded form posts from
 * the publisher's site, cross-site by design; tokens authorize changes, and a sign-up does nothing
 * until its confirmation link, sent to the address, is used.
 */
export function createServeApp(options: ServeOptions): Server {
  const { config, subscribers, queues, limits } = options;
  const now = options.now ?? (() => new Date());
  const site = config.SITE_NAME;
  const secret = config.UNSUBSCRIBE_SECRET;
  const confirmHours = config.SIGNUP_CONFIRM_HOURS;
  const siteOrigin = new URL(config.SITE_URL).origin;
  const signupUrl = `${config.PUBLIC_URL}/subscribe`;
  const hosts = { bound: options.host, names: [new URL(config.PUBLIC_URL).hostname] };

  /**
   * CORS for the JSON API, for the publisher's own pages (SITE_URL's origin) only. Forms need
   * none: a form post is a navigation, and the answer is a page on this origin.
   */
  const corsHeaders = (req: IncomingMessage): Record<string, string> =>
    req.headers.origin === siteOrigin
      ? { 'access-control-allow-origin': siteOrigin, vary: 'Origin' }
      : { vary: 'Origin' };

  const signupPage = (
    status: number,
    res: ServerResponse,
    form: { started: string; values?: { email?: string; name?: string }; error?: string },
    headers: Record<string, string> = {},
  ) =>
    page(
      status,
      form.error ? `Error: join the weekly newsletter from ${site}` : `Join the weekly newsletter from ${site}`,
      html`<h1>Join the weekly newsletter from ${site}</h1>
<p>The week's top stories from ${site}, in your inbox every week.</p>
${raw(signupForm({ action: 'subscribe', ...form }))}`,
      res,
      headers,
    );

  const checkInbox = (email: string, asJson: boolean, res: ServerResponse, headers: Record<string, string>) => {
    if (asJson) return json(200, { ok: true }, res, headers);
    return page(
      200,
      'Check your inbox',
      html`<h1>Check your inbox</h1>
<p>We have sent a link to ${email} to confirm that you want the weekly newsletter from ${site}, unless that address is on the list already. The link works for ${confirmHours} hours.</p>
<p>Nothing there? Look in your spam folder, or <a href="${signupUrl}">sign up again</a> later.</p>`,
      res,
      headers,
    );
  };

  async function subscribe(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const fromJson = mediaType(req.headers['content-type']) === 'application/json';
    const asJson = acceptsJson(req.headers.accept);
    const headers = { ...corsHeaders(req), vary: 'Origin, Accept' };
    const parsed = signupFields(body, fromJson ? 'json' : 'form');
    if (!parsed.ok) {
      if (asJson) return json(400, { error: parsed.reason }, res, headers);
      return signupPage(400, res, { started: fillTimeToken(now(), secret), error: parsed.reason }, headers);
    }
    const fields = parsed.fields;
    const fillTime = checkFillTime(fields.started, secret, now());
    // Keep the page's own fill time when it is genuine: a reader who fixes a typo at once is no script.
    const started = fillTime === 'unknown' ? null : fields.started;
    if (!fields.email) {
      const error = invalidAddressMessage(fields.emailInput);
      if (asJson) return json(400, { error }, res, headers);
      return signupPage(
        400,
        res,
        {
          started: started ?? fillTimeToken(now(), secret),
          values: { email: fields.emailInput, name: fields.name ?? '' },
          error,
        },
        headers,
      );
    }
    // A script (the honeypot, or faster than a person types) hears what a person would, and nothing happens.
    if (fields.honeypot || fillTime === 'too-fast') {
      return checkInbox(fields.email, asJson, res, headers);
    }
    const ip = clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], config.TRUST_PROXY);
    const verdict = await limits.takeIp(ipLimitKey(ip));
    if (!verdict.allowed) {
      const minutes = Math.ceil(verdict.retryAfterSeconds / 60);
      const error = `Too many sign-ups from your network: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
      const limited = { ...headers, 'retry-after': String(verdict.retryAfterSeconds) };
      if (asJson) return json(429, { error }, res, limited);
      return page(429, 'Too many sign-ups', html`<h1>Too many sign-ups</h1><p>${error}</p>`, res, limited);
    }
    const at = now();
    const userAgent = oneLine(req.headers['user-agent'] ?? '', USER_AGENT_MAX);
    const outcome = await subscribers.signUp(
      { email: fields.email, name: fields.name, source: fromJson ? 'api' : 'form', ip, userAgent: userAgent || null },
      at,
      new Date(at.getTime() + confirmHours * 3_600_000),
    );
    // Active and complained addresses get no mail, and a pending one at most one per window; the
    // answer is the same for all, so the form cannot tell anyone who is on the list.
    if (outcome.outcome === 'pending' && (await limits.takeConfirmMail(fields.email))) {
      try {
        await queueSignupMail(queues, { kind: 'confirm', email: fields.email });
      } catch (error) {
        await limits.giveBackConfirmMail(fields.email).catch(() => {});
        throw error;
      }
    }
    return checkInbox(fields.email, asJson, res, headers);
  }

  const linkProblem = (reason: 'invalid' | 'expired' | 'ended', res: ServerResponse) => {
    const again = html`<p><a href="${signupUrl}">Sign up again</a> and we will send you a new link.</p>`;
    if (reason === 'invalid') {
      return page(
        400,
        'Invalid link',
        html`<h1>This link is not valid</h1><p>It may have been cut short or changed. Use the link in the latest confirmation email from ${site}.</p>${again}`,
        res,
      );
    }
    return page(
      410,
      reason === 'expired' ? 'Link expired' : 'Link no longer valid',
      reason === 'expired'
        ? html`<h1>This link has expired</h1><p>Confirmation links work for ${confirmHours} hours.</p>${again}`
        : html`<h1>This link is no longer valid</h1><p>It belongs to an earlier sign-up, or the sign-up has ended.</p>${again}`,
      res,
    );
  };

  const subscribed = (email: string, already: boolean, res: ServerResponse) =>
    page(
      200,
      already ? 'Already confirmed' : 'You are subscribed',
      already
        ? html`<h1>Already confirmed</h1><p>${email} is on the list for the weekly newsletter from ${site}.</p>`
        : html`<h1>You are subscribed</h1><p>${email} will get the weekly newsletter from ${site}. We have sent you a welcome email.</p>`,
      res,
    );

  async function confirm(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const check = checkConfirmToken(token, secret, now(), confirmHours * 3_600_000);
    if (!check.ok) return linkProblem(check.reason, res);
    const { email, nonce } = check.claim;
    if (req.method === 'POST') {
      const outcome = await subscribers.confirm(email, nonce, now());
      if (outcome === 'invalid') return linkProblem('ended', res);
      if (outcome === 'confirmed') await queueSignupMail(queues, { kind: 'welcome', email });
      return subscribed(email, outcome === 'active', res);
    }
    // Only reads: scanners that follow every link in a mail must not confirm anyone.
    if ((await subscribers.pendingNonce(email)) === nonce) {
      return page(
        200,
        'Confirm your subscription',
        html`<h1>Confirm your subscription</h1>
<p>Press the button to get the weekly newsletter from ${site} at ${email}.</p>
<form method="post"><button type="submit">Confirm my subscription</button></form>`,
        res,
      );
    }
    if ((await subscribers.get(email))?.status === 'active') return subscribed(email, true, res);
    return linkProblem('ended', res);
  }

  // One per app: it keeps what it has read of frozen issues, so the index and feed stay cheap.
  const archive = createArchive({ store: options.store, ledger: options.ledger, config });

  /** An address under /archive. A HEAD gets the same headers, without the body (node:http drops it). */
  async function archivePage(res: ServerResponse, path: string): Promise<void> {
    const result = await archiveResponse(path, archive, now());
    res.writeHead(result.status, {
      ...ARCHIVE_HEADERS,
      'cache-control': result.cacheControl,
      'content-type': result.type,
      'content-length': Buffer.byteLength(result.body),
    });
    res.end(result.body);
  }

  async function tokenPage(req: IncomingMessage, res: ServerResponse, kind: string, token: string): Promise<void> {
    const email = verifyUnsubscribeToken(token, secret);
    if (!email) {
      return page(
        400,
        'Invalid link',
        html`<h1>This link is not valid</h1><p>It may have been cut short. Use the link in the latest email from ${site}.</p>`,
        res,
      );
    }
    if (req.method === 'POST' && kind === 'unsubscribe') {
      await subscribers.suppress(email, now());
      return page(
        200,
        'Unsubscribed',
        html`<h1>You are unsubscribed</h1><p>${email} will get no more weekly newsletters from ${site}.</p>`,
        res,
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return notAllowed(res, 'GET, POST');
    const status = (await subscribers.get(email))?.status;
    const canLeave = status === 'active' || status === 'pending';
    const canRejoin = status === 'unsubscribed' || status === 'bounced' || status === undefined;
    return page(
      200,
      kind === 'unsubscribe' ? 'Unsubscribe' : 'Your preferences',
      html`<h1>${kind === 'unsubscribe' ? 'Unsubscribe?' : 'Your newsletter preferences'}</h1>
<p>${standing(email, status, site)}</p>
${canLeave ? html`<form method="post" action="/unsubscribe/${token}"><button type="submit">Unsubscribe ${email}</button></form>` : ''}
${canRejoin ? html`<p><a href="${signupUrl}">Sign up</a> to get it again.</p>` : ''}`,
      res,
    );
  }

  const notAllowed = (res: ServerResponse, allow: string) =>
    page(405, 'Not allowed', html`<h1>Not allowed</h1>`, res, { allow });

  return createServer((req, res) => {
    const handle = async () => {
      if (!hostAllowed(req.headers.host, hosts)) {
        return refuseBody(res, { status: 403, reason: 'This host is not served here.' }, SECURITY_HEADERS);
      }
      // The path as sent, without its query: tokens are base64url, nothing here is percent-encoded.
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const method = req.method ?? 'GET';
      const reading = method === 'GET' || method === 'HEAD';
      let body = '';
      if (!reading) {
        // RFC 8058: a one-click body is List-Unsubscribe=One-Click, form-encoded or multipart: any
        // type is read there. A sign-up is a form or JSON, nothing else.
        const types =
          path === '/subscribe' && method === 'POST'
            ? ['application/x-www-form-urlencoded', 'application/json']
            : undefined;
        const read = await readBody(req, { maxBytes: SERVE_BODY_BYTES, timeoutMs: SERVE_BODY_TIMEOUT_MS, types });
        if (!read.ok) return refuseBody(res, read, { ...SECURITY_HEADERS, ...corsHeaders(req) });
        body = read.text;
      }

      if (path === '/subscribe') {
        if (reading) return signupPage(200, res, { started: fillTimeToken(now(), secret) });
        if (method === 'POST') return await subscribe(req, res, body);
        if (method === 'OPTIONS') {
          // The preflight of a JSON post from the publisher's pages; any other origin gets no grant.
          res.writeHead(204, {
            ...SECURITY_HEADERS,
            ...corsHeaders(req),
            ...(req.headers.origin === siteOrigin
              ? {
                  'access-control-allow-methods': 'POST',
                  'access-control-allow-headers': 'content-type',
                  'access-control-max-age': '600',
                }
              : {}),
          });
          return res.end();
        }
        return notAllowed(res, 'GET, POST, OPTIONS');
      }
      const confirmMatch = CONFIRM_ROUTE.exec(path);
      if (confirmMatch) {
        if (!reading && method !== 'POST') return notAllowed(res, 'GET, POST');
        return await confirm(req, res, confirmMatch[1] as string);
      }
      if (path === '/archive' || path.startsWith('/archive/')) {
        if (!reading) return notAllowed(res, 'GET, HEAD');
        return await archivePage(res, path);
      }
      const tokenMatch = TOKEN_ROUTE.exec(path);
      if (tokenMatch) return await tokenPage(req, res, tokenMatch[1] as string, tokenMatch[2] as string);
      return page(404, 'Not found', html`<h1>Not found</h1>`, res);
    };
    handle().catch(() => {
      if (!res.headersSent) page(500, 'Error', html`<h1>Something went wrong</h1><p>Please try again.</p>`, res);
      else res.destroy();
    });
  });
}

/** A listening serve app: where it is, what to tell its user, and how to stop it. */
export interface RunningServe {
  server: Server;
  /** e.g. http://127.0.0.1:3001 */
  url: string;
  /** The startup line: where the sign-up page is, here and for readers. */
  banner: string;
  close(): Promise<void>;
}

/** What the serve app works on, made on a command's context (its Redis, store and queues). */
export function serveOptionsOn(
  ctx: Pick<Context, 'config' | 'redis' | 'store' | 'queues'>,
  at: { host: string; port: number; now?: () => Date },
): ServeOptions {
  const { config } = ctx;
  return {
    config,
    subscribers: createSubscriberStore(ctx.redis, config.REDIS_PREFIX),
    store: ctx.store,
    ledger: createSendLedger(ctx.redis, config.REDIS_PREFIX),
    queues: ctx.queues,
    limits: createSignupLimits(ctx.redis, config),
    ...at,
  };
}

/**
 * The serve app on a command's context, listening: for `dispatch serve` and for `npm start`
 * (`dispatch dev`), which runs it in its own process. Rejects with E_PORT_IN_USE and the like
 * (see listen) when the port cannot be had.
 */
export async function startServe(
  ctx: Pick<Context, 'config' | 'redis' | 'store' | 'queues'>,
  target: ListenTarget,
  now?: () => Date,
): Promise<RunningServe> {
  const server = createServeApp(serveOptionsOn(ctx, { host: target.host, port: target.port, now }));
  const address = await listen(server, target);
  const url = `http://${hostPort(target.host, address.port)}`;
  return {
    server,
    url,
    banner: `sign-up page on ${url}/subscribe (readers reach it at ${ctx.config.PUBLIC_URL}/subscribe); confirm, unsubscribe and archive pages beside it`,
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
