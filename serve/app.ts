import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SubscriberStore } from '../io/subscriber-store.js';
import { html, type Raw } from '../preview/html.js';
import type { Config } from '../src/config.js';
import { verifyUnsubscribeToken } from '../src/links/unsubscribe-token.js';

export interface ServeOptions {
  config: Pick<Config, 'SITE_NAME' | 'SITE_URL' | 'UNSUBSCRIBE_SECRET'>;
  subscribers: SubscriberStore;
  host: string;
  port: number;
  now?: () => Date;
}

const ROUTE = /^\/(unsubscribe|preferences)\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

function page(status: number, title: string, body: Raw, res: ServerResponse): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(
    html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title><style>body{font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;max-width:560px;margin:40px auto;padding:0 20px;color:#1a1a1a}
button{font:inherit;padding:10px 18px;background:#0b57d0;color:#fff;border:0;border-radius:4px;cursor:pointer}</style></head>
<body>${body}</body></html>`.value,
  );
}

async function drain(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 4096) break;
  }
  return body;
}

/**
 * The small public app that sits behind the publisher's site: unsubscribe and preferences pages.
 * GET /unsubscribe/:token only asks (link scanners follow GETs); POST unsubscribes, from the
 * page's button or from a mail client's RFC 8058 one-click POST. A bad or forged token gets 400
 * and changes nothing.
 */
export function createServeApp(options: ServeOptions): Server {
  const { config, subscribers } = options;
  const now = options.now ?? (() => new Date());
  const site = config.SITE_NAME;
  return createServer((req, res) => {
    const handle = async () => {
      const match = ROUTE.exec(new URL(req.url ?? '/', 'http://serve.local').pathname);
      if (!match) return page(404, 'Not found', html`<h1>Not found</h1>`, res);
      const [, kind, token] = match as unknown as [string, string, string];
      const email = verifyUnsubscribeToken(token, config.UNSUBSCRIBE_SECRET);
      if (!email) {
        await drain(req);
        return page(
          400,
          'Invalid link',
          html`<h1>This link is not valid</h1><p>It may have been cut short. Use the link in the latest email from ${site}.</p>`,
          res,
        );
      }
      if (req.method === 'POST' && kind === 'unsubscribe') {
        await drain(req); // RFC 8058: List-Unsubscribe=One-Click, or the confirmation form
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
      const status =
        subscriber?.status === 'suppressed' ? 'unsubscribed' : subscriber ? 'subscribed' : 'not on the list';
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
