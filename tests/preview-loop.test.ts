import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../io/chromium.js';
import { createIssueEdits } from '../io/issue-edits.js';
import { createSendLedger } from '../io/send-ledger.js';
import { stopSpamd } from '../io/spamd.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { buildWeekIssue } from '../jobs/build-week-issue.js';
import type { RunningWorker } from '../jobs/run-worker.js';
import { issueStatus, weeklyBuildFailed } from '../jobs/weekly-loop.js';
import { previewOn } from '../preview/on-context.js';
import { PREVIEW_BODY_BYTES } from '../preview/server.js';
import type { Config } from '../src/config.js';
import { DispatchError } from '../src/errors.js';
import type { Article } from '../src/ingest/article.js';
import { NOTE_MAX_CHARS } from '../src/newsletter/curation.js';
import { httpRequest, type RawResponse } from './helpers/http-request.js';
import { NOW, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';
import { startTestRedis, testConfig, testContext, testWorker, waitFor } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';
import { type SmtpSink, startSmtpSink } from './helpers/smtp-sink.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-preview-loop-'));
const templatesDir = join(ROOT, 'templates');
const FORM = 'application/x-www-form-urlencoded';
const READERS = ['ana@example.org', 'ben@example.org', 'cy@example.org'];
const ISSUE = `/issues/${WEEK}`;

// Titles and notes come from outside: each must land on the page as text, never as markup or as a
// Handlebars token the per-recipient merge would fill.
const HOSTILE_TITLE = '<script>alert("title")</script> {{email}} & "quotes" \' `ticks`';
const HOSTILE_NOTE =
  '<script>alert("note")</script> Dear {{email}}, {{{unsubscribeUrl}}}\r\n\r\nCafé ☕ second paragraph';

const stories: Article[] = weekOfArticles(6).map((a, i) => (i === 4 ? { ...a, title: HOSTILE_TITLE } : a));
const hostile = stories[4] as Article;

let redis: Awaited<ReturnType<typeof startTestRedis>>;
let sink: SmtpSink;
let config: Config;
let ctx: ReturnType<typeof testContext>;
let worker: RunningWorker;
let preview: Awaited<ReturnType<typeof previewOn>>;
let origin: string;
let port: number;

const issuePage = () => httpRequest(origin, ISSUE);

/** The token a page's form to `/issues/<week>/<action>` carries; undefined when the page has no such form. */
function tokenIn(body: string, action: string, week = WEEK): string | undefined {
  const form = new RegExp(`action="/issues/${week}/${action}"[^>]*><input type="hidden" name="token" value="([^"]+)"`);
  return form.exec(body)?.[1];
}

function post(action: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  return httpRequest(origin, `${ISSUE}/${action}`, {
    method: 'POST',
    headers: { origin, 'content-type': FORM, ...headers },
    body: body.toString(),
  });
}

/** The flash a 303 back to the issue page carries. */
function flashOf(response: RawResponse): string {
  expect(response.status, response.body).toBe(303);
  const location = new URL(String(response.headers.location), origin);
  expect(location.pathname).toBe(ISSUE);
  return location.searchParams.get('flash') ?? '';
}

