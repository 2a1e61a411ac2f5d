import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { QUEUE_NAMES, type Queues } from '../jobs/queues.js';
import { parseHost } from '../src/http/allowed-host.js';
import { QUEUES_BOARD_PATH, refuseQueueAction } from './request-gate.js';

/** The board's title, in its header and the browser tab. */
export const QUEUES_BOARD_TITLE = 'Dispatch queues';

/**
 * The board's policy. Its index page has no inline script (its config is a JSON data block, which
 * CSP does not run), so scripts come from the preview alone, as on the other pages; its worker
 * too. It needs `base-uri 'self'` (the page's `<base href="/queues/">` makes its asset links
 * relative) and inline styles (its loading screen and React's style attributes). Nothing may
 * come from another origin: the Google Fonts link the page ships with is taken out (see
 * {@link withoutOtherOrigins}) and the UI falls back to the system font.
 */
export const BOARD_CSP =
  "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'self'; form-action 'self'; " +
  "frame-ancestors 'self'";

const BOARD_HEADERS = {
  'content-security-policy': BOARD_CSP,
  'x-frame-options': 'SAMEORIGIN',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'same-origin',
};

/** A `<link>` (stylesheet, font, icon) whose address is on another origin. */
const OTHER_ORIGIN_LINK = /<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi;

/** The board's page without its links to other origins: a preview that works offline and tells no one it was opened. */
export function withoutOtherOrigins(page: string): string {
  return page.replace(OTHER_ORIGIN_LINK, '');
}

type Listener = ReturnType<typeof getRequestListener>;

/** One board per set of queues and setting: built on its first request, kept as long as the queues. */
const boards = new WeakMap<Queues, Map<boolean, Listener>>();

/**
 * Bull Board for every Dispatch queue (QUEUE_NAMES, the post-* queues too), under
 * {@link QUEUES_BOARD_PATH}, as a node:http listener. Read-only unless `actions`: the board's own
 * API then refuses a retry, a removal or a pause (405), besides the preview refusing the request.
 */
function buildBoard(queues: Queues, actions: boolean): Listener {
  const adapter = new HonoAdapter(serveStatic).setBasePath(QUEUES_BOARD_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(queues[name], { readOnlyMode: !actions })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: QUEUES_BOARD_TITLE } },
  });
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    if (c.res.headers.get('content-type')?.startsWith('text/html')) {
      c.res = new Response(withoutOtherOrigins(await c.res.text()), c.res);
    }
    for (const [name, value] of Object.entries(BOARD_HEADERS)) c.res.headers.set(name, value);
  });
  // The board's links and a reload of its front page can end in a slash; its route has none.
  app.get(`${QUEUES_BOARD_PATH}/`, (c) => c.redirect(QUEUES_BOARD_PATH, 308));
  app.route(QUEUES_BOARD_PATH, adapter.registerPlugin());
  app.notFound((c) => c.text(`Nothing at ${c.req.path}.`, 404));
  return getRequestListener(app.fetch);
}

/**
 * Answers a request the preview routes to the board: its path is /queues or under /queues/, and
 * it passed the preview's gate (Host, and for a change the same origin and the body limit, its
 * body read into `body`). While `actions` is off (PREVIEW_QUEUE_ACTIONS) any change is refused
 * with 403 before the board sees it. Returns once the request is answered.
 */
export async function serveQueuesBoard(
  req: IncomingMessage,
  res: ServerResponse,
  options: { queues: Queues; actions: boolean; body?: string },
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD' && !options.actions) return refuseQueueAction(res);
  const built = boards.get(options.queues) ?? new Map<boolean, Listener>();
  boards.set(options.queues, built);
  const listener = built.get(options.actions) ?? buildBoard(options.queues, options.actions);
  built.set(options.actions, listener);
  // The gate read the body (its one reader, with the limit): @hono/node-server takes a body
  // already read from `rawBody`, as on Cloud Functions, instead of reading the request again.
  if (options.body !== undefined) Object.assign(req, { rawBody: Buffer.from(options.body) });
  // The gate checked the Host. @hono/node-server answers 400 to one whose URL form is spelled
  // otherwise (`[0:0:0:0:0:0:0:1]` is `[::1]`): it gets that form.
  const host = parseHost(req.headers.host)?.host;
  if (host) req.headers.host = host;
  await listener(req, res);
}
