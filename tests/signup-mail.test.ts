import { Job } from 'bullmq';
import type { ParsedMail } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { createSendLedger } from '../io/send-ledger.js';
import { createSubscriberStore, type SubscriberStore } from '../io/subscriber-store.js';
import type { Context } from '../jobs/context.js';
import { EXPIRE_PENDING_EVERY_MS, queueSignupMail, type SignupMailPayload } from '../jobs/queues.js';
import type { SignupMailResult } from '../jobs/signup-mail.job.js';
import { archivePage } from '../serve/archive-page.js';
import type { Config } from '../src/config.js';
import { checkConfirmToken } from '../src/links/confirm-token.js';
import { bounceAddressOf, readMessageId, readVerpAddress, subscriberId } from '../src/links/mail-tags.js';
import { verifyUnsubscribeToken } from '../src/links/unsubscribe-token.js';
import { testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { seedList } from './helpers/seed-list.js';
import { type CapturedMessage, rawHeader, startSmtpCapture } from './helpers/smtp-capture.js';

const redis = useTestRedis('signup-mail');

const NOW = new Date();
const HOUR = 3_600_000;

/** Adds a signup-mail job and waits for it to finish; its result, or the reason it failed. */
async function runSignupMail(ctx: Context, payload: SignupMailPayload): Promise<SignupMailResult> {
  const added = await ctx.queues.send.add('signup-mail', payload);
  const id = added.id as string;
  // Finished for good: a failed attempt that will be retried is not.
  const state = await waitFor(`signup-mail job ${id}`, async () => {
    const now = await ctx.queues.send.getJobState(id);
    return now === 'completed' || now === 'failed' ? now : null;
  });
  const done = await Job.fromId(ctx.queues.send, id);
  if (state === 'failed') throw new Error(`signup-mail failed: ${done?.failedReason}`);
  return done?.returnvalue as SignupMailResult;
}

/** A Redis context, a subscriber store and a worker whose mail goes to `smtpPort`. */
async function setup(smtpPort: number, overrides: Record<string, string> = {}, now: () => Date = () => NOW) {
  const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, ...overrides });
  const ctx = testContext(redis.url, config);
  const subscribers = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
  const worker = await testWorker(redis.url, config, { now });
  return {
    config,
    ctx,
    subscribers,
    worker,
    async close() {
      await worker.close();
      await ctx.close();
    },
  };
}

async function signUp(subscribers: SubscriberStore, email: string, name: string | null, until = NOW.getTime() + HOUR) {
  const result = await subscribers.signUp(
    { email, name, source: 'form', ip: '192.0.2.1', userAgent: 'test' },
    NOW,
    new Date(until),
  );
  if (result.outcome !== 'pending') throw new Error(`expected a pending sign-up, got ${result.outcome}`);
  return result.nonce;
}

/** The confirm link of a mail's text part, and every confirm link its HTML holds. */
function confirmLinks(config: Config, mail: ParsedMail) {
  const base = config.PUBLIC_URL.replace(/[.]/g, '\\.');
  const pattern = new RegExp(`${base}/confirm/([A-Za-z0-9_.-]+)`, 'g');
  return {
    text: [...(mail.text ?? '').matchAll(pattern)].map((m) => m[0]),
    html: [...(typeof mail.html === 'string' ? mail.html : '').matchAll(pattern)].map((m) => m[0]),
  };
}

