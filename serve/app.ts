import { createServer, type Server, type ServerResponse } from 'node:http';
import { readBody, refuseBody } from '../io/read-body.js';
import type { SubscriberStore } from '../io/subscriber-store.js';
import { html, type Raw } from '../preview/html.js';
import type { Config } from '../src/config.js';
import { hostAllowed } from '../src/http/allowed-host.js';
import { verifyUnsubscribeToken } from '../src/links/unsubscribe-token.js';

export interface ServeOptions {
  config: Pick<Config, 'SITE_NAME' | 'SITE_URL' | 'UNSUBSCRIBE_SECRET' | 'PUBLIC_URL'>;
  subscribers: SubscriberStore;
  host: string;
  port: number;
  now?: () => Date;
}

/** Largest body read: a one-click POST is `List-Unsubscribe=One-Click`, the page's form sends none. */
export const SERVE_BODY_BYTES = 8 * 1024;
/** Longest a body may take to arrive. */
export const SERVE_BODY_TIMEOUT_MS = 10_000;

/** No script, no framing (clickjacking of the unsubscribe button), forms back to this origin only. */
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // The token in the URL is the reader's key to these pages: never send it on as a Referer.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

const ROUTE = /^\/(unsubscribe|preferences)\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

function page(status: number, title: string, body: Raw, res: ServerResponse): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' });
  res.end(
    html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title><style>body{font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;max-width:560px;margin:40px auto;padding:0 20px;color:#1a1a1a}
button{font:inherit;padding:10px 18px;background:#0b57d0;color:#fff;border:0;border-radius:4px;cursor:pointer}</style></head>
<body>${body}</body></html>`.value,
  );
}

/**
 * The small public app that sits behind the publisher's site: unsubscribe and preferences pages.
 * GET /unsubscribe/:token only asks (link scanners follow GETs); POST unsubscribes, from the
 * page's button or from a mail client's RFC 8058 one-click POST. A bad or forged token gets 400
 * and changes nothing. It answers only to PUBLIC_URL's host, the bound address and the loopback
 * names (403 otherwise), and reads at most SERVE_BODY_BYTES of a body (413). There is no Origin
 * check: one-click POSTs come from mail providers' servers, cross-site by design, and the token
 * is what authorizes them.
 */
export function createServeApp(options: ServeOptions): Server {
  const { config, subscribers } = options;
  const now = options.now ?? (() => new Date());
  const site = config.SITE_NAME;
  const hosts = { bound: options.host, names: [new URL(config.PUBLIC_URL).hostname] };
  return createServer((req, res) => {
    const handle = async () => {
      if (!hostAllowed(req.headers.host, hosts)) {
        return refuseBody(res, { status: 403, reason: 'This host is not served here.' }, SECURITY_HEADERS);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        // RFC 8058: the body is List-Unsubscribe=One-Click, form-encoded or multipart: any type is read.
        const body = await readBody(req, { maxBytes: SERVE_BODY_BYTES, timeoutMs: SERVE_BODY_TIMEOUT_MS });
        if (!body.ok) return refuseBody(res, body, SECURITY_HEADERS);
      }
      const match = ROUTE.exec(new URL(req.url ?? '/', 'http://serve.local').pathname);
      if (!match) return page(404, 'Not found', html`<h1>Not found</h1>`, res);
      const [, kind, token] = match as unknown as [string, string, string];
      const email = verifyUnsubscribeToken(token, config.UNSUBSCRIBE_SECRET);
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
      if (req.method !== 'GET') return page(405, 'Not allowed', html`<h1>Not allowed</h1>`, res);
      const subscriber = await subscribers.get(email);
      const status = !subscriber
        ? 'not on the list'
        : subscriber.status === 'active'
          ? 'subscribed'
          : subscriber.status === 'pending'
            ? 'waiting for confirmation'
            : subscriber.status;
      return page(
        200,
        kind === 'unsubscribe' ? 'Unsubscribe' : 'Your preferences',
        html`<h1>${kind === 'unsubscribe' ? 'Unsubscribe?' : 'Your newsletter preferences'}</h1>
<p>${email} is ${status} for the weekly newsletter from ${site}.</p>
${status === 'subscribed' ? html`<form method="post" action="/unsubscribe/${token}"><button type="submit">Unsubscribe ${email}</button></form>` : ''}`,
        res,
      );
    };
    handle().catch(() => {
      if (!res.headersSent) page(500, 'Error', html`<h1>Something went wrong</h1><p>Please try again.</p>`, res);
    });
  });
}
