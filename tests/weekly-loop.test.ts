import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIssueFlow } from '../io/issue-flow.js';
import { createSendLedger } from '../io/send-ledger.js';
import { editorNotice } from '../jobs/editor-notice.job.js';
import { pauseSend, startListSend } from '../jobs/list-send.js';
import { type RunningWorker, startWorker } from '../jobs/run-worker.js';
import {
  approveIssue,
  editIssue,
  holdIssue,
  issueStatus,
  releaseIssue,
  runScheduledSend,
} from '../jobs/weekly-loop.js';
import type { Config } from '../src/config.js';
import { isoWeekOf, weekRange } from '../src/newsletter/iso-week.js';
import { toMessage } from '../src/newsletter/to-message.js';
import { cliEnv, silent, testConfig, testContext, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT, runCli } from './helpers/run-cli.js';
import { seedList } from './helpers/seed-list.js';
import { type CapturedMessage, rawHeader, type SmtpCapture, startSmtpCapture } from './helpers/smtp-capture.js';

const redis = useTestRedis('weekly-loop');

// Articles are stamped "now", in the week the workers' schedule builds.
const NOW = new Date();
const WEEK = isoWeekOf(NOW, 'UTC');
const EDITORS = ['ed.one@example.net', 'ed.two@example.net'];
const PREVIEW = 'http://preview.newsroom.test:3000';

/** The schedule fires every second: a whole week's loop in a few. */
const EVERY_SECOND = '* * * * * *';

/**
 * A real worker on every queue, as `dispatch worker` starts it, with one CPU thread: a thread's
 * first render loads MJML from the TypeScript sources, and four of them at once would take most
 * of a test's time.
 */
function loopWorker(config: Config, templatesDir = join(ROOT, 'templates')): Promise<RunningWorker> {
  return startWorker({ config, redisUrl: redis.url, logger: silent, templatesDir, cpuThreads: 1 });
}

interface Loop {
  config: Config;
  ctx: ReturnType<typeof testContext>;
  capture: SmtpCapture;
  proofs(): CapturedMessage[];
  readerMail(): CapturedMessage[];
  notices(): CapturedMessage[];
  firings(): Promise<number>;
  env: Record<string, string>;
  close(...workers: RunningWorker[]): Promise<void>;
}

/** A capture, a store with the example articles and `readers` readers, and the loop's settings. */
async function loopReady(readers: number, settings: Record<string, string> = {}): Promise<Loop> {
  const capture = await startSmtpCapture();
  const config = testConfig({
    SMTP_URL: `smtp://127.0.0.1:${capture.port}`,
    NEWSLETTER_CRON: EVERY_SECOND,
    EDITOR_EMAILS: EDITORS.join(','),
    PREVIEW_URL: PREVIEW,
    ...settings,
  });
  const ctx = testContext(redis.url, config);
  if (readers > 0) await seedList(ctx.redis, config, readers, 'reader', NOW);
  const to = (m: CapturedMessage) => m.rcptTo.join(',');
  return {
    config,
    ctx,
    capture,
    proofs: () => capture.messages.filter((m) => m.mail.subject?.startsWith('[Proof] ')),
    readerMail: () => capture.messages.filter((m) => /reader\d+@/.test(to(m))),
    notices: () => capture.messages.filter((m) => m.mail.subject?.startsWith('[Dispatch] ')),
    firings: async () => (await ctx.queues.newsletter.getJobCounts('completed', 'failed')).completed ?? 0,
    env: cliEnv(redis.url, config, {
      NEWSLETTER_CRON: EVERY_SECOND,
      EDITOR_EMAILS: EDITORS.join(','),
      PREVIEW_URL: PREVIEW,
      ...settings,
    }),
    async close(...workers) {
      await Promise.all(workers.map((w) => w.close()));
      await ctx.close();
      await capture.close();
    },
  };
}

