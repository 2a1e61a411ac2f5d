import { watch } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostPort, type ListenAs, listen } from '../io/listen.js';
import { loadTemplates } from '../io/load-templates.js';
import { listMailbox } from '../io/mailbox.js';
import { loadSampleRecipient } from '../io/sample-recipient.js';
import type { Store, StoredIssue } from '../io/store.js';
import type { Queues } from '../jobs/queues.js';
import type { Config } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { checkMessage } from '../src/newsletter/check-message.js';
import { escapeHtml } from '../src/newsletter/escape-for-template.js';
import { personalize } from '../src/newsletter/personalize.js';
import { recipientFor } from '../src/newsletter/recipient-links.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import {
  articlePage,
  indexPage,
  issuePage,
  mailboxPage,
  messagePage,
  notFoundPage,
  PREVIEW_SCRIPT,
  SCRIPT_PATH,
} from './pages.js';
import { queuesPage } from './queues-page.js';
import { admit, createFormTokens } from './request-gate.js';

export interface PreviewOptions {
  config: Config;
  store: Store;
  queues: Queues;
  templatesDir: string;
  mailboxDir: string;
  host: string;
  port: number;
  /** Queues test sends of a week's issue (what `dispatch send-test` does). */
  sendTest(week: string, addresses: string[]): Promise<string>;
  /**
   * Who is listening and the setting that chooses the port, for the one line shown when the port
   * is taken. @defaultValue `{ what: 'dispatch preview', setting: 'PREVIEW_PORT' }`
   */
  listenAs?: ListenAs;
}

/** Largest form body the preview reads. */
export const PREVIEW_BODY_BYTES = 16 * 1024;
/** Longest a form body may take to arrive. */
export const PREVIEW_BODY_TIMEOUT_MS = 10_000;

/**
 * The preview pages' policy: scripts only from the preview itself (no inline script), the issue's
 * email framed from the same origin, EventSource to /events, forms posted back to the preview,
 * and no framing by other sites. Inline styles stay allowed (the pages and emails use them);
 * images may come from anywhere, as an email's do in a mail client.
 */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data: https: http:; " +
  "frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'";
/** The email frame: no script at all, its images and styles, framed only by the preview. */
const EMAIL_CSP =
  "default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline' https:; font-src data: https:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

export interface PreviewServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const WEEK = /^\/issues\/(\d{4}-W\d{2})(\/email\.html|\/send-test)?$/;
const ARTICLE = /^\/articles\/([0-9a-f]{16})$/;
const MESSAGE = /^\/mailbox\/(\d+-[0-9a-f]{8})$/;

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/html; charset=utf-8',
  csp = PAGE_CSP,
): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with the
    // pages' own form posts, and the gate could not tell them from a sandboxed frame's. Other
    // sites still get no Referer (the mailbox's pages carry working unsubscribe links).
    'referrer-policy': 'same-origin',
    'x-frame-options': 'SAMEORIGIN',
    'content-security-policy': csp,
  });
  res.end(body);
}

/**
 * The local preview: issues and articles from the store, each issue re-rendered with the
 * templates as they are now (so edits show at once, and an error shows in the page), checks,
 * test sends and the local mailbox. It serves only what its routes name; anything else is 404.
 * Every request passes the gate in request-gate.ts first: Host check, and for a POST the
 * same-origin check, form type, body limit and form token.
 */