describe('the confirmation mail', () => {
  it('reaches a pending reader with one working link in both parts, from their own signed bounce address', async () => {
    const sink = await startSmtpCapture();
    const { config, ctx, subscribers, close } = await setup(sink.port);
    try {
      const nonce = await signUp(subscribers, 'ana@example.org', 'Ana Lovelace');
      await queueSignupMail(ctx.queues, { kind: 'confirm', email: 'ana@example.org' });
      const [message] = await waitFor('the confirmation mail', async () =>
        sink.messages.length > 0 ? sink.messages : null,
      );
      if (!message) throw new Error('no message');
      const { mail, raw } = message;

      expect(message.rcptTo).toEqual(['ana@example.org']);
      expect(mail.from?.text).toBe('"The Example Times" <newsletter@example.com>');
      expect(mail.subject).toBe('Confirm your subscription to The Example Times');
      // Signed for the reader, with no week: a complaint about it that hides the address still names them.
      expect(readMessageId(mail.messageId ?? '', config.UNSUBSCRIBE_SECRET)).toEqual({
        id: subscriberId('ana@example.org'),
        week: null,
      });
      expect(rawHeader(raw, 'Auto-Submitted')).toBe('auto-generated');
      // Not a list mail: its reader is on no list yet.
      expect(rawHeader(raw, 'List-Unsubscribe')).toBeUndefined();
      // The name was typed by whoever filled the form, not necessarily the address's owner.
      expect(raw).not.toContain('Lovelace');
      expect(mail.text).not.toContain('Lovelace');

      // The envelope sender is the reader's VERP address, signed, with no issue's week.
      expect(readVerpAddress(message.mailFrom, bounceAddressOf(config), config.UNSUBSCRIBE_SECRET)).toEqual({
        id: subscriberId('ana@example.org'),
        week: null,
      });
      expect(readVerpAddress(message.mailFrom, bounceAddressOf(config), 'another-secret-of-16+')).toBeNull();

      const links = confirmLinks(config, mail);
      expect(links.text).toHaveLength(1);
      expect(links.html.length).toBeGreaterThanOrEqual(1);
      expect(new Set(links.html)).toEqual(new Set(links.text));
      const token = (links.text[0] as string).split('/confirm/')[1] as string;
      const check = checkConfirmToken(token, config.UNSUBSCRIBE_SECRET, new Date(), config.SIGNUP_CONFIRM_HOURS * HOUR);
      expect(check).toMatchObject({ ok: true, claim: { email: 'ana@example.org', nonce } });
      if (!check.ok) return;

      expect((await subscribers.get('ana@example.org'))?.status).toBe('pending');
      expect(await subscribers.confirm(check.claim.email, check.claim.nonce, new Date())).toBe('confirmed');
      expect((await subscribers.get('ana@example.org'))?.status).toBe('active');
      expect((await subscribers.trail('ana@example.org')).map((e) => e.event)).toEqual([
        'signed-up',
        'confirmation-sent',
        'confirmed',
      ]);
    } finally {
      await close();
      await sink.close();
    }
  });

  it('sends nothing for a reader who is not pending (confirmed, imported, gone) and no welcome to one who is not active', async () => {
    const sink = await startSmtpCapture();
    const { ctx, subscribers, close } = await setup(sink.port);
    try {
      const nonce = await signUp(subscribers, 'ben@example.org', null);
      await subscribers.confirm('ben@example.org', nonce, NOW);
      await subscribers.importSubscribers([{ email: 'cy@example.org', name: 'Cy', fields: {} }], NOW);
      await signUp(subscribers, 'dee@example.org', null);
      await subscribers.suppress('dee@example.org', NOW);
      await signUp(subscribers, 'eve@example.org', null);

      for (const email of ['ben@example.org', 'cy@example.org', 'dee@example.org', 'nobody@example.org']) {
        expect(await runSignupMail(ctx, { kind: 'confirm', email }), email).toMatchObject({
          kind: 'confirm',
          reader: subscriberId(email),
          outcome: 'skipped',
        });
      }
      for (const email of ['eve@example.org', 'dee@example.org', 'nobody@example.org']) {
        expect((await runSignupMail(ctx, { kind: 'welcome', email })).outcome, email).toBe('skipped');
      }
      // Each job above finished before the next was added: any mail it sent has arrived.
      expect(sink.messages).toHaveLength(0);
      expect((await subscribers.trail('eve@example.org')).map((e) => e.event)).toEqual(['signed-up']);
    } finally {
      await close();
      await sink.close();
    }
  });

  it('an address refused for good (550) ends the unconfirmed sign-up; a 451 is retried and delivered once', async () => {
    const refuse = new Map([
      ['gone@example.org', { code: 550, times: Number.POSITIVE_INFINITY }],
      ['later@example.org', { code: 451, times: 1 }],
    ]);
    const sink = await startSmtpCapture(refuse);
    const { ctx, subscribers, close } = await setup(sink.port);
    try {
      await signUp(subscribers, 'gone@example.org', null);
      await signUp(subscribers, 'later@example.org', null);
      const refused = await runSignupMail(ctx, { kind: 'confirm', email: 'gone@example.org' });
      expect(refused.outcome).toBe('refused');
      // A sign-up never confirmed, of an address that does not exist: nothing of it is kept.
      expect(await subscribers.get('gone@example.org')).toBeNull();
      expect(await subscribers.trail('gone@example.org')).toEqual([]);
      expect((await subscribers.list()).map((s) => s.email)).not.toContain('gone@example.org');

      const later = await runSignupMail(ctx, { kind: 'confirm', email: 'later@example.org' });
      expect(later.outcome).toBe('sent');
      expect(refuse.get('later@example.org')?.times).toBe(0);
      expect(sink.messages.map((m) => m.rcptTo)).toEqual([['later@example.org']]);
    } finally {
      await close();
      await sink.close();
    }
  });
});

