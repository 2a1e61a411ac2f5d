import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templatesFingerprint } from '../io/load-templates.js';
import { listMailbox, type MailboxServer, mailboxDir, startMailbox } from '../io/mailbox.js';
import { loadSampleRecipient } from '../io/sample-recipient.js';
import { createSendLedger } from '../io/send-ledger.js';
import type { StoredIssue } from '../io/store.js';
import { buildWeekIssue } from '../jobs/build-week-issue.js';
import { ensureIssue } from '../jobs/issue-operations.js';
import type { RunningWorker } from '../jobs/run-worker.js';
import { previewOn } from '../preview/on-context.js';
import type { Config } from '../src/config.js';
import { escapeHtml } from '../src/newsletter/escape-for-template.js';
import { recipientFor } from '../src/newsletter/recipient-links.js';
import { httpRequest } from './helpers/http-request.js';
import { NOW, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';
import { cliEnv, testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT, runCli } from './helpers/run-cli.js';

const redis = useTestRedis('render-path');
const templatesDir = join(redis.tmp, 'templates');
const masthead = join(templatesDir, 'partials/masthead.mjml.hbs');
const MASTHEAD = 'The Weekly · No.';
const FORM = 'application/x-www-form-urlencoded';

let mailbox: MailboxServer;
let config: Config;
let ctx: ReturnType<typeof testContext>;
let worker: RunningWorker;
let preview: Awaited<ReturnType<typeof previewOn>>;
let original: string;
let env: Record<string, string>;
/** A rebuild form's token, kept from a page that offered the form. */
let savedRebuildToken = '';

/** The masthead as edit `n` writes it: text found in the rendered HTML once the edit is built. */
const edition = (n: number) => `The Weekly Edition ${n} · No.`;
function editMasthead(n: number): void {
  writeFileSync(masthead, original.replace(MASTHEAD, edition(n)));
}

/** The one message the mailbox received for `to` (parsed by mailparser), once it is there. */
async function receivedBy(to: string) {
  return await waitFor(`a message to ${to}`, async () =>
    (await listMailbox(mailboxDir(config.DATA_DIR))).find((m) => m.to === to),
  );
}

async function sendTest(to: string, direct = false) {
  const result = await runCli(['send-test', '--to', to, '--week', WEEK, ...(direct ? ['--direct'] : [])], { env });
  expect(result.code, result.stderr).toBe(0);
  return await receivedBy(to);
}

async function newsletterJobs(): Promise<number> {
  return (await ctx.queues.newsletter.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed']))
    .length;
}

async function issuePage() {
  const page = await httpRequest(preview.url, `/issues/${WEEK}`);
  expect(page.status).toBe(200);
  return page.body;
}

async function previewEmail(): Promise<string> {
  const email = await httpRequest(preview.url, `/issues/${WEEK}/email.html`);
  expect(email.status).toBe(200);
  return email.body;
}

function postRebuild(token: string, headers: Record<string, string> = { origin: preview.url }) {
  return httpRequest(preview.url, `/issues/${WEEK}/rebuild`, {
    method: 'POST',
    headers: { 'content-type': FORM, ...headers },
    body: new URLSearchParams({ token }).toString(),
  });
}

const rebuildToken = (page: string) =>
  /action="\/issues\/[^"]+\/rebuild"><input type="hidden" name="token" value="([^"]+)"/.exec(page)?.[1] ?? '';

/** An HTML body with one recipient's own values (address, signed links) put back as placeholders. */
function withoutRecipient(html: string, email: string): string {
  const { unsubscribeUrl, preferencesUrl } = recipientFor(email, null, config);
  let out = html.replace(/\r\n/g, '\n');
  for (const [value, name] of [
    [unsubscribeUrl, '{{unsubscribeUrl}}'],
    [preferencesUrl, '{{preferencesUrl}}'],
    [email, '{{email}}'],
  ] as const) {
    out = out.split(escapeHtml(value)).join(name).split(value).join(name);
  }
  return out;
}

beforeAll(async () => {
  cpSync(join(ROOT, 'templates'), templatesDir, { recursive: true });
  original = readFileSync(masthead, 'utf8');
  const dataDir = join(redis.tmp, 'data');
  mailbox = await startMailbox({ dir: mailboxDir(dataDir), port: 0 });
  config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`, DATA_DIR: dataDir, TEMPLATES_DIR: templatesDir });
  env = cliEnv(redis.url, config, { DATA_DIR: dataDir, TEMPLATES_DIR: templatesDir });
  ctx = testContext(redis.url, config);
  for (const article of weekOfArticles(5)) await ctx.store.saveArticle(article);
  await buildWeekIssue({ store: ctx.store, config, templatesDir }, WEEK, NOW);
  worker = await testWorker(redis.url, config, { templatesDir });
  preview = await previewOn(ctx, config, '127.0.0.1', 0);
});

afterAll(async () => {
  await preview?.close();
  await worker?.close();
  await ctx?.close();
  await mailbox?.close();
});

describe('the build fingerprint', () => {
  it('is recorded with the build: sha256 over every template file, changed by an edit, a new partial, a rename', async () => {
    const stored = (await ctx.store.getIssue(WEEK)) as StoredIssue;
    const before = await templatesFingerprint(templatesDir);
    expect(stored.templates).toBe(before);
    expect(before).toMatch(/^[0-9a-f]{64}$/);

    editMasthead(0);
    const edited = await templatesFingerprint(templatesDir);
    expect(edited).not.toBe(before);
    writeFileSync(masthead, original);
    expect(await templatesFingerprint(templatesDir)).toBe(before);

    // A file the build does not read changes nothing; a partial it reads does.
    writeFileSync(join(templatesDir, 'partials', 'notes.txt'), 'not a template');
    expect(await templatesFingerprint(templatesDir)).toBe(before);
    const extra = join(templatesDir, 'partials', 'extra.mjml.hbs');
    writeFileSync(extra, '<mj-text>extra</mj-text>');
    const withExtra = await templatesFingerprint(templatesDir);
    expect(withExtra).not.toBe(before);
    // The same bytes under another name are other templates.
    const { renameSync, rmSync } = await import('node:fs');
    renameSync(extra, join(templatesDir, 'partials', 'extra2.mjml.hbs'));
    expect(await templatesFingerprint(templatesDir)).not.toBe(withExtra);
    rmSync(join(templatesDir, 'partials', 'extra2.mjml.hbs'));
    rmSync(join(templatesDir, 'partials', 'notes.txt'));
    expect(await templatesFingerprint(templatesDir)).toBe(before);
  });

  it('a build from before fingerprints is rebuilt by ensureIssue; a current one is returned as it is', async () => {
    const current = (await ctx.store.getIssue(WEEK)) as StoredIssue;
    expect(await ensureIssue(ctx, WEEK, true, templatesDir)).toEqual(current);
    const { templates: _none, ...old } = current;
    await ctx.store.saveIssue(WEEK, { ...old, builtAt: new Date(NOW.getTime() - 60_000).toISOString() });
    const rebuilt = await ensureIssue(ctx, WEEK, true, templatesDir);
    expect(rebuilt.templates).toBe(await templatesFingerprint(templatesDir));
    expect(rebuilt.builtAt).not.toBe(old.builtAt);
  });
});

describe('a test send after a template edit delivers the edit', () => {
  it('through the queue: the worker rebuilds the unsent issue first', async () => {
    const stale = (await ctx.store.getIssue(WEEK)) as StoredIssue;
    editMasthead(1);
    const message = await sendTest('queued@example.org');
    expect(message.html).toContain(edition(1));
    const stored = (await ctx.store.getIssue(WEEK)) as StoredIssue;
    expect(stored.builtAt).not.toBe(stale.builtAt);
    expect(stored.templates).toBe(await templatesFingerprint(templatesDir));
  });

  it('--direct: rebuilt in the process', async () => {
    editMasthead(2);
    const message = await sendTest('direct@example.org', true);
    expect(message.html).toContain(edition(2));
    expect(message.html).not.toContain(edition(1));
  });

  it('a queued rebuild waits for a build newer than the stale one, even with other templates on the worker', async () => {
    // This process's templates differ from the worker's: the build it gets back carries the
    // worker's fingerprint, and it does not wait for one that matches its own.
    const elsewhere = join(redis.tmp, 'templates-elsewhere');
    cpSync(templatesDir, elsewhere, { recursive: true });
    writeFileSync(join(elsewhere, 'partials/masthead.mjml.hbs'), original.replace(MASTHEAD, 'Elsewhere · No.'));
    const stale = (await ctx.store.getIssue(WEEK)) as StoredIssue;
    const started = Date.now();
    const built = await ensureIssue(ctx, WEEK, false, elsewhere);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(built.builtAt).not.toBe(stale.builtAt);
    expect(built.templates).toBe(await templatesFingerprint(templatesDir));
    expect(built.html).toContain(edition(2));
  });
});

describe('the preview shows the stored build', () => {
  it('after an edit it says the templates changed and offers Rebuild; the rebuild is what it and the next test send show', async () => {
    const before = (await ctx.store.getIssue(WEEK)) as StoredIssue;
    let page = await issuePage();
    expect(page).not.toContain('id="templates-changed"');
    expect(page).toContain(`Shows the build of ${before.builtAt}`);
    expect(page).toContain((before.templates as string).slice(0, 12));
    expect(page).toContain('not sent');

    editMasthead(3);
    page = await issuePage();
    expect(page).toContain('The templates changed since this build');
    const token = rebuildToken(page);
    expect(token).toMatch(/^[\w-]{20,}$/);
    savedRebuildToken = token;
    // Still the stored build, not a fresh render.
    expect(await previewEmail()).toContain(edition(2));
    expect(await previewEmail()).not.toContain(edition(3));

    // The gate: another origin, or no token, queues nothing.
    const jobs = await newsletterJobs();
    expect((await postRebuild(token, { origin: 'http://attacker.example' })).status).toBe(403);
    expect((await postRebuild('')).status).toBe(403);
    expect((await postRebuild(`${token}x`)).status).toBe(403);
    expect(await newsletterJobs()).toBe(jobs);

    const response = await postRebuild(token);
    expect(response.status).toBe(303);
    expect(decodeURIComponent(String(response.headers.location))).toMatch(/Queued a rebuild of/);
    const rebuilt = await waitFor('the rebuild', async () => {
      const stored = await ctx.store.getIssue(WEEK);
      return stored && stored.builtAt !== before.builtAt ? stored : null;
    });
    expect(rebuilt.templates).toBe(await templatesFingerprint(templatesDir));
    await waitFor('the page to show it', async () => !(await issuePage()).includes('id="rebuilding"'));
    page = await issuePage();
    expect(page).not.toContain('id="templates-changed"');
    expect(page).toContain(`Shows the build of ${rebuilt.builtAt}`);
    expect(await previewEmail()).toContain(edition(3));

    // The next test send needs no rebuild: it sends that very build.
    const message = await sendTest('after-rebuild@example.org');
    expect(message.html).toContain(edition(3));
    expect((await ctx.store.getIssue(WEEK))?.builtAt).toBe(rebuilt.builtAt);
  });

  it('what it shows is what a test send delivers, but for the recipient’s own links and the "[Test]" subject', async () => {
    const to = 'same@example.org';
    const message = await sendTest(to);
    const shown = await previewEmail();
    const sample = loadSampleRecipient(templatesDir);
    expect(withoutRecipient(message.html ?? '', to)).toBe(withoutRecipient(shown, sample.email));
    // The comparison is not vacuous: the links were there, and differ.
    expect(message.html).toContain(escapeHtml(recipientFor(to, null, config).unsubscribeUrl));
    expect(shown).toContain(escapeHtml(recipientFor(sample.email, null, config).unsubscribeUrl));
    const stored = (await ctx.store.getIssue(WEEK)) as StoredIssue;
    expect(message.subject).toMatch(/^\[Test\] (.+) \([0-9a-f]{4}\)$/);
    expect(/^\[Test\] (.+) \([0-9a-f]{4}\)$/.exec(message.subject)?.[1]).toBe(stored.subject);
    expect(await issuePage()).toContain(`<h1>${escapeHtml(stored.subject)}</h1>`);
    // The checks panel reads the same build.
    expect(await issuePage()).toMatch(/id="checks"[^>]*>.*Unsubscribe/s);
  });
});

describe('a sent issue is frozen', () => {
  it('template edits change neither ensureIssue, a test send nor the preview, which offers no rebuild', async () => {
    const before = (await ctx.store.getIssue(WEEK)) as StoredIssue;
    expect(await ctx.store.markIssueSent(WEEK, new Date())).toBe(true);
    const sent = (await ctx.store.getIssue(WEEK)) as StoredIssue;
    editMasthead(4);

    const jobs = await newsletterJobs();
    expect(await ensureIssue(ctx, WEEK, true, templatesDir)).toEqual(sent);
    expect(await ensureIssue(ctx, WEEK, false, templatesDir)).toEqual(sent);
    expect(await newsletterJobs()).toBe(jobs);
    const { sentAt: _sentAt, ...built } = sent;
    expect(built).toEqual(before);

    const queued = await sendTest('frozen@example.org');
    expect(queued.html).toContain(edition(3));
    expect(queued.html).not.toContain(edition(4));
    const direct = await sendTest('frozen-direct@example.org', true);
    expect(direct.html).toContain(edition(3));

    const page = await issuePage();
    expect(page).toContain('id="frozen"');
    expect(page).not.toContain('id="templates-changed"');
    expect(page).not.toMatch(/\/rebuild"/);
    expect(await previewEmail()).toContain(edition(3));
    // A rebuild posted anyway (with the token an earlier page carried) queues nothing.
    const response = await postRebuild(savedRebuildToken);
    expect(response.status).toBe(303);
    expect(decodeURIComponent(String(response.headers.location))).toMatch(/was sent: it is frozen/);
    expect(await ctx.store.getIssue(WEEK)).toEqual(sent);
    expect(await newsletterJobs()).toBe(jobs);
  });

  it('the preview shows the list send, and when it paused itself, why and how to resume', async () => {
    const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
    await ledger.start(WEEK, ['a@example.org', 'b@example.org'], { batchSize: 100, rate: 0, now: new Date() });
    let page = await issuePage();
    expect(page).toMatch(/id="send-state">List send: 2026-W48: sending, 0 sent/);
    await ledger.pause(WEEK, 'E_SMTP_AUTH: the SMTP server refused the login: 535 <bad> credentials', new Date());
    page = await issuePage();
    expect(page).toContain('The list send is paused');
    expect(page).toContain(
      `id="paused-reason">${escapeHtml('E_SMTP_AUTH: the SMTP server refused the login: 535 <bad> credentials')}</span>`,
    );
    expect(page).toContain(`<code id="resume-command">npx dispatch send --resume ${WEEK}</code>`);
  });
});
