import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubscriberStore, type SignupRequest, type SubscriberStore } from '../io/subscriber-store.js';
import { checkConfirmToken, confirmToken } from '../src/links/confirm-token.js';
import {
  bounceAddressOf,
  messageToken,
  readMessageId,
  readVerpAddress,
  signupMessageToken,
  subscriberId,
  verpAddress,
} from '../src/links/mail-tags.js';
import { useTestRedis } from './helpers/queue-harness.js';

const redis = useTestRedis('lifecycle');
const T0 = new Date('2026-12-01T10:00:00Z');
const later = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
const form = (email: string, extra: Partial<SignupRequest> = {}): SignupRequest => ({
  email,
  name: null,
  source: 'form',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (test)',
  ...extra,
});

describe('a reader from sign-up to leaving', () => {
  let client: Redis;
  let store: SubscriberStore;
  let n = 0;
  // Each test its own prefix: nothing one leaves behind reaches the next.
  const fresh = () => createSubscriberStore(client, `life${++n}`);
  beforeAll(() => {
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    await client.quit();
  });

  it('a sign-up is pending with its consent record until confirmed with its own nonce; it gets no issue meanwhile', async () => {
    store = fresh();
    const first = await store.signUp(form('ana@example.org', { name: 'Ana' }), T0, later(48));
    expect(first.outcome).toBe('pending');
    const nonce = first.outcome === 'pending' ? first.nonce : '';
    expect(nonce).toMatch(/^[0-9a-f]{24}$/);
    const ana = await store.get('ana@example.org');
    expect(ana).toMatchObject({
      status: 'pending',
      name: 'Ana',
      source: 'form',
      signupIp: '203.0.113.7',
      signupUserAgent: 'Mozilla/5.0 (test)',
      signupAt: T0.toISOString(),
      confirmedAt: null,
      pendingUntil: later(48).toISOString(),
    });
    expect(await store.activeEmails()).toEqual([]);

    // Signing up again keeps the nonce: the first mail's link still works.
    const again = await store.signUp(form('ana@example.org'), later(1), later(49));
    expect(again).toEqual({ outcome: 'pending', nonce });
    expect(await store.pendingNonce('ana@example.org')).toBe(nonce);

    expect(await store.confirm('ana@example.org', 'f'.repeat(24), later(2))).toBe('invalid');
    expect((await store.get('ana@example.org'))?.status).toBe('pending');
    expect(await store.confirm('ana@example.org', nonce, later(2))).toBe('confirmed');
    expect(await store.confirm('ana@example.org', nonce, later(3))).toBe('active');
    expect(await store.get('ana@example.org')).toMatchObject({ status: 'active', confirmedAt: later(2).toISOString() });
    expect(await store.activeEmails()).toEqual(['ana@example.org']);
    expect(await store.pendingNonce('ana@example.org')).toBeNull();

    // Already on the list: nothing to confirm, and the record stays as it is.
    expect(await store.signUp(form('ana@example.org', { ip: '198.51.100.1' }), later(4), later(52))).toEqual({
      outcome: 'active',
    });
    expect((await store.get('ana@example.org'))?.signupIp).toBe('203.0.113.7');
    expect((await store.trail('ana@example.org')).map((e) => e.event)).toEqual(['signed-up', 'signed-up', 'confirmed']);
    expect(await store.resolveId(subscriberId('ana@example.org'))).toBe('ana@example.org');
  });

  it('an unconfirmed sign-up expires: a new address is removed, one that had left goes back to how it left', async () => {
    store = fresh();
    await store.importSubscribers([{ email: 'ben@example.org', name: 'Ben', fields: {} }], T0);
    await store.suppress('ben@example.org', T0);
    const ben = await store.signUp(form('ben@example.org'), later(1), later(49));
    expect(ben.outcome).toBe('pending');
    await store.signUp(form('cy@example.org'), later(1), later(49));
    await store.signUp(form('dee@example.org'), later(10), later(58));

    expect(await store.expirePending(later(48))).toBe(0);
    expect(await store.expirePending(later(50))).toBe(2);
    expect(await store.get('cy@example.org')).toBeNull();
    expect(await store.trail('cy@example.org')).toEqual([]);
    expect((await store.get('ben@example.org'))?.status).toBe('unsubscribed');
    expect((await store.trail('ben@example.org')).at(-1)?.event).toBe('expired');
    expect((await store.get('dee@example.org'))?.status).toBe('pending');
    expect((await store.list()).map((s) => s.email)).toEqual(['ben@example.org', 'dee@example.org']);
    // Ben's old link names a nonce that is gone.
    const nonce = ben.outcome === 'pending' ? ben.nonce : '';
    expect(await store.confirm('ben@example.org', nonce, later(51))).toBe('invalid');
  });

  it('confirming after an unsubscribe takes the address off the suppressed set, so a later re-import keeps it active', async () => {
    store = fresh();
    await store.suppress('eve@example.org', T0); // unsubscribed, then removed: only the suppressed set remembers
    const eve = await store.signUp(form('eve@example.org'), later(1), later(49));
    const nonce = eve.outcome === 'pending' ? eve.nonce : '';
    expect(await store.confirm('eve@example.org', nonce, later(2))).toBe('confirmed');
    await store.remove('eve@example.org');
    await store.importSubscribers([{ email: 'eve@example.org', name: null, fields: {} }], later(3));
    expect((await store.get('eve@example.org'))?.status).toBe('active');
  });

  it('bounces and complaints: hard at once, soft at the limit within the window, complained refuses a new sign-up', async () => {
    store = fresh();
    await store.importSubscribers(
      ['fay', 'gus', 'hal', 'ivy'].map((n) => ({ email: `${n}@example.org`, name: null, fields: {} })),
      T0,
    );
    const rule = { limit: 3, windowMs: 7 * 86_400_000 };
    expect(await store.markBounced('fay@example.org', '5.1.1 no such user', later(1))).toBe(true);
    expect(await store.markBounced('fay@example.org', '5.1.1 no such user', later(2))).toBe(false);

    // Two soft bounces, then one after the first fell out of the window: still active.
    expect(await store.noteSoftBounce('gus@example.org', '4.2.2 full', later(0), rule)).toMatchObject({ count: 1 });
    expect(await store.noteSoftBounce('gus@example.org', '4.2.2 full', later(24), rule)).toMatchObject({ count: 2 });
    expect(await store.noteSoftBounce('gus@example.org', '4.2.2 full', later(24 * 7.5), rule)).toEqual({
      counted: true,
      count: 2,
      bounced: false,
    });
    expect((await store.get('gus@example.org'))?.status).toBe('active');
    expect(await store.noteSoftBounce('gus@example.org', '4.2.2 full', later(24 * 7.6), rule)).toEqual({
      counted: true,
      count: 3,
      bounced: true,
    });
    expect(await store.get('gus@example.org')).toMatchObject({
      status: 'bounced',
      bounceReason: '3 soft bounces within 7 day(s); last: 4.2.2 full',
    });
    expect(await store.noteSoftBounce('fay@example.org', 'late', later(3), rule)).toMatchObject({ counted: false });

    expect(await store.markComplained('hal@example.org', 'abuse report from Yahoo', later(1))).toBe(true);
    expect(await store.get('hal@example.org')).toMatchObject({
      status: 'complained',
      complaintReason: 'abuse report from Yahoo',
    });
    expect(await store.signUp(form('hal@example.org'), later(2), later(50))).toEqual({ outcome: 'refused' });
    // An unsubscribe after a complaint keeps the stronger word.
    await store.suppress('hal@example.org', later(3));
    expect((await store.get('hal@example.org'))?.status).toBe('complained');

    // A re-import changes none of these.
    const report = await store.importSubscribers(
      ['fay', 'gus', 'hal', 'ivy'].map((n) => ({ email: `${n}@example.org`, name: null, fields: {} })),
      later(4),
    );
    expect(report).toEqual({ added: 0, updated: 4, stillSuppressed: 3 });
    expect(await store.activeEmails()).toEqual(['ivy@example.org']);
    expect(await store.counts()).toEqual({ pending: 0, active: 1, unsubscribed: 0, bounced: 2, complained: 1 });
  });

  it('a sign-up whose confirmation bounces is removed, or bounced when it had been on the list; nothing of it outlives it', async () => {
    store = fresh();
    await store.signUp(form('typo@exmaple.org'), T0, later(48));
    expect(await store.markBounced('typo@exmaple.org', '550 5.1.1 no such user', later(1))).toBe(true);
    expect(await store.get('typo@exmaple.org')).toBeNull();
    expect(await store.trail('typo@exmaple.org')).toEqual([]);
    expect(await store.resolveId(subscriberId('typo@exmaple.org'))).toBeNull();
    expect(await store.list()).toEqual([]);
    expect(await client.keys(`life${n}:subscriber:*`)).toEqual([]);

    await store.importSubscribers([{ email: 'old@example.org', name: null, fields: {} }], T0);
    await store.suppress('old@example.org', later(1));
    await store.signUp(form('old@example.org'), later(2), later(50));
    expect(await store.markBounced('old@example.org', '550 5.1.1 gone', later(3))).toBe(true);
    expect(await store.get('old@example.org')).toMatchObject({ status: 'bounced', pendingUntil: null });
    expect(await store.expirePending(later(100))).toBe(0);

    // Expired and removed readers leave no address behind either.
    await store.signUp(form('brief@example.org'), T0, later(48));
    await store.expirePending(later(49));
    expect(await store.resolveId(subscriberId('brief@example.org'))).toBeNull();
    await store.remove('old@example.org');
    expect(await store.resolveId(subscriberId('old@example.org'))).toBeNull();
  });

  it("a stranger's sign-up of a reader who left leaves their consent record as it was, unless it is confirmed", async () => {
    store = fresh();
    await store.importSubscribers([{ email: 'ivy@example.org', name: 'Ivy', fields: {} }], T0);
    await store.suppress('ivy@example.org', later(1));
    await store.signUp(form('ivy@example.org', { ip: '198.51.100.66', source: 'api' }), later(2), later(50));
    expect(await store.get('ivy@example.org')).toMatchObject({ source: 'import', signupIp: null, status: 'pending' });
    await store.expirePending(later(51));
    expect(await store.get('ivy@example.org')).toMatchObject({
      status: 'unsubscribed',
      source: 'import',
      signupAt: T0.toISOString(),
      signupIp: null,
      signupUserAgent: null,
    });

    // Ivy signs up again herself and confirms: the record is now that sign-up's.
    const again = await store.signUp(form('ivy@example.org'), later(60), later(108));
    const nonce = again.outcome === 'pending' ? again.nonce : '';
    expect(await store.confirm('ivy@example.org', nonce, later(61))).toBe('confirmed');
    expect(await store.get('ivy@example.org')).toMatchObject({
      status: 'active',
      source: 'form',
      signupAt: later(60).toISOString(),
      signupIp: '203.0.113.7',
      confirmedAt: later(61).toISOString(),
    });
  });

  it('a pending sign-up lasts as long as its confirmation link, however late the mail went out', async () => {
    store = fresh();
    await store.signUp(form('late@example.org'), T0, later(48));
    expect(await store.extendPending('late@example.org', later(50))).toBe(true);
    expect(await store.expirePending(later(49))).toBe(0);
    expect((await store.get('late@example.org'))?.pendingUntil).toBe(later(50).toISOString());
    expect(await store.expirePending(later(51))).toBe(1);
    expect(await store.extendPending('late@example.org', later(60))).toBe(false);
  });

  it('one message delayed many times is one soft bounce; bounces and complaints count against their issue once', async () => {
    store = fresh();
    await store.importSubscribers(
      ['jo', 'kim'].map((n) => ({ email: `${n}@example.org`, name: null, fields: {} })),
      T0,
    );
    const rule = { limit: 2, windowMs: 7 * 86_400_000 };
    const about = { message: 'issue:2026-W48', week: '2026-W48' };
    expect(await store.noteSoftBounce('jo@example.org', '4.4.7 delayed', later(4), rule, about)).toEqual({
      counted: true,
      count: 1,
      bounced: false,
    });
    for (const hours of [24, 48]) {
      expect(await store.noteSoftBounce('jo@example.org', '4.4.7 delayed', later(hours), rule, about)).toEqual({
        counted: false,
        count: 1,
        bounced: false,
      });
    }
    expect((await store.trail('jo@example.org')).filter((e) => e.event === 'soft-bounce')).toHaveLength(1);
    expect(await store.issueEvents('2026-W48')).toEqual({ bounced: 0, softBounced: 1, complained: 0 });
    const next = { message: 'issue:2026-W49', week: '2026-W49' };
    expect(await store.noteSoftBounce('jo@example.org', '4.2.2 full', later(72), rule, next)).toMatchObject({
      bounced: true,
    });
    expect(await store.issueEvents('2026-W49')).toEqual({ bounced: 1, softBounced: 1, complained: 0 });

    expect(await store.markComplained('kim@example.org', 'abuse', later(1), '2026-W48')).toBe(true);
    expect(await store.markComplained('kim@example.org', 'abuse', later(2), '2026-W48')).toBe(false);
    expect(await store.markBounced('kim@example.org', '550', later(3), '2026-W48')).toBe(false);
    expect(await store.issueEvents('2026-W48')).toEqual({ bounced: 0, softBounced: 1, complained: 1 });
  });

  it('reads records written before statuses were renamed ("suppressed" is unsubscribed)', async () => {
    store = fresh();
    await client.hset(`life${n}:subscriber:old@example.org`, { email: 'old@example.org', status: 'suppressed' });
    await client.zadd(`life${n}:subscribers`, 1, 'old@example.org');
    expect((await store.get('old@example.org'))?.status).toBe('unsubscribed');
    expect(await store.signUp(form('old@example.org'), T0, later(48))).toMatchObject({ outcome: 'pending' });
    await store.expirePending(later(49));
    expect((await store.get('old@example.org'))?.status).toBe('unsubscribed');
  });

  it('issue events are counted per week', async () => {
    store = fresh();
    await store.countIssueEvent('2026-W48', 'bounced');
    await store.countIssueEvent('2026-W48', 'complained');
    await store.countIssueEvent('2026-W48', 'bounced');
    expect(await store.issueEvents('2026-W48')).toEqual({ bounced: 2, softBounced: 0, complained: 1 });
    expect(await store.issueEvents('2026-W49')).toEqual({ bounced: 0, softBounced: 0, complained: 0 });
  });
});

