import type { Server } from 'node:http';
import type { ParsedMail } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '../io/listen.js';
import { freePort } from '../io/managed-redis.js';
import { createSendLedger } from '../io/send-ledger.js';
import { createSubscriberStore, type SubscriberStore } from '../io/subscriber-store.js';
import { startListSend } from '../jobs/list-send.js';
import type { RunningWorker } from '../jobs/run-worker.js';
import { createServeApp, serveOptionsOn } from '../serve/app.js';
import type { Config } from '../src/config.js';
import { httpRequest, type RawResponse } from './helpers/http-request.js';
import { testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { seedList } from './helpers/seed-list.js';
import { type CapturedMessage, rawHeader, startSmtpCapture } from './helpers/smtp-capture.js';

/**
 * The reader's sign-up from end to end, with every part real: the serve app on a port of its own
 * (PUBLIC_URL points at it, so the links in the mails lead back to it), a worker on a real
 * redis-server sending through nodemailer to a real SMTP server, whose messages are parsed with
 * mailparser. Nothing is called behind the app's back: the test does what a reader and their mail
 * client do, and reads the store only to see what happened.
 */

const redis = useTestRedis('signup-flow');
const SECRET = 'c7e24a9b0d13f58e6a2b9c4d1e0f7a38';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface Flow {
  config: Config;
  ctx: ReturnType<typeof testContext>;
  subscribers: SubscriberStore;
  /** The serve app, as PUBLIC_URL names it: http://127.0.0.1:<port> */
  base: string;
  sink: Awaited<ReturnType<typeof startSmtpCapture>>;
}

const running: { worker: RunningWorker; server: Server; ctx: Flow['ctx']; sink: Flow['sink'] }[] = [];
afterEach(async () => {
  for (const { worker, server, ctx, sink } of running.splice(0)) {
    await worker.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await ctx.close();
    await sink.close();
  }
});

/**
 * The sink, then the serve app on a port picked first (PUBLIC_URL must name it before the config
 * is made, and both the app and the worker build links from it), then the worker; a key prefix
 * of their own for each test, so readers, limits and queues start empty.
 */
async function startFlow(): Promise<Flow> {
  const sink = await startSmtpCapture();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = testConfig({
    PUBLIC_URL: base,
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    UNSUBSCRIBE_SECRET: SECRET,
  });
  const ctx = testContext(redis.url, config);
  const server = createServeApp(serveOptionsOn(ctx, { host: '127.0.0.1', port }));
  try {
    await listen(server, { host: '127.0.0.1', port, what: 'the test serve app', setting: 'none' });
  } catch (error) {
    await ctx.close();
    await sink.close();
    throw error;
  }
  let worker: RunningWorker;
  try {
    worker = await testWorker(redis.url, config);
  } catch (error) {
    await new Promise((done) => server.close(done));
    await ctx.close();
    await sink.close();
    throw error;
  }
  running.push({ worker, server, ctx, sink });
  return { config, ctx, subscribers: createSubscriberStore(ctx.redis, config.REDIS_PREFIX), base, sink };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

function subscribe(flow: Flow, fields: Record<string, string>): Promise<RawResponse> {
  return httpRequest(flow.base, '/subscribe', { method: 'POST', headers: FORM, body: form(fields) });
}

/** What makes two answers the same to whoever posted: status, type, length and every byte of the body. */
function answerOf(response: RawResponse) {
  return {
    status: response.status,
    type: response.headers['content-type'],
    length: response.headers['content-length'],
    body: response.body,
  };
}

function mailsTo(flow: Flow, email: string): CapturedMessage[] {
  return flow.sink.messages.filter((m) => m.rcptTo.includes(email));
}

/**
 * Waits until the send queue has no sign-up mail or list batch still to run (waiting, active, or
 * delayed for a retry): every mail queued so far has then reached the sink, or never will, and
 * every trail line a job writes after sending is written. The scheduled expire-pending job is
 * always delayed, and is not waited for.
 */
async function settled(flow: Flow): Promise<void> {
  await waitFor('the send queue to have nothing left to run', async () => {
    const jobs = await flow.ctx.queues.send.getJobs(['wait', 'active', 'delayed', 'prioritized']);
    const left = jobs.filter((job) => job.name !== 'expire-pending');
    return left.length === 0 ? true : null;
  });
}

/** The sign-up mails ever queued for `email`, of every state. */
async function signupJobsFor(flow: Flow, email: string): Promise<string[]> {
  const jobs = await flow.ctx.queues.send.getJobs(['wait', 'active', 'delayed', 'prioritized', 'completed', 'failed']);
  return jobs
    .filter((job) => job.name === 'signup-mail' && (job.data as { email?: string }).email === email)
    .map((job) => (job.data as { kind: string }).kind);
}

/** Every PUBLIC_URL/confirm/<token> link in the mail's text part and in its HTML part. */
function confirmLinks(flow: Flow, mail: ParsedMail): { text: string[]; html: string[] } {
  const pattern = new RegExp(`${flow.base.replace(/[.]/g, '\\.')}/confirm/[A-Za-z0-9._-]+`, 'g');
  return {
    text: [...(mail.text ?? '').matchAll(pattern)].map((m) => m[0]),
    html: [...(typeof mail.html === 'string' ? mail.html : '').matchAll(pattern)].map((m) => m[0]),
  };
}

/** Signs `email` up through the form, waits for its confirmation mail, and returns the link in it. */
async function signUpAndGetLink(flow: Flow, email: string, name = 'Reader'): Promise<string> {
  const answer = await subscribe(flow, { email, name });
  expect(answer.status, answer.body).toBe(200);
  const [message] = await waitFor(`the confirmation mail to ${email}`, async () => {
    const got = mailsTo(flow, email);
    return got.length > 0 ? got : null;
  });
  // The trail line "confirmation-sent" is written after the mail went: wait for the job to finish.
  await settled(flow);
  const links = confirmLinks(flow, (message as CapturedMessage).mail);
  expect(links.text, 'the text part').toHaveLength(1);
  return links.text[0] as string;
}

/** The path of a link to the serve app (httpRequest sends the path as given). */
const pathOf = (link: string) => new URL(link).pathname;

const confirmPost = (flow: Flow, link: string) =>
  httpRequest(flow.base, pathOf(link), { method: 'POST', headers: FORM, body: '' });

describe('the sign-up lifecycle, end to end', () => {
  it('sign-up, one confirmation mail, GET asks, POST confirms, one welcome, one-click unsubscribe', async () => {
    const flow = await startFlow();
    const email = 'ana@example.org';

    const answer = await subscribe(flow, { email, name: 'Ana' });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Check your inbox');
    await waitFor('the confirmation mail', async () => (mailsTo(flow, email).length > 0 ? true : null));
    await settled(flow);
    expect(flow.sink.messages.map((m) => m.rcptTo)).toEqual([[email]]);
    const confirmation = flow.sink.messages[0] as CapturedMessage;
    const links = confirmLinks(flow, confirmation.mail);
    expect(links.text).toHaveLength(1);
    expect(links.html.length, 'confirm links in the HTML part').toBeGreaterThanOrEqual(1);
    expect(new Set(links.html)).toEqual(new Set(links.text));
    const link = links.text[0] as string;
    expect(link.startsWith(`${flow.base}/confirm/`)).toBe(true);

    // A GET only asks: link scanners follow every link in a mail.
    const asked = await httpRequest(flow.base, pathOf(link));
    expect(asked.status).toBe(200);
    expect(asked.body).toContain('<form method="post"><button type="submit">Confirm my subscription</button></form>');
    expect((await flow.subscribers.get(email))?.status).toBe('pending');

    const confirmed = await confirmPost(flow, link);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toContain('You are subscribed');
    const ana = await flow.subscribers.get(email);
    expect(ana?.status).toBe('active');
    expect(ana?.confirmedAt).toBeTruthy();

    await waitFor('the welcome mail', async () => (mailsTo(flow, email).length >= 2 ? true : null));
    await settled(flow);
    expect(flow.sink.messages.map((m) => m.rcptTo)).toEqual([[email], [email]]);
    const welcome = flow.sink.messages[1] as CapturedMessage;
    expect(welcome.mail.subject).toMatch(/^Welcome/);
    const listUnsubscribe = rawHeader(welcome.raw, 'List-Unsubscribe') ?? '';
    const oneClick = /<(https?:\/\/[^>]+)>/.exec(listUnsubscribe)?.[1];
    expect(oneClick, listUnsubscribe).toBeDefined();
    expect(oneClick?.startsWith(`${flow.base}/unsubscribe/`), oneClick).toBe(true);
    expect(rawHeader(welcome.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');

    // RFC 8058: what a mail client sends, with no cookie, no page and no button.
    const left = await httpRequest(flow.base, pathOf(oneClick as string), {
      method: 'POST',
      headers: FORM,
      body: 'List-Unsubscribe=One-Click',
    });
    expect(left.status, left.body).toBe(200);
    expect((await flow.subscribers.get(email))?.status).toBe('unsubscribed');
    // What `dispatch subscribers show` prints as the trail.
    expect((await flow.subscribers.trail(email)).map((e) => e.event)).toEqual([
      'signed-up',
      'confirmation-sent',
      'confirmed',
      'welcome-sent',
      'unsubscribed',
    ]);
    await settled(flow);
    expect(flow.sink.messages).toHaveLength(2);
  });

  it('the same address posted again while pending, in any case and spacing, gets the same answer and no second mail', async () => {
    const flow = await startFlow();
    const email = 'ben@example.org';
    const first = await subscribe(flow, { email, name: 'Ben' });
    expect(first.status).toBe(200);
    await waitFor('the first confirmation mail', async () => (mailsTo(flow, email).length > 0 ? true : null));

    const again: RawResponse[] = [];
    for (const typed of ['ben@example.org', 'Ben@Example.ORG', '  BEN@example.org\t']) {
      again.push(await subscribe(flow, { email: typed, name: 'Ben' }));
    }
    for (const [i, answer] of again.entries()) expect(answerOf(answer), `post ${i + 2}`).toEqual(answerOf(first));
    // Any job those posts queued is in the queue by now (queued before the answer): let it run.
    await settled(flow);
    expect(mailsTo(flow, email)).toHaveLength(1);
    expect(flow.sink.messages).toHaveLength(1);
    expect(await signupJobsFor(flow, email)).toEqual(['confirm']);
    expect((await flow.subscribers.list()).map((s) => [s.email, s.status])).toEqual([[email, 'pending']]);
  });

  it('a post with the honeypot filled gets the answer a real sign-up gets, and stores and sends nothing', async () => {
    const flow = await startFlow();
    const email = 'cy@example.org';
    const bot = await subscribe(flow, { email, name: 'Cy', website: 'https://spam.example' });
    expect(await flow.subscribers.get(email)).toBeNull();
    await settled(flow);
    expect(await signupJobsFor(flow, email)).toEqual([]);
    expect(flow.sink.messages).toHaveLength(0);

    // The same post by a person: the bot could not tell the two apart.
    const person = await subscribe(flow, { email, name: 'Cy' });
    expect(answerOf(bot)).toEqual(answerOf(person));
    expect(person.body).toContain('Check your inbox');
    // And that one does what the bot's did not: a record and a mail.
    expect((await flow.subscribers.get(email))?.status).toBe('pending');
    await waitFor('the real confirmation mail', async () => (mailsTo(flow, email).length > 0 ? true : null));
    await settled(flow);
    expect(flow.sink.messages).toHaveLength(1);
  });

  it('a confirm link with one character of its signature changed gets a clear error page and changes nothing', async () => {
    const flow = await startFlow();
    const email = 'dee@example.org';
    const link = await signUpAndGetLink(flow, email);
    const token = link.split('/confirm/')[1] as string;
    const parts = token.split('.');
    expect(parts).toHaveLength(4);
    const signature = parts[3] as string;
    const changed = signature[0] === 'A' ? 'B' : 'A';
    const forged = `${flow.base}/confirm/${[...parts.slice(0, 3), changed + signature.slice(1)].join('.')}`;
    expect(forged).not.toBe(link);

    const before = { record: await flow.subscribers.get(email), trail: await flow.subscribers.trail(email) };
    const asked = await httpRequest(flow.base, pathOf(forged));
    const posted = await confirmPost(flow, forged);
    for (const [method, answer] of [
      ['GET', asked],
      ['POST', posted],
    ] as const) {
      expect(answer.status, method).toBeGreaterThanOrEqual(400);
      expect(answer.status, method).toBeLessThan(500);
      expect(answer.body, method).toContain('This link is not valid');
      expect(answer.body, method).not.toContain('You are subscribed');
    }
    expect(await flow.subscribers.get(email)).toEqual(before.record);
    expect(await flow.subscribers.trail(email)).toEqual(before.trail);
    await settled(flow);
    expect(await signupJobsFor(flow, email)).toEqual(['confirm']);
    expect(flow.sink.messages).toHaveLength(1);

    // The genuine link was not spent by the forgeries.
    expect((await confirmPost(flow, link)).body).toContain('You are subscribed');
    expect((await flow.subscribers.get(email))?.status).toBe('active');
  });

  it('a list send after confirming reaches the new reader, and not one still pending', async () => {
    const flow = await startFlow();
    const week = await seedList(flow.ctx.redis, flow.config, 0, 'reader', new Date());
    const link = await signUpAndGetLink(flow, 'eve@example.org');
    await signUpAndGetLink(flow, 'fin@example.org');
    expect((await confirmPost(flow, link)).status).toBe(200);
    await waitFor('the welcome mail', async () => (mailsTo(flow, 'eve@example.org').length >= 2 ? true : null));
    await settled(flow);

    expect(await flow.subscribers.activeEmails()).toEqual(['eve@example.org']);
    const report = await startListSend(flow.ctx, { week, rate: 0, now: new Date() });
    expect(report.outcome).toBe('started');
    const ledger = createSendLedger(flow.ctx.redis, flow.config.REDIS_PREFIX);
    await waitFor('the list send to finish', async () => ((await ledger.get(week))?.status === 'done' ? true : null));
    await settled(flow);

    const toEve = mailsTo(flow, 'eve@example.org');
    expect(toEve).toHaveLength(3);
    const issue = toEve[2] as CapturedMessage;
    expect(rawHeader(issue.raw, 'List-Unsubscribe') ?? '').toContain(`<${flow.base}/unsubscribe/`);
    expect(issue.mail.subject).not.toMatch(/^(Welcome|Confirm)/);
    expect(mailsTo(flow, 'fin@example.org')).toHaveLength(1);
    expect(flow.sink.messages).toHaveLength(4);
  });
});
