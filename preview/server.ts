import { watch } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type CheckReport, checkIssue } from '../io/check-issue.js';
import { hostPort, type ListenAs, listen } from '../io/listen.js';
import { templatesFingerprint } from '../io/load-templates.js';
import { listMailbox } from '../io/mailbox.js';
import { loadSampleRecipient } from '../io/sample-recipient.js';
import type { SendLedger } from '../io/send-ledger.js';
import type { Store, StoredIssue } from '../io/store.js';
import { isUpToDate } from '../jobs/issue-operations.js';
import type { ListHealth } from '../jobs/list-health.js';
import { queueReport } from '../jobs/queue-report.js';
import type { Queues } from '../jobs/queues.js';
import type { IssueStatus } from '../jobs/weekly-loop.js';
import type { Config } from '../src/config.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import type { Article } from '../src/ingest/article.js';
import type { CurationEdit } from '../src/newsletter/curation.js';
import { parseIsoWeek } from '../src/newsletter/iso-week.js';
import { recipientFor } from '../src/newsletter/recipient-links.js';
import { domainOf, toMessage } from '../src/newsletter/to-message.js';
import {
  articlePage,
  checksPanel,
  type IssueStateOf,
  indexPage,
  issuePage,
  type LoopAction,
  type LoopView,
  mailboxPage,
  messagePage,
  notFoundPage,
  PREVIEW_SCRIPT,
  readCurationEdit,
  SCRIPT_PATH,
  socialPosts,
  unbuiltIssuePage,
} from './pages.js';
import { serveQueuesBoard } from './queues-board.js';
import { admit, createFormTokens, isQueuesBoardPath } from './request-gate.js';

/** A queued build and the wait for it: the builtAt of the build it replaces (null: none stored). */
export interface QueuedBuild {
  replaces: string | null;
  wait: Promise<StoredIssue>;
}

/**
 * The weekly loop's operations (jobs/weekly-loop.ts), as the issue and index pages use them. Each
 * action returns the page's flash; a DispatchError it throws is shown as `CODE: message`.
 */
export interface PreviewLoop {
  /** The weeks the loop knows (a stored issue, or a record such as an empty week), newest first. */
  weeks(): Promise<string[]>;
  /** The week's state in the loop. */
  status(week: string): Promise<IssueStatus>;
  /** The stories published in the week, from the store: those the build left out too. */
  stories(week: string): Promise<Article[]>;
  /** Active readers: whom an approval sends to. */
  readers(): Promise<number>;
  /** Approves the week's issue: its list send starts now. */
  approve(week: string): Promise<string>;
  hold(week: string): Promise<string>;
  release(week: string): Promise<string>;
  /** Saves an edit and queues the rebuild that applies it (`signal` ends the wait when the server closes). */
  edit(week: string, edit: CurationEdit, signal: AbortSignal): Promise<{ flash: string; built: QueuedBuild | null }>;
}

export interface PreviewOptions {
  config: Config;
  store: Store;
  queues: Queues;
  templatesDir: string;
  mailboxDir: string;
  host: string;
  port: number;
  /** The list sends, read (never changed) for the issue page's send state. */
  sends: Pick<SendLedger, 'get'>;
  /** Queues test sends of a week's issue (what `dispatch send-test` does); returns the page's flash. */
  sendTest(week: string, addresses: string[]): Promise<string>;
  /**
   * Queues a rebuild of a week's unsent issue. Returns the page's flash and, when a build was
   * queued, the builtAt of the build it replaces and the wait for it (`signal` ends the wait when the
   * server closes); a sent issue is frozen: no wait, nothing queued.
   */
  rebuild(week: string, signal: AbortSignal): Promise<{ flash: string; built: QueuedBuild | null }>;
  /**
   * The weekly loop: the issue page shows the week's state with Approve, Hold, Release and the edit
   * forms, the index each issue's state. Without it the pages show none of them.
   */
  loop?: PreviewLoop;
  /**
   * The list's health (jobs/list-health.ts), shown on the index page; without it the page shows
   * no list panel.
   */
  listHealth?: () => Promise<ListHealth>;
  /**
   * Who is listening and the setting that chooses the port, for the one line shown when the port
   * is taken. @defaultValue `{ what: 'dispatch preview', setting: 'PREVIEW_PORT' }`
   */
  listenAs?: ListenAs;
}

