import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { createSendLedger, type Mark } from '../io/send-ledger.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { BOUNCE_RATE_WARNING, COMPLAINT_RATE_WARNING, type ListHealth, listHealth } from '../jobs/list-health.js';
import { startListSend } from '../jobs/list-send.js';
import { startPreview } from '../preview/server.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { httpRequest } from './helpers/http-request.js';
import { cliEnv, testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT, runCli } from './helpers/run-cli.js';
import { seedList } from './helpers/seed-list.js';

const redis = useTestRedis('list-health');

/** Thursday of 2026-W48 (UTC). */
const IN_W48 = new Date('2026-11-26T12:00:00Z');

/** A ledger and a subscriber store on a fresh prefix, and the deps listHealth reads. */
function onRedis(overrides: Record<string, string> = {}) {
  const config = testConfig(overrides);
  const ctx = testContext(redis.url, config);
  const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
  const subscribers = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
  return { config, ctx, ledger, subscribers, deps: { subscribers, ledger, config } };
}

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@example.org`);

describe('listHealth', () => {
  it("this week's send: delivered from its ledger, bounces and complaints from its events; warnings at 2% and 0.3%", async () => {
    const { ctx, ledger, subscribers, deps } = onRedis();
    try {
      await subscribers.importSubscribers(
        addresses(4).map((email) => ({ email, name: null, fields: {} })),
        IN_W48,
      );
      await subscribers.markBounced('r1@example.org', '550 5.1.1', IN_W48);
      await subscribers.markComplained('r2@example.org', 'abuse', IN_W48);
      await subscribers.suppress('r3@example.org', IN_W48);
      const emails = addresses(1000);
      await ledger.start('2026-W48', emails, { batchSize: 100, rate: 0, now: IN_W48 });
      const at = IN_W48.toISOString();
      await ledger.markAll(
        '2026-W48',
        emails.map((email, i): Mark => ({ email, entry: { state: i < 990 ? 'sent' : 'failed', at } })),
      );
      // The 10 refused at RCPT, and 9 reports that came back: 19 of 1,000 handed over.
      for (let i = 0; i < 19; i++) await subscribers.countIssueEvent('2026-W48', 'bounced');
      for (let i = 0; i < 2; i++) await subscribers.countIssueEvent('2026-W48', 'complained');
      await subscribers.countIssueEvent('2026-W48', 'softBounced');

      const before = await listHealth(deps, IN_W48);
      expect(before).toEqual({
        counts: { pending: 0, active: 1, unsubscribed: 1, bounced: 1, complained: 1 },
        issue: {
          week: '2026-W48',
          which: 'this week',
          status: 'sending',
          delivered: 990,
          refused: 10,
          bounced: 19,
          softBounced: 1,
          complained: 2,
          bounceRate: 19 / 1000,
          complaintRate: 2 / 990,
        },
        warning: false,
        warnings: [],
      } satisfies ListHealth);

      // One more of each puts both at their line: 20/1,000 = 2%, 3/990 = 0.303%.
      await subscribers.countIssueEvent('2026-W48', 'bounced');
      await subscribers.countIssueEvent('2026-W48', 'complained');
      const after = await listHealth(deps, IN_W48);
      expect(after.issue?.bounceRate).toBeGreaterThanOrEqual(BOUNCE_RATE_WARNING);
      expect(after.issue?.complaintRate).toBeGreaterThanOrEqual(COMPLAINT_RATE_WARNING);
      expect(after.warning).toBe(true);
      expect(after.warnings).toEqual([
        'bounce rate 2.00% is at or over 2.00%: check where the bounced addresses came from',
        'complaint rate 0.30% is at or over 0.30%, where Gmail starts refusing mail',
      ]);
    } finally {
      await ctx.close();
    }
  });

  it('no send this week: the latest before it (never a later one); none at all: no issue; nothing delivered: no rates', async () => {
    const { ctx, ledger, deps } = onRedis();
    try {
      expect(await listHealth(deps, IN_W48)).toMatchObject({ issue: null, warning: false });
      const now = { batchSize: 100, rate: 0, now: IN_W48 };
      await ledger.start('2026-W40', addresses(3), now);
      await ledger.start('2026-W46', addresses(2), now);
      await ledger.start('2027-W01', addresses(2), now);
      await ledger.markAll('2026-W46', [{ email: 'r0@example.org', entry: { state: 'sent', at: '' } }]);
      expect((await listHealth(deps, IN_W48)).issue).toMatchObject({
        week: '2026-W46',
        which: 'latest',
        delivered: 1,
        bounceRate: 0,
        complaintRate: 0,
      });
      // The week is the one of `now` in TZ: Sunday 23:30 UTC is already Monday of W49 in Auckland.
      await ledger.start('2026-W49', addresses(2), now);
      const sunday = new Date('2026-11-29T23:30:00Z');
      expect((await listHealth(deps, sunday)).issue?.week).toBe('2026-W46');
      const auckland = await listHealth({ ...deps, config: { TZ: 'Pacific/Auckland' } }, sunday);
      expect(auckland.issue).toMatchObject({
        week: '2026-W49',
        which: 'this week',
        delivered: 0,
        bounceRate: null,
        complaintRate: null,
      });
      expect(auckland.warning).toBe(false);
    } finally {
      await ctx.close();
    }
  });
});

describe('the list in `dispatch status` and the preview', () => {
  it('a real list send with one 550 at RCPT: a bounce of the issue, in status --json, status and the preview', async () => {
    const refused = 'reader3@example.org';
    const smtp = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onRcptTo: (address, _session, callback) =>
        address.address === refused
          ? callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }))
          : callback(),
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    smtp.on('error', () => {});
    await new Promise<void>((done) => smtp.listen(0, '127.0.0.1', () => done()));
    const port = (smtp.server.address() as { port: number }).port;
    const { config, ctx, ledger, deps } = onRedis({ SMTP_URL: `smtp://127.0.0.1:${port}` });
    const now = new Date();
    const week = isoWeekOf(now, config.TZ);
    const worker = await testWorker(redis.url, config);
    try {
      await seedList(ctx.redis, config, 30, 'reader', now);
      await startListSend(ctx, { week, rate: 0, now });
      await waitFor('the send done', async () => (await ledger.get(week))?.status === 'done');
      await worker.close();

      const health = await listHealth(deps, now);
      expect(health.counts).toEqual({ pending: 0, active: 29, unsubscribed: 0, bounced: 1, complained: 0 });
      expect(health.issue).toMatchObject({
        week,
        which: 'this week',
        delivered: 29,
        refused: 1,
        bounced: 1,
        bounceRate: 1 / 30,
        complaintRate: 0,
      });
      expect(health.warnings).toHaveLength(1);

      const json = await runCli(['status', '--json'], { env: cliEnv(redis.url, config) });
      expect(json.code, json.stderr).toBe(0);
      expect((JSON.parse(json.stdout) as { list: ListHealth }).list).toEqual(health);
      const text = await runCli(['status'], { env: cliEnv(redis.url, config) });
      expect(text.stdout).toContain(
        '\nList:\n' +
          '  29 active, 0 pending, 0 unsubscribed, 1 bounced, 0 complained\n' +
          `  ${week}, this week's issue, done: 29 delivered, 1 bounced (3.33%), 0 complained (0.00%)\n` +
          '  warning: bounce rate 3.33% is at or over 2.00%: check where the bounced addresses came from\n',
      );

      const preview = await startPreview({
        config,
        store: ctx.store,
        queues: ctx.queues,
        sends: ledger,
        templatesDir: join(ROOT, 'templates'),
        mailboxDir: join(redis.tmp, 'no-mailbox'),
        host: '127.0.0.1',
        port: 0,
        listHealth: () => listHealth(deps, new Date()),
        sendTest: async () => 'not used here',
        rebuild: async () => ({ flash: 'not used here', built: null }),
      });
      try {
        const page = await httpRequest(preview.url, '/');
        expect(page.status).toBe(200);
        const panel = /<section id="list-health" class="health bad"[^>]*>([\s\S]*?)<\/section>/.exec(page.body)?.[1];
        expect(panel, page.body.slice(0, 2000)).toBeDefined();
        expect(panel).toContain('29 active, 0 pending, 0 unsubscribed, 1 bounced, 0 complained');
        expect(panel).toContain(`${week} (this week): 29 delivered`);
        expect(panel).toContain('<span id="bounce-rate">3.33%</span>');
        expect(panel).toContain('<span id="complaint-rate">0.00%</span>');
        expect(panel).toContain('bounce rate 3.33% is at or over 2.00%');
      } finally {
        await preview.close();
      }
    } finally {
      await worker.close();
      await ctx.close();
      await new Promise<void>((done) => smtp.close(() => done()));
    }
  });
});
