import { shortFingerprint } from '../io/load-templates.js';
import type { MailboxMessage } from '../io/mailbox.js';
import type { SendRecord } from '../io/send-ledger.js';
import type { StoredIssue, StoredSocial } from '../io/store.js';
import { describeSend } from '../jobs/describe-send.js';
import { describeCounts, type ListHealth, percent } from '../jobs/list-health.js';
import type { QueueReport } from '../jobs/queue-report.js';
import type { IssueStateName, IssueStatus } from '../jobs/weekly-loop.js';
import type { CheckResult } from '../src/checks/check.js';
import { STATE_MARK } from '../src/checks/format-report.js';
import { DispatchError } from '../src/errors.js';
import type { Article } from '../src/ingest/article.js';
import { type CurationEdit, NOTE_MAX_CHARS } from '../src/newsletter/curation.js';
import type { OutgoingMessage } from '../src/newsletter/to-message.js';
import { NETWORKS, type NetworkPost } from '../src/social/network-post.js';
import { html, type Raw, raw } from './html.js';

const STYLE = `
body{font:15px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1a1a1a;background:#f4f4f1}
header{background:#111;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a{color:#fff;text-decoration:none}header strong{font-size:17px}
main{padding:20px;max-width:1400px}
.cols{display:flex;gap:20px;align-items:flex-start}.cols>section{background:#fff;padding:16px;border-radius:6px}
.toolbar button,.tabs button{font:inherit;padding:6px 12px;border:1px solid #bbb;background:#fff;border-radius:4px;cursor:pointer}
.toolbar button[aria-pressed=true],.tabs button[aria-selected=true]{background:#0b57d0;color:#fff;border-color:#0b57d0}
iframe{border:1px solid #ccc;background:#fff;height:80vh;display:block;margin-top:10px}
pre{white-space:pre-wrap;word-break:break-word;background:#fafafa;border:1px solid #ddd;padding:10px;max-height:80vh;overflow:auto;font-size:13px}
.ok{color:#0a7a2f}.bad{color:#b3261e}.error{background:#fde8e7;border:1px solid #b3261e;padding:12px;border-radius:4px;white-space:pre-wrap}
table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #e2e2dc;text-align:left;vertical-align:top}
.flash{background:#e8f1fd;padding:8px 12px;border-radius:4px}
.notice{background:#fff4d6;border:1px solid #c98a00;padding:8px 12px;border-radius:4px}.notice form{display:inline;margin-left:8px}
.health{background:#fff;padding:10px 16px;border-radius:6px;display:inline-block}.health.bad{border:1px solid #b3261e;color:inherit}.health p{margin:4px 0}
.post{border:1px solid #ddd;border-radius:6px;padding:8px;margin:8px 0;background:#fff}.post-text{white-space:pre-wrap;word-break:break-word}
#loop{background:#fff;padding:10px 16px;border-radius:6px;margin:10px 0}#loop p{margin:4px 0}
.state{display:inline-block;padding:1px 8px;border-radius:10px;background:#e2e2dc;font-weight:600}
.state-held,.state-failed,.state-paused{background:#fde8e7;color:#b3261e}.state-sent,.state-sending,.state-approved{background:#e3f4e8;color:#0a7a2f}
.actions{display:flex;gap:12px;flex-wrap:wrap;margin-top:8px}.actions form{margin:0}
.actions button,#curation button{font:inherit;padding:6px 12px;border:1px solid #bbb;background:#fff;border-radius:4px;cursor:pointer}
.actions .approve{background:#0a7a2f;color:#fff;border-color:#0a7a2f}
#curation textarea{width:100%;box-sizing:border-box;font:inherit}#curation input[type=number]{width:4em}#curation select{max-width:100%}
#stories td{padding:3px 6px}.dropped{color:#777;text-decoration:line-through}
#checks small{word-break:break-all}#checks .warn{color:#a15c00}#checks .unchecked{color:#666}#checks ul{margin:2px 0 0 0;padding-left:16px}#checks li{font-size:12px}.cols>section:last-child{min-width:0}`;

/** A page reloads itself on the server's events of these kinds: template edits, a new build, new mail. */
type LiveReload = 'templates' | 'issue' | 'mailbox';

/** Where the pages' one script is served: the CSP allows scripts from the preview's own origin only. */
export const SCRIPT_PATH = '/preview.js';

/**
 * The pages' script, served at {@link SCRIPT_PATH} rather than inline (the CSP allows no inline
 * script): live reload, and on an issue page the width, dark-mode and tab controls.
 */