/**
 * Largest form body the preview reads: room for an editor's note of NOTE_MAX_CHARS in any script
 * (up to 4 UTF-8 bytes a character, each sent as a 3-byte %XX escape: 24 KB) beside its fields.
 */
export const PREVIEW_BODY_BYTES = 32 * 1024;
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

const WEEK = /^\/issues\/(\d{4}-W\d{2})(?:\/(email\.html|checks|send-test|rebuild|approve|hold|release|edit))?$/;
const isIsoWeek = (week: string) => {
  try {
    parseIsoWeek(week);
    return true;
  } catch {
    return false;
  }
};

/** How long the preview keeps a build's full check report before running the checks again. */
const CHECKS_KEPT_MS = 5 * 60_000;

/** Weeks whose state the index shows, newest first. */
const INDEX_STATES = 52;
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
 * The local preview: issues and articles from the store, each issue shown as its stored build
 * goes out, personalized for the sample recipient by the same `toMessage` a send uses (so what
 * it shows is what a test send delivers), with checks, the build it shows and whether the
 * templates changed since (then a Rebuild form), the list send's state, test sends and the local
 * mailbox. It serves only what its routes name; anything else is 404.
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
    queueActions: config.PREVIEW_QUEUE_ACTIONS,
  };
  const sample = loadSampleRecipient(options.templatesDir);
  const recipient = recipientFor(sample.email, sample.firstName, config);
  const unsubscribeMailto = `unsubscribe@${domainOf(config.MAIL_FROM)}`;

  /** The stored build as the sample recipient gets it: the one render path, no second renderer. */
  const messageOf = (week: string, stored: StoredIssue) =>
    toMessage(stored, recipient, config, { token: `${week}.preview`, unsubscribeMailto });

  /** The templates' fingerprint now, or why they cannot be read (read per page: a few small files). */
  const templatesNow = async (): Promise<{ fingerprint: string | null; error?: string }> => {
    try {
      return { fingerprint: await templatesFingerprint(options.templatesDir) };
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      return { fingerprint: null, error: `${error.code}: ${error.message}` };
    }
  };

  // Rebuilds this server queued and still waits for, or whose failure it shows until a newer
  // build is stored. What the page says, not what is sent: the store and the queue hold that.
  const rebuilds = new Map<string, { of: string | null; error?: string }>();
  const waits = new Set<Promise<void>>();
  const closing = new AbortController();

  // Full check reports by build, for a few minutes: each reload of an issue page asks again, and
  // scoring and link checks take seconds. Requests at the same time share one run.
  const reports = new Map<string, { at: number; report: Promise<CheckReport> }>();
  const fullChecks = (week: string, stored: StoredIssue): Promise<CheckReport> => {
    const key = `${week} ${stored.builtAt} ${stored.curation ?? 0}`;
    const now = Date.now();
    for (const [k, v] of reports) if (now - v.at > CHECKS_KEPT_MS) reports.delete(k);
    const kept = reports.get(key);
    if (kept) return kept.report;
    const report = checkIssue(week, stored, {
      config,
      templatesDir: options.templatesDir,
      signal: closing.signal,
      sample: { message: messageOf(week, stored), recipient },
    });
    reports.set(key, { at: now, report });
    report.catch(() => reports.delete(key));
    return report;
  };

  /** A week's state in the loop, or why it cannot be read. */
  const stateOf = async (loop: PreviewLoop, week: string): Promise<IssueStateOf> => {
    try {
      return { status: await loop.status(week) };
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      return { error: `${error.code}: ${error.message}` };
    }
  };

  /** The index's states: the newest INDEX_STATES weeks' (the list holds every week ever built). */
  const statesOf = async (weeks: string[]): Promise<Map<string, IssueStateOf> | undefined> => {
    const { loop } = options;
    if (!loop) return undefined;
    const shown = weeks.slice(0, INDEX_STATES);
    return new Map(await Promise.all(shown.map(async (w) => [w, await stateOf(loop, w)] as const)));
  };

  /** What the issue page shows of the loop, with a token for each of its forms. */
  const loopView = async (week: string): Promise<LoopView | null> => {
    const { loop } = options;
    if (!loop) return null;
    const [state, stories, readers] = await Promise.all([stateOf(loop, week), loop.stories(week), loop.readers()]);
    const tokenOf = (action: LoopAction) => tokens.tokenFor(`/issues/${week}/${action}`);
    return {
      state,
      stories,
      readers,
      tokens: {
        approve: tokenOf('approve'),
        hold: tokenOf('hold'),
        release: tokenOf('release'),
        edit: tokenOf('edit'),
      },
    };
  };

  /** What a form posted to `/issues/<week>/<action>` does; it returns the page's flash. */
  type Action = (week: string, form: URLSearchParams) => Promise<string>;
  const loopAction =
    (run: (loop: PreviewLoop, week: string, form: URLSearchParams) => Promise<string>): Action =>
    async (week, form) => {
      // Without the loop its pages offer none of its forms: a post to one has nothing to reach.
      if (!options.loop) throw new DispatchError('E_NOT_FOUND', 'this preview runs without the weekly loop');
      return await run(options.loop, week, form);
    };
  const actions: Record<string, Action> = {
    'send-test': (week, form) =>
      options.sendTest(
        week,
        (form.get('to') ?? '')
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      ),
    async rebuild(week) {
      const started = await options.rebuild(week, closing.signal);
      if (started.built) watchRebuild(week, started.built.wait, started.built.replaces);
      return started.flash;
    },
    approve: loopAction((loop, week) => loop.approve(week)),
    hold: loopAction((loop, week) => loop.hold(week)),
    release: loopAction((loop, week) => loop.release(week)),
    edit: loopAction(async (loop, week, form) => {
      const started = await loop.edit(week, readCurationEdit(form), closing.signal);
      if (started.built) watchRebuild(week, started.built.wait, started.built.replaces);
      return started.flash;
    }),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const admitted = await admit(req, res, gate);
    if (!admitted) return;
    const url = new URL(req.url ?? '/', 'http://preview.local');
    const path = url.pathname;
    if (req.method === 'GET' && path === SCRIPT_PATH)
      return send(res, 200, PREVIEW_SCRIPT, 'text/javascript; charset=utf-8');
    if (isQueuesBoardPath(path))
      return await serveQueuesBoard(req, res, {
        queues: options.queues,
        actions: config.PREVIEW_QUEUE_ACTIONS,
        body: admitted.body,
      });
    if (req.method === 'GET' && path === '/') {
      // With the loop, weeks it knows without a build (an empty week, a failed first build) too.
      const weeks = await (options.loop ? options.loop.weeks() : store.listIssues());
      const articles = (await store.articlesBetween(new Date(0), new Date(8.64e15))).reverse().slice(0, 100);
      const [health, states, report, sends] = await Promise.all([
        options.listHealth?.(),
        statesOf(weeks),
        // The Queues panel: the latest failures (5 a queue) and the sends of the newest 3 weeks.
        queueReport(options.queues, 5),
        Promise.all(weeks.slice(0, 3).map((w) => options.sends.get(w))),
      ]);
      const queues = { ...report, sends: sends.filter((r) => r !== null) };
      return send(res, 200, indexPage(weeks, articles, health, states, queues));
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
      if (req.method === 'POST' && admitted.form && sub && sub in actions) {
        const form = admitted.form;
        let flash: string;
        try {
          flash = await (actions[sub] as Action)(id, form);
        } catch (error) {
          // Refusals the operations make on purpose (E_ISSUE_HELD, E_ISSUE_SENT, bad input) are the
          // page's to say; anything else is a bug, answered 500.
          if (!isDispatchError(error)) throw error;
          flash = `${error.code}: ${error.message}`;
        }
        res.writeHead(303, { location: `/issues/${id}?flash=${encodeURIComponent(flash)}` });
        return res.end();
      }
      if (req.method !== 'GET') return send(res, 405, notFoundPage('Method not allowed'));
      if (!isIsoWeek(id)) return send(res, 404, notFoundPage(`No issue for ${id}: not an ISO week.`));
      const flash = url.searchParams.get('flash') ?? undefined;
      const stored = await store.getIssue(id);
      // The email frame is asked for on every page load: it needs the build only.
      const loop = sub ? null : await loopView(id);
      // A failure is shown while the build it tried to replace is still the stored one.
      const rebuild = rebuilds.get(id);
      const rebuildShown = rebuild && rebuild.of === (stored?.builtAt ?? null) ? rebuild : undefined;
      if (!stored) {
        // Nothing to show unless the loop knows the week (empty, failed) or it has stories to edit.
        const known =
          loop && (loop.stories.length > 0 || ('status' in loop.state && loop.state.status.state !== 'not-built'));
        if (!loop || !known || sub) return send(res, 404, notFoundPage(`No issue for ${id}.`));
        return send(
          res,
          200,
          unbuiltIssuePage({
            week: id,
            loop,
            flash,
            rebuilding: rebuildShown !== undefined && rebuildShown.error === undefined,
            rebuildError: rebuildShown?.error,
          }),
        );
      }
      const message = messageOf(id, stored);
      if (sub === 'email.html') {
        // Dark mode emulation: the email's own dark palette, applied unconditionally.
        const dark = url.searchParams.get('scheme') === 'dark';
        const body = dark
          ? message.html.replace(/@media\s*\(prefers-color-scheme:\s*dark\)/g, '@media all')
          : message.html;
        return send(res, 200, body, undefined, EMAIL_CSP);
      }
      if (sub === 'checks') {
        const report = await fullChecks(id, stored);
        return send(res, 200, checksPanel(report.checks).value);
      }
      if (sub) return send(res, 405, notFoundPage('Method not allowed'));
      const cards = [stored.issue.lead, ...stored.issue.cards];
      const [socials, now, sendRecord] = await Promise.all([
        store.getSocials(cards.map((c) => c.articleId)),
        templatesNow(),
        options.sends.get(id),
      ]);
      return send(
        res,
        200,
        issuePage({
          week: id,
          stored,
          message,
          build: {
            // The templates only: edits not yet in the build are the edit forms' to say.
            templatesChanged: !isUpToDate(stored, now.fingerprint, stored.curation ?? 0),
            templatesError: now.error,
            rebuilding: rebuildShown !== undefined && rebuildShown.error === undefined,
            rebuildError: rebuildShown?.error,
          },
          send: sendRecord,
          checks: {
            results: (
              await checkIssue(id, stored, {
                config,
                templatesDir: options.templatesDir,
                depth: 'quick',
                sample: { message, recipient },
              })
            ).checks,
            full: `/issues/${id}/checks`,
          },
          posts: cards.map((c, i) => ({ title: c.title, posts: socialPosts(socials[i]) })),
          flash,
          formToken: tokens.tokenFor(`/issues/${id}/send-test`),
          rebuildToken: tokens.tokenFor(`/issues/${id}/rebuild`),
          maxRecipients: config.TEST_SEND_MAX_RECIPIENTS,
          loop: loop ?? undefined,
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

  // Live reload: a change under templates/ reloads issue pages (which then say the templates
  // changed); so does a rebuild this server waits for; a new message, the mailbox page.
  const timers = new Map<string, NodeJS.Timeout>();
  const notify = (event: 'templates' | 'issue' | 'mailbox') => () => {
    clearTimeout(timers.get(event));
    timers.set(
      event,
      setTimeout(() => {
        for (const client of clients) client.write(`event: ${event}\ndata: {}\n\n`);
      }, 150),
    );
  };
  const onTemplateChange = notify('templates');
  const onBuilt = notify('issue');

  /** Follows a queued rebuild: open issue pages reload when it is stored, or show why it failed. */
  const watchRebuild = (week: string, built: Promise<StoredIssue>, replaces: string | null) => {
    rebuilds.set(week, { of: replaces });
    const wait = built
      .then(
        () => {
          if (rebuilds.get(week)?.of === replaces) rebuilds.delete(week);
        },
        (error: unknown) => {
          if (closing.signal.aborted) return;
          const why = isDispatchError(error) ? `${error.code}: ${error.message}` : String(error);
          rebuilds.set(week, { of: replaces, error: why });
        },
      )
      .then(() => {
        if (!closing.signal.aborted) onBuilt();
      });
    waits.add(wait);
    void wait.finally(() => waits.delete(wait));
  };
  const watchers: ReturnType<typeof watch>[] = [];
  try {
    watchers.push(watch(options.templatesDir, { recursive: true }, onTemplateChange));
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
      closing.abort();
      await Promise.all(waits);
      // A check still running may be starting spamd: let it finish (its link checks end with `closing`).
      await Promise.allSettled([...reports.values()].map((r) => r.report));
      for (const w of watchers) w.close();
      for (const client of clients) client.end();
      for (const timer of timers.values()) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