export async function startPreview(options: PreviewOptions): Promise<PreviewServer> {
  const { store, config } = options;
  const clients = new Set<ServerResponse>();
  const tokens = createFormTokens();
  const gate = {
    hosts: { bound: options.host, names: config.PREVIEW_ALLOWED_HOSTS },
    body: { maxBytes: PREVIEW_BODY_BYTES, timeoutMs: PREVIEW_BODY_TIMEOUT_MS },
    tokens,
  };
  const sample = loadSampleRecipient(options.templatesDir);
  const recipient = recipientFor(sample.email, sample.firstName, config);

  // An issue page and its email frame both need the render: it is done once per issue build and
  // template state, and forgotten when a template changes.
  // (A generation number, so that a render begun before an edit is not kept after it.)
  let templateGeneration = 0;
  const renders = new Map<string, { key: string; view: Awaited<ReturnType<typeof render>> }>();
  const renderWeek = async (week: string) => {
    const stored = await store.getIssue(week);
    if (!stored) return null;
    const key = `${stored.builtAt}#${templateGeneration}`;
    const cached = renders.get(week);
    if (cached?.key === key) return cached.view;
    const view = await render(stored);
    renders.set(week, { key, view });
    return view;
  };
  const render = async (stored: StoredIssue) => {
    try {
      const rendered = await renderIssue(stored.issue, await loadTemplates(options.templatesDir), {
        validation: 'soft',
        maxHtmlBytes: config.NEWSLETTER_MAX_HTML_BYTES,
      });
      const personal = personalize(rendered, recipient);
      return { stored, render: { ...personal, mjml: rendered.mjml, warnings: rendered.warnings } };
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      return { stored, render: { error: `${error.code}: ${error.message}` } };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const admitted = await admit(req, res, gate);
    if (!admitted) return;
    const url = new URL(req.url ?? '/', 'http://preview.local');
    const path = url.pathname;
    if (req.method === 'GET' && path === SCRIPT_PATH)
      return send(res, 200, PREVIEW_SCRIPT, 'text/javascript; charset=utf-8');
    if (req.method === 'GET' && path === '/queues') return send(res, 200, await queuesPage(options.queues));
    if (req.method === 'GET' && path === '/') {
      const weeks = await store.listIssues();
      const articles = (await store.articlesBetween(new Date(0), new Date(8.64e15))).reverse().slice(0, 100);
      return send(res, 200, indexPage(weeks, articles));
    }
    if (req.method === 'GET' && path === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(': connected\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    const week = WEEK.exec(path);
    if (week) {
      const [, id, sub] = week as unknown as [string, string, string | undefined];
      if (req.method === 'POST' && sub === '/send-test' && admitted.form) {
        const to = admitted.form.get('to') ?? '';
        let flash: string;
        try {
          flash = await options.sendTest(
            id,
            to
              .split(',')
              .map((a) => a.trim())
              .filter(Boolean),
          );
        } catch (error) {
          if (!isDispatchError(error)) throw error;
          flash = `${error.code}: ${error.message}`;
        }
        res.writeHead(303, { location: `/issues/${id}?flash=${encodeURIComponent(flash)}` });
        return res.end();
      }
      if (req.method !== 'GET') return send(res, 405, notFoundPage('Method not allowed'));
      const view = await renderWeek(id);
      if (!view) return send(res, 404, notFoundPage(`No issue for ${id}.`));
      if (sub === '/email.html') {
        if ('error' in view.render) return send(res, 500, `<pre>${escapeHtml(String(view.render.error))}</pre>`);
        // Dark mode emulation: the email's own dark palette, applied unconditionally.
        const dark = url.searchParams.get('scheme') === 'dark';
        const body = dark
          ? view.render.html.replace(/@media\s*\(prefers-color-scheme:\s*dark\)/g, '@media all')
          : view.render.html;
        return send(res, 200, body, undefined, EMAIL_CSP);
      }
      const socials = await store.getSocials(
        [view.stored.issue.lead, ...view.stored.issue.cards].map((c) => c.articleId),
      );
      const cards = [view.stored.issue.lead, ...view.stored.issue.cards];
      return send(
        res,
        200,
        issuePage({
          week: id,
          stored: view.stored,
          render: view.render,
          checks:
            'error' in view.render
              ? []
              : checkMessage({
                  subject: view.stored.issue.subject,
                  preheader: view.stored.issue.preheader,
                  html: view.render.html,
                  unsubscribeUrl: recipient.unsubscribeUrl,
                  warnings: view.render.warnings,
                }),
          posts: cards.map((c, i) => ({ title: c.title, posts: socials[i]?.posts ?? [] })),
          flash: url.searchParams.get('flash') ?? undefined,
          formToken: tokens.tokenFor(`/issues/${id}/send-test`),
          maxRecipients: config.TEST_SEND_MAX_RECIPIENTS,
        }),
      );
    }
    const article = ARTICLE.exec(path);
    if (article && req.method === 'GET') {
      const found = await store.getArticle(article[1] as string);
      if (!found) return send(res, 404, notFoundPage(`No article ${article[1]}.`));
      return send(res, 200, articlePage(found, await store.getSocial(found.id)));
    }
    if (req.method === 'GET' && path === '/mailbox')
      return send(res, 200, mailboxPage(await listMailbox(options.mailboxDir)));
    const message = MESSAGE.exec(path);
    if (message && req.method === 'GET') {
      const found = (await listMailbox(options.mailboxDir, 500)).find((m) => m.id === message[1]);
      if (!found) return send(res, 404, notFoundPage('No such message.'));
      return send(res, 200, messagePage(found));
    }
    return send(res, 404, notFoundPage(`Nothing at ${path}.`));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) send(res, 500, notFoundPage(`Error: ${error.message}`));
      else res.end();
    });
  });

  // Listen first: a taken port then leaves no watcher behind to keep the process alive.
  const address = await listen(server, {
    host: options.host,
    port: options.port,
    ...(options.listenAs ?? { what: 'dispatch preview', setting: 'PREVIEW_PORT' }),
  });

  // Live reload: a change under templates/ reloads issue pages; a new message, the mailbox page.
  const timers = new Map<string, NodeJS.Timeout>();
  const notify = (event: 'templates' | 'mailbox') => () => {
    clearTimeout(timers.get(event));
    timers.set(
      event,
      setTimeout(() => {
        for (const client of clients) client.write(`event: ${event}\ndata: {}\n\n`);
      }, 150),
    );
  };
  const onTemplateChange = notify('templates');
  const watchers: ReturnType<typeof watch>[] = [];
  try {
    watchers.push(
      watch(options.templatesDir, { recursive: true }, () => {
        templateGeneration++;
        onTemplateChange();
      }),
    );
  } catch (error) {
    server.close();
    throw error;
  }
  try {
    watchers.push(watch(options.mailboxDir, notify('mailbox')));
  } catch {
    // No mailbox folder yet: nothing to watch.
  }

  return {
    url: `http://${hostPort(options.host, address.port)}`,
    server,
    async close() {
      for (const w of watchers) w.close();
      for (const client of clients) client.end();
      for (const timer of timers.values()) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
