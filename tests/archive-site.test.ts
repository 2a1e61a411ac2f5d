import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
import { parseHTML } from 'linkedom';
import { afterAll, describe, expect, it } from 'vitest';
import { listen } from '../io/listen.js';
import { createSendLedger, type SendLedger } from '../io/send-ledger.js';
import type { StoredIssue } from '../io/store.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { ARCHIVE_FEED_MAX, ARCHIVE_INDEX_MAX, createArchive, writeArchive } from '../jobs/archive-site.js';
import { createServeApp, serveOptionsOn } from '../serve/app.js';
import type { Config } from '../src/config.js';
import { subscriberId } from '../src/links/mail-tags.js';
import { unsubscribeToken } from '../src/links/unsubscribe-token.js';
import type { NewsletterIssue } from '../src/newsletter/newsletter-issue.js';
import { oneLine } from '../src/text/one-line.js';
import { httpRequest, type RawResponse } from './helpers/http-request.js';
import { cliEnv, testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { runCli } from './helpers/run-cli.js';
import { seedList } from './helpers/seed-list.js';

const redis = useTestRedis('archive-site');

const NOW = new Date('2026-11-27T09:00:00Z');
const DAY = 86_400_000;
const SECRET = 'archive-site-test-secret-5f1c9a';
/** The settings of every test here: those that shape the pages, passed alike to the app and the CLI. */
const SETTINGS = { PUBLIC_URL: 'https://news.example.org', UNSUBSCRIBE_SECRET: SECRET };

interface Setup {
  config: Config;
  env: Record<string, string>;
  ctx: ReturnType<typeof testContext>;
  ledger: SendLedger;
  base: string;
  get(path: string, method?: string): Promise<RawResponse>;
  close(): Promise<void>;
}

const opened: Setup[] = [];

/** A test's Redis prefix and settings, with the real `dispatch serve` app on them, on a free port. */
async function setup(overrides: Record<string, string> = {}): Promise<Setup> {
  const env = { ...SETTINGS, ...overrides };
  const config = testConfig(env);
  const ctx = testContext(redis.url, config);
  const server: Server = createServeApp(serveOptionsOn(ctx, { host: '127.0.0.1', port: 0, now: () => NOW }));
  const { port } = await listen(server, { host: '127.0.0.1', port: 0, what: 'test', setting: 'none' });
  const base = `http://127.0.0.1:${port}`;
  const s: Setup = {
    config,
    env,
    ctx,
    ledger: createSendLedger(ctx.redis, config.REDIS_PREFIX),
    base,
    get: (path, method = 'GET') => httpRequest(base, path, { method }),
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      await ctx.close();
    },
  };
  opened.push(s);
  return s;
}

afterAll(async () => {
  for (const s of opened) await s.close();
});

/** The issue seedList built for `now`'s week, from the example articles. */
async function builtIssue(
  s: Setup,
  count = 0,
  local = 'reader',
  now = NOW,
): Promise<{ week: string; stored: StoredIssue }> {
  const week = await seedList(s.ctx.redis, s.config, count, local, now);
  const stored = await s.ctx.store.getIssue(week);
  if (!stored) throw new Error(`no stored issue for ${week}`);
  return { week, stored };
}

/** `template` stored as `week`'s issue, with `issue` fields and stored fields changed. */
async function storeIssue(
  s: Setup,
  template: StoredIssue,
  week: string,
  change: { issue?: Partial<NewsletterIssue>; stored?: Partial<StoredIssue> } = {},
): Promise<StoredIssue> {
  const stored: StoredIssue = {
    ...template,
    ...change.stored,
    issue: { ...template.issue, id: week, week, ...change.issue },
  };
  expect(await s.ctx.store.saveIssue(week, stored)).toBe('saved');
  return stored;
}

/** `week`'s list send started at `at` and its issue frozen, as startListSend does. */
async function startSend(s: Setup, week: string, at: Date, emails: string[] = []): Promise<void> {
  expect(await s.ledger.start(week, emails, { batchSize: 100, rate: 0, now: at })).toBe(true);
  await s.ctx.store.markIssueSent(week, at);
}

const archiveOf = (s: Setup) => createArchive({ store: s.ctx.store, ledger: s.ledger, config: s.config });

