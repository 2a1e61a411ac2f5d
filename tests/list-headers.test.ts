import type { ParsedMail } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { startListSend } from '../jobs/list-send.js';
import { bounceAddressOf, readMessageId, readVerpAddress, subscriberId } from '../src/links/mail-tags.js';
import { recipientFor } from '../src/newsletter/recipient-links.js';
import { feedbackId, listId, toMessage } from '../src/newsletter/to-message.js';
import { config as defaults, RECIPIENT, WEEK } from './helpers/issue-fixtures.js';
import { testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { seedList } from './helpers/seed-list.js';
import { startSmtpCapture } from './helpers/smtp-capture.js';

const redis = useTestRedis('list-headers');
const NOW = new Date();

/** The raw lines of one header as they arrived (mailparser folds List-* into one parsed value), unfolded. */
function rawHeaders(mail: ParsedMail, name: string): string[] {
  return mail.headerLines
    .filter((h) => h.key === name.toLowerCase())
    .map((h) => h.line.replace(/\r?\n[ \t]+/g, ' ').replace(/^[^:]*:\s*/, ''));
}

/** RFC 2047 Q encoded words (UTF-8), space-separated, decoded; throws on a word that is not whole UTF-8. */
function decodeWords(phrase: string): string {
  return phrase
    .split(' ')
    .map((word) => {
      const text = /^=\?UTF-8\?Q\?(.*)\?=$/.exec(word)?.[1];
      if (text === undefined) throw new Error(`not an encoded word: ${word}`);
      const bytes = Uint8Array.from(text.match(/=[0-9A-F]{2}|./g) ?? [], (t) =>
        t.length === 3 ? Number.parseInt(t.slice(1), 16) : t === '_' ? 0x20 : t.charCodeAt(0),
      );
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    })
    .join('');
}

/** A list send of `count` readers to a capturing sink, run by a real worker; what the sink received. */
async function sendToList(count: number, overrides: Record<string, string> = {}) {
  const smtp = await startSmtpCapture();
  const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, ...overrides });
  const ctx = testContext(redis.url, config);
  const worker = await testWorker(redis.url, config);
  try {
    const week = await seedList(ctx.redis, config, count, 'reader', NOW);
    const report = await startListSend(ctx, { week, rate: 0, now: NOW });
    expect(report.outcome).toBe('started');
    await waitFor(`${count} messages`, async () => smtp.messages.length >= count);
    // Whom each reader id in a bounce address stands for, as `dispatch bounces` looks it up.
    const subscribers = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
    const readers = new Map<string, string | null>();
    for (const { rcptTo } of smtp.messages) {
      for (const to of rcptTo) readers.set(to, await subscribers.resolveId(subscriberId(to)));
    }
    return { config, week, received: smtp.messages, readers };
  } finally {
    await worker.close();
    await ctx.close();
    await smtp.close();
  }
}