export const PREVIEW_SCRIPT = `const live = document.body.dataset.liveReload;
// Reloaded without its query: a flash ("Queued a rebuild") is about the page before.
const reload = () => location.replace(location.pathname + location.hash);
if (live) {
  const events = new EventSource('/events');
  for (const kind of live.split(' ')) events.addEventListener(kind, reload);
}
// A rebuild that finished before this page's event stream opened sent its event to no one.
if (document.getElementById('rebuilding')) setTimeout(reload, 2000);
const toolbar = document.querySelector('.toolbar[data-email-src]');
if (toolbar) {
  const state = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
  const frame = document.getElementById('email');
  const apply = () => {
    document.querySelectorAll('[data-width]').forEach(b => b.setAttribute('aria-pressed', String(b.dataset.width === (state.width || '600'))));
    if (frame) frame.style.width = (state.width || '600') + 'px';
    const dark = state.dark === '1';
    document.getElementById('dark').setAttribute('aria-pressed', String(dark));
    const src = toolbar.dataset.emailSrc + (dark ? '?scheme=dark' : '');
    if (frame && !frame.src.endsWith(src)) frame.src = src;
    const tab = state.tab || 'email';
    document.querySelectorAll('[data-tab]').forEach(b => b.setAttribute('aria-selected', String(b.dataset.tab === tab)));
    document.querySelectorAll('[data-panel]').forEach(p => p.hidden = p.dataset.panel !== tab);
    history.replaceState(null, '', '#' + new URLSearchParams(state));
  };
  document.querySelectorAll('[data-width]').forEach(b => b.onclick = () => { state.width = b.dataset.width; apply(); });
  document.getElementById('dark').onclick = () => { state.dark = state.dark === '1' ? '0' : '1'; apply(); };
  document.querySelectorAll('[data-tab]').forEach(b => b.onclick = () => { state.tab = b.dataset.tab; apply(); });
  apply();
}
// The checks that take the network or SpamAssassin come after the page: the panel fills in.
const checks = document.querySelector('#checks[data-full]');
if (checks) {
  const fill = (body) => { const box = document.createElement('div'); box.innerHTML = body; checks.replaceWith(box.firstElementChild); };
  fetch(checks.dataset.full, { signal: AbortSignal.timeout(90000) })
    .then(r => r.ok ? r.text() : Promise.reject(new Error(r.status + ' ' + r.statusText)))
    .then(fill, (e) => { const row = document.getElementById('checks-pending'); if (row) row.textContent = 'The full checks did not load: ' + e.message; });
}
`;

/** Findings listed under one check in the panel; the rest are counted (`dispatch check --json` has them all). */
const PANEL_FINDINGS = 8;

function findingItem(f: CheckResult['findings'][number]) {
  const rule = f.rule ? `${f.points?.toFixed(1)} ${f.rule}: ` : '';
  return html`<li class="${f.state}">${STATE_MARK[f.state]} ${rule}${f.client ? `${f.client}: ` : ''}${f.text}${f.where ? html` <small>(${f.where})</small>` : ''}</li>`;
}

/**
 * The checks panel: a row per check with its findings. With `full`, these are the quick checks and
 * the page's script replaces the panel with the full report fetched from `full`.
 */
export function checksPanel(results: CheckResult[], full?: string): Raw {
  const shown = full ? results.filter((c) => !['links', 'images', 'spam'].includes(c.id)) : results;
  return html`<table id="checks"${full ? html` data-full="${full}"` : ''}>${shown.map((c) => {
    const findings = c.findings.filter((f) => f.state !== 'ok' || f.rule !== undefined);
    const more = findings.length - PANEL_FINDINGS;
    return html`<tr data-check="${c.id}"><td class="${c.state === 'ok' ? 'ok' : c.state === 'fail' ? 'bad' : c.state}">${STATE_MARK[c.state]}</td><td><strong>${c.name}</strong><br><small>${c.summary}</small>${
      findings.length
        ? html`<ul>${findings.slice(0, PANEL_FINDINGS).map(findingItem)}${more > 0 ? html`<li>… and ${more} more</li>` : ''}</ul>`
        : ''
    }</td></tr>`;
  })}${full ? html`<tr id="checks-pending"><td>…</td><td><small>Checking links, images and the spam score…</small></td></tr>` : ''}</table>`;
}

