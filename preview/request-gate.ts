import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BodyLimits, readBody, refuseBody } from '../io/read-body.js';
import { type HostPolicy, hostAllowed, parseHost } from '../src/http/allowed-host.js';

/** The name of the hidden form field that carries a page's form token. */
const TOKEN_FIELD = 'token';

const FORM = 'application/x-www-form-urlencoded';
const SAFE_METHODS = new Set(['GET', 'HEAD']);
/** What Bull Board's UI sends with a change: JSON, or no body and no type (a retry, a pause). */
const BOARD_TYPES = ['application/json', ''];

/** Where the preview serves Bull Board (preview/queues-board.ts). */
export const QUEUES_BOARD_PATH = '/queues';

/** True for the board's own path and every path under it (not `/queuesx`). */
export function isQueuesBoardPath(path: string): boolean {
  return path === QUEUES_BOARD_PATH || path.startsWith(`${QUEUES_BOARD_PATH}/`);
}

/**
 * What the gate lets through to the routes: for a state-changing request, its form; for one sent
 * to the queues board, its body instead (read within the limit, left for the board to parse).
 */
export type Admitted = { form: URLSearchParams | null; body?: string };

/**
 * Form tokens: an HMAC of the form's action path under a key made when the server starts. A page
 * carries the token of each form it shows; a POST without the right one is refused. Only a page
 * the preview served can know it (another origin cannot read the preview's pages), and a restart
 * invalidates pages served before it.
 */
export function createFormTokens(): { tokenFor(path: string): string; verify(path: string, token: string): boolean } {
  const key = randomBytes(32);
  const tokenFor = (path: string) => createHmac('sha256', key).update(`POST ${path}`).digest('base64url');
  return {
    tokenFor,
    verify(path, token) {
      const expected = Buffer.from(tokenFor(path));
      const given = Buffer.from(token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/**
 * True when a state-changing request comes from one of the preview's own pages: its Origin is the
 * preview's origin as the Host header names it (http or https, for a preview behind a TLS proxy),
 * or, from a browser that sends no Origin, Sec-Fetch-Site says same-origin. `Origin: null`
 * (sandboxed frames, some redirects) is not the preview.
 */
function fromSameOrigin(req: IncomingMessage): boolean {
  const host = parseHost(req.headers.host)?.host;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    try {
      const url = new URL(origin);
      return host !== undefined && ['http:', 'https:'].includes(url.protocol) && url.host === host;
    } catch {
      return false;
    }
  }
  return req.headers['sec-fetch-site'] === 'same-origin';
}

/**
 * The preview's one gate, run before any route: the Host check (DNS rebinding), then for every
 * method but GET and HEAD the same-origin check, the form's media type, the body limit and the
 * form token of the path. Under /queues (Bull Board, whose UI sends JSON with PUT, PATCH and POST and
 * has no form token) a change needs the same origin and the body limit, JSON or no body, and is
 * refused unless `rules.queueActions`. Answers a refused request itself and returns null;
 * otherwise returns what the routes need.
 */
export async function admit(
  req: IncomingMessage,
  res: ServerResponse,
  rules: {
    hosts: HostPolicy;
    body: BodyLimits;
    tokens: ReturnType<typeof createFormTokens>;
    /**
     * PREVIEW_QUEUE_ACTIONS: the queues board may change the queues. Unset, the gate leaves that
     * decision to the board (which refuses every change when the setting is off).
     * @defaultValue unset
     */
    queueActions?: boolean;
  },
): Promise<Admitted | null> {
  if (!hostAllowed(req.headers.host, rules.hosts)) {
    refuseBody(res, {
      status: 403,
      reason: `The preview does not answer to the host "${req.headers.host ?? ''}". To reach it by that name, add the name to PREVIEW_ALLOWED_HOSTS.`,
    });
    return null;
  }
  if (SAFE_METHODS.has(req.method ?? 'GET')) return { form: null };
  if (!fromSameOrigin(req)) {
    refuseBody(res, {
      status: 403,
      reason: 'Refused: this request does not come from a page of the preview (Origin).',
    });
    return null;
  }
  const path = new URL(req.url ?? '/', 'http://preview.local').pathname;
  if (isQueuesBoardPath(path)) {
    if (rules.queueActions === false) {
      refuseQueueAction(res);
      return null;
    }
    const board = await readBody(req, { ...rules.body, types: BOARD_TYPES });
    if (!board.ok) {
      refuseBody(res, board);
      return null;
    }
    return { form: null, body: board.text };
  }
  const body = await readBody(req, { ...rules.body, types: [FORM] });
  if (!body.ok) {
    refuseBody(res, body);
    return null;
  }
  const form = new URLSearchParams(body.text);
  if (!rules.tokens.verify(path, form.get(TOKEN_FIELD) ?? '')) {
    refuseBody(res, {
      status: 403,
      reason: 'Refused: the form token is missing or out of date. Reload the page and try again.',
    });
    return null;
  }
  return { form };
}

/** Refuses a change sent to the queues board while PREVIEW_QUEUE_ACTIONS is off: 403 and one line. */
export function refuseQueueAction(res: ServerResponse): void {
  refuseBody(res, {
    status: 403,
    reason:
      'Refused: the queues board is read-only. Set PREVIEW_QUEUE_ACTIONS=true to retry, remove or add jobs from it.',
  });
}