describe('what every list message carries', () => {
  it("a real list send: MAIL FROM is the reader's signed VERP address, List-Id, Feedback-ID, a signed Message-ID", async () => {
    const { config, week, received, readers } = await sendToList(3);
    expect(received).toHaveLength(3);
    const bounce = bounceAddressOf(config);
    expect(bounce).toBe('bounces@example.com');
    for (const { mailFrom, rcptTo, mail } of received) {
      const [to] = rcptTo as [string];
      // The envelope sender names the reader (by id, never the address) and the issue, signed.
      expect(mailFrom).toMatch(/^bounces\+\d{4}-w\d{2}\.[0-9a-f]{16}\.[0-9a-f]{12}@example\.com$/);
      expect(mailFrom).not.toContain(to.split('@')[0]);
      expect(readVerpAddress(mailFrom, bounce, config.UNSUBSCRIBE_SECRET)).toEqual({ id: subscriberId(to), week });
      expect(readers.get(to)).toBe(to);
      // Another secret cannot read it: the tag is signed, not merely encoded.
      expect(readVerpAddress(mailFrom, bounce, 'another-secret-of-16-chars')).toBeNull();

      expect(rawHeaders(mail, 'List-Id')).toEqual(['The Example Times <newsletter.news.example.com>']);
      expect(rawHeaders(mail, 'Feedback-ID')).toEqual([`${week}:weekly:newsletter:news.example.com`]);
      expect(rawHeaders(mail, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe=One-Click']);
      expect(mail.messageId).toMatch(/@news\.example\.com>$/);
      expect(readMessageId(mail.messageId ?? '', config.UNSUBSCRIBE_SECRET)).toEqual({ id: subscriberId(to), week });
    }
    expect(new Set(received.map((r) => r.mailFrom)).size).toBe(3);
  });

  it('a hostile SITE_NAME stays one List-Id: no header of its own, quotes and backslashes are data', async () => {
    const hostile = 'Evil "Times" \\ \r\nBcc: victim@example.org\u0007 <x@y> Café';
    const { received } = await sendToList(1, { SITE_NAME: hostile });
    const [message] = received;
    expect(message).toBeDefined();
    if (!message) return;
    const { mail } = message;
    // The line break did not start a header, and the envelope went to the reader alone.
    expect(mail.headerLines.filter((h) => h.key === 'bcc')).toEqual([]);
    expect(message.rcptTo).toEqual(['reader0@example.org']);
    const lists = rawHeaders(mail, 'List-Id');
    expect(lists).toHaveLength(1);
    const [list] = lists as [string];
    expect(list).toMatch(/^(=\?UTF-8\?Q\?[^?\s]+\?= )+<newsletter\.news\.example\.com>$/);
    expect(list).not.toMatch(/["\\]|\p{Cc}/u);
    // A mail client reads the name back, with the controls as spaces.
    const parsed = mail.headers.get('list') as { id?: { id?: string } } | undefined;
    expect(parsed?.id?.id).toBe('newsletter.news.example.com');
    expect(decodeWords(list.replace(/ <[^>]*>$/, ''))).toBe('Evil "Times" \\ Bcc: victim@example.org <x@y> Café');
  });
});

describe('List-Id, Feedback-ID and the envelope sender, as toMessage makes them', () => {
  const rendered = {
    subject: 'Weekly',
    html: '<p>Hi {{firstName}}</p>',
    text: 'Hi {{firstName}}',
    issue: { week: WEEK },
  };

  it.each([
    ['a plain name', { SITE_NAME: 'The Example Times' }, 'The Example Times <newsletter.news.example.com>'],
    ['a name with a dot', { SITE_NAME: 'news.example' }, '=?UTF-8?Q?news=2Eexample?= <newsletter.news.example.com>'],
    ['atoms with an underscore', { SITE_NAME: "a_b c's" }, "a_b c's <newsletter.news.example.com>"],
    [
      'an underscore in encoded words',
      { SITE_NAME: 'a_b c.d' },
      '=?UTF-8?Q?a=5Fb_c=2Ed?= <newsletter.news.example.com>',
    ],
    [
      'an encoded-word look-alike',
      { SITE_NAME: '=?UTF-8?B?x?=' },
      '=?UTF-8?Q?=3D=3FUTF-8=3FB=3Fx=3F=3D?= <newsletter.news.example.com>',
    ],
    ['only controls', { SITE_NAME: '\r\n\t' }, '<newsletter.news.example.com>'],
    ['a site on an IP address', { SITE_URL: 'http://127.0.0.1:8080' }, 'The Example Times <newsletter.localhost>'],
    ['a site on IPv6', { SITE_URL: 'http://[::1]/' }, 'The Example Times <newsletter.localhost>'],
    ['an upper-case host', { SITE_URL: 'https://News.Example.COM' }, 'The Example Times <newsletter.news.example.com>'],
  ])('List-Id of %s', (_, overrides, expected) => {
    expect(listId({ ...defaults, ...overrides })).toBe(expected);
  });

  it('a long name becomes several encoded words of at most 75 characters, none splitting a character', () => {
    const value = listId({ ...defaults, SITE_NAME: `${'é'.repeat(60)} "quoted"` });
    const words = value.replace(/ <newsletter\.news\.example\.com>$/, '').split(' ');
    expect(words.length).toBeGreaterThan(2);
    for (const word of words) {
      expect(word.length).toBeLessThanOrEqual(75);
      expect(word).toMatch(/^=\?UTF-8\?Q\?(?:[A-Za-z0-9!*+/_-]|=[0-9A-F]{2})+\?=$/);
      // Each word decodes alone: no UTF-8 sequence is cut between two words.
      expect(() => decodeWords(word)).not.toThrow();
    }
  });

  it('Feedback-ID names the week, the list, the kind of mail and the site; only an ISO week', () => {
    expect(feedbackId('2026-W48', 'newsletter', defaults)).toBe('2026-W48:weekly:newsletter:news.example.com');
    expect(feedbackId('2026-W48', 'test', defaults)).toBe('2026-W48:weekly:test:news.example.com');
    expect(() => feedbackId('2026-W48\r\nBcc: x', 'newsletter', defaults)).toThrow(/not an ISO week/);
  });

  it("a list message goes from the reader's VERP address; a test send from the bare bounce address", () => {
    const config = { ...defaults, BOUNCE_ADDRESS: 'Returns@Mail.Example.com' };
    const recipient = recipientFor('ana@example.org', 'Ana', config);
    const list = toMessage(rendered, recipient, config, { token: 't0', unsubscribeMailto: 'u@example.com' });
    expect(readVerpAddress(list.envelopeFrom ?? '', 'returns@mail.example.com', config.UNSUBSCRIBE_SECRET)).toEqual({
      id: subscriberId('ana@example.org'),
      week: WEEK,
    });
    expect(list.headers['Feedback-ID']).toBe(`${WEEK}:weekly:newsletter:news.example.com`);
    const test = toMessage(rendered, recipient, config, {
      token: 't1',
      testSuffix: 'ab12',
      unsubscribeMailto: 'u@example.com',
    });
    expect(test.envelopeFrom).toBe('returns@mail.example.com');
    expect(test.headers['Feedback-ID']).toBe(`${WEEK}:weekly:test:news.example.com`);
    expect(test.headers['List-Id']).toBe(list.headers['List-Id']);
  });

  it('every header value is one line, whatever the recipient links hold', () => {
    const message = toMessage(
      rendered,
      { ...RECIPIENT, unsubscribeUrl: 'https://news.example.com/u/x\r\nBcc: victim@example.org' },
      defaults,
      { token: 't0', unsubscribeMailto: 'u@example.com' },
    );
    for (const value of Object.values(message.headers)) expect(value).not.toMatch(/[\r\n]/);
  });
});