export function layout(title: string, body: Raw, options: { liveReload?: LiveReload[] } = {}): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title} · Dispatch preview</title><style>${raw(STYLE)}</style><script src="${SCRIPT_PATH}" defer></script></head><body${options.liveReload ? html` data-live-reload="${options.liveReload.join(' ')}"` : ''}>
<header><strong><a href="/">Dispatch preview</a></strong><a href="/">Issues &amp; articles</a><a href="/mailbox">Mailbox</a><a href="/queues">Queues</a></header>
<main>${body}</main></body></html>`.value;
}

/**
 * The list's health, compact: readers per status, the current issue's bounce and complaint rates,
 * and a warning when one is over its line. Absent when the preview was started without it.
 */
export function listHealthPanel(health: ListHealth | null | undefined): Raw | string {
  if (!health) return '';
  const { issue } = health;
  return html`<section id="list-health" class="health${health.warning ? ' bad' : ''}" aria-label="List health">
<p><strong>List</strong> · ${describeCounts(health.counts)}</p>
${
  issue
    ? html`<p id="issue-health">${issue.week} (${issue.which === 'this week' ? 'this week' : 'latest send'}): ${issue.delivered} delivered ·
bounced ${issue.bounced} (<span id="bounce-rate">${percent(issue.bounceRate)}</span>) · complained ${issue.complained} (<span id="complaint-rate">${percent(issue.complaintRate)}</span>)</p>`
    : html`<p id="issue-health">No issue sent to the list yet.</p>`
}
${health.warnings.map((w) => html`<p class="bad">⚠ ${w}</p>`)}</section>`;
}

/** How the pages name a state of the weekly loop. */
const STATE_LABELS: Record<IssueStateName, string> = {
  'not-built': 'not built',
  built: 'built',
  empty: 'empty',
  failed: 'failed',
  held: 'held',
  scheduled: 'scheduled',
  approved: 'approved',
  sending: 'sending',
  paused: 'paused',
  sent: 'sent',
};

/** A week's state in the loop, or why it cannot be read ("E_CODE: message"). */
export type IssueStateOf = { status: IssueStatus } | { error: string };

function stateBadge(state: IssueStateOf): Raw {
  if ('error' in state) return html`<span class="state state-failed" title="${state.error}">state unknown</span>`;
  const { status } = state;
  return html`<span class="state state-${status.state}" data-state="${status.state}">${STATE_LABELS[status.state]}</span>`;
}

/**
 * The index: the list's health, each week with its state in the weekly loop (when the preview
 * was given the loop), and the latest articles.
 */
/**
 * What the index's Queues panel shows: Dispatch's own summary (the schedules, the latest failures
 * with their error codes, the list sends); counts and jobs are Bull Board's, at /queues.
 */
export interface QueuesSummary {
  schedulers: QueueReport['schedulers'];
  /** Newest first. */
  failures: QueueReport['failures'];
  /** The newest weeks' list sends. */
  sends: SendRecord[];
}

/** Failures the Queues panel lists, and how much of a reason it shows (Bull Board has the rest). */
const PANEL_FAILURES = 10;
const PANEL_REASON_CHARS = 240;

/** The index's Queues panel: schedules, latest failures (each linked to its job on the board) and sends. */
export function queuesPanel(summary: QueuesSummary | undefined): Raw | string {
  if (!summary) return '';
  const failures = summary.failures.slice(0, PANEL_FAILURES);
  const cut = (reason: string) =>
    reason.length > PANEL_REASON_CHARS ? `${reason.slice(0, PANEL_REASON_CHARS - 1)}…` : reason;
  const jobLink = (f: QueuesSummary['failures'][number]) =>
    f.jobId
      ? html`<a href="/queues/queue/${encodeURIComponent(f.queue)}/${encodeURIComponent(f.jobId)}">${f.queue}/${f.jobId}</a>`
      : f.queue;
  return html`<section id="queues" aria-label="Queues"><h1>Queues</h1>
<p><a href="/queues">Open the queues board</a> for every queue's jobs, counts and workers.</p>
<h2>Schedules</h2>${
    summary.schedulers.length
      ? html`<table id="schedules"><tr><th>Schedule</th><th>Next run</th><th>When</th></tr>${summary.schedulers.map(
          (s) =>
            html`<tr><td>${s.queue}/${s.id}</td><td>${s.next ?? '?'}</td><td>${
              s.pattern
                ? `cron "${s.pattern}"${s.tz ? ` ${s.tz}` : ''}`
                : s.every
                  ? `every ${Math.round(s.every / 60_000)} min`
                  : ''
            }</td></tr>`,
        )}</table>`
      : html`<p id="schedules">None: a worker sets the schedules when it starts.</p>`
  }