/** Waits for `count` more scheduled builds than have run now (completed or failed). */
async function moreFirings(loop: Loop, count: number): Promise<void> {
  const counts = async () => {
    const c = await loop.ctx.queues.newsletter.getJobCounts('completed', 'failed');
    return (c.completed ?? 0) + (c.failed ?? 0);
  };
  const start = await counts();
  await waitFor(`${count} more firings of the schedule`, async () => (await counts()) >= start + count, 15_000);
}

/** Each reader got exactly one message, and it is the issue itself. */
function expectEachReaderOnce(loop: Loop, readers: number): void {
  const mail = loop.readerMail();
  const byReader = new Map<string, number>();
  for (const m of mail) for (const r of m.rcptTo) byReader.set(r, (byReader.get(r) ?? 0) + 1);
  expect(byReader.size).toBe(readers);
  expect([...byReader.values()].every((n) => n === 1)).toBe(true);
  for (const m of mail) expect(m.mail.subject).not.toMatch(/^\[(Proof|Test)\]/);
}

describe('the weekly loop (real Redis, workers and SMTP server; a schedule every second)', () => {
  it('proofs the editors, waits for approval, and after `dispatch issue approve` sends every reader once', {
    timeout: 60_000,
  }, async () => {
    const loop = await loopReady(5);
    const worker = await loopWorker(loop.config);
    try {
      await waitFor('a proof to each editor', async () => loop.proofs().length === EDITORS.length);
      const proof = loop.proofs().find((m) => m.rcptTo.includes(EDITORS[0] as string));
      if (!proof) throw new Error('no proof to the first editor');
      const { mail } = proof;
      expect(mail.subject).toMatch(/^\[Proof\] The Example Times weekly: .+ \([0-9a-f]{4}\)$/);
      const page = `${PREVIEW}/issues/${WEEK}`;
      // The banner comes first, in both parts, before the issue itself.
      expect(mail.text?.startsWith(`PROOF of ${WEEK}: not sent to readers yet.`)).toBe(true);
      expect(mail.text).toContain(`Review and edit it: ${page}`);
      expect(mail.text).toContain(`dispatch issue approve ${WEEK}, or Approve on that page.`);
      expect(mail.text).toContain('Hi Sam, here is what mattered this week.');
      expect(mail.html).toContain(`<a href="${page}"`);
      expect(mail.html).toMatch(/<body[^>]*><div role="note"/);
      expect(mail.html).toContain(`<code>dispatch issue approve ${WEEK}</code>`);
      // A test send: its own Feedback-ID kind, and the bare bounce address as envelope sender.
      expect(rawHeader(proof.raw, 'Feedback-ID')).toBe(`${WEEK}:weekly:test:news.example.com`);
      expect(proof.mailFrom).toBe('bounces@example.com');

      // It waits: later firings rebuild the issue, but neither proof nor send again.
      await moreFirings(loop, 2);
      expect(loop.proofs()).toHaveLength(EDITORS.length);
      expect(loop.readerMail()).toHaveLength(0);
      const waiting = await issueStatus(loop.ctx, WEEK);
      expect(waiting).toMatchObject({ state: 'built', sendAt: null, previewUrl: page });
      expect(waiting.summary).toBe(`${WEEK}: built; waits for approval: dispatch issue approve ${WEEK}`);

      const approved = await runCli(['issue', 'approve', WEEK], { env: loop.env });
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toBe(`${WEEK}: approved; queued 5 recipient(s) in 1 batch(es)\n`);
      await waitFor('every reader', async () => loop.readerMail().length >= 5);
      await moreFirings(loop, 1);
      expectEachReaderOnce(loop, 5);
      expect(loop.proofs()).toHaveLength(EDITORS.length);
      expect(loop.notices()).toHaveLength(0);

      const status = await runCli(['status'], { env: loop.env });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`Issues:\\n  ${WEEK}: sent [^\\n]*: 5 of 5 delivered`));
      // The six-field cron is BullMQ's: its next run is known, within seconds.
      const next = /newsletter\/weekly-newsletter: next (\S+) \(cron "\* \* \* \* \* \*" UTC\)/.exec(status.stdout);
      expect(next, status.stdout).not.toBeNull();
      expect(Math.abs(Date.parse(next?.[1] ?? '') - Date.now())).toBeLessThan(60_000);
    } finally {
      await loop.close(worker);
    }
  });

  it('with NEWSLETTER_SEND_AFTER=3s and two workers: readers get it with no command, each exactly once', {
    timeout: 60_000,
  }, async () => {
    const loop = await loopReady(30, { NEWSLETTER_SEND_AFTER: '3s' });
    const workers = await Promise.all([loopWorker(loop.config), loopWorker(loop.config)]);
    try {
      await waitFor('a proof to each editor', async () => loop.proofs().length === EDITORS.length);
      const banner = loop.proofs()[0]?.mail.text ?? '';
      const status = await issueStatus(loop.ctx, WEEK);
      expect(status.state === 'scheduled' || status.state === 'sending' || status.state === 'sent').toBe(true);
      // The proof tells the truth as of when it was made: on a busy machine its job may run after
      // the timed send began.
      const flow = await createIssueFlow(loop.ctx.redis, loop.config.REDIS_PREFIX).get(WEEK);
      expect(banner).toContain(
        banner.includes('the list send began at')
          ? `PROOF of ${WEEK}: the list send began at ${flow?.claimedAt}.\nReview`
          : `It goes out by itself at ${status.sendAt}. To stop it: dispatch issue hold ${WEEK}`,
      );
      await waitFor('every reader', async () => loop.readerMail().length >= 30, 20_000);
      await moreFirings(loop, 1);
      expectEachReaderOnce(loop, 30);
      expect(loop.proofs()).toHaveLength(EDITORS.length);
      const ledger = createSendLedger(loop.ctx.redis, loop.config.REDIS_PREFIX);
      expect(await ledger.list()).toEqual([WEEK]);
      const record = await waitFor('the send done', async () => {
        const r = await ledger.get(WEEK);
        return r?.status === 'done' ? r : null;
      });
      expect(record.sent).toBe(30);
      // Its time was stored once: the later firings did not move it.
      expect((await issueStatus(loop.ctx, WEEK)).sendAt).toBe(status.sendAt);
      const listSends = await loop.ctx.queues.send.getJobs(['completed', 'failed', 'delayed', 'wait', 'active']);
      expect(listSends.filter((j) => j.name === 'list-send').map((j) => j.id)).toEqual([`list-send-${WEEK}`]);
    } finally {
      await loop.close(...workers);
    }
  });

  it('a hold placed before its time stops the timed send; release sends it at once', { timeout: 60_000 }, async () => {
    const loop = await loopReady(5, { NEWSLETTER_SEND_AFTER: '2s' });
    // Held before the week is built: the loop still proofs and schedules it, and the timed send,
    // when its time comes, finds the hold and sends nothing.
    expect((await holdIssue(loop.ctx, WEEK, new Date())).state).toBe('held');
    const worker = await loopWorker(loop.config);
    try {
      const ran = await waitFor('the timed send run', async () => {
        // One read of the job: its state asked apart could be newer than the returnvalue read before it.
        const job = await loop.ctx.queues.send.getJob(`list-send-${WEEK}`);
        return job?.finishedOn && !job.failedReason ? job : null;
      });
      expect(ran.returnvalue).toEqual({ week: WEEK, outcome: 'held' });
      await waitFor('a proof to each editor', async () => loop.proofs().length === EDITORS.length);
      expect(loop.proofs().map((m) => m.mail.text)).toEqual(
        EDITORS.map(() =>
          expect.stringContaining(
            `It is held: nothing goes out until an editor releases it: dispatch issue release ${WEEK}`,
          ),
        ),
      );
      await moreFirings(loop, 1);
      expect(loop.readerMail()).toHaveLength(0);
      expect(await createSendLedger(loop.ctx.redis, loop.config.REDIS_PREFIX).get(WEEK)).toBeNull();
      expect((await issueStatus(loop.ctx, WEEK)).state).toBe('held');

      // Its time has passed: released, it goes at once (the finished job of the same id is replaced).
      const released = await releaseIssue(loop.ctx, WEEK, new Date());
      expect(['scheduled', 'sending', 'sent']).toContain(released.state);
      await waitFor('the send done', async () => (await issueStatus(loop.ctx, WEEK)).state === 'sent');
      expectEachReaderOnce(loop, 5);
    } finally {
      await loop.close(worker);
    }
  });

  it('an empty week sends nothing and tells the editors once', { timeout: 30_000 }, async () => {
    const loop = await loopReady(0);
    const worker = await loopWorker(loop.config);
    try {
      await waitFor('the notice', async () => loop.notices().length > 0);
      await moreFirings(loop, 1);
      expect(loop.capture.messages).toHaveLength(1);
      const [notice] = loop.notices();
      expect(notice?.rcptTo.sort()).toEqual([...EDITORS].sort());
      expect(notice?.mail.subject).toBe(`[Dispatch] ${WEEK}: no issue this week (no articles were published)`);
      expect(notice?.mail.text).toContain(`No articles were published in ${WEEK}`);
      expect(notice?.mail.from?.text).toContain('newsletter@example.com');
      expect(rawHeader(notice?.raw ?? '', 'Auto-Submitted')).toBe('auto-generated');
      expect((await issueStatus(loop.ctx, WEEK)).state).toBe('empty');
    } finally {
      await loop.close(worker);
    }
  });

  it('a build that fails for good tells the editors once, with its code', { timeout: 30_000 }, async () => {
    const templatesDir = join(redis.tmp, 'broken-templates');
    cpSync(join(ROOT, 'templates'), templatesDir, { recursive: true });
    writeFileSync(join(templatesDir, 'partials', 'lead.mjml.hbs'), '<mj-section>{{#each issue.lead}}</mj-section>');
    const loop = await loopReady(3, { TEMPLATES_DIR: templatesDir });
    const worker = await loopWorker(loop.config, templatesDir);
    try {
      await waitFor('the notice', async () => loop.notices().length > 0);
      await moreFirings(loop, 1);
      expect(loop.capture.messages).toHaveLength(1);
      const [notice] = loop.notices();
      expect(notice?.mail.subject).toBe(`[Dispatch] ${WEEK}: the issue could not be built (E_TEMPLATE)`);
      expect(notice?.mail.text).toMatch(/^ {4}E_TEMPLATE: .*lead/m);
      const status = await issueStatus(loop.ctx, WEEK);
      expect(status.state).toBe('failed');
      expect(status.error).toMatch(/^E_TEMPLATE: /);
    } finally {
      await loop.close(worker);
    }
  });

  it("an editor's edit shows in the proof sent again and in the sent issue, and survives a rebuild", {
    timeout: 60_000,
  }, async () => {
    // The schedule's firings are added by hand here (a job with no week, as the scheduler adds):
    // a firing's build that read the edits just before one was saved must not race the test.
    const loop = await loopReady(4, { NEWSLETTER_SEND_AFTER: '1d', NEWSLETTER_CRON: '0 0 1 1 *' });
    const worker = await loopWorker(loop.config);
    const fire = async () => {
      const job = await loop.ctx.queues.newsletter.add('newsletter', {});
      await waitFor('the firing built', async () => (await job.getState()) === 'completed');
    };
    try {
      await fire();
      await waitFor('a proof to each editor', async () => loop.proofs().length === EDITORS.length);
      const sendAt = (await issueStatus(loop.ctx, WEEK)).sendAt;
      expect(Date.parse(sendAt ?? '') - Date.now()).toBeGreaterThan(23 * 3_600_000);

      // A hold takes the timed send out of the queue; a release puts it back at its time.
      const timed = () => loop.ctx.queues.send.getJob(`list-send-${WEEK}`);
      expect(await (await timed())?.getState()).toBe('delayed');
      await holdIssue(loop.ctx, WEEK, new Date());
      expect(await timed()).toBeUndefined();
      expect((await releaseIssue(loop.ctx, WEEK, new Date())).state).toBe('scheduled');
      const back = await timed();
      expect(await back?.getState()).toBe('delayed');
      expect((back?.timestamp ?? 0) + (back?.delay ?? 0)).toBeGreaterThan(Date.parse(sendAt ?? '') - 5_000);

      const { start, end } = weekRange(WEEK, 'UTC');
      const articles = await loop.ctx.store.articlesBetween(start, end);
      const usualLead = (await loop.ctx.store.getIssue(WEEK))?.issue.lead.articleId;
      const pinned = articles.find((a) => a.id !== usualLead);
      const dropped = articles.find((a) => a.id !== usualLead && a.id !== pinned?.id);
      if (!pinned || !dropped) throw new Error('the examples have fewer than three stories');

      await expect(
        editIssue(loop.ctx, WEEK, { drop: ['0000000000000000'] }, { now: new Date() }),
      ).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringContaining('"0000000000000000"') });

      const note = 'From the desk: our <b>harbour</b> week, {{email}} and all.';
      const { curation, rebuild } = await editIssue(
        loop.ctx,
        WEEK,
        { lead: pinned.id, drop: [dropped.id], note },
        { now: new Date() },
      );
      expect(curation).toMatchObject({ lead: pinned.id, drop: [dropped.id], note, revision: 1 });
      const rebuilt = await rebuild?.wait();
      expect(rebuilt?.issue.lead.articleId).toBe(pinned.id);
      expect(rebuilt?.curation).toBe(1);

      // The scheduled issue changed: the editors get the proof again, with the edit in it.
      await waitFor('the proof again', async () => loop.proofs().length === 2 * EDITORS.length);
      const second = loop.proofs().at(-1)?.mail;
      expect(second?.text).toContain(note);
      expect(second?.text).not.toContain(dropped.title);
      expect(second?.html).toContain('our &lt;b&gt;harbour&lt;/b&gt; week');

      // A later firing rebuilds the issue from the store: the edit is applied again, no proof goes.
      await fire();
      const again = await loop.ctx.store.getIssue(WEEK);
      expect(Date.parse(again?.builtAt ?? '')).toBeGreaterThan(Date.parse(rebuilt?.builtAt ?? ''));
      expect(again?.issue.lead.articleId).toBe(pinned.id);
      expect(again?.issue.note).toEqual([note]);
      expect(loop.proofs()).toHaveLength(2 * EDITORS.length);

      const approved = await runCli(['issue', 'approve', WEEK], { env: loop.env });
      expect(approved.code, approved.stderr).toBe(0);
      await waitFor('every reader', async () => loop.readerMail().length >= 4);
      expectEachReaderOnce(loop, 4);
      for (const m of loop.readerMail()) {
        expect(m.mail.text).toContain(note);
        expect(m.mail.text).not.toContain(dropped.title);
        expect(m.mail.html).toContain('our &lt;b&gt;harbour&lt;/b&gt; week, &#123;&#123;email&#125;&#125; and all.');
      }
      // Approved: the timed send has nothing left to do.
      expect(await timed()).toBeUndefined();
      await expect(editIssue(loop.ctx, WEEK, { note: 'too late' }, { now: new Date() })).rejects.toMatchObject({
        code: 'E_ISSUE_SENT',
      });
    } finally {
      await loop.close(worker);
    }
  });
});