describe('signed tags', () => {
  const secret = 'a-secret-of-at-least-16';
  it('a VERP address names its reader and week, and only under its own secret and bounce address', () => {
    const bounce = bounceAddressOf({ MAIL_FROM: 'The Times <news@Example.com>' });
    expect(bounce).toBe('bounces@example.com');
    const tag = { id: subscriberId('ana@example.org'), week: '2026-W48' };
    const verp = verpAddress(bounce, tag, secret);
    expect(verp).toMatch(/^bounces\+2026-w48\.[0-9a-f]{16}\.[0-9a-f]{12}@example\.com$/);
    expect(verp.split('@')[0]?.length).toBeLessThanOrEqual(64);
    expect(readVerpAddress(verp.toUpperCase(), bounce, secret)).toEqual(tag);
    expect(readVerpAddress(`<${verp}>`, bounce, secret)).toEqual(tag);
    expect(readVerpAddress(verp, bounce, 'another-secret-16chars')).toBeNull();
    expect(readVerpAddress(verp.replace('2026-w48', '2026-w47'), bounce, secret)).toBeNull();
    expect(readVerpAddress(verp.replace('@example.com', '@example.net'), bounce, secret)).toBeNull();
    expect(readVerpAddress(bounce, bounce, secret)).toBeNull();
    const signup = verpAddress(bounce, { id: tag.id, week: null }, secret);
    expect(readVerpAddress(signup, bounce, secret)).toEqual({ id: tag.id, week: null });
  });

  it('a Message-ID is the same on every try and names its reader; a VERP tag is not a Message-ID tag', () => {
    const token = messageToken('2026-W48', 'ana@example.org', secret);
    expect(messageToken('2026-W48', 'ana@example.org', secret)).toBe(token);
    expect(readMessageId(`<${token}@news.example.com>`, secret)).toEqual({
      id: subscriberId('ana@example.org'),
      week: '2026-W48',
    });
    expect(readMessageId(`<${token}@news.example.com>`, 'another-secret-16chars')).toBeNull();
    const verp = verpAddress('bounces@x.org', { id: subscriberId('ana@example.org'), week: '2026-W48' }, secret);
    expect(readMessageId(`<${verp.slice(8)}>`, secret)).toBeNull();
    expect(readMessageId('<2026-W48.test.0123456789abcdef@news.example.com>', secret)).toBeNull();
  });

  it("a sign-up mail's Message-ID names its reader with no week, and each one is its own", () => {
    const a = signupMessageToken('ana@example.org', '0a1b', secret);
    const b = signupMessageToken('ana@example.org', '0a1c', secret);
    expect(a).not.toBe(b);
    expect(readMessageId(`<${a}@news.example.com>`, secret)).toEqual({
      id: subscriberId('ana@example.org'),
      week: null,
    });
    expect(readMessageId(`<${a.replace(/^s\./, '2026-w48.')}@news.example.com>`, secret)).toBeNull();
    expect(() => signupMessageToken('ana@example.org', 'not-hex', secret)).toThrow(TypeError);
  });

  it('a confirmation token carries its claim, expires, and cannot be altered', () => {
    const claim = { email: 'ana@example.org', nonce: 'abcdef0123456789abcdef01', issuedAt: T0.getTime() };
    const token = confirmToken(claim, secret);
    const day = 86_400_000;
    expect(checkConfirmToken(token, secret, later(47), 2 * day)).toEqual({ ok: true, claim });
    expect(checkConfirmToken(token, secret, later(49), 2 * day)).toEqual({ ok: false, reason: 'expired' });
    expect(checkConfirmToken(token, 'another-secret-16chars', later(1), 2 * day)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    const [email, nonce, issued, signature] = token.split('.') as [string, string, string, string];
    const other = Buffer.from('eve@example.org').toString('base64url');
    for (const forged of [
      `${other}.${nonce}.${issued}.${signature}`,
      `${email}.${nonce}.${(Number.parseInt(issued, 36) + 3600).toString(36)}.${signature}`,
      `${email}.${nonce}.${issued}`,
      `${token}.x`,
      '',
    ]) {
      expect(checkConfirmToken(forged, secret, later(1), 2 * day).ok, forged).toBe(false);
    }
  });
});