<h2>Latest failures</h2>${
    failures.length
      ? html`<table id="failures"><tr><th>When</th><th>Job</th><th>Code</th><th>Reason</th></tr>${failures.map(
          (f) =>
            html`<tr data-queue="${f.queue}"><td>${f.at ?? '?'}</td><td>${jobLink(f)}</td><td class="bad">${f.code ?? '—'}</td><td><small>${cut(f.reason)}</small></td></tr>`,
        )}</table>`
      : html`<p id="failures">None.</p>`
  }
<h2>Sends</h2>${
    summary.sends.length
      ? html`<ul id="sends">${summary.sends.map((r) => html`<li class="${r.status === 'paused' ? 'bad' : ''}">${describeSend(r)}</li>`)}</ul>`
      : html`<p id="sends">No list send yet.</p>`
  }</section>`;
}

export function indexPage(
  issues: string[],
  articles: Article[],
  health?: ListHealth | null,
  states?: Map<string, IssueStateOf>,
  queues?: QueuesSummary,
): string {
  const stateOf = (week: string) => states?.get(week);
  return layout(
    'Issues and articles',
    html`${listHealthPanel(health)}<h1>Issues</h1>
${
  issues.length
    ? html`<ul id="issues">${issues.map((w) => {
        const state = stateOf(w);
        return html`<li data-week="${w}"><a href="/issues/${w}">${w}</a>${
          state
            ? html` ${stateBadge(state)}${'status' in state ? html` <small>${state.status.summary}</small>` : ''}`
            : ''
        }</li>`;
      })}</ul>`
    : html`<p>No issue built yet: run <code>npx dispatch worker</code> and <code>npx dispatch enqueue examples/</code>, or <code>npm start</code>.</p>`
}
${queuesPanel(queues)}
<h1>Articles</h1>
<table><tr><th>Published</th><th>Title</th><th>Words</th></tr>
${articles.map((a) => html`<tr><td>${a.publishedAt.slice(0, 10)}</td><td><a href="/articles/${a.id}">${a.title}</a></td><td>${a.wordCount}</td></tr>`)}
</table>`,
  );
}

/**
 * What the Posts tab shows of a stored social: its posts for every network, or, for one composed
 * before Dispatch wrote them (no `networks`), its X posts alone until the social job runs again.
 */
export function socialPosts(social: StoredSocial | null | undefined): NetworkPost[] {
  if (!social) return [];
  if (social.networks) return social.networks;
  return social.posts.map(({ kind, text, weightedLength, valid, part }) => ({
    network: 'x' as const,
    kind,
    text,
    length: weightedLength,
    limit: 280,
    valid,
    ...(part ? { part } : {}),
  }));
}

function postList(posts: NetworkPost[]): Raw {
  const networks = NETWORKS.filter((n) => posts.some((p) => p.network === n));
  return html`${networks.map(
    (network) =>
      html`<section class="network" data-network="${network}"><h4>${network}</h4>${posts
        .filter((p) => p.network === network)
        .map(
          (p) => html`<div class="post"><small>${p.kind}${p.part ? ` ${p.part.index}/${p.part.total}` : ''} ·
<span class="${p.valid ? 'ok' : 'bad'}">${p.length}/${p.limit} ${p.valid ? '✓ valid' : '✗ invalid'}</span></small><div class="post-text">${p.text}</div>${
            p.card ? html`<small>card: ${p.card.title} · ${p.card.uri}</small>` : ''
          }</div>`,
        )}</section>`,
  )}`;
}

/** The loop's forms, each posted to `/issues/<week>/<action>` with its own token. */
export type LoopAction = 'approve' | 'hold' | 'release' | 'edit';

/** What an issue page shows of the weekly loop, and what its forms need. */
export interface LoopView {
  state: IssueStateOf;
  /** The week's stories in the store (published that week), those the build left out included. */
  stories: Article[];
  /** Active readers: whom an approval sends the issue to. */
  readers: number;
  /** The token of each of the loop's forms. */
  tokens: Record<LoopAction, string>;
}

/** Which of the loop's forms apply to a week in this state: none once its list send started. */
function loopActions(status: IssueStatus, built: boolean): Record<LoopAction, boolean> {
  const started = status.send !== null || ['sending', 'paused', 'sent'].includes(status.state);
  if (started) return { approve: false, hold: false, release: false, edit: false };
  const held = status.state === 'held';
  return {
    // Approving a held issue is refused (E_ISSUE_HELD): it is released first, on purpose.
    approve: built && !held && status.state !== 'empty' && status.state !== 'not-built',
    hold: !held,
    release: held,
    edit: true,
  };
}

const readersOf = (n: number) => `${n} ${n === 1 ? 'reader' : 'readers'}`;

/** The week's state in the loop, the proof, the last failure, and Approve, Hold and Release where they apply. */
function loopPanel(week: string, loop: LoopView, built: boolean): Raw {
  if ('error' in loop.state) {
    return html`<section id="loop" aria-label="Weekly loop"><p id="loop-state">${stateBadge(loop.state)}</p>