/** Every file under `dir`, by its path there. */
function filesUnder(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(f.parentPath, f.name);
    if (f.isFile()) files.set(path.slice(dir.length + 1), readFileSync(path, 'utf8'));
  }
  return files;
}

/** The two control characters the hostile texts below carry. */
const hasControl = (text: string) => text.includes('\u0001') || text.includes('\u0007');

const doc = (html: string) => parseHTML(html).document;
const metaOf = (html: string, key: string) =>
  doc(html).querySelector(`meta[property="${key}"], meta[name="${key}"]`)?.getAttribute('content');

describe('the archive index and feed', () => {
  it('is a friendly page and an empty feed before any issue has gone out', async () => {
    const s = await setup();
    const index = await s.get('/archive');
    expect(index.status).toBe(200);
    const page = doc(index.body);
    expect(page.querySelector('h1')?.textContent).toBe('The weekly newsletter from The Example Times');
    expect(page.querySelector('main')?.textContent).toContain('No issues yet');
    expect(page.querySelector('.dispatch-archive-issue')).toBeNull();
    expect(page.querySelector('main a.dispatch-archive-button')?.getAttribute('href')).toBe(
      'https://news.example.org/subscribe',
    );
    const feed = await s.get('/archive/feed.xml');
    expect(feed.status).toBe(200);
    const parsed = parseFeed(feed.body).toJSON();
    expect(parsed.items).toEqual([]);
    expect(parsed.updated).toBe(NOW.toISOString());
  });

  it('lists the sent issues newest first, with subject, date, preheader and link; the feed has the same', async () => {
    const s = await setup();
    const { week, stored } = await builtIssue(s);
    expect(week).toBe('2026-W48');
    const older = await storeIssue(s, stored, '2026-W46', {
      stored: { subject: 'The Example Times weekly: an older week' },
      issue: { preheader: 'What happened two weeks before.', number: 46 },
    });
    await storeIssue(s, stored, '2026-W47', { stored: { subject: 'Built, never sent' } });
    await startSend(s, '2026-W46', new Date(NOW.getTime() - 14 * DAY));
    await startSend(s, week, NOW);
    // A send recorded for a week whose issue is not stored: nothing to show.
    await startSend(s, '2026-W45', new Date(NOW.getTime() - 21 * DAY));

    const index = await s.get('/archive');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    const cards = [...doc(index.body).querySelectorAll('.dispatch-archive-issue')].map((card) => ({
      subject: card.querySelector('h2 a')?.textContent,
      href: card.querySelector('h2 a')?.getAttribute('href'),
      meta: card.querySelector('.dispatch-archive-meta')?.textContent,
      time: card.querySelector('time')?.getAttribute('datetime'),
      preheader: card.querySelector('p:not(.dispatch-archive-meta)')?.textContent,
    }));
    expect(cards).toEqual([
      {
        subject: stored.subject,
        href: 'https://news.example.org/archive/2026-W48',
        meta: `No. ${stored.issue.number}, 2026 · 27 November 2026`,
        time: NOW.toISOString(),
        preheader: stored.issue.preheader,
      },
      {
        subject: older.subject,
        href: 'https://news.example.org/archive/2026-W46',
        meta: 'No. 46, 2026 · 13 November 2026',
        time: new Date(NOW.getTime() - 14 * DAY).toISOString(),
        preheader: 'What happened two weeks before.',
      },
    ]);
    expect(index.body).not.toContain('Built, never sent');
    expect(index.body).not.toContain('Showing the newest');
    const page = doc(index.body);
    expect(page.querySelector('link[rel="alternate"]')?.getAttribute('href')).toBe(
      'https://news.example.org/archive/feed.xml',
    );
    expect(page.querySelector('main a[href="https://news.example.org/archive/feed.xml"]')).not.toBeNull();
    expect(page.querySelector('main a.dispatch-archive-button')?.getAttribute('href')).toBe(
      'https://news.example.org/subscribe',
    );
    expect((await s.get('/archive/')).body).toBe(index.body);

    const feed = await s.get('/archive/feed.xml');
    expect(feed.status).toBe(200);
    expect(feed.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    const parsed = parseFeed(feed.body).toJSON();
    expect(parsed.meta.type).toBe('atom');
    expect(parsed.title).toBe('The weekly newsletter from The Example Times');
    expect(parsed.url).toBe('https://news.example.org/archive');
    expect(parsed.self).toBe('https://news.example.org/archive/feed.xml');
    expect(parsed.updated).toBe(NOW.toISOString());
    expect(
      parsed.items.map((item) => ({
        id: item.id,
        url: item.url,
        title: item.title,
        description: item.description,
        updated: item.updated,
      })),
    ).toEqual([
      {
        id: 'https://news.example.org/archive/2026-W48',
        url: 'https://news.example.org/archive/2026-W48',
        title: stored.subject,
        description: stored.issue.preheader,
        updated: NOW.toISOString(),
      },
      {
        id: 'https://news.example.org/archive/2026-W46',
        url: 'https://news.example.org/archive/2026-W46',
        title: older.subject,
        description: 'What happened two weeks before.',
        updated: new Date(NOW.getTime() - 14 * DAY).toISOString(),
      },
    ]);
  });

  it(`lists at most the newest ${ARCHIVE_INDEX_MAX} (and says so), the feed the newest ${ARCHIVE_FEED_MAX}; every page stays`, async () => {
    const s = await setup();
    const { stored } = await builtIssue(s);
    // Small issues (the index and feed read only their subjects and preheaders), one a week back from 2026-W48.
    const small = {
      ...stored,
      mjml: '',
      text: '',
      html: '<!doctype html><html><head></head><body>small</body></html>',
    };
    const weeks: string[] = [];
    for (let year = 2026; weeks.length <= ARCHIVE_INDEX_MAX; year--) {
      for (let n = year === 2026 ? 47 : 52; n >= 1 && weeks.length <= ARCHIVE_INDEX_MAX; n--) {
        weeks.push(`${year}-W${String(n).padStart(2, '0')}`);
      }
    }
    for (const [i, week] of weeks.entries()) {
      await storeIssue(s, small, week, { stored: { subject: `Issue of ${week}` } });
      await startSend(s, week, new Date(NOW.getTime() - (i + 1) * 7 * DAY));
    }
    const index = doc((await s.get('/archive')).body);
    const listed = [...index.querySelectorAll('.dispatch-archive-issue h2 a')].map((a) => a.textContent);
    expect(listed).toHaveLength(ARCHIVE_INDEX_MAX);
    expect(listed[0]).toBe('Issue of 2026-W47');
    expect(listed.at(-1)).toBe(`Issue of ${weeks[ARCHIVE_INDEX_MAX - 1]}`);
    expect(index.querySelector('.dispatch-archive-note')?.textContent).toBe(
      `Showing the newest ${ARCHIVE_INDEX_MAX} of ${ARCHIVE_INDEX_MAX + 1} issues.`,
    );
    const feed = parseFeed((await s.get('/archive/feed.xml')).body).toJSON();
    expect(feed.items.map((item) => item.title)).toEqual(weeks.slice(0, ARCHIVE_FEED_MAX).map((w) => `Issue of ${w}`));
    const oldest = weeks.at(-1) as string;
    expect(listed).not.toContain(`Issue of ${oldest}`);
    expect((await s.get(`/archive/${oldest}`)).status).toBe(200);
  });
});

describe('the page of an issue', () => {
  it('carries canonical, description, Open Graph and feed tags under ARCHIVE_URL, and the bar', async () => {
    const s = await setup({ ARCHIVE_URL: 'https://archive.example.net/news/', TWITTER_HANDLE: 'exampletimes' });
    const { week, stored } = await builtIssue(s);
    const image = 'https://img.example.net/ferry.jpg?w=1200&h=630';
    const issue = await storeIssue(s, stored, week, {
      issue: {
        lead: { ...stored.issue.lead, image: { url: image, alt: 'The ferry at the quay' } },
      },
    });
    await startSend(s, week, NOW);

    const response = await s.get(`/archive/${week}`);
    expect(response.status).toBe(200);
    const html = response.body;
    const page = doc(html);
    const url = `https://archive.example.net/news/${week}`;
    expect(page.querySelector('link[rel="canonical"]')?.getAttribute('href')).toBe(url);
    expect(metaOf(html, 'description')).toBe(issue.issue.preheader);
    expect(metaOf(html, 'og:type')).toBe('article');
    expect(metaOf(html, 'og:title')).toBe(issue.subject);
    expect(metaOf(html, 'og:description')).toBe(issue.issue.preheader);
    expect(metaOf(html, 'og:url')).toBe(url);
    expect(metaOf(html, 'og:site_name')).toBe('The Example Times');
    expect(metaOf(html, 'og:image')).toBe(image);
    expect(metaOf(html, 'og:image:alt')).toBe('The ferry at the quay');
    expect(metaOf(html, 'article:published_time')).toBe(NOW.toISOString());
    expect(metaOf(html, 'twitter:card')).toBe('summary_large_image');
    expect(metaOf(html, 'twitter:site')).toBe('@exampletimes');
    const alternate = page.querySelector('link[rel="alternate"][type="application/atom+xml"]');
    expect(alternate?.getAttribute('href')).toBe('https://archive.example.net/news/feed.xml');
    // Every tag is in the head, and the bar comes first in the body.
    expect(page.head.querySelectorAll('meta[property^="og:"]')).toHaveLength(7);
    const bar = page.body.firstElementChild;
    expect(bar?.className).toBe('dispatch-archive-bar');
    expect([...(bar?.querySelectorAll('a') ?? [])].map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['The Example Times', 'https://news.example.com'],
      ['All issues', 'https://archive.example.net/news'],
      ['Subscribe', 'https://news.example.org/subscribe'],
    ]);
    // The issue itself, after the bar, and served the same at "/<week>/".
    expect(page.body.textContent).toContain(stored.issue.lead.title);
    expect((await s.get(`/archive/${week}/`)).body).toBe(html);

    // Without an http(s) lead image there is no og:image, and the card is a small one.
    await storeIssue(s, stored, '2026-W46', {
      issue: { lead: { ...stored.issue.lead, image: { url: 'javascript:alert(1)', alt: 'x' } } },
    });
    await startSend(s, '2026-W46', NOW);
    const plain = (await s.get('/archive/2026-W46')).body;
    expect(metaOf(plain, 'og:image')).toBeUndefined();
    expect(metaOf(plain, 'twitter:card')).toBe('summary');
    expect(plain).not.toContain('javascript:');
  });

  it("shows the issue's web render when the build has one", async () => {
    const s = await setup();
    const { week, stored } = await builtIssue(s);
    const web =
      '<!doctype html><html lang="en"><head><title>Web</title><meta name="viewport" content="width=device-width"></head>' +
      '<body><div class="web-render">The web render, with a sign-up call to action</div></body></html>';
    await storeIssue(s, stored, week, { stored: { web: { html: web } } });
    await startSend(s, week, NOW);
    const html = (await s.get(`/archive/${week}`)).body;
    const page = doc(html);
    expect(page.querySelector('.web-render')?.textContent).toBe('The web render, with a sign-up call to action');
    expect(html).not.toContain(stored.issue.lead.title);
    expect(page.body.firstElementChild?.className).toBe('dispatch-archive-bar');
    expect(page.querySelectorAll('meta[name="viewport"]')).toHaveLength(1);
    expect(metaOf(html, 'og:title')).toBe(stored.subject);
  });

  it('answers HEAD like GET without a body, with public caching and the security headers', async () => {
    const s = await setup();
    const { week } = await builtIssue(s);
    await startSend(s, week, NOW);
    const cases = [
      ['/archive', 'text/html; charset=utf-8', 'public, max-age=300', 200],
      ['/archive/feed.xml', 'application/atom+xml; charset=utf-8', 'public, max-age=300', 200],
      [`/archive/${week}`, 'text/html; charset=utf-8', 'public, max-age=86400', 200],
      ['/archive/2026-W47', 'text/html; charset=utf-8', 'public, max-age=60', 404],
      ['/archive/nothing-here', 'text/html; charset=utf-8', 'public, max-age=60', 404],
    ] as const;
    for (const [path, type, cache, status] of cases) {
      const get = await s.get(path);
      const head = await s.get(path, 'HEAD');
      expect([get.status, head.status], path).toEqual([status, status]);
      expect(head.body, path).toBe('');
      expect(head.headers['content-length'], path).toBe(String(Buffer.byteLength(get.body)));
      for (const response of [get, head]) {
        expect(response.headers['content-type'], path).toBe(type);
        expect(response.headers['cache-control'], path).toBe(cache);
        expect(response.headers['x-content-type-options'], path).toBe('nosniff');
        expect(response.headers['x-frame-options'], path).toBe('DENY');
        expect(response.headers['content-security-policy'], path).toMatch(/default-src 'none'.*img-src https: data:/);
      }
    }
    const post = await httpRequest(s.base, '/archive', { method: 'POST', body: '' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });
});

describe('dispatch archive build', () => {
  it('writes the same pages as dispatch serve, and names a file in the way with E_OUTPUT_WRITE', async () => {
    const s = await setup({ ARCHIVE_URL: 'https://static.example.net/letters' });
    const { week, stored } = await builtIssue(s);
    await storeIssue(s, stored, '2026-W46', { stored: { subject: 'Two weeks ago' } });
    await startSend(s, '2026-W46', new Date(NOW.getTime() - 14 * DAY));
    await startSend(s, week, NOW);
    const out = join(redis.tmp, 'site', 'archive');
    const env = cliEnv(redis.url, s.config, s.env);
    const built = await runCli(['archive', 'build', '--out', out], { env });
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    expect(built.stdout).toBe(
      `wrote 4 files to ${out} (index.html, feed.xml and 2 issue pages), linked under https://static.example.net/letters\n`,
    );
    expect([...filesUnder(out).keys()].sort()).toEqual([
      '2026-W46/index.html',
      '2026-W48/index.html',
      'feed.xml',
      'index.html',
    ]);
    const read = (path: string) => readFileSync(join(out, path), 'utf8');
    expect(read('index.html')).toBe((await s.get('/archive')).body);
    expect(read('feed.xml')).toBe((await s.get('/archive/feed.xml')).body);
    expect(read('2026-W48/index.html')).toBe((await s.get('/archive/2026-W48')).body);
    expect(read('2026-W46/index.html')).toBe((await s.get('/archive/2026-W46')).body);
    // Links are absolute, under ARCHIVE_URL.
    const hrefs = [...doc(read('index.html')).querySelectorAll('.dispatch-archive-issue a')].map((a) =>
      a.getAttribute('href'),
    );
    expect(hrefs).toEqual([
      'https://static.example.net/letters/2026-W48',
      'https://static.example.net/letters/2026-W46',
    ]);
    expect(
      parseFeed(read('feed.xml'))
        .toJSON()
        .items.map((i) => i.url),
    ).toEqual(hrefs);

    // Built again over itself: the same files, nothing half-written left beside them.
    expect((await writeArchive(archiveOf(s), out, NOW)).files).toBe(4);
    expect(readdirSync(out, { recursive: true }).filter((f) => String(f).includes('.partial'))).toEqual([]);

    const file = join(redis.tmp, 'a-file');
    writeFileSync(file, 'not a folder');
    const onFile = await runCli(['archive', 'build', '--out', file], { env });
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toBe(`dispatch: E_OUTPUT_WRITE: cannot write ${file}: EEXIST\n`);
    expect(onFile.stdout).toBe('');

    const blocked = join(redis.tmp, 'blocked');
    await writeArchive(archiveOf(s), blocked, NOW);
    const inTheWay = join(blocked, '2026-W46');
    rmSync(inTheWay, { recursive: true });
    writeFileSync(inTheWay, 'a file where a folder goes');
    await expect(writeArchive(archiveOf(s), blocked, NOW)).rejects.toMatchObject({
      code: 'E_OUTPUT_WRITE',
      message: `cannot write ${join(inTheWay, 'index.html')}: EEXIST`,
    });
  });
});

describe('hostile text', () => {
  it('a subject, preheader and site name with markup, quotes, braces and controls are text wherever they land', async () => {
    const site = 'Times <b>&</b> "Q" \'s {{email}} ]]> \u0007 end';
    const s = await setup({ SITE_NAME: site });
    const { week, stored } = await builtIssue(s);
    const subject =
      '<script>alert(1)</script> & "quoted" ]]> {{unsubscribeUrl}} \u0001 it\'s <img src=x onerror=alert(2)>';
    const preheader = 'Pre <i>header</i> & {{firstName}} ]]> "end"';
    await storeIssue(s, stored, week, { stored: { subject }, issue: { subject, preheader } });
    await startSend(s, week, NOW);
    const siteText = oneLine(site);
    const subjectText = oneLine(subject);

    const index = await s.get('/archive');
    const page = await s.get(`/archive/${week}`);
    for (const html of [index.body, page.body]) {
      const d = doc(html);
      expect(d.querySelectorAll('script')).toHaveLength(0);
      expect(d.querySelectorAll('b, i, img[onerror]')).toHaveLength(0);
      expect(d.querySelector('.dispatch-archive-site')?.textContent).toBe(siteText);
      expect(html).not.toContain('{{');
      // What the archive adds (its meta and link tags, the bar, the index's main) holds no control character.
      const added = [...d.querySelectorAll('head meta, head link, .dispatch-archive-bar, main')]
        .map((element) => element.outerHTML)
        .join('');
      expect(added).toContain(siteText.slice(0, 8));
      expect(hasControl(added)).toBe(false);
    }
    expect(doc(index.body).querySelector('.dispatch-archive-issue h2 a')?.textContent).toBe(subjectText);
    expect(metaOf(page.body, 'og:title')).toBe(subjectText);
    expect(metaOf(page.body, 'og:site_name')).toBe(siteText);
    expect(metaOf(page.body, 'description')).toBe(preheader);

    const feed = await s.get('/archive/feed.xml');
    expect(feed.body).not.toMatch(/<script|<b>|<i>|<img/);
    expect(hasControl(feed.body)).toBe(false);
    const parsed = parseFeed(feed.body).toJSON();
    expect(parsed.title).toBe(`The weekly newsletter from ${siteText}`);
    expect(parsed.authors[0]?.name).toBe(siteText);
    expect(parsed.items.map((i) => [i.title, i.description])).toEqual([[subjectText, preheader]]);
  });
});

describe("no reader's data", () => {
  it('is in any archive page, the feed or a static file, after a list send to distinctive readers', async () => {
    const s = await setup();
    const { week } = await builtIssue(s, 2, 'zq-archive-reader');
    const readers = [
      { email: 'quentin.zyxwicz@reader-mail.example', name: 'Quentin Zyxwicz' },
      { email: 'ottoline+news@reader-mail.example', name: 'Ottoline Brackenfurze' },
      { email: 'ylva.quarrington@reader-mail.example', name: 'Ylva Quarrington' },
    ];
    await createSubscriberStore(s.ctx.redis, s.config.REDIS_PREFIX).importSubscribers(
      readers.map((r) => ({ ...r, fields: {} })),
      NOW,
    );
    const emails = await createSubscriberStore(s.ctx.redis, s.config.REDIS_PREFIX).activeEmails();
    expect(emails).toHaveLength(5);
    await startSend(s, week, NOW, emails);

    const bodies = new Map<string, string>();
    for (const path of [
      '/archive',
      '/archive/',
      '/archive/feed.xml',
      `/archive/${week}`,
      `/archive/${week}/`,
      '/archive/x',
    ]) {
      const response = await s.get(path);
      expect(response.status, path).toBe(path === '/archive/x' ? 404 : 200);
      bodies.set(`GET ${path}`, response.body);
    }
    const out = join(redis.tmp, 'no-reader-data');
    const written = await writeArchive(archiveOf(s), out, NOW);
    expect(written.files).toBe(3);
    for (const [path, body] of filesUnder(out)) bodies.set(path, body);
    expect(bodies.size).toBe(9);

    const forbidden = [
      '/unsubscribe/',
      '/preferences/',
      '{{',
      'Reader 0',
      'Reader 1',
      ...emails.flatMap((email) => [
        email,
        email.split('@')[0] as string,
        unsubscribeToken(email, SECRET),
        subscriberId(email),
      ]),
      ...readers.flatMap((r) => r.name.split(' ')),
    ];
    for (const [where, body] of bodies) {
      expect(body.length, where).toBeGreaterThan(500);
      // Case aside: a name capitalized otherwise is still the name.
      const text = body.toLowerCase();
      for (const needle of forbidden)
        expect(text.includes(needle.toLowerCase()), `${where} holds ${needle}`).toBe(false);
    }
    // The pages scanned are the real ones: the issue, its stories.
    const stored = await s.ctx.store.getIssue(week);
    expect(bodies.get(`GET /archive/${week}`)).toContain(stored?.issue.lead.title);
    expect(bodies.get(`${week}/index.html`)).toBe(bodies.get(`GET /archive/${week}`));
  });
});
