import type { Server } from 'node:http';
import { parseHTML } from 'linkedom';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '../io/listen.js';
import { signupLimitPrefix } from '../io/signup-limits.js';
import { createSubscriberStore, type SubscriberStatus, type SubscriberStore } from '../io/subscriber-store.js';
import { createServeApp, serveOptionsOn } from '../serve/app.js';
import type { Config } from '../src/config.js';
import { confirmToken } from '../src/links/confirm-token.js';
import { subscriberId } from '../src/links/mail-tags.js';
import { unsubscribeToken } from '../src/links/unsubscribe-token.js';
import { httpRequest, type RawResponse } from './helpers/http-request.js';
import { cliEnv, testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { runCli } from './helpers/run-cli.js';

const redis = useTestRedis('signup-serve');
const SECRET = '5b0c9e2f7a1d48c3b6e0f9a2d7c4b1e8';
const HOST = 'news.example.org';
const SITE = 'https://www.example.org';
const FORM = { 'content-type': 'application/x-www-form-urlencoded', host: HOST };
const JSON_API = { 'content-type': 'application/json', accept: 'application/json', host: HOST };

interface App {
  config: Config;
  ctx: ReturnType<typeof testContext>;
  store: SubscriberStore;
  base: string;
  /** Moves the app's clock on (the hosted form's fill time). */
  advance(ms: number): void;
}

const running: { server: Server; ctx: ReturnType<typeof testContext> }[] = [];
afterEach(async () => {
  for (const { server, ctx } of running.splice(0)) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await ctx.close();
  }
});