<div class="error" id="loop-error">The loop's state cannot be read: ${loop.state.error}</div></section>`;
  }
  const { status } = loop.state;
  const can = loopActions(status, built);
  const form = (action: LoopAction, button: Raw, extra: Raw | string = '') =>
    html`<form method="post" action="/issues/${week}/${action}"><input type="hidden" name="token" value="${loop.tokens[action]}">${button}${extra}</form>`;
  return html`<section id="loop" aria-label="Weekly loop">
<p id="loop-state">${stateBadge(loop.state)} <span id="loop-summary">${status.summary}</span></p>
<p id="proof">${
    status.editors.length === 0
      ? 'No proofs: EDITOR_EMAILS names no editor.'
      : status.proofAt
        ? html`Proof queued to ${status.editors.join(', ')} at ${status.proofAt}.`
        : html`No proof sent yet to ${status.editors.join(', ')}.`
  }</p>
${status.error ? html`<div class="error" id="loop-error">The last try failed: ${status.error}</div>` : ''}
${
  can.approve || can.hold || can.release
    ? html`<div class="actions" id="loop-actions">${[
        can.approve
          ? form(
              'approve',
              html`<button type="submit" class="approve">Approve and send to ${readersOf(loop.readers)} now</button>`,
              html`<br><small>Starts the list send at once; it cannot be undone.</small>`,
            )
          : '',
        can.hold
          ? form(
              'hold',
              html`<button type="submit">Hold</button>`,
              html`<br><small>No automatic send until released.</small>`,
            )
          : '',
        can.release
          ? form(
              'release',
              html`<button type="submit">Release</button>`,
              html`<br><small>Lets it go out again: at its scheduled time, or when approved.</small>`,
            )
          : '',
      ]}</div>`
    : ''
}</section>`;
}

/** Where each story stands in the stored build: the lead, or its place among the full cards. */
function placesIn(stored: StoredIssue | null): Map<string, string> {
  const places = new Map<string, string>();
  if (!stored) return places;
  places.set(stored.issue.lead.articleId, 'lead');
  stored.issue.cards.forEach((card, i) => {
    places.set(card.articleId, String(i + 2));
  });
  return places;
}

/**
 * The edit forms of an unsent issue: the editor's note, and the stories (the lead, which are in,
 * and their order). Each saves an edit and queues a rebuild; the note form changes only the note,
 * the stories form only the stories. Their fields are read back by {@link readCurationEdit}.
 */
