import { describe, expect, it } from 'vitest';
import { createSendLedger } from '../io/send-ledger.js';
import { archivePage } from '../serve/archive-page.js';
import { unsubscribeToken } from '../src/links/unsubscribe-token.js';
import { testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { seedList } from './helpers/seed-list.js';

const redis = useTestRedis('archive-page');

const NOW = new Date('2026-11-27T09:00:00Z');

/** A store with a built issue for NOW's week and three subscribers; the list send not started. */
async function issueBuilt(overrides: Record<string, string> = {}) {
  const config = testConfig(overrides);
  const ctx = testContext(redis.url, config);
  const week = await seedList(ctx.redis, config, 3, 'reader', NOW);
  const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
  const deps = { store: ctx.store, ledger, config, now: NOW };
  return { config, ctx, week, ledger, deps };
}

describe('the archive page of an issue', () => {
  /** What nothing on a public page may hold: a reader's link, token, address or name. */
  function expectNoReader(html: string, emails: string[], secret: string) {
    expect(html).not.toContain('/unsubscribe/');
    expect(html).not.toContain('/preferences/');
    expect(html).not.toMatch(/\{\{\s*(email|firstName|unsubscribeUrl|preferencesUrl)\s*\}\}/);
    for (const email of emails) {
      expect(html).not.toContain(email);
      expect(html).not.toContain(unsubscribeToken(email, secret));
      expect(html).not.toContain(`Reader ${email.slice(6, 7)}`);
    }
  }

  it("shows a sent issue's web render as it was built, with the archive's head tags and bar put in", async () => {
    const { config, ctx, week, ledger, deps } = await issueBuilt();
    try {
      const emails = ['reader0@example.org', 'reader1@example.org', 'reader2@example.org'];
      expect(await ledger.start(week, emails, { batchSize: 100, rate: 0, now: NOW })).toBe(true);
      const stored = await ctx.store.getIssue(week);
      const web = stored?.web?.html;
      if (!stored || !web) throw new Error('no stored issue with its web render');

      const page = await archivePage(week, deps);
      expect(page.status).toBe(200);
      expect(page.html).toMatch(/^<!doctype html>/i);
      // The archive's own head tags and bar, around the issue.
      expect(page.html).toContain(`<link rel="canonical" href="${config.PUBLIC_URL}/archive/${week}">`);
      expect(page.html).toContain(`<meta property="og:title" content="${stored.subject}">`);
      expect(page.html).toMatch(/<body[^>]*><nav class="dispatch-archive-bar"/);
      // Around them, the web render byte for byte: its head up to </head>, its body after the bar.
      const headEnd = web.indexOf('</head>');
      const bodyStart = web.indexOf('>', web.indexOf('<body')) + 1;
      expect(page.html.startsWith(web.slice(0, headEnd))).toBe(true);
      expect(page.html.endsWith(web.slice(bodyStart))).toBe(true);
      expect(page.html).toContain(stored.issue.lead.title.slice(0, 20));
      expect(page.html).toContain(`href="${config.PUBLIC_URL}/subscribe"`);
      expectNoReader(page.html, emails, config.UNSUBSCRIBE_SECRET);
    } finally {
      await ctx.close();
    }
  });

  it('shows an older build (no web render) personalized for no one', async () => {
    const { config, ctx, week, ledger, deps } = await issueBuilt();
    try {
      const built = await ctx.store.getIssue(week);
      if (!built) throw new Error('no stored issue');
      const { web: _web, ...older } = built;
      expect(await ctx.store.saveIssue(week, older)).toBe('saved');
      const emails = ['reader0@example.org', 'reader1@example.org', 'reader2@example.org'];
      expect(await ledger.start(week, emails, { batchSize: 100, rate: 0, now: NOW })).toBe(true);

      const page = await archivePage(week, deps);
      expect(page.status).toBe(200);
      expect(page.html).toMatch(/<body[^>]*><nav class="dispatch-archive-bar"/);
      expect(page.html).toContain(built.issue.lead.title.slice(0, 20));
      expect(page.html).toContain('Hi there, here is what mattered this week.');
      expect(page.html).toContain('because you signed up for the weekly newsletter');
      // Every link that is a reader's own in a mail leads to the sign-up page here.
      expect(page.html).toContain(`href="${config.PUBLIC_URL}/subscribe"`);
      expectNoReader(page.html, emails, config.UNSUBSCRIBE_SECRET);
    } finally {
      await ctx.close();
    }
  });

  it('answers 404 for an issue built but never sent, a send whose issue is gone, and a malformed week', async () => {
    const { ctx, week, ledger, deps } = await issueBuilt({ SITE_NAME: 'Times <b>&</b> {{x}}' });
    try {
      const unsent = await archivePage(week, deps);
      expect(unsent.status).toBe(404);
      expect(unsent.html).toContain('<h1>No such issue</h1>');
      expect(unsent.html).toContain('href="http://127.0.0.1:3001/archive">See all issues</a>');
      expect(unsent.html).toContain('Times &lt;b&gt;&amp;&lt;/b&gt; &#123;&#123;x&#125;&#125;');
      expect(unsent.html).not.toContain('<b>');
      expect(unsent.html).not.toContain((await ctx.store.getIssue(week))?.subject ?? 'no subject');

      // A send recorded for a week with no stored issue (it never is, but a page must not break).
      expect(await ledger.start('2026-W40', ['reader0@example.org'], { batchSize: 100, rate: 0, now: NOW })).toBe(true);
      expect((await archivePage('2026-W40', deps)).status).toBe(404);

      const hostile = [
        '2026-W99',
        '2026-w48',
        ` ${week}`,
        `${week}/`,
        '../issue',
        '<script>alert(1)</script>',
        '',
        'x'.repeat(10_000),
      ];
      await ledger.start(week, ['reader0@example.org'], { batchSize: 100, rate: 0, now: NOW });
      expect((await archivePage(week, deps)).status).toBe(200);
      for (const input of hostile) {
        const page = await archivePage(input, deps);
        expect(page.status, input).toBe(404);
        // The page never repeats what was asked for.
        if (input.length > 1) expect(page.html, input).not.toContain(input);
      }
    } finally {
      await ctx.close();
    }
  });
});