/** Everything a refused post must leave as it was: the loop's state, the curation, the send, the queues. */
async function snapshot() {
  const status = await issueStatus(ctx, WEEK);
  const queued = async (queue: typeof ctx.queues.send) =>
    (await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'])).length;
  return {
    state: status.state,
    heldAt: status.heldAt,
    approvedAt: status.approvedAt,
    curation: await createIssueEdits(ctx.redis, config.REDIS_PREFIX).get(WEEK),
    send: await createSendLedger(ctx.redis, config.REDIS_PREFIX).get(WEEK),
    builtAt: (await ctx.store.getIssue(WEEK))?.builtAt,
    newsletterJobs: await queued(ctx.queues.newsletter),
    sendJobs: await queued(ctx.queues.send),
  };
}

/** Waits until the stored build applies curation revision `revision`, and returns it. */
const builtWith = (revision: number) =>
  waitFor(`a build with edit ${revision}`, async () => {
    const stored = await ctx.store.getIssue(WEEK);
    return stored && (stored.curation ?? 0) === revision ? stored : null;
  });

const emailHtml = async () => (await httpRequest(origin, `${ISSUE}/email.html`)).body;

beforeAll(async () => {
  redis = await startTestRedis();
  sink = await startSmtpSink();
  config = testConfig({
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    DATA_DIR: join(tmp, 'data'),
    TEMPLATES_DIR: templatesDir,
    EDITOR_EMAILS: 'desk@example.org',
  });
  ctx = testContext(redis.url, config);
  for (const article of stories) await ctx.store.saveArticle(article);
  await createSubscriberStore(ctx.redis, config.REDIS_PREFIX).importSubscribers(
    READERS.map((email) => ({ email, name: null, fields: {} })),
    NOW,
  );
  await buildWeekIssue({ store: ctx.store, config, templatesDir }, WEEK, NOW);
  worker = await testWorker(redis.url, config, { templatesDir });
  preview = await previewOn(ctx, config, '127.0.0.1', 0);
  origin = preview.url;
  port = Number(new URL(origin).port);
});

afterAll(async () => {
  await preview?.close();
  // An issue page opened in the browser runs the full checks, which start the managed spamd.
  await stopSpamd(config);
  await worker?.close();
  await ctx?.close();
  await sink?.close();
  await redis?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the issue page shows the loop', () => {
  it('a built, unapproved week: its state, Approve to the list’s readers, Hold, the edit forms; no Release', async () => {
    const page = await issuePage();
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/id="loop-state"><span class="state state-built" data-state="built">/);
    expect(page.body).toContain('No proof sent yet to desk@example.org.');
    expect(page.body).toContain(`Approve and send to ${READERS.length} readers now`);
    for (const action of ['approve', 'hold', 'edit'])
      expect(tokenIn(page.body, action), action).toMatch(/^[\w-]{20,}$/);
    expect(tokenIn(page.body, 'release')).toBeUndefined();
    expect(page.body).toContain('id="note-form"');
    expect(page.body).toContain('id="stories-form"');
    // Every story of the week is listed, each with its box ticked and an empty order.
    for (const story of stories) {
      expect(page.body).toContain(`<tr data-story="${story.id}">`);
      expect(page.body).toContain(`name="include" value="${story.id}"`);
    }
    expect(page.body).toContain('<option value="" selected>automatic (the usual choice)</option>');
  });

  it('shows hostile titles as text in the stories table, the lead select and the email', async () => {
    const page = await issuePage();
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).not.toContain('{{email}}');
    const escaped =
      '&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; &#123;&#123;email&#125;&#125; &amp; &quot;quotes&quot; &#39; &#96;ticks&#96;';
    expect(page.body).toContain(`<option value="${hostile.id}">${escaped}</option>`);
    expect(page.body).toContain(`<a href="/articles/${hostile.id}">${escaped}</a>`);
    expect(page.body).toContain(`aria-label="Include ${escaped}"`);
    expect(await emailHtml()).not.toContain('<script>alert');
  });

  it('the index lists each issue with its state', async () => {
    const index = await httpRequest(origin, '/');
    expect(index.body).toMatch(
      new RegExp(
        `<li data-week="${WEEK}"><a href="/issues/${WEEK}">${WEEK}</a> <span class="state state-built" data-state="built">`,
      ),
    );
  });

  it('a week with no build and no stories is still not found; one with a bad week number too', async () => {
    expect((await httpRequest(origin, '/issues/2001-W01')).status).toBe(404);
    expect((await httpRequest(origin, '/issues/2026-W99')).status).toBe(404);
  });
});