function curationPanel(week: string, loop: LoopView, stored: StoredIssue | null): Raw | string {
  if ('error' in loop.state || !loopActions(loop.state.status, stored !== null).edit) return '';
  const { curation } = loop.state.status;
  const places = placesIn(stored);
  const more = new Set(stored?.issue.more.map((m) => m.title) ?? []);
  const dropped = new Set(curation.drop);
  // The build's order first (what the editor sees in the frame), then the rest newest first.
  const rank = (a: Article) => {
    const place = places.get(a.id);
    return place === 'lead' ? 0 : place ? Number(place) : Number.MAX_SAFE_INTEGER;
  };
  const stories = [...loop.stories].sort(
    (a, b) => rank(a) - rank(b) || b.publishedAt.localeCompare(a.publishedAt) || a.id.localeCompare(b.id),
  );
  const position = (id: string) => {
    const at = curation.order.indexOf(id);
    return at < 0 ? '' : String(at + 1);
  };
  const token = html`<input type="hidden" name="token" value="${loop.tokens.edit}">`;
  const built = stored?.curation ?? 0;
  return html`<section id="curation" aria-label="Edit the issue"><h2>Edit the issue</h2>
${
  stored && built < curation.revision
    ? html`<p class="notice" id="edits-pending">The build shown applies edit ${built} of ${curation.revision}: the latest edits show after the next build.</p>`
    : ''
}
<form method="post" action="/issues/${week}/edit" id="note-form">${token}
<label for="note"><strong>Editor's note</strong> (above the stories; blank lines part paragraphs; empty: no note)</label>
<textarea name="note" id="note" rows="5" maxlength="${NOTE_MAX_CHARS}">${curation.note ?? ''}</textarea>
<p><button type="submit">Save the note</button></p></form>
${
  stories.length
    ? html`<form method="post" action="/issues/${week}/edit" id="stories-form">${token}
<p><label><strong>Lead story</strong><br><select name="lead" id="lead"><option value=""${curation.lead ? '' : ' selected'}>automatic (the usual choice)</option>${stories.map(
        (a) => html`<option value="${a.id}"${curation.lead === a.id ? ' selected' : ''}>${a.title}</option>`,
      )}</select></label></p>
<table id="stories"><tr><th>In</th><th title="Stories with a number come first, in that order, after the lead; the rest follow, newest first">Order</th><th>Story</th><th>Now</th></tr>
${stories.map((a) => {
  const place = places.get(a.id) ?? (more.has(a.title) ? 'more' : dropped.has(a.id) ? 'dropped' : '—');
  return html`<tr data-story="${a.id}"><td><input type="hidden" name="story" value="${a.id}"><input type="checkbox" name="include" value="${a.id}" aria-label="Include ${a.title}"${dropped.has(a.id) ? '' : ' checked'}></td>
<td><input type="number" name="position-${a.id}" min="1" max="999" value="${position(a.id)}" aria-label="Order of ${a.title}"></td>
<td class="${dropped.has(a.id) ? 'dropped' : ''}"><a href="/articles/${a.id}">${a.title}</a><br><small>${a.publishedAt.slice(0, 10)}</small></td><td>${place}</td></tr>`;
})}</table>
<p><small>Unticked stories are dropped. Numbered stories come first, in that order, after the lead; the rest follow, newest first.</small></p>
<p><button type="submit">Save the stories</button></p></form>`
    : html`<p>No stories were published in ${week}.</p>`
}
${
  curation.revision > 0
    ? html`<form method="post" action="/issues/${week}/edit" id="reset-form">${token}<input type="hidden" name="reset" value="1"><button type="submit">Undo every edit</button></form>`
    : ''
}</section>`;
}

/** A position a story form gives: a whole number from 1 to 999. */
const POSITION = /^[1-9]\d{0,2}$/;

/**
 * The edit one of the edit forms posted (fields as {@link curationPanel} writes them): the reset
 * form resets, the note form sets the note, the stories form sets the lead, which stories are in
 * and their order. Story ids are checked against the week by the edit itself (E_NOT_FOUND).
 */
export function readCurationEdit(form: URLSearchParams): CurationEdit {
  if (form.get('reset') === '1') return { reset: true };
  const edit: CurationEdit = {};
  const note = form.get('note');
  if (note !== null) {
    // HTML's form encoding sends a textarea's line breaks as CRLF: the note keeps plain LF.
    const text = note.replace(/\r\n?/g, '\n');
    edit.note = text.trim() ? text : null;
  }
  const stories = [...new Set(form.getAll('story'))];
  if (stories.length > 0) {
    const included = new Set(form.getAll('include'));
    // Every story the page listed unticked: the build would fail as empty. Holding is how a week sends nothing.
    if (!stories.some((id) => included.has(id))) {
      throw new DispatchError('E_INPUT_FORMAT', 'the form drops every story: keep one at least, or hold the issue');
    }
    edit.lead = form.get('lead') || null;
    edit.drop = stories.filter((id) => !included.has(id));
    edit.keep = stories.filter((id) => included.has(id));
    const placed = stories.flatMap((id, i) => {
      const given = (form.get(`position-${id}`) ?? '').trim();
      if (!given || !included.has(id)) return [];
      if (!POSITION.test(given)) {
        throw new DispatchError(
          'E_INPUT_FORMAT',
          `an order is a whole number from 1 to 999 (got "${given.slice(0, 20)}")`,
        );
      }
      return [{ id, i, at: Number(given) }];
    });
    edit.order = placed.sort((a, b) => a.at - b.at || a.i - b.i).map((p) => p.id);
  }
  if (Object.keys(edit).length === 0) throw new DispatchError('E_INPUT_FORMAT', 'the form names nothing to change');
  return edit;
}