describe('the welcome mail', () => {
  it('carries the unsubscribe headers, and the latest issue page only once a send of it has started', async () => {
    const sink = await startSmtpCapture();
    const { config, ctx, subscribers, close } = await setup(sink.port);
    try {
      const nonce = await signUp(subscribers, 'fay@example.org', 'Fay');
      expect(await subscribers.confirm('fay@example.org', nonce, NOW)).toBe('confirmed');
      // An issue built and stored, but not sent: private still, so not linked.
      const week = await seedList(ctx.redis, config, 1, 'reader', NOW);

      const first = await runSignupMail(ctx, { kind: 'welcome', email: 'fay@example.org' });
      expect(first).toMatchObject({ outcome: 'sent', archiveWeek: null });
      const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
      expect(await ledger.start(week, ['reader0@example.org'], { batchSize: 100, rate: 0, now: NOW })).toBe(true);
      const second = await runSignupMail(ctx, { kind: 'welcome', email: 'fay@example.org' });
      expect(second).toMatchObject({ outcome: 'sent', archiveWeek: week });

      const [without, withLink] = sink.messages as [CapturedMessage, CapturedMessage];
      expect(without.mail.subject).toBe('Welcome to The Example Times weekly');
      expect(without.mail.text).toContain('Welcome, Fay');
      expect(`${without.raw}`).not.toContain('/archive/');
      const archiveUrl = `${config.PUBLIC_URL}/archive/${week}`;
      expect(withLink.mail.text).toContain(`here is the latest issue:\n${archiveUrl}\n`);
      expect(withLink.mail.html).toContain(`href="${archiveUrl}"`);
      // The link leads to a page that exists.
      const page = await archivePage(week, { store: ctx.store, ledger, config, now: NOW });
      expect(page.status).toBe(200);

      for (const { raw, mail, mailFrom } of [without, withLink]) {
        const unsubscribe =
          /^<(http:\/\/127\.0\.0\.1:3001\/unsubscribe\/([\w.-]+))>, <mailto:unsubscribe@example\.com\?subject=unsubscribe>$/.exec(
            rawHeader(raw, 'List-Unsubscribe') ?? '',
          );
        expect(unsubscribe, rawHeader(raw, 'List-Unsubscribe')).not.toBeNull();
        expect(verifyUnsubscribeToken(unsubscribe?.[2] ?? '', config.UNSUBSCRIBE_SECRET)).toBe('fay@example.org');
        expect(rawHeader(raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
        expect(rawHeader(raw, 'Auto-Submitted')).toBe('auto-generated');
        expect(mail.html).toContain(`href="${unsubscribe?.[1]}"`);
        expect(mail.text).toContain(`Unsubscribe:\n${unsubscribe?.[1]}\n`);
        expect(readVerpAddress(mailFrom, bounceAddressOf(config), config.UNSUBSCRIBE_SECRET)?.id).toBe(
          subscriberId('fay@example.org'),
        );
      }
      expect(without.mail.messageId).not.toBe(withLink.mail.messageId);
      expect((await subscribers.trail('fay@example.org')).filter((e) => e.event === 'welcome-sent')).toHaveLength(2);
    } finally {
      await close();
      await sink.close();
    }
  });

  it('prints a hostile name and site name escaped in HTML and verbatim in text, never as template syntax', async () => {
    const sink = await startSmtpCapture();
    const site = 'Times {{> x}} <b>"&';
    const { ctx, subscribers, close } = await setup(sink.port, { SITE_NAME: site });
    try {
      // The store keeps a name as it was given (an import does not clean it as the form does): a
      // line break in it must not add a line to the mail.
      const name = '{{x}} {{{y}}} <script>alert(1)</script> back\\slash\r\nP.S. visit evil.example';
      const shown = '{{x}} {{{y}}} <script>alert(1)</script> back\\slash P.S. visit evil.example';
      const nonce = await signUp(subscribers, 'gil@example.org', name);
      await subscribers.confirm('gil@example.org', nonce, NOW);
      expect((await runSignupMail(ctx, { kind: 'welcome', email: 'gil@example.org' })).outcome).toBe('sent');
      const { mail } = sink.messages[0] as CapturedMessage;
      const html = typeof mail.html === 'string' ? mail.html : '';

      expect(mail.subject).toBe(`Welcome to ${site} weekly`);
      expect(mail.text).toContain(`\nWelcome, ${shown}\n`);
      expect(mail.text).toContain(`the weekly newsletter from ${site}.`);
      expect(html).toContain(
        'Welcome, &#123;&#123;x&#125;&#125; &#123;&#123;&#123;y&#125;&#125;&#125; &lt;script&gt;alert(1)&lt;/script&gt; back\\slash P.S.',
      );
      expect(html).toContain('Times &#123;&#123;&gt; x&#125;&#125; &lt;b&gt;&quot;&amp;');
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('<b>');
    } finally {
      await close();
      await sink.close();
    }
  });
});

describe('pending sign-ups expire', () => {
  it('the "expire-pending" scheduler of the send queue removes a sign-up past its time and keeps a fresh one', async () => {
    const sink = await startSmtpCapture();
    // The worker's clock is two hours on: one sign-up ran out an hour ago, the other has a day left.
    const later = new Date(NOW.getTime() + 2 * HOUR);
    const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${sink.port}` });
    const ctx = testContext(redis.url, config);
    const subscribers = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
    await signUp(subscribers, 'old@example.org', null, NOW.getTime() + HOUR);
    await signUp(subscribers, 'new@example.org', null, NOW.getTime() + 26 * HOUR);
    const worker = await testWorker(redis.url, config, { now: () => later });
    try {
      const scheduler = await ctx.queues.send.getJobScheduler('expire-pending');
      expect(scheduler).toMatchObject({ name: 'expire-pending', every: EXPIRE_PENDING_EVERY_MS });
      // Its next run waits for the next slot (up to a period away): run that job now.
      const states = ['delayed', 'waiting', 'active', 'completed', 'failed'] as const;
      const [next] = (await ctx.queues.send.getJobs([...states])).filter((j) => j.name === 'expire-pending');
      if (!next) throw new Error('no expire-pending job scheduled');
      // (Unless the test started right on a slot, and it has run already.)
      if ((await next.getState()) === 'delayed') await next.promote();
      const done = await waitFor('the expire-pending job', async () => {
        const state = await ctx.queues.send.getJobState(next.id as string);
        return state === 'completed' || state === 'failed'
          ? await Job.fromId(ctx.queues.send, next.id as string)
          : null;
      });
      expect(done.failedReason).toBeUndefined();
      expect(done.returnvalue).toEqual({ expired: 1 });
      expect(await subscribers.get('old@example.org')).toBeNull();
      expect((await subscribers.get('new@example.org'))?.status).toBe('pending');
      expect(sink.messages).toHaveLength(0);
    } finally {
      await worker.close();
      await ctx.close();
      await sink.close();
    }
  });
});