/** A serve app on the test Redis, with a key prefix (so limits and readers) of its own. */
async function startApp(overrides: Record<string, string> = {}): Promise<App> {
  const config = testConfig({
    PUBLIC_URL: `https://${HOST}`,
    SITE_URL: SITE,
    UNSUBSCRIBE_SECRET: SECRET,
    SIGNUP_IP_PER_HOUR: '1000',
    ...overrides,
  });
  const ctx = testContext(redis.url, config);
  let offset = 0;
  const server = createServeApp(
    serveOptionsOn(ctx, { host: '127.0.0.1', port: 0, now: () => new Date(Date.now() + offset) }),
  );
  const { port } = await listen(server, { host: '127.0.0.1', port: 0, what: 'test', setting: 'none' });
  running.push({ server, ctx });
  return {
    config,
    ctx,
    store: createSubscriberStore(ctx.redis, config.REDIS_PREFIX),
    base: `http://127.0.0.1:${port}`,
    advance: (ms) => {
      offset += ms;
    },
  };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

function post(app: App, body: string, headers: Record<string, string> = FORM): Promise<RawResponse> {
  return httpRequest(app.base, '/subscribe', { method: 'POST', headers, body });
}

/** The sign-up mails queued, in the order queued (no worker runs here: they stay in the queue). */
async function signupMails(app: App): Promise<{ kind: string; email: string }[]> {
  const jobs = await app.ctx.queues.send.getJobs(['wait', 'delayed', 'prioritized', 'active', 'completed']);
  return jobs
    .filter((job) => job.name === 'signup-mail')
    .sort((a, b) => a.timestamp - b.timestamp || Number(a.id) - Number(b.id))
    .map((job) => job.data as { kind: string; email: string });
}

/** The hosted page's signed fill-time field. */
async function startedField(app: App): Promise<string> {
  const page = await httpRequest(app.base, '/subscribe', { headers: { host: HOST } });
  const value = parseHTML(page.body).document.querySelector('input[name="started"]')?.getAttribute('value');
  if (!value) throw new Error(`no fill-time field on the sign-up page: ${page.body}`);
  return value;
}

async function confirmLink(app: App, email: string, issuedAt = Date.now()): Promise<string> {
  const nonce = await app.store.pendingNonce(email);
  if (!nonce) throw new Error(`${email} is not pending`);
  return `/confirm/${confirmToken({ email, nonce, issuedAt }, SECRET)}`;
}

describe('POST /subscribe', () => {
  it('answers a new, pending (mail limited), active and complained address byte for byte the same', async () => {
    const app = await startApp();
    const email = 'ana@example.org';
    const answers: Record<string, { form: RawResponse; json: RawResponse }> = {};
    const ask = async (state: string) => {
      answers[state] = {
        form: await post(app, form({ email, name: 'Ana' })),
        json: await post(app, JSON.stringify({ email, name: 'Ana' }), JSON_API),
      };
    };
    await ask('new');
    expect((await app.store.get(email))?.status).toBe('pending');
    await ask('pending');
    const nonce = await app.store.pendingNonce(email);
    expect(await app.store.confirm(email, nonce ?? '', new Date())).toBe('confirmed');
    await ask('active');
    expect((await app.store.get(email))?.status).toBe('active');
    await app.store.markComplained(email, 'abuse', new Date());
    await ask('complained');
    expect((await app.store.get(email))?.status).toBe('complained');

    const first = answers.new as { form: RawResponse; json: RawResponse };
    expect(first.form.status).toBe(200);
    expect(first.form.body).toContain('Check your inbox');
    expect(JSON.parse(first.json.body)).toEqual({ ok: true });
    for (const [state, answer] of Object.entries(answers)) {
      for (const kind of ['form', 'json'] as const) {
        const one = answer[kind];
        const other = first[kind];
        expect(one.status, `${state} ${kind}`).toBe(other.status);
        expect(one.body, `${state} ${kind}`).toBe(other.body);
        expect(one.headers['content-type'], `${state} ${kind}`).toBe(other.headers['content-type']);
        expect(one.headers['content-length'], `${state} ${kind}`).toBe(other.headers['content-length']);
      }
    }
    // One confirmation in all: the first post; the rest were within the window, or on the list.
    expect(await signupMails(app)).toEqual([{ kind: 'confirm', email }]);
  });

  it('queues one confirmation per address per window, with the same link, however often it is posted', async () => {
    const app = await startApp({ SIGNUP_MAIL_WINDOW_MINUTES: '30' });
    for (let i = 0; i < 5; i++) expect((await post(app, form({ email: 'Ben@Example.org ' }))).status).toBe(200);
    await post(app, form({ email: 'cy@example.org' }));
    expect(await signupMails(app)).toEqual([
      { kind: 'confirm', email: 'ben@example.org' },
      { kind: 'confirm', email: 'cy@example.org' },
    ]);
    const nonce = await app.store.pendingNonce('ben@example.org');
    const counter = `${signupLimitPrefix(app.config.REDIS_PREFIX, 'mail')}:${subscriberId('ben@example.org')}`;
    const ttl = await app.ctx.redis.pttl(counter);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);

    // The window over (its counter gone): the next post sends again, for the same pending sign-up.
    await app.ctx.redis.del(counter);
    await post(app, form({ email: 'ben@example.org' }));
    expect((await signupMails(app)).filter((m) => m.email === 'ben@example.org')).toHaveLength(2);
    expect(await app.store.pendingNonce('ben@example.org')).toBe(nonce);
  });

  it('answers a filled honeypot, or the hosted form posted faster than a person could, like a success, and does nothing', async () => {
    const app = await startApp();
    const real = await post(app, form({ email: 'real@example.org' }));
    const same = (response: RawResponse, email: string) => {
      expect(response.status).toBe(real.status);
      expect(response.body.replaceAll(email, 'real@example.org')).toBe(real.body);
    };

    same(await post(app, form({ email: 'bot1@example.org', website: 'https://spam.example' })), 'bot1@example.org');
    const json = await post(app, JSON.stringify({ email: 'bot2@example.org', website: 'x' }), JSON_API);
    expect([json.status, JSON.parse(json.body)]).toEqual([200, { ok: true }]);
    const started = await startedField(app);
    same(await post(app, form({ email: 'bot3@example.org', started })), 'bot3@example.org');
    for (const email of ['bot1@example.org', 'bot2@example.org', 'bot3@example.org']) {
      expect(await app.store.get(email), email).toBeNull();
    }
    expect(await signupMails(app)).toEqual([{ kind: 'confirm', email: 'real@example.org' }]);

    // The same page's field, three seconds on, is a person's: the fill time is what stopped it.
    app.advance(3000);
    same(await post(app, form({ email: 'bot3@example.org', started })), 'bot3@example.org');
    expect((await app.store.get('bot3@example.org'))?.status).toBe('pending');
    // A field that is not ours counts as none, as on the embeddable form: the limits judge it.
    await post(
      app,
      form({ email: 'forged@example.org', started: `${Date.now().toString(36)}.AAAAAAAAAAAAAAAAAAAAAA` }),
    );
    expect((await app.store.get('forged@example.org'))?.status).toBe('pending');
  });

  it('refuses an address that is not one with 400 and a clear message tied to the field; bad bodies too', async () => {
    const app = await startApp({ SITE_NAME: 'The <i>Example</i> Times' });
    const hostile = '<script>alert(1)</script>"@example.org';
    const page = await post(app, form({ email: hostile, name: 'Ana "<b>"' }));
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).not.toContain('<script>');
    expect(page.body).not.toContain('<b>');
    expect(page.body).not.toContain('<i>');
    const { document } = parseHTML(page.body);
    const input = document.querySelector('input[name="email"]');
    const error = document.getElementById(input?.getAttribute('aria-describedby') ?? '');
    expect(input?.getAttribute('aria-invalid')).toBe('true');
    expect(input?.getAttribute('value')).toBe(hostile);
    expect(error?.textContent).toBe(`"${hostile}" is not an email address: check it and try again.`);
    expect(document.querySelector('input[name="name"]')?.getAttribute('value')).toBe('Ana "<b>"');

    const empty = await post(app, JSON.stringify({ name: 'Ana' }), JSON_API);
    expect([empty.status, JSON.parse(empty.body)]).toEqual([400, { error: 'Enter your email address.' }]);
    const cases: [string, string, RegExp][] = [
      ['malformed', '{"email":', /not valid JSON/],
      ['an array', '["ana@example.org"]', /must be a JSON object/],
      ['null', 'null', /must be a JSON object/],
      ['a string', '"ana@example.org"', /must be a JSON object/],
      ['a number as email', '{"email": 12}', /"email" must be a string/],
      ['an object as name', '{"email": "ana@example.org", "name": {}}', /"name" must be a string/],
      ['an invalid address', '{"email": "ana@@example.org"}', /is not an email address/],
    ];
    for (const [what, body, message] of cases) {
      const response = await post(app, body, JSON_API);
      expect(response.status, what).toBe(400);
      expect(JSON.parse(response.body).error, what).toMatch(message);
    }
    const plain = await post(app, 'email=ana@example.org', { 'content-type': 'text/plain', host: HOST });
    expect(plain.status).toBe(415);
    const big = await post(app, form({ email: 'ana@example.org', name: 'x'.repeat(9000) }));
    expect(big.status).toBe(413);
    expect((await app.store.list()).length).toBe(0);
    expect(await signupMails(app)).toEqual([]);
  });

  it('keeps a clean record: unknown fields ignored, name and user agent bounded, control characters gone', async () => {
    const app = await startApp();
    await post(
      app,
      form({ email: 'dee@example.org', name: `  Dee\u202e\u0007  Lopez ${'x'.repeat(300)}`, role: 'admin' }),
      {
        ...FORM,
        'user-agent': `Reader/1.0 ${'y'.repeat(1000)}`,
      },
    );
    const dee = await app.store.get('dee@example.org');
    expect(dee?.name).toBe(`Dee Lopez ${'x'.repeat(90)}`);
    expect(dee?.source).toBe('form');
    expect(dee?.signupIp).toBe('127.0.0.1');
    expect(dee?.signupUserAgent).toHaveLength(300);
    expect(dee?.fields).toEqual({});
    await post(app, JSON.stringify({ email: 'eve@example.org', extra: [1, 2] }), JSON_API);
    expect((await app.store.get('eve@example.org'))?.source).toBe('api');
  });

  it('limits posts per IP address with 429 and Retry-After, on the page and in JSON', async () => {
    const app = await startApp({ SIGNUP_IP_PER_HOUR: '3' });
    for (const n of [1, 2, 3]) expect((await post(app, form({ email: `r${n}@example.org` }))).status).toBe(200);
    const limited = await post(app, form({ email: 'r4@example.org' }));
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600, String(retryAfter)).toBe(true);
    expect(limited.body).toMatch(/Too many sign-ups from your network: try again in \d+ minutes?\./);
    const limitedJson = await post(app, JSON.stringify({ email: 'r5@example.org' }), JSON_API);
    expect(limitedJson.status).toBe(429);
    expect(limitedJson.headers['retry-after']).toBeDefined();
    expect(JSON.parse(limitedJson.body).error).toMatch(/^Too many sign-ups/);
    expect(await app.store.get('r4@example.org')).toBeNull();
    expect((await signupMails(app)).map((m) => m.email)).toEqual([
      'r1@example.org',
      'r2@example.org',
      'r3@example.org',
    ]);
  });

  it('takes the reader from X-Forwarded-For only with TRUST_PROXY, and the last entry there', async () => {
    const direct = await startApp({ SIGNUP_IP_PER_HOUR: '1' });
    const forged = { ...FORM, 'x-forwarded-for': '203.0.113.7' };
    expect((await post(direct, form({ email: 'a@example.org' }), forged)).status).toBe(200);
    expect((await direct.store.get('a@example.org'))?.signupIp).toBe('127.0.0.1');
    // Without a trusted proxy the header is the client's own words: it buys no fresh limit.
    expect(
      (await post(direct, form({ email: 'b@example.org' }), { ...FORM, 'x-forwarded-for': '198.51.100.1' })).status,
    ).toBe(429);

    const proxied = await startApp({ SIGNUP_IP_PER_HOUR: '2', TRUST_PROXY: 'true' });
    const from = (chain: string) => ({ ...FORM, 'x-forwarded-for': chain });
    expect((await post(proxied, form({ email: 'c@example.org' }), from('10.9.9.9, 203.0.113.7'))).status).toBe(200);
    expect((await proxied.store.get('c@example.org'))?.signupIp).toBe('203.0.113.7');
    expect((await post(proxied, form({ email: 'd@example.org' }), from('1.1.1.1, 203.0.113.7'))).status).toBe(200);
    expect((await post(proxied, form({ email: 'e@example.org' }), from('203.0.113.7'))).status).toBe(429);
    expect((await post(proxied, form({ email: 'f@example.org' }), from('203.0.113.7, 198.51.100.9'))).status).toBe(200);
    // One IPv6 /64 is one reader's network: its addresses share a limit.
    expect((await post(proxied, form({ email: 'g@example.org' }), from('2001:db8:1:2::5'))).status).toBe(200);
    expect((await post(proxied, form({ email: 'h@example.org' }), from('[2001:db8:1:2:aa::6]:4711'))).status).toBe(200);
    expect((await proxied.store.get('h@example.org'))?.signupIp).toBe('2001:db8:1:2:aa::6');
    expect((await post(proxied, form({ email: 'i@example.org' }), from('2001:db8:1:2::7'))).status).toBe(429);
    expect((await post(proxied, form({ email: 'j@example.org' }), from('2001:db8:1:3::7'))).status).toBe(200);
  });

  it("answers CORS for SITE_URL's origin only", async () => {
    const app = await startApp();
    const preflight = (origin: string) =>
      httpRequest(app.base, '/subscribe', {
        method: 'OPTIONS',
        headers: {
          host: HOST,
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const ours = await preflight(SITE);
    expect(ours.status).toBe(204);
    expect(ours.headers['access-control-allow-origin']).toBe(SITE);
    expect(ours.headers['access-control-allow-methods']).toBe('POST');
    expect(ours.headers['access-control-allow-headers']).toBe('content-type');
    expect(ours.headers.vary).toMatch(/Origin/);
    const theirs = await preflight('https://evil.example');
    expect(theirs.status).toBe(204);
    expect(theirs.headers['access-control-allow-origin']).toBeUndefined();

    const fromSite = await post(app, JSON.stringify({ email: 'k@example.org' }), { ...JSON_API, origin: SITE });
    expect(fromSite.headers['access-control-allow-origin']).toBe(SITE);
    expect(fromSite.headers.vary).toMatch(/Origin/);
    const fromElsewhere = await post(app, JSON.stringify({ email: 'l@example.org' }), {
      ...JSON_API,
      origin: 'https://evil.example',
    });
    // Answered (its browser will not let the page read it), and harmless: l@ must still confirm.
    expect(fromElsewhere.status).toBe(200);
    expect(fromElsewhere.headers['access-control-allow-origin']).toBeUndefined();
    expect((await app.store.get('l@example.org'))?.status).toBe('pending');
  });
});

describe('GET /subscribe', () => {
  it("is the sign-up page in the site's name: labelled fields, a hidden honeypot, the usual headers", async () => {
    const app = await startApp({ SITE_NAME: 'Times & "Echo" <Daily>' });
    const page = await httpRequest(app.base, '/subscribe', { headers: { host: HOST } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(
      /default-src 'none'.*form-action 'self'.*frame-ancestors 'none'/,
    );
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).not.toContain('<Daily>');
    const { document } = parseHTML(page.body);
    expect(document.documentElement.getAttribute('lang')).toBe('en');
    expect(document.querySelector('h1')?.textContent).toBe('Join the weekly newsletter from Times & "Echo" <Daily>');
    const formEl = document.querySelector('form');
    expect(formEl?.getAttribute('method')).toBe('post');
    for (const input of document.querySelectorAll('input:not([type="hidden"])')) {
      const label = document.querySelector(`label[for="${input.getAttribute('id')}"]`);
      expect(label?.textContent, input.getAttribute('name') ?? '').toBeTruthy();
    }
    const honeypot = document.querySelector('input[name="website"]');
    expect(honeypot?.getAttribute('tabindex')).toBe('-1');
    expect(honeypot?.getAttribute('autocomplete')).toBe('off');
    expect(honeypot?.closest('[aria-hidden="true"]')).not.toBeNull();
    expect((await httpRequest(app.base, '/subscribe', { method: 'HEAD', headers: { host: HOST } })).status).toBe(200);
    expect((await httpRequest(app.base, '/subscribe', { method: 'DELETE', headers: { host: HOST } })).status).toBe(405);
  });
});

describe('/confirm/<token>', () => {
  it('GET only asks, POST confirms and queues one welcome, a second POST says it is done', async () => {
    const app = await startApp();
    await post(app, form({ email: 'mo@example.org' }));
    const link = await confirmLink(app, 'mo@example.org');
    for (let i = 0; i < 2; i++) {
      const asked = await httpRequest(app.base, link, { headers: { host: HOST } });
      expect(asked.status).toBe(200);
      expect(asked.body).toContain('<form method="post"><button type="submit">Confirm my subscription</button></form>');
    }
    expect((await app.store.get('mo@example.org'))?.status).toBe('pending');
    expect((await signupMails(app)).map((m) => m.kind)).toEqual(['confirm']);

    const confirmed = await httpRequest(app.base, link, { method: 'POST', headers: FORM, body: '' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toContain('You are subscribed');
    const mo = await app.store.get('mo@example.org');
    expect(mo?.status).toBe('active');
    expect(mo?.confirmedAt).not.toBeNull();
    const again = await httpRequest(app.base, link, { method: 'POST', headers: FORM, body: '' });
    expect([again.status, again.body.includes('Already confirmed')]).toEqual([200, true]);
    const later = await httpRequest(app.base, link, { headers: { host: HOST } });
    expect([later.status, later.body.includes('Already confirmed')]).toEqual([200, true]);
    expect(await signupMails(app)).toEqual([
      { kind: 'confirm', email: 'mo@example.org' },
      { kind: 'welcome', email: 'mo@example.org' },
    ]);
  });

  it('answers forged, tampered and expired tokens with a clear page and changes nothing', async () => {
    const app = await startApp();
    await post(app, form({ email: 'nia@example.org' }));
    await post(app, form({ email: 'oz@example.org' }));
    const nonce = (await app.store.pendingNonce('nia@example.org')) ?? '';
    const good = confirmToken({ email: 'nia@example.org', nonce, issuedAt: Date.now() }, SECRET);
    const [, ...rest] = good.split('.');
    const cases: [string, string, number, RegExp][] = [
      [
        'another secret',
        confirmToken({ email: 'nia@example.org', nonce, issuedAt: Date.now() }, 'x'.repeat(32)),
        400,
        /not valid/,
      ],
      ['another address', [Buffer.from('oz@example.org').toString('base64url'), ...rest].join('.'), 400, /not valid/],
      ['another nonce', good.replace(nonce, 'f'.repeat(nonce.length)), 400, /not valid/],
      ['cut short', good.slice(0, -5), 400, /not valid/],
      ['not a token', 'hello', 400, /not valid/],
      [
        'expired',
        confirmToken({ email: 'nia@example.org', nonce, issuedAt: Date.now() - 49 * 3_600_000 }, SECRET),
        410,
        /has expired/,
      ],
    ];
    for (const [what, token, status, words] of cases) {
      for (const method of ['GET', 'POST']) {
        const answer = await httpRequest(app.base, `/confirm/${token}`, { method, headers: FORM, body: '' });
        expect(answer.status, `${what} ${method}`).toBe(status);
        expect(answer.body, what).toMatch(words);
        expect(answer.body, what).toContain(`href="https://${HOST}/subscribe"`);
      }
    }
    expect((await app.store.get('nia@example.org'))?.status).toBe('pending');
    expect((await app.store.get('oz@example.org'))?.status).toBe('pending');
    expect((await signupMails(app)).map((m) => m.kind)).toEqual(['confirm', 'confirm']);
  });

  it('confirms nothing with the link of an earlier sign-up that expired and was made again', async () => {
    const app = await startApp({ SIGNUP_CONFIRM_HOURS: '48' });
    await post(app, form({ email: 'pat@example.org' }));
    const earlier = await confirmLink(app, 'pat@example.org');
    expect(await app.store.expirePending(new Date(Date.now() + 49 * 3_600_000))).toBe(1);
    expect(await app.store.get('pat@example.org')).toBeNull();
    await post(app, form({ email: 'pat@example.org' }));
    const current = await confirmLink(app, 'pat@example.org');
    expect(current).not.toBe(earlier);

    for (const method of ['GET', 'POST']) {
      const answer = await httpRequest(app.base, earlier, { method, headers: FORM, body: '' });
      expect(answer.status, method).toBe(410);
      expect(answer.body).toContain('This link is no longer valid');
    }
    expect((await app.store.get('pat@example.org'))?.status).toBe('pending');
    expect((await httpRequest(app.base, current, { method: 'POST', headers: FORM, body: '' })).status).toBe(200);
    expect((await app.store.get('pat@example.org'))?.status).toBe('active');
  });
});

describe('the preferences page', () => {
  it('says where a reader stands in plain words, for each of the five statuses', async () => {
    const app = await startApp();
    const now = new Date();
    const seen: Record<string, string> = {};
    const words: [SubscriberStatus | 'none', string][] = [
      ['active', 'is subscribed to the weekly newsletter'],
      ['pending', 'has signed up for the weekly newsletter from The Example Times but has not confirmed yet'],
      ['unsubscribed', 'is unsubscribed from the weekly newsletter'],
      ['bounced', 'its mail server refused our messages'],
      ['complained', 'was reported as spam'],
      ['none', 'is not on the list'],
    ];
    for (const [status] of words) {
      const email = `${status}@example.org`;
      if (status === 'pending')
        await app.store.signUp({ email, name: null, source: 'form', ip: null, userAgent: null }, now, now);
      else if (status !== 'none') await app.store.importSubscribers([{ email, name: null, fields: {} }], now);
      if (status === 'unsubscribed') await app.store.suppress(email, now);
      if (status === 'bounced') await app.store.markBounced(email, '550 5.1.1 no such user', now);
      if (status === 'complained') await app.store.markComplained(email, 'abuse', now);
      const page = await httpRequest(app.base, `/preferences/${unsubscribeToken(email, SECRET)}`, {
        headers: { host: HOST },
      });
      seen[status] = parseHTML(page.body).document.querySelector('p')?.textContent ?? '';
    }
    for (const [status, phrase] of words) expect(seen[status], status).toContain(phrase);
  });
});

describe('GET /archive/<week>', () => {
  it('serves the archive page under a CSP that lets the issue show its images', async () => {
    const app = await startApp();
    const page = await httpRequest(app.base, '/archive/2026-W48', { headers: { host: HOST } });
    // Nothing was sent that week: the archive's own "no such issue" page.
    expect(page.status).toBe(404);
    expect(page.body).toContain('No such issue');
    expect(page.headers['content-security-policy']).toMatch(/img-src https: data:/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect((await httpRequest(app.base, '/archive/2026-48', { headers: { host: HOST } })).status).toBe(404);
  });
});

describe('dispatch form', () => {
  it("prints a plain form that posts to PUBLIC_URL/subscribe, with the site's name escaped", async () => {
    const config = testConfig();
    const result = await runCli(['form'], {
      env: cliEnv('redis://127.0.0.1:1', config, {
        PUBLIC_URL: 'https://join.example.org',
        SITE_NAME: '<script>alert("x")</script> & Co',
      }),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/<script/i);
    expect(result.stdout).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    const { document } = parseHTML(`<!doctype html><html><body>${result.stdout}</body></html>`);
    const formEl = document.querySelector('form');
    expect(formEl?.getAttribute('method')).toBe('post');
    expect(formEl?.getAttribute('action')).toBe('https://join.example.org/subscribe');
    expect(document.querySelector('p')?.textContent).toBe(
      'The week\'s top stories from <script>alert("x")</script> & Co, in your inbox every week.',
    );
    expect([...document.querySelectorAll('input')].map((i) => i.getAttribute('name'))).toEqual([
      'email',
      'name',
      'website',
    ]);
    expect(document.querySelector('button')?.textContent).toBe('Join our Weekly Newsletter');
    expect(document.querySelector('input[name="started"]')).toBeNull();
  });
});