export interface IssueView {
  week: string;
  stored: StoredIssue;
  /** The stored build as the sample recipient gets it (`toMessage`, as a send makes it). */
  message: OutgoingMessage;
  /** The build shown against the templates folder now. */
  build: {
    /** Unsent, and built with other templates than the folder holds now: offer a rebuild. */
    templatesChanged: boolean;
    /** Why the templates folder cannot be read now, if it cannot. */
    templatesError?: string;
    /** A rebuild this preview queued is waiting for a worker. */
    rebuilding: boolean;
    /** Why the last rebuild this preview queued failed (the build shown is the one before). */
    rebuildError?: string;
  };
  /** The week's list send, when one was started. */
  send: SendRecord | null;
  /** The checks shown when the page loads (the quick ones), and where the full report is fetched from. */
  checks: { results: CheckResult[]; full?: string };
  /** Per story of the issue, its posts on every network (see {@link socialPosts}). */
  posts: { title: string; posts: NetworkPost[] }[];
  flash?: string;
  /** The token the send-test form carries (the server refuses a POST without it). */
  formToken: string;
  /** The token the rebuild form carries. */
  rebuildToken: string;
  /** Most addresses one test send may name (TEST_SEND_MAX_RECIPIENTS). */
  maxRecipients: number;
  /** The weekly loop's state and forms; absent when the preview was started without the loop. */
  loop?: LoopView;
}

/** Which build the page shows, whether the templates changed since, and the Rebuild form. */
function buildPanel(view: IssueView): Raw {
  const { stored, build } = view;
  const templates = stored.templates
    ? html`templates <code title="${stored.templates}">${shortFingerprint(stored.templates)}</code>`
    : 'templates not recorded (an older build)';
  return html`<p id="build">Shows the build of ${stored.builtAt} · ${templates} · ${
    stored.sentAt
      ? html`<strong id="frozen">sent ${stored.sentAt}: frozen</strong>, template edits do not change it`
      : 'not sent'
  }</p>
${
  build.templatesChanged
    ? html`<div class="notice" id="templates-changed">The templates changed since this build: a send rebuilds it first.
<form method="post" action="/issues/${view.week}/rebuild"><input type="hidden" name="token" value="${view.rebuildToken}"><button type="submit">Rebuild</button></form></div>`
    : ''
}
${build.rebuilding ? html`<p class="flash" id="rebuilding">Rebuilding: this page reloads when the new build is stored.</p>` : ''}
${build.rebuildError ? html`<div class="error" id="render-error">The rebuild failed: ${build.rebuildError}</div>` : ''}
${build.templatesError ? html`<div class="error" id="templates-error">The templates cannot be read: ${build.templatesError}</div>` : ''}`;
}

/** The list send's state: counts, and for a paused send why and how to go on. */
function sendPanel(week: string, record: SendRecord | null): Raw | string {
  if (!record) return '';
  if (record.status !== 'paused') return html`<p id="send-state">List send: ${describeSend(record)}</p>`;
  return html`<div class="error" id="send-state"><strong>The list send is paused</strong> ${
    record.pausedReason ? html`by itself: <span id="paused-reason">${record.pausedReason}</span>` : 'by hand'
  }. Fix the cause, then resume it: <code id="resume-command">npx dispatch send --resume ${week}</code><br><small>${describeSend(record)}</small></div>`;
}

export function issuePage(view: IssueView): string {
  const { stored, message } = view;
  return layout(
    view.week,
    html`<h1>${message.subject}</h1>
<p>${view.week} · ${stored.issue.articleCount} articles · shown as the sample recipient ${message.to} gets it</p>
${view.flash ? html`<p class="flash" id="flash">${view.flash}</p>` : ''}
${view.loop ? loopPanel(view.week, view.loop, true) : ''}
${buildPanel(view)}
${sendPanel(view.week, view.send)}
<div class="cols"><section style="flex:1 1 auto">
<div class="toolbar" data-email-src="/issues/${view.week}/email.html"><button data-width="600" aria-pressed="true">Desktop 600</button> <button data-width="375" aria-pressed="false">Mobile 375</button>
<button id="dark" aria-pressed="false">Dark mode</button></div>
<div class="tabs" role="tablist" style="margin-top:10px"><button role="tab" data-tab="email" aria-selected="true">Email</button>
<button role="tab" data-tab="html">HTML</button> <button role="tab" data-tab="text">Text</button> <button role="tab" data-tab="mjml">MJML</button> <button role="tab" data-tab="posts">Posts</button></div>
<div data-panel="email"><iframe id="email" title="The email" src="/issues/${view.week}/email.html" style="width:600px"></iframe></div>
<div data-panel="html" hidden><pre id="html-part">${message.html}</pre></div>
<div data-panel="text" hidden><pre id="text-part">${message.text}</pre></div>
<div data-panel="mjml" hidden><pre>${stored.mjml}</pre></div>
<div data-panel="posts" hidden>${view.posts.map((a) => html`<h3>${a.title}</h3>${postList(a.posts)}`)}</div>
</section>
<section style="flex:0 0 340px">${view.loop ? curationPanel(view.week, view.loop, stored) : ''}<h2>Checks</h2>${checksPanel(view.checks.results, view.checks.full)}
<h2>Send test</h2><form method="post" action="/issues/${view.week}/send-test"><input type="hidden" name="token" value="${view.formToken}">
<label>To (comma-separated, at most ${view.maxRecipients})<br><input name="to" id="send-to" type="text" style="width:100%" required></label>
<p><button type="submit">Send test</button></p></form></section></div>
`,
    { liveReload: ['templates', 'issue'] },
  );
}