describe('the loop record (real Redis)', () => {
  it('a hold and a claim exclude each other: whoever wins, a hold that succeeded is never followed by a send', async () => {
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    const flow = createIssueFlow(ctx.redis, config.REDIS_PREFIX);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const week = `2030-W${String(i + 1).padStart(2, '0')}`;
          const [held, claimed] = await Promise.all([
            flow.hold(week, new Date()),
            flow.claim(week, 'schedule', new Date()),
          ]);
          return { held, claimed };
        }),
      );
      for (const { held, claimed } of outcomes) expect(held).toBe(claimed === 'held');
      const record = await flow.get('2030-W01');
      expect(Boolean(record.heldAt)).not.toBe(Boolean(record.claimedAt));
    } finally {
      await ctx.close();
    }
  });

  it("a failed approval drops only its own claim: the timed send's claim stays, and a hold is refused", async () => {
    // Links signed with the default secret for a public PUBLIC_URL: every list send refuses to start.
    const config = testConfig({ PUBLIC_URL: 'https://news.example.com' });
    const ctx = testContext(redis.url, config);
    const flow = createIssueFlow(ctx.redis, config.REDIS_PREFIX);
    try {
      await seedList(ctx.redis, config, 2, 'reader', NOW);
      // The timed send has claimed the week (a worker is starting it) when an editor approves.
      expect(await flow.claim(WEEK, 'schedule', new Date())).toBe('claimed');
      await expect(approveIssue(ctx, WEEK, new Date())).rejects.toMatchObject({ code: 'E_SECRET_DEFAULT' });
      expect((await flow.get(WEEK)).claimedBy).toBe('schedule');
      expect(await flow.hold(WEEK, new Date())).toBe(false);

      // An approval that made the claim itself and fails drops it: the issue can be held again.
      const other = '2026-W47';
      await expect(approveIssue(ctx, other, new Date())).rejects.toMatchObject({ code: 'E_SECRET_DEFAULT' });
      const record = await flow.get(other);
      expect(record.claimedAt).toBeNull();
      expect(record.error).toMatch(/^E_SECRET_DEFAULT: /);
      expect(await flow.hold(other, new Date())).toBe(true);
    } finally {
      await ctx.close();
    }
  });

  it('the timed send never resumes a send an operator paused, and an approval leaves it paused too', async () => {
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    try {
      await seedList(ctx.redis, config, 3, 'reader', NOW);
      await startListSend(ctx, { week: WEEK, rate: 0, now: new Date() });
      await pauseSend(ctx, WEEK);
      expect(await runScheduledSend(ctx, WEEK, new Date(), { lastAttempt: false })).toEqual({
        week: WEEK,
        outcome: 'paused',
      });
      expect((await approveIssue(ctx, WEEK, new Date())).outcome).toBe('paused');
      const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
      expect(await ledger.status(WEEK)).toBe('paused');
      expect((await issueStatus(ctx, WEEK)).state).toBe('paused');
    } finally {
      await ctx.close();
    }
  });

  it('a timed send that fails for good drops its claim, records the code and queues one notice', async () => {
    // Readers reach this PUBLIC_URL from outside: the public default secret would let anyone forge links.
    const config = testConfig({ PUBLIC_URL: 'https://news.example.com', EDITOR_EMAILS: EDITORS.join(',') });
    const ctx = testContext(redis.url, config);
    try {
      await seedList(ctx.redis, config, 3, 'reader', NOW);
      for (const _ of [1, 2]) {
        await expect(runScheduledSend(ctx, WEEK, new Date(), { lastAttempt: false })).rejects.toMatchObject({
          code: 'E_SECRET_DEFAULT',
        });
      }
      const status = await issueStatus(ctx, WEEK);
      expect(status.state).toBe('failed');
      expect(status.error).toMatch(/^E_SECRET_DEFAULT: /);
      const notices = (await ctx.queues.send.getJobs(['wait'])).filter((j) => j.name === 'editor-notice');
      expect(notices.map((j) => j.id)).toEqual([`notice-${WEEK}-send-failed-E_SECRET_DEFAULT`]);
      expect(notices[0]?.data).toMatchObject({ week: WEEK, kind: 'send-failed' });
      // The claim was dropped: the issue can still be held, and nothing was sent.
      expect((await holdIssue(ctx, WEEK, new Date())).state).toBe('held');
      expect(await createSendLedger(ctx.redis, config.REDIS_PREFIX).get(WEEK)).toBeNull();
    } finally {
      await ctx.close();
    }
  });

  it("a notice's detail is one bounded line, whatever the error quoted", () => {
    const config = testConfig();
    const { subject, text } = editorNotice(
      {
        week: '2026-W49',
        kind: 'build-failed',
        detail: `E_TEMPLATE: partials/x.hbs: bad\r\nBcc: victim@example.org\u001b[2J${'x'.repeat(1500)}`,
      },
      config,
    );
    expect(subject).toBe('[Dispatch] 2026-W49: the issue could not be built (E_TEMPLATE)');
    const line = text.split('\n').find((l) => l.startsWith('    E_TEMPLATE'));
    expect(line).toContain('bad Bcc: victim@example.org [2J');
    expect(line?.length).toBeLessThanOrEqual(4 + 600);
    expect(text).not.toContain('\u001b');
    expect(text).not.toMatch(/^Bcc:/m);
  });

  it('a proof is a test send with "[Proof]" and a banner on top of both parts, every value escaped', () => {
    const config = testConfig();
    const rendered = {
      subject: 'The week',
      html: '<!doctype html><html><body style="margin:0"><p>Hi {{firstName}}</p></body></html>',
      text: 'Hi {{firstName}}\n',
      issue: { week: '2026-W49' },
    };
    const recipient = { email: 'ed@example.net', firstName: 'Sam', unsubscribeUrl: 'u', preferencesUrl: 'p' };
    const proof = toMessage(rendered, recipient, config, {
      token: 'proof-token-1',
      testSuffix: 'ab12',
      unsubscribeMailto: 'unsubscribe@example.com',
      proof: { reviewUrl: 'http://preview.test/issues/2026-W49?"><script>x</script>', sendAt: null, held: false },
    });
    expect(proof.subject).toBe('[Proof] The week (ab12)');
    expect(proof.headers['Feedback-ID']).toBe('2026-W49:weekly:test:news.example.com');
    expect(proof.envelopeFrom).toBe('bounces@example.com');
    expect(proof.html).toMatch(
      /^<!doctype html><html><body style="margin:0"><div role="note"[^>]*><strong>Proof of 2026-W49/,
    );
    expect(proof.html).toContain('href="http://preview.test/issues/2026-W49?&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(proof.html).not.toContain('<script>');
    expect(proof.html).toContain('<p>Hi Sam</p>');
    expect(proof.text).toMatch(/^PROOF of 2026-W49: not sent to readers yet\.\n/);
    expect(proof.text.endsWith('\n\nHi Sam\n')).toBe(true);
    const timed = toMessage(rendered, recipient, config, {
      token: 'proof-token-2',
      unsubscribeMailto: 'unsubscribe@example.com',
      proof: { reviewUrl: 'http://preview.test/issues/2026-W49', sendAt: '2026-12-04T11:00:00.000Z', held: false },
    });
    expect(timed.subject).toBe('[Proof] The week');
    const late = toMessage(rendered, recipient, config, {
      token: 'proof-token-3',
      unsubscribeMailto: 'unsubscribe@example.com',
      proof: {
        reviewUrl: 'http://preview.test/issues/2026-W49',
        sendAt: null,
        held: false,
        sendingSince: '2026-12-04T11:00:01.000Z',
      },
    });
    expect(late.text).toMatch(
      /^PROOF of 2026-W49: the list send began at 2026-12-04T11:00:01\.000Z\.\n.*\nIt is going out to the list now\. To follow it: dispatch status\.\n/,
    );
    expect(late.html).toContain('<strong>Proof of 2026-W49: the list send began at 2026-12-04T11:00:01.000Z.</strong>');
    expect(timed.text).toContain(
      'It goes out by itself at 2026-12-04T11:00:00.000Z. To stop it: dispatch issue hold 2026-W49, or Hold on that page.',
    );
  });
});
