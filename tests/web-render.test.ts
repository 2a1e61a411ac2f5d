import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { parseHTML } from 'linkedom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIssueEdits, type IssueEdits } from '../io/issue-edits.js';
import { templatesFingerprint } from '../io/load-templates.js';
import type { StoredIssue } from '../io/store.js';
import { buildWeekIssue } from '../jobs/build-week-issue.js';
import { type CpuPool, createCpuPool } from '../jobs/cpu-pool.js';
import { ensureIssue, isUpToDate } from '../jobs/issue-operations.js';
import type { Config } from '../src/config.js';
import type { Article } from '../src/ingest/article.js';
import { buildIssue, chooseLead } from '../src/newsletter/build-issue.js';
import { applyEdit, type CurationEdit } from '../src/newsletter/curation.js';
import type { NewsletterIssue } from '../src/newsletter/newsletter-issue.js';
import { personalize, RECIPIENT_FIELDS } from '../src/newsletter/personalize.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import { config as defaults, NOW, RECIPIENT, templates, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';
import { testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';

const PUBLIC = 'https://news.example.org';
const ARCHIVE = 'https://archive.example.org/weekly';
const config = { ...defaults, PUBLIC_URL: PUBLIC, ARCHIVE_URL: ARCHIVE };

function dom(html: string): Document {
  return (parseHTML(html) as unknown as { document: Document }).document;
}

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Each link of the HTML as [its text, its href]. */
function linksOf(html: string): [string, string][] {
  return [...dom(html).querySelectorAll('a')].map((a) => [collapse(a.textContent ?? ''), a.getAttribute('href') ?? '']);
}

/**
 * Everything a page for no one must not hold: a recipient token, a reader's value, a link to a
 * reader's own pages; with Dispatch's templates, not even the words of those links.
 */
function expectForNoOne(html: string, ownTemplates = true): void {
  expect(html).not.toContain('{{');
  for (const field of RECIPIENT_FIELDS) expect(html).not.toContain(`{{${field}}}`);
  for (const value of Object.values(RECIPIENT)) expect(html).not.toContain(value as string);
  for (const [text, href] of linksOf(html)) {
    if (ownTemplates) expect(text).not.toMatch(/unsubscribe|preferences/i);
    expect(href).not.toMatch(/\/unsubscribe|\/preferences/);
  }
}

describe('the email and its web render', () => {
  const articles = weekOfArticles(6);
  const issue = buildIssue(articles, {
    week: WEEK,
    now: NOW,
    config,
    curation: { lead: null, drop: [], order: [], note: 'Our reporters spent the week on the river.' },
  });

  it('the email carries "View in browser" at its top, to the archive page, in the HTML and the text part', async () => {
    const rendered = await renderIssue(issue, await templates(), { web: true });
    const message = personalize(rendered, RECIPIENT);
    const link = linksOf(message.html).find(([text]) => text === 'View in browser');
    expect(link?.[1]).toBe(`${ARCHIVE}/${WEEK}`);
    const visible = collapse(dom(message.html).body.textContent ?? '');
    expect(visible.indexOf('View in browser')).toBeLessThan(visible.indexOf('The Weekly · No. 48'));
    expect(message.text.split('\n').slice(0, 3)).toEqual([
      'The Example Times weekly · No. 48 · Friday, 27 November 2026',
      `View in browser: ${ARCHIVE}/${WEEK}`,
      '',
    ]);
  });

  it('the web render is for no one: no token, no greeting by name, no reader’s links, a sign-up call to action', async () => {
    const rendered = await renderIssue(issue, await templates(), { web: true });
    const web = rendered.web?.html ?? '';
    expectForNoOne(web);
    const visible = collapse(dom(web).body.textContent ?? '');
    expect(visible).toContain('Here is what mattered this week.');
    expect(visible).not.toMatch(/\bHi\b/);
    expect(visible).not.toContain('View in browser');
    expect(visible).not.toContain('You are receiving this');
    expect(visible).not.toContain('forwarded to you');
    const links = linksOf(web);
    expect(links).toContainEqual(['Subscribe', `${PUBLIC}/subscribe`]);
    expect(links).toContainEqual(['Sign up free', `${PUBLIC}/subscribe`]);
    // What the issue is stays: its stories, the note, the publisher's address.
    expect(visible).toContain(issue.lead.title);
    expect(visible).toContain('From the editor Our reporters spent the week on the river.');
    expect(visible).toContain(config.PUBLISHER_ADDRESS);
    expect(dom(web).documentElement.getAttribute('lang')).toBe('en');
  });

  it('is made only when asked, and leaves the email as it is without the option', async () => {
    const t = await templates();
    const plain = await renderIssue(issue, t);
    const both = await renderIssue(issue, t, { web: true });
    expect(plain.web).toBeUndefined();
    expect(both.html).toBe(plain.html);
    expect(both.text).toBe(plain.text);
    expect(both.warnings).toEqual(plain.warnings);
  });

  it('renders the issue as the email went out: after the cuts that fit it to the size budget', async () => {
    const many = buildIssue(weekOfArticles(12), { week: WEEK, now: NOW, config });
    const rendered = await renderIssue(many, await templates(), { web: true, maxHtmlBytes: 60_000 });
    expect(rendered.warnings.some((w) => /into More this week$/.test(w))).toBe(true);
    const web = dom(rendered.web?.html ?? '');
    const titles = [...web.querySelectorAll('.story-title')].map((e) => collapse(e.textContent ?? ''));
    expect(titles).toEqual([rendered.issue.lead, ...rendered.issue.cards].map((c) => collapse(c.title)));
    expect(collapse(web.body.textContent ?? '')).toContain(collapse(rendered.issue.more.at(-1)?.title ?? '-'));
  });

  it('a custom template that ignores `web` still leaves no token and no reader in the web page', async () => {
    const t = await templates();
    // An older footer and greeting: they print the reader's values and links, whatever the page.
    const custom = {
      ...t,
      partials: {
        ...t.partials,
        masthead: { path: 'custom/masthead.mjml.hbs', source: masthead },
        footer: { path: 'custom/footer.mjml.hbs', source: footer },
      },
    };
    const rendered = await renderIssue(issue, custom, { web: true });
    const web = rendered.web?.html ?? '';
    expectForNoOne(web, false);
    const visible = collapse(dom(web).body.textContent ?? '');
    expect(visible).toContain('Hi there, here is what mattered this week.');
    expect(visible).toContain('Reader: you.');
    // The links that are a reader's own in a mail lead to the sign-up page.
    const links = linksOf(web);
    expect(links).toContainEqual(['Unsubscribe', `${PUBLIC}/subscribe`]);
    expect(links).toContainEqual(['Manage preferences', `${PUBLIC}/subscribe`]);
    // The mail from the same templates is personal as before.
    const message = personalize(rendered, RECIPIENT);
    expect(message.html).toContain('Reader: ana@example.org.');
    expect(linksOf(message.html)).toContainEqual(['Unsubscribe', RECIPIENT.unsubscribeUrl]);
  });

  it('an issue built before notes, archive pages and the sign-up page renders, both ways', async () => {
    const { note: _note, archiveUrl: _archive, ...older } = issue;
    const { signupPageUrl: _page, ...site } = issue.site;
    const old: NewsletterIssue = { ...older, site };
    const rendered = await renderIssue(old, await templates(), { web: true });
    const message = personalize(rendered, RECIPIENT);
    expect(message.html).not.toContain('View in browser');
    expect(message.html).not.toContain('From the editor');
    expect(message.text).not.toContain('View in browser');
    expect(message.text).not.toContain('From the editor');
    const web = rendered.web?.html ?? '';
    expectForNoOne(web);
    // Without the sign-up page, the newsletter's own sign-up link.
    expect(linksOf(web)).toContainEqual(['Subscribe', issue.site.signupUrl]);
  });
});

/** The partials of an older template set that knows nothing of `web`. */
const masthead = `<mj-section padding="20px 0 4px" css-class="card">
  <mj-column><mj-text>Hi {{recipient.firstName}}, here is what mattered this week.</mj-text></mj-column>
</mj-section>`;
const footer = `<mj-section padding="20px 0 32px">
  <mj-column>
    <mj-text>Reader: {{{recipient.email}}}.
      <a href="{{recipient.preferencesUrl}}">Manage preferences</a> ·
      <a href="{{recipient.unsubscribeUrl}}">Unsubscribe</a> {{issue.site.address}}</mj-text>
  </mj-column>
</mj-section>`;

describe('the worker’s build applies the editors’ curation (real Redis, the CPU thread pool)', () => {
  const redis = useTestRedis('web-render');
  const templatesDir = join(redis.tmp, 'templates');
  const articles = weekOfArticles(8);
  const usual = chooseLead(articles);
  const [a0, a1, a2, a3] = articles.filter((a) => a !== usual) as [Article, Article, Article, Article];
  let cfg: Config;
  let ctx: ReturnType<typeof testContext>;
  let edits: IssueEdits;
  let pool: CpuPool;

  const edit = (change: CurationEdit) => edits.update(WEEK, (current) => applyEdit(current, change), NOW);
  const build = (now = NOW) =>
    buildWeekIssue({ store: ctx.store, config: cfg, templatesDir, edits, cpu: pool }, WEEK, now);
  const stored = async () => (await ctx.store.getIssue(WEEK)) as StoredIssue;
  const order = (s: StoredIssue) => [s.issue.lead, ...s.issue.cards].map((c) => c.articleId);

  beforeAll(async () => {
    cpSync(join(ROOT, 'templates'), templatesDir, { recursive: true });
    cfg = testConfig({ PUBLIC_URL: PUBLIC, ARCHIVE_URL: ARCHIVE });
    ctx = testContext(redis.url, cfg);
    edits = createIssueEdits(ctx.redis, cfg.REDIS_PREFIX);
    pool = createCpuPool({ size: 1, timeoutMs: 30_000 });
    for (const article of articles) await ctx.store.saveArticle(article);
  });

  afterAll(async () => {
    await pool?.close();
    await ctx?.close();
  });

  it('pin, drop, order and note show in the stored issue, its HTML, text and web page', async () => {
    const saved = await edit({
      lead: a3.id,
      drop: [a1.id, 'notthisweek'],
      order: [a2.id, a0.id],
      note: 'Three stories from the harbour this week.\n\nThe ferry piece is long: worth it.',
    });
    const result = await build();
    expect(result).toMatchObject({ status: 'saved', curation: saved.revision, articles: 7 });
    const issue = await stored();
    expect(issue.curation).toBe(saved.revision);
    expect(order(issue).slice(0, 3)).toEqual([a3.id, a2.id, a0.id]);
    expect([...order(issue), ...issue.issue.more.map((m) => m.title)]).not.toContain(a1.id);
    expect(issue.issue.more.map((m) => m.title)).not.toContain(a1.title);
    expect(issue.issue.note).toEqual([
      'Three stories from the harbour this week.',
      'The ferry piece is long: worth it.',
    ]);
    expect(issue.subject).toContain(a3.title.slice(0, 20));
    expect(issue.warnings).toContain(`the edit's dropped story "notthisweek" is no article of ${WEEK}: ignored`);

    const message = personalize(issue, RECIPIENT);
    expect(message.html).toContain('The ferry piece is long: worth it.');
    expect(message.text).toContain('From the editor\n\nThree stories from the harbour this week.\n\n');
    expect(message.text).toContain(`View in browser: ${ARCHIVE}/${WEEK}\n`);
    expect(message.html).not.toContain(a1.title);

    const web = issue.web?.html ?? '';
    expectForNoOne(web);
    expect(web).toContain('The ferry piece is long: worth it.');
    expect(collapse(dom(web).querySelector('.story-title')?.textContent ?? '')).toBe(collapse(a3.title));
  });

  it('a second build keeps them, and is up to date at that revision', async () => {
    const first = await stored();
    await build(new Date(NOW.getTime() + 60_000));
    const second = await stored();
    expect(second.builtAt).not.toBe(first.builtAt);
    expect(order(second)).toEqual(order(first));
    expect(second.issue.note).toEqual(first.issue.note);
    expect(second.html).toBe(first.html);
    const revision = (await edits.get(WEEK)).revision;
    expect(isUpToDate(second, await templatesFingerprint(templatesDir), revision)).toBe(true);
  });

  it('an edit makes the build out of date; ensureIssue rebuilds it with the edit applied', async () => {
    const fingerprint = await templatesFingerprint(templatesDir);
    const before = await stored();
    const saved = await edit({ lead: null, keep: [a1.id], note: '' });
    expect(isUpToDate(before, fingerprint, saved.revision)).toBe(false);
    // A build from before builds recorded a revision counts as revision 0.
    const { curation: _none, ...older } = before;
    expect(isUpToDate(older, fingerprint)).toBe(true);
    expect(isUpToDate(older, fingerprint, saved.revision)).toBe(false);

    const rebuilt = await ensureIssue(ctx, WEEK, true, templatesDir, { cpu: pool });
    expect(rebuilt.curation).toBe(saved.revision);
    expect(rebuilt.issue.lead.articleId).toBe(usual.id);
    expect(rebuilt.issue.note).toEqual([]);
    expect(rebuilt.html).not.toContain('From the editor');
    const titles = [...rebuilt.issue.cards, ...rebuilt.issue.more].map((c) => c.title);
    expect(titles).toContain(a1.title);
    expect(order(rebuilt).slice(1, 3)).toEqual([a2.id, a0.id]);
    // Up to date now: asked again, it is returned as it is.
    expect(await ensureIssue(ctx, WEEK, true, templatesDir)).toEqual(rebuilt);
  });

  it('an edit that drops every story leaves the week empty and the stored build as it was', async () => {
    const before = await stored();
    await edit({ drop: articles.map((a) => a.id) });
    expect(await build()).toEqual({ week: WEEK, status: 'empty' });
    expect(await stored()).toEqual(before);
    await edit({ reset: true });
  });

  it('a sent issue is up to date whatever is edited after, and is not rebuilt', async () => {
    await build();
    await ctx.store.markIssueSent(WEEK, NOW);
    const sent = await stored();
    const saved = await edit({ note: 'Too late for this one.' });
    expect(isUpToDate(sent, null, saved.revision)).toBe(true);
    expect(await ensureIssue(ctx, WEEK, true, templatesDir)).toEqual(sent);
    expect(await build()).toMatchObject({ status: 'already-sent' });
    expect(await stored()).toEqual(sent);
  });

  it('without an edits store, a build applies no curation and records revision 0', async () => {
    const other = testConfig({ PUBLIC_URL: PUBLIC });
    const otherCtx = testContext(redis.url, other);
    try {
      for (const article of articles) await otherCtx.store.saveArticle(article);
      const result = await buildWeekIssue({ store: otherCtx.store, config: other, templatesDir }, WEEK, NOW);
      expect(result).toMatchObject({ status: 'saved', curation: 0 });
      const issue = (await otherCtx.store.getIssue(WEEK)) as StoredIssue;
      expect(issue.curation).toBe(0);
      expect(issue.issue.lead.articleId).toBe(usual.id);
      expect(issue.issue.archiveUrl).toBe(`${PUBLIC}/archive/${WEEK}`);
      expectForNoOne(issue.web?.html ?? '');
    } finally {
      await otherCtx.close();
    }
  });
});