/** A week with no stored build (never built, empty, or its build failed): its state, and the edit forms. */
export interface UnbuiltView {
  week: string;
  loop: LoopView;
  flash?: string;
  /** A rebuild this preview queued is waiting for a worker. */
  rebuilding: boolean;
  /** Why the last rebuild this preview queued failed. */
  rebuildError?: string;
}

/**
 * The issue page of a week that has no build to show: what the loop says of it (an empty week,
 * a failed build with its error) and, while it is unsent, the edit forms, so that an editor can
 * drop the story that broke the build or put back a dropped one.
 */
export function unbuiltIssuePage(view: UnbuiltView): string {
  return layout(
    view.week,
    html`<h1>${view.week}: no build</h1>
${view.flash ? html`<p class="flash" id="flash">${view.flash}</p>` : ''}
${loopPanel(view.week, view.loop, false)}
${view.rebuilding ? html`<p class="flash" id="rebuilding">Rebuilding: this page reloads when the new build is stored.</p>` : ''}
${view.rebuildError ? html`<div class="error" id="render-error">The rebuild failed: ${view.rebuildError}</div>` : ''}
<div style="max-width:640px">${curationPanel(view.week, view.loop, null)}</div>`,
    { liveReload: ['issue'] },
  );
}

export function articlePage(article: Article, social: StoredSocial | null): string {
  return layout(
    article.title,
    html`<h1>${article.title}</h1>
<table>${(
      [
        ['id', article.id],
        ['url', article.url],
        ['byline', article.byline],
        ['attribution', article.attribution],
        ['published', article.publishedAt],
        ['words', String(article.wordCount)],
      ] as const
    ).map(([k, v]) => html`<tr><th>${k}</th><td>${v ?? '—'}</td></tr>`)}</table>
${
  social
    ? html`<h2>Summary</h2><p><strong>${social.summary.oneLine}</strong></p><ul>${social.summary.bullets.map((b) => html`<li>${b}</li>`)}</ul>
<h2>Posts</h2>${postList(socialPosts(social))}`
    : html`<p>Not summarized yet (the social job has not run).</p>`
}
<h2>Quotes</h2><ul>${article.quotes.map((q) => html`<li>“${q.text}” — ${q.speaker ?? 'unattributed'}</li>`)}</ul>
<h2>Text</h2>${article.sections.map((s) => html`${s.heading ? html`<h3>${s.heading}</h3>` : ''}${s.paragraphs.map((p) => html`<p>${p}</p>`)}`)}`,
  );
}

export function mailboxPage(messages: MailboxMessage[]): string {
  return layout(
    'Mailbox',
    html`<h1>Mailbox</h1><p>What the local mailbox received, newest first.</p>
<table id="mailbox"><tr><th>Received</th><th>To</th><th>Subject</th></tr>
${messages.map((m) => html`<tr><td>${m.receivedAt}</td><td>${m.to}</td><td><a href="/mailbox/${m.id}">${m.subject}</a></td></tr>`)}</table>`,
    { liveReload: ['mailbox'] },
  );
}

export function messagePage(message: MailboxMessage): string {
  return layout(
    message.subject,
    html`<h1>${message.subject}</h1><table>${Object.entries(message.headers)
      .filter(([k]) =>
        ['from', 'to', 'subject', 'date', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post'].includes(k),
      )
      .map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table>
<iframe title="The message" sandbox="" srcdoc="${message.html ?? ''}" style="width:640px"></iframe><h2>Text part</h2><pre>${message.text}</pre>`,
  );
}

export function notFoundPage(what: string): string {
  return layout('Not found', html`<h1>Not found</h1><p>${what}</p>`);
}