describe('every loop form obeys the preview’s gate', () => {
  /** The refusals every new route must give, with the right fields otherwise; none may change anything. */
  async function refusals(
    action: string,
    fields: Record<string, string | string[]>,
    token: string,
    otherToken: string,
  ) {
    const withToken = (t: string | undefined) => (t === undefined ? fields : { ...fields, token: t });
    const cases: [string, Promise<RawResponse>, number][] = [
      ['another site’s Origin', post(action, withToken(token), { origin: 'http://attacker.example' }), 403],
      ['another port’s Origin', post(action, withToken(token), { origin: `http://127.0.0.1:${port + 1}` }), 403],
      ['Origin https on the same port', post(action, withToken(token), { origin: `https://localhost:${port}` }), 403],
      ['Origin null', post(action, withToken(token), { origin: 'null' }), 403],
      [
        'no Origin, Sec-Fetch-Site cross-site',
        httpRequest(origin, `${ISSUE}/${action}`, {
          method: 'POST',
          headers: { 'content-type': FORM, 'sec-fetch-site': 'cross-site' },
          body: new URLSearchParams(withToken(token) as Record<string, string>).toString(),
        }),
        403,
      ],
      ['no token', post(action, withToken(undefined)), 403],
      ['a wrong token', post(action, withToken('x'.repeat(token.length))), 403],
      ['another form’s token', post(action, withToken(otherToken)), 403],
      [
        'a rebinding Host',
        post(action, withToken(token), { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` }),
        403,
      ],
      ['text/plain', post(action, withToken(token), { 'content-type': 'text/plain' }), 415],
      ['a body over the limit', post(action, { ...withToken(token), pad: 'a'.repeat(PREVIEW_BODY_BYTES) }), 413],
    ];
    for (const [what, response, status] of cases) expect((await response).status, `${action}: ${what}`).toBe(status);
  }

  it('approve, hold and edit: refused, and nothing changed (no hold, no edit, no send, nothing queued)', async () => {
    const page = await issuePage();
    const tokens = {
      approve: tokenIn(page.body, 'approve') as string,
      hold: tokenIn(page.body, 'hold') as string,
      edit: tokenIn(page.body, 'edit') as string,
      sendTest: tokenIn(page.body, 'send-test') as string,
    };
    const before = await snapshot();
    expect(before.state).toBe('built');
    await refusals('approve', {}, tokens.approve, tokens.hold);
    await refusals('hold', {}, tokens.hold, tokens.approve);
    await refusals('edit', { note: 'Injected' }, tokens.edit, tokens.sendTest);
    await refusals('edit', { reset: '1' }, tokens.edit, tokens.approve);
    // A token is bound to its week as well as its action.
    const otherWeek = await httpRequest(origin, '/issues/2026-W47/hold', {
      method: 'POST',
      headers: { origin, 'content-type': FORM },
      body: new URLSearchParams({ token: tokens.hold }).toString(),
    });
    expect(otherWeek.status).toBe(403);
    expect(await snapshot()).toEqual(before);
    expect(sink.total()).toBe(0);
  });
});

describe('with the page’s tokens', () => {
  let tokens: Record<'approve' | 'hold' | 'edit', string>;
  beforeAll(async () => {
    const page = await issuePage();
    tokens = {
      approve: tokenIn(page.body, 'approve') as string,
      hold: tokenIn(page.body, 'hold') as string,
      edit: tokenIn(page.body, 'edit') as string,
    };
  });

  it('Hold holds: the page then offers Release, not Approve or Hold; Approve posted anyway is refused in the flash', async () => {
    expect(flashOf(await post('hold', { token: tokens.hold }))).toMatch(new RegExp(`^Held ${WEEK}: `));
    expect((await issueStatus(ctx, WEEK)).state).toBe('held');
    const page = await issuePage();
    expect(page.body).toContain('data-state="held"');
    expect(tokenIn(page.body, 'release')).toMatch(/^[\w-]{20,}$/);
    expect(tokenIn(page.body, 'approve')).toBeUndefined();
    expect(tokenIn(page.body, 'hold')).toBeUndefined();
    // A held issue is still edited.
    expect(tokenIn(page.body, 'edit')).toBe(tokens.edit);

    // The form is gone but its token still verifies: the operation's own refusal is the flash.
    expect(flashOf(await post('approve', { token: tokens.approve }))).toMatch(/^E_ISSUE_HELD: /);
    expect(await createSendLedger(ctx.redis, config.REDIS_PREFIX).get(WEEK)).toBeNull();
    const flashed = await httpRequest(origin, `${ISSUE}?flash=${encodeURIComponent('E_ISSUE_HELD: <b>held</b>')}`);
    expect(flashed.body).toContain('<p class="flash" id="flash">E_ISSUE_HELD: &lt;b&gt;held&lt;/b&gt;</p>');
  });

  it('Release: refused without its token, then releases', async () => {
    const release = tokenIn((await issuePage()).body, 'release') as string;
    const before = await snapshot();
    for (const headers of [{ origin: 'http://attacker.example' }, { host: 'attacker.example' }] as Record<
      string,
      string
    >[]) {
      expect((await post('release', { token: release }, headers)).status).toBe(403);
    }
    expect((await post('release', { token: tokens.hold })).status).toBe(403);
    expect((await post('release', {})).status).toBe(403);
    expect(await snapshot()).toEqual(before);
    expect(before.state).toBe('held');

    expect(flashOf(await post('release', { token: release }))).toMatch(new RegExp(`^Released ${WEEK}: `));
    const status = await issueStatus(ctx, WEEK);
    expect(status.state).not.toBe('held');
    expect(status.heldAt).toBeNull();
    expect(tokenIn((await issuePage()).body, 'approve')).toBe(tokens.approve);
  });

  it('the note form: a hostile note is stored, rebuilt into the email, and shown escaped everywhere', async () => {
    const flash = flashOf(await post('edit', { token: tokens.edit, note: HOSTILE_NOTE }));
    expect(flash).toMatch(new RegExp(`^Saved edit 1 of ${WEEK} and queued a rebuild`));
    const curation = await createIssueEdits(ctx.redis, config.REDIS_PREFIX).get(WEEK);
    // The form's CRLF line breaks are stored as LF.
    expect(curation.note).toBe(HOSTILE_NOTE.replace(/\r\n/g, '\n'));
    expect(curation.drop).toEqual([]);
    expect(curation.lead).toBeNull();
    const stored = await builtWith(1);
    expect(stored.issue.note).toEqual([
      '<script>alert("note")</script> Dear {{email}}, {{{unsubscribeUrl}}}',
      'Café ☕ second paragraph',
    ]);

    const email = await emailHtml();
    expect(email).toContain('Café ☕ second paragraph');
    expect(email).toContain('&lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt;');
    expect(email).not.toContain('<script>');
    // The merge did not fill the note's tokens with the sample reader's address or link.
    expect(email).toContain('Dear &#123;&#123;email&#125;&#125;, &#123;&#123;&#123;unsubscribeUrl&#125;&#125;&#125;');

    const page = await issuePage();
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).toContain(
      '<textarea name="note" id="note" rows="5" maxlength="2000">&lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt; Dear &#123;&#123;email&#125;&#125;',
    );
    expect(page.body).not.toContain('id="edits-pending"');
  });

  it('a note as long as allowed, in a script of 3-byte characters, fits the body limit; one longer is refused in the flash', async () => {
    const before = await snapshot();
    const tooLong = '語'.repeat(NOTE_MAX_CHARS + 1);
    expect(flashOf(await post('edit', { token: tokens.edit, note: tooLong }))).toMatch(
      /^E_INPUT_FORMAT: the note is 2001 characters/,
    );
    expect(await snapshot()).toEqual(before);
    const longest = '語'.repeat(NOTE_MAX_CHARS);
    expect(flashOf(await post('edit', { token: tokens.edit, note: longest }))).toMatch(/^Saved edit 2 of /);
    expect((await createIssueEdits(ctx.redis, config.REDIS_PREFIX).get(WEEK)).note).toBe(longest);
    await builtWith(2);
    // Back to the hostile note for what follows.
    expect(flashOf(await post('edit', { token: tokens.edit, note: HOSTILE_NOTE }))).toMatch(/^Saved edit 3 of /);
    await builtWith(3);
  });

  it('the stories form: drop one, pin a lead, order two; the rebuilt issue shows it, and the dropped story stays listed', async () => {
    const [a, b, c, , , f] = stories as [Article, Article, Article, Article, Article, Article];
    const dropped = c;
    const fields = {
      token: tokens.edit,
      story: stories.map((s) => s.id),
      include: stories.filter((s) => s !== dropped).map((s) => s.id),
      lead: f.id,
      [`position-${b.id}`]: '1',
      [`position-${a.id}`]: '2',
      // An order on a dropped story is not kept.
      [`position-${dropped.id}`]: '3',
    };
    expect(flashOf(await post('edit', fields))).toMatch(/^Saved edit 4 of /);
    const curation = await createIssueEdits(ctx.redis, config.REDIS_PREFIX).get(WEEK);
    expect(curation).toMatchObject({ lead: f.id, drop: [dropped.id], order: [b.id, a.id], revision: 4 });
    expect(curation.note).toBe(HOSTILE_NOTE.replace(/\r\n/g, '\n'));

    const stored = await builtWith(4);
    expect(stored.issue.lead.articleId).toBe(f.id);
    expect(stored.issue.cards.slice(0, 2).map((card) => card.articleId)).toEqual([b.id, a.id]);
    const shown = [stored.issue.lead, ...stored.issue.cards].map((card) => card.articleId);
    expect(shown).not.toContain(dropped.id);
    expect(stored.issue.more.map((m) => m.title)).not.toContain(dropped.title);

    const page = await issuePage();
    expect(page.body).toContain(`<option value="${f.id}" selected>`);
    expect(page.body).toContain(`<input type="checkbox" name="include" value="${dropped.id}" aria-label="Include`);
    expect(page.body).not.toMatch(new RegExp(`name="include" value="${dropped.id}"[^>]*checked`));
    expect(page.body).toContain(`name="position-${b.id}" min="1" max="999" value="1"`);
    expect(page.body).toContain(`name="position-${a.id}" min="1" max="999" value="2"`);
    expect(page.body).toMatch(new RegExp(`<tr data-story="${dropped.id}">[\\s\\S]*?<td>dropped</td></tr>`));

    // Put back: ticked again, and the rebuilt issue has it.
    const back = { ...fields, include: stories.map((s) => s.id) };
    expect(flashOf(await post('edit', back))).toMatch(/^Saved edit 5 of /);
    const again = await builtWith(5);
    const titles = [again.issue.lead, ...again.issue.cards]
      .map((card) => card.title)
      .concat(again.issue.more.map((m) => m.title));
    expect(titles).toContain(dropped.title);
    expect((await createIssueEdits(ctx.redis, config.REDIS_PREFIX).get(WEEK)).drop).toEqual([]);
  });

  it('bad story edits become the flash and change nothing', async () => {
    const before = await snapshot();
    const [a] = stories as [Article];
    const base = { token: tokens.edit, story: stories.map((s) => s.id), include: stories.map((s) => s.id) };
    expect(flashOf(await post('edit', { ...base, [`position-${a.id}`]: 'first' }))).toMatch(
      /^E_INPUT_FORMAT: an order is a whole number from 1 to 999 \(got "first"\)/,
    );
    // Pinned and dropped at once.
    const pinnedDropped = { ...base, lead: a.id, include: stories.slice(1).map((s) => s.id) };
    expect(flashOf(await post('edit', pinnedDropped))).toMatch(/^E_INPUT_FORMAT: /);
    expect(flashOf(await post('edit', { ...base, include: [] }))).toBe(
      'E_INPUT_FORMAT: the form drops every story: keep one at least, or hold the issue',
    );
    // Markup where an id goes is no id at all; a well-formed id of no article of the week is not found.
    expect(flashOf(await post('edit', { ...base, story: ['<img src=x>'], include: ['<img src=x>'] }))).toMatch(
      /^E_INPUT_FORMAT: \w+: not an article id: "<img src=x>"/,
    );
    expect(
      flashOf(await post('edit', { ...base, story: ['ffffffffffffffff'], include: ['ffffffffffffffff'] })),
    ).toMatch(/^E_NOT_FOUND: no article "ffffffffffffffff" was published in 2026-W48/);
    expect(flashOf(await post('edit', { token: tokens.edit }))).toBe(
      'E_INPUT_FORMAT: the form names nothing to change',
    );
    expect(await snapshot()).toEqual(before);
  });

  it('Approve starts the list send to every reader; then the page offers no loop form, and edits are refused', async () => {
    const flash = flashOf(await post('approve', { token: tokens.approve }));
    expect(flash).toBe(`Approved ${WEEK}: its list send started, to 3 readers in 1 batch.`);
    const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
    expect((await ledger.get(WEEK))?.total).toBe(READERS.length);
    await waitFor('the list send done', async () => (await ledger.get(WEEK))?.status === 'done');
    expect(READERS.map((r) => sink.received.get(r))).toEqual([1, 1, 1]);

    const page = await issuePage();
    expect(page.body).toMatch(/data-state="(sending|sent)"/);
    for (const form of ['id="loop-actions"', 'id="curation"', 'id="note-form"', 'id="stories-form"'])
      expect(page.body).not.toContain(form);
    for (const action of ['approve', 'hold', 'release', 'edit'])
      expect(tokenIn(page.body, action), action).toBeUndefined();

    // Posted anyway, with the tokens of before: the operations refuse, nothing changes, nobody gets a second copy.
    const before = await snapshot();
    expect(flashOf(await post('edit', { token: tokens.edit, note: 'Too late' }))).toMatch(/^E_ISSUE_SENT: /);
    expect(flashOf(await post('hold', { token: tokens.hold }))).toMatch(/^E_ISSUE_SENT: /);
    await post('approve', { token: tokens.approve });
    expect(await snapshot()).toEqual(before);
    expect(sink.total()).toBe(READERS.length);
    const index = await httpRequest(origin, '/');
    expect(index.body).toMatch(new RegExp(`<li data-week="${WEEK}">.*data-state="sent"`));
  });
});

describe('a week without a build', () => {
  it('its build failed: the page says so with the error, escaped, and the index lists it as failed', async () => {
    const week = '2026-W45';
    await weeklyBuildFailed(
      ctx,
      week,
      new DispatchError('E_TEMPLATE', 'templates/partials/card.mjml.hbs line 3: <b>{{#if}}</b>'),
      NOW,
    );
    const page = await httpRequest(origin, `/issues/${week}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-state="failed"');
    expect(page.body).toContain(
      'The last try failed: E_TEMPLATE: templates/partials/card.mjml.hbs line 3: &lt;b&gt;&#123;&#123;#if&#125;&#125;&lt;/b&gt;',
    );
    // Nothing to approve; it can be held, and its note edited for the next build.
    expect(tokenIn(page.body, 'approve', week)).toBeUndefined();
    expect(tokenIn(page.body, 'hold', week)).toMatch(/^[\w-]{20,}$/);
    expect(page.body).toContain('id="note-form"');
    expect(page.body).toContain(`No stories were published in ${week}.`);
    const index = await httpRequest(origin, '/');
    expect(index.body).toMatch(new RegExp(`<li data-week="${week}">.*data-state="failed"`));
  });

  it('stories but no build yet: the edit is stored for the week’s build, and the build applies it', async () => {
    const week = '2026-W46';
    const [first, second] = weekOfArticles(2).map((a, i) => ({
      ...a,
      id: `${a.id.slice(0, 12)}c00${i}`,
      publishedAt: new Date(NOW.getTime() - 14 * 86_400_000 - i * 3_600_000).toISOString(),
    })) as [Article, Article];
    for (const article of [first, second]) await ctx.store.saveArticle(article);
    const page = await httpRequest(origin, `/issues/${week}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-state="not-built"');
    expect(page.body).toContain(`<tr data-story="${second.id}">`);
    const token = tokenIn(page.body, 'edit', week) as string;
    const response = await httpRequest(origin, `/issues/${week}/edit`, {
      method: 'POST',
      headers: { origin, 'content-type': FORM },
      body: new URLSearchParams({ token, story: second.id, include: second.id, lead: second.id }).toString(),
    });
    expect(response.status).toBe(303);
    expect(new URL(String(response.headers.location), origin).searchParams.get('flash')).toBe(
      `Saved edit 1 of ${week}: the week's build applies it.`,
    );
    const edits = createIssueEdits(ctx.redis, config.REDIS_PREFIX);
    await buildWeekIssue({ store: ctx.store, config, templatesDir, edits }, week, NOW);
    expect((await ctx.store.getIssue(week))?.issue.lead.articleId).toBe(second.id);
  });
});

const hasChromium = (() => {
  try {
    chromiumPath();
    return true;
  } catch {
    return false;
  }
})();

describe('in a browser', () => {
  let browser: Browser;
  let week: string;
  afterAll(async () => {
    await browser?.close();
  });

  it.skipIf(!hasChromium)(
    'the note form: fill it, save, and the page reloads with the note in the email frame',
    async () => {
      // A week of its own, unsent (the week above went out).
      week = '2026-W47';
      const earlier = weekOfArticles(3).map((a, i) => ({
        ...a,
        id: `${a.id.slice(0, 12)}b00${i}`,
        publishedAt: new Date(NOW.getTime() - 7 * 86_400_000 - i * 3_600_000).toISOString(),
      }));
      for (const article of earlier) await ctx.store.saveArticle(article);
      await buildWeekIssue({ store: ctx.store, config, templatesDir }, week, NOW);
      browser = await chromium.launch({ executablePath: chromiumPath(config.CHROMIUM_PATH), args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(`${origin}/issues/${week}`);
      expect(await page.locator('#loop-state').textContent()).toContain('built');
      await page.fill('#note', 'A word from the desk <b>before</b> {{email}}.\n\nAnd a second paragraph.');
      const posted = page.waitForResponse((r) => r.url().endsWith(`/issues/${week}/edit`));
      await page.getByRole('button', { name: 'Save the note' }).click();
      expect((await posted).status()).toBe(303);
      const frame = page.frameLocator('#email');
      await expect
        .poll(
          () =>
            frame
              .locator('body')
              .textContent()
              .catch(() => ''),
          { timeout: 15_000 },
        )
        .toContain('A word from the desk <b>before</b> {{email}}.');
      expect(await frame.locator('body').textContent()).toContain('And a second paragraph.');
      expect(await frame.locator('b').count()).toBe(0);
      expect(await page.locator('#note').inputValue()).toBe(
        'A word from the desk <b>before</b> {{email}}.\n\nAnd a second paragraph.',
      );
      expect(violations).toEqual([]);
      const shot = join(tmpdir(), `dispatch-preview-loop-${process.pid}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`issue page screenshot: ${shot}`);
      await page.close();
    },
  );
});
