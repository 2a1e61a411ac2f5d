import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import nodemailer from 'nodemailer';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { freePort } from '../io/managed-redis.js';
import { connectRedis } from '../io/redis-connection.js';
import { createSendLedger } from '../io/send-ledger.js';
import { createSubscriberStore, type SubscriberStore } from '../io/subscriber-store.js';
import { startListSend } from '../jobs/list-send.js';
import { type BounceServer, MAX_REPORT_BYTES, startBounceServer } from '../serve/bounce-server.js';
import type { Config } from '../src/config.js';
import { bounceAddressOf, messageToken, subscriberId, verpAddress } from '../src/links/mail-tags.js';
import { cliEnv, testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT, runCli, startCli } from './helpers/run-cli.js';
import { seedList } from './helpers/seed-list.js';
import { startSmtpSink } from './helpers/smtp-sink.js';

const redis = useTestRedis('bounces');

const SECRET = 'bounces-test-secret-0123456789';
const WEEK = '2025-W48';
const NOW = new Date();

type Fill = Partial<Record<'VERP' | 'RCPT' | 'MESSAGE_ID' | 'TO', string>>;

/** A fixture of tests/fixtures/bounces with its placeholders filled. */
function fixture(name: string, fill: Fill): string {
  return readFileSync(join(ROOT, 'tests/fixtures/bounces', name), 'utf8').replace(
    /\{\{(VERP|RCPT|MESSAGE_ID|TO)\}\}/g,
    (_, key: keyof Fill) => fill[key] ?? `unfilled-${key}@example.invalid`,
  );
}

/** Log lines as JSON objects, for what the server says about each report. */
function logSink() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

interface Harness {
  config: Config;
  store: SubscriberStore;
  server: BounceServer;
  lines: Record<string, unknown>[];
  bounce: string;
  /** The reader's signed bounce address and Message-ID for `week`, as a list send makes them. */
  verp(email: string, week?: string | null, secret?: string): string;
  messageId(email: string, week?: string): string;
  /** Delivers a message as a mail server returns one: null sender, to `to`. */
  deliver(raw: string | Buffer, to: string, options?: { from?: string }): Promise<void>;
  close(): Promise<void>;
}

async function harness(readers: string[], overrides: Record<string, string> = {}): Promise<Harness> {
  const config = testConfig({ UNSUBSCRIBE_SECRET: SECRET, BOUNCE_SOFT_LIMIT: '3', ...overrides });
  const ctx = testContext(redis.url, config);
  const store = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
  await store.importSubscribers(
    readers.map((email) => ({ email, name: null, fields: {} })),
    NOW,
  );
  const { lines, logger } = logSink();
  const server = await startBounceServer({ config, subscribers: store, port: 0, logger });
  const bounce = bounceAddressOf(config);
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
  });
  return {
    config,
    store,
    server,
    lines,
    bounce,
    verp: (email, week = WEEK, secret = SECRET) => verpAddress(bounce, { id: subscriberId(email), week }, secret),
    messageId: (email, week = WEEK) => `<${messageToken(week, email, SECRET)}@news.example.com>`,
    async deliver(raw, to, options = {}) {
      await transport.sendMail({ envelope: { from: options.from ?? '', to: [to] }, raw });
    },
    async close() {
      transport.close();
      await server.close();
      await ctx.close();
    },
  };
}

const statuses = async (store: SubscriberStore) =>
  Object.fromEntries((await store.list()).map((s) => [s.email, s.status]));

describe('dispatch bounces: delivery status notifications over SMTP', () => {
  it('a hard bounce from Postfix, Exim, Gmail, Microsoft or an RFC 6533 server makes exactly its reader bounced, counted once', async () => {
    const hard = ['postfix-hard.eml', 'exim-hard.eml', 'gmail-hard.eml', 'microsoft-hard.eml', 'global-dsn.eml'];
    const readers = hard.map((_, i) => `hard${i}@example.org`);
    const h = await harness([...readers, 'bystander@example.org']);
    try {
      for (const [i, name] of hard.entries()) {
        const email = readers[i] as string;
        const raw = fixture(name, { VERP: h.verp(email), RCPT: email, MESSAGE_ID: h.messageId(email) });
        await h.deliver(raw, h.verp(email));
        const reader = await h.store.get(email);
        expect(reader?.status, name).toBe('bounced');
        expect(reader?.bounceReason, name).toMatch(/^5\.\d\.\d{1,2} \S/);
      }
      expect((await h.store.get(readers[0] as string))?.bounceReason).toBe(
        `5.1.1 550 5.1.1 <${readers[0]}>: Recipient address rejected: User unknown in virtual mailbox table`,
      );
      expect((await h.store.get(readers[3] as string))?.bounceReason).toMatch(/RESOLVER\.ADR\.RecipientNotFound/);
      expect((await h.store.get('bystander@example.org'))?.status).toBe('active');
      expect(await h.store.issueEvents(WEEK)).toEqual({ bounced: 5, softBounced: 0, complained: 0 });

      // The same report again (a retry of the bounce): answered, nothing counted twice.
      const again = readers[0] as string;
      await h.deliver(
        fixture('postfix-hard.eml', { VERP: h.verp(again), RCPT: again, MESSAGE_ID: h.messageId(again) }),
        h.verp(again),
      );
      expect(await h.store.issueEvents(WEEK)).toEqual({ bounced: 5, softBounced: 0, complained: 0 });
      expect(h.lines.at(-1)).toMatchObject({
        outcome: 'unchanged',
        kind: 'hard',
        via: 'verp',
        reader: subscriberId(again),
      });
      // Readers are named in the log by id, never by address.
      expect(JSON.stringify(h.lines)).not.toContain('hard1@example.org');
      const trail = await h.store.trail(readers[2] as string);
      expect(trail.at(-1)).toMatchObject({
        event: 'bounced',
        detail: expect.stringMatching(/^5\.1\.1 550-5\.1\.1 The email account/),
      });
    } finally {
      await h.close();
    }
  });

  it('soft bounces (4.2.2 delayed, a 5.7.26 policy refusal) are counted once per message; BOUNCE_SOFT_LIMIT of them make the reader bounced', async () => {
    const h = await harness(['full@example.org', 'blocked@example.org']);
    try {
      const full = 'full@example.org';
      const delayed = (week: string) =>
        fixture('postfix-delayed.eml', { VERP: h.verp(full, week), RCPT: full, MESSAGE_ID: h.messageId(full, week) });
      await h.deliver(delayed('2026-W46'), h.verp(full, '2026-W46'));
      await h.deliver(delayed('2026-W47'), h.verp(full, '2026-W47'));
      expect(h.lines.at(-1)).toMatchObject({ outcome: 'soft-bounce', kind: 'soft', status: '4.2.2' });
      // The same message delayed again (its server keeps trying, and says so): not counted again.
      await h.deliver(delayed('2026-W47'), h.verp(full, '2026-W47'));
      expect(h.lines.at(-1)).toMatchObject({ outcome: 'unchanged', kind: 'soft' });
      expect((await h.store.get(full))?.status).toBe('active');
      await h.deliver(delayed(WEEK), h.verp(full, WEEK));
      const reader = await h.store.get(full);
      expect(reader?.status).toBe('bounced');
      expect(reader?.bounceReason).toMatch(/^3 soft bounces within 7 day\(s\); last: 4\.2\.2 452 4\.2\.2 /);
      expect(await h.store.issueEvents('2026-W47')).toEqual({ bounced: 0, softBounced: 1, complained: 0 });
      expect(await h.store.issueEvents(WEEK)).toEqual({ bounced: 1, softBounced: 1, complained: 0 });

      const blocked = 'blocked@example.org';
      await h.deliver(
        fixture('postfix-blocked.eml', { VERP: h.verp(blocked), RCPT: blocked, MESSAGE_ID: h.messageId(blocked) }),
        h.verp(blocked),
      );
      expect((await h.store.get(blocked))?.status).toBe('active');
      expect((await h.store.trail(blocked)).at(-1)).toMatchObject({ event: 'soft-bounce' });
    } finally {
      await h.close();
    }
  });
});

describe('dispatch bounces: complaint reports (ARF) over SMTP', () => {
  it('Yahoo-style ARF to the bare bounce address: complained, with who reported it', async () => {
    const h = await harness(['yo@example.org']);
    try {
      const email = 'yo@example.org';
      const raw = fixture('arf-yahoo.eml', {
        VERP: h.verp(email),
        RCPT: email,
        MESSAGE_ID: h.messageId(email),
        TO: h.bounce,
      });
      await h.deliver(raw, h.bounce, { from: 'feedback@arf.mail.yahoo.com' });
      const reader = await h.store.get(email);
      expect(reader?.status).toBe('complained');
      expect(reader?.complaintReason).toBe('abuse report from (Yahoo!-Mail-Feedback/2.0)');
      expect(await h.store.issueEvents(WEEK)).toEqual({ bounced: 0, softBounced: 0, complained: 1 });
      expect(h.lines.at(-1)).toMatchObject({ outcome: 'complained', via: 'message-id' });
    } finally {
      await h.close();
    }
  });

  it('JMRP with the recipient redacted, through a relay that rewrote the envelope: found by its signed Message-ID', async () => {
    const h = await harness(['hidden@example.org', 'other@example.org']);
    try {
      const email = 'hidden@example.org';
      const raw = fixture('arf-jmrp.eml', {
        VERP: 'bounce-8812@relay.example.net',
        MESSAGE_ID: h.messageId(email),
        TO: h.bounce,
      });
      await h.deliver(raw, h.bounce, { from: 'staff@hotmail.com' });
      expect(await statuses(h.store)).toEqual({ 'hidden@example.org': 'complained', 'other@example.org': 'active' });
      expect((await h.store.get(email))?.complaintReason).toBe('abuse report from (Hotmail FBL)');
      expect(h.lines.at(-1)).toMatchObject({ outcome: 'complained', via: 'message-id', reader: subscriberId(email) });
    } finally {
      await h.close();
    }
  });
});

describe('dispatch bounces: nothing unsigned is believed', () => {
  it('forged tags, unsigned reports naming readers, other secrets, replies and successes change nobody', async () => {
    const readers = ['ana@example.org', 'user@example.com', 'ben@example.org'];
    const h = await harness(readers);
    try {
      const ana = 'ana@example.org';
      const forgedTag = h.verp(ana).replace(/[0-9a-f]{12}@/, '000000000000@');
      const deliveries: [string, string, string][] = [
        // A tag whose signature is wrong, and one signed with another secret.
        [
          'forged tag',
          fixture('gmail-hard.eml', { VERP: forgedTag, RCPT: ana, MESSAGE_ID: '<x@example.com>' }),
          forgedTag,
        ],
        [
          'another secret',
          fixture('postfix-hard.eml', {
            VERP: h.verp(ana, WEEK, 'some-other-secret-0123456789'),
            RCPT: ana,
            MESSAGE_ID: '<y@example.com>',
          }),
          h.verp(ana, WEEK, 'some-other-secret-0123456789'),
        ],
        // A report naming a reader, with nothing signed in it: a stranger could write it.
        [
          'unsigned, to the bare address',
          fixture('microsoft-hard.eml', { VERP: h.bounce, RCPT: ana, MESSAGE_ID: '<z@example.com>' }),
          h.bounce,
        ],
        ['RFC 5965 example naming user@example.com', fixture('arf-rfc5965.eml', {}), h.bounce],
        // Signed, but not reports: an auto-reply and Exim's old plain-text bounce; and a success.
        [
          'auto-reply',
          fixture('auto-reply.eml', { VERP: h.verp(ana), RCPT: ana, MESSAGE_ID: h.messageId(ana) }),
          h.verp(ana),
        ],
        [
          'plain-text bounce',
          fixture('exim-plain.eml', { VERP: h.verp(ana), RCPT: ana, MESSAGE_ID: h.messageId(ana) }),
          h.verp(ana),
        ],
        [
          'relayed',
          fixture('relayed.eml', { VERP: h.verp(ana), RCPT: ana, MESSAGE_ID: h.messageId(ana) }),
          h.verp(ana),
        ],
      ];
      for (const [name, raw, to] of deliveries) {
        await h.deliver(raw, to);
        expect(await statuses(h.store), name).toEqual(Object.fromEntries(readers.map((r) => [r, 'active'])));
      }
      expect(h.lines.map((l) => l.outcome)).toEqual([
        'unverified',
        'unverified',
        'unverified',
        'unverified',
        'unrecognized',
        'unrecognized',
        'ignored',
      ]);
      expect(h.lines[0]).toMatchObject({ level: 40, detail: expect.stringMatching(/whose tag is not signed/) });
      expect(await h.store.issueEvents(WEEK)).toEqual({ bounced: 0, softBounced: 0, complained: 0 });

      // The signed envelope decides whose report it is, whatever address the report names.
      const ben = 'ben@example.org';
      await h.deliver(
        fixture('exim-hard.eml', { VERP: h.verp(ben), RCPT: ana, MESSAGE_ID: h.messageId(ana) }),
        h.verp(ben),
      );
      expect(await statuses(h.store)).toEqual({
        'ana@example.org': 'active',
        'user@example.com': 'active',
        'ben@example.org': 'bounced',
      });
    } finally {
      await h.close();
    }
  });
});

/** One SMTP conversation on a raw socket: each command sent after the previous reply; returns the replies. */
async function smtpTalk(port: number, commands: (string | Buffer)[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  const replies: string[] = [];
  let buffer = '';
  let wake: (() => void) | null = null;
  socket.on('data', (d) => {
    buffer += d.toString();
    wake?.();
  });
  socket.on('close', () => wake?.());
  socket.on('error', () => wake?.());
  const nextReply = async (): Promise<string | null> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      // A reply ends with a line "NNN text" (a space after the code, not a dash).
      const end = /^\d{3} [^\n]*\n/m.exec(buffer);
      if (end) {
        const reply = buffer.slice(0, end.index + end[0].length);
        buffer = buffer.slice(end.index + end[0].length);
        return reply.trim();
      }
      if (socket.destroyed || socket.readableEnded || Date.now() > deadline) return null;
      await new Promise<void>((done) => {
        wake = done;
        setTimeout(done, 200);
      });
    }
  };
  try {
    const greeting = await nextReply();
    if (greeting) replies.push(greeting);
    for (const command of commands) {
      if (socket.destroyed) break;
      socket.write(command);
      const reply = await nextReply();
      if (reply === null) {
        replies.push('(closed)');
        break;
      }
      replies.push(reply);
    }
  } finally {
    socket.destroy();
  }
  return replies;
}

describe('dispatch bounces: what the SMTP server takes', () => {
  it('550 for another recipient, 421 and a closed connection after three, 552 over the size (declared or not), 250 for the rest', async () => {
    const h = await harness(['ana@example.org']);
    try {
      await expect(h.deliver('Subject: hi\n\nhello\n', 'someone@example.com')).rejects.toMatchObject({
        responseCode: 550,
      });
      // Any case of the bounce address is the bounce address.
      await h.deliver('Subject: hi\n\nhello\n', h.bounce.toUpperCase());

      const big = Buffer.alloc(MAX_REPORT_BYTES + 1024, 'a');
      // nodemailer declares the size (MAIL FROM ... SIZE=): refused before the data is sent.
      await expect(h.deliver(Buffer.concat([Buffer.from('Subject: big\n\n'), big]), h.bounce)).rejects.toMatchObject({
        responseCode: 552,
      });

      const undeclared = await smtpTalk(h.server.port, [
        'EHLO test.example\r\n',
        'MAIL FROM:<>\r\n',
        `RCPT TO:<${h.bounce}>\r\n`,
        'DATA\r\n',
        Buffer.concat([
          Buffer.from('Subject: big\r\n\r\n'),
          Buffer.alloc(MAX_REPORT_BYTES + 1024, 'b'),
          Buffer.from('\r\n.\r\n'),
        ]),
      ]);
      expect(undeclared[1]).toContain(`SIZE ${MAX_REPORT_BYTES}`);
      expect(undeclared.at(-1)).toMatch(/^552 /);

      const guessing = await smtpTalk(h.server.port, [
        'EHLO test.example\r\n',
        'MAIL FROM:<>\r\n',
        'RCPT TO:<a@example.com>\r\n',
        'RCPT TO:<b@example.com>\r\n',
        'RCPT TO:<c@example.com>\r\n',
        `RCPT TO:<${h.bounce}>\r\n`,
      ]);
      expect(guessing.slice(3, 6).map((r) => r.slice(0, 3))).toEqual(['550', '550', '421']);
      expect(guessing.at(-1)).toBe('(closed)');
      expect((await h.store.get('ana@example.org'))?.status).toBe('active');
    } finally {
      await h.close();
    }
  });

  it('451 (try again later) when the store does not answer, and the report is applied when it comes again', async () => {
    const config = testConfig({ UNSUBSCRIBE_SECRET: SECRET });
    const dead = connectRedis(`redis://127.0.0.1:${await freePort()}`, 'command');
    const { logger, lines } = logSink();
    const down = await startBounceServer({
      config,
      subscribers: createSubscriberStore(dead, config.REDIS_PREFIX),
      port: 0,
      logger,
    });
    const h = await harness(['ana@example.org']);
    try {
      const ana = 'ana@example.org';
      const raw = fixture('postfix-hard.eml', { VERP: h.verp(ana), RCPT: ana, MESSAGE_ID: h.messageId(ana) });
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: down.port,
        secure: false,
        ignoreTLS: true,
      });
      await expect(transport.sendMail({ envelope: { from: '', to: [h.verp(ana)] }, raw })).rejects.toMatchObject({
        responseCode: 451,
      });
      transport.close();
      expect(lines.at(-1)).toMatchObject({ level: 50, msg: 'bounce report: the store failed; asked to retry' });
      await h.deliver(raw, h.verp(ana));
      expect((await h.store.get(ana))?.status).toBe('bounced');
    } finally {
      await down.close();
      dead.disconnect();
      await h.close();
    }
  });
});

describe('the next list send', () => {
  it('skips the readers that bounced or complained, and sends the rest', { timeout: 60_000 }, async () => {
    const smtp = await startSmtpSink();
    const config = testConfig({
      UNSUBSCRIBE_SECRET: SECRET,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      BOUNCE_SOFT_LIMIT: '2',
    });
    const ctx = testContext(redis.url, config);
    const week = await seedList(ctx.redis, config, 8, 'reader', NOW);
    const store = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
    const { logger } = logSink();
    const server = await startBounceServer({ config, subscribers: store, port: 0, logger });
    const bounce = bounceAddressOf(config);
    const verp = (email: string) => verpAddress(bounce, { id: subscriberId(email), week: WEEK }, SECRET);
    const messageId = (email: string) => `<${messageToken(WEEK, email, SECRET)}@news.example.com>`;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.port,
      secure: false,
      ignoreTLS: true,
    });
    const send = (raw: string, to: string) => transport.sendMail({ envelope: { from: '', to: [to] }, raw });
    const worker = await testWorker(redis.url, config);
    try {
      const fill = (email: string) => ({ VERP: verp(email), RCPT: email, MESSAGE_ID: messageId(email), TO: bounce });
      await send(fixture('gmail-hard.eml', fill('reader1@example.org')), verp('reader1@example.org'));
      await send(fixture('arf-yahoo.eml', fill('reader3@example.org')), bounce);
      await send(fixture('postfix-delayed.eml', fill('reader5@example.org')), verp('reader5@example.org'));
      // A second delayed message, of an earlier issue.
      const earlier = verpAddress(bounce, { id: subscriberId('reader5@example.org'), week: '2026-W01' }, SECRET);
      await send(fixture('postfix-delayed.eml', { ...fill('reader5@example.org'), VERP: earlier }), earlier);
      // One soft bounce is not enough to leave the list.
      await send(fixture('postfix-delayed.eml', fill('reader6@example.org')), verp('reader6@example.org'));

      const started = await startListSend(ctx, { week, rate: 0, now: new Date() });
      expect(started.outcome).toBe('started');
      const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
      await waitFor('the send done', async () => (await ledger.get(week))?.status === 'done', 40_000);
      expect([...smtp.received.keys()].sort()).toEqual(
        ['reader0', 'reader2', 'reader4', 'reader6', 'reader7'].map((r) => `${r}@example.org`),
      );
    } finally {
      transport.close();
      await worker.close();
      await server.close();
      await ctx.close();
      await smtp.close();
    }
  });
});

describe('dispatch bounces (the command)', () => {
  it('prints where it listens and for which address, applies what comes, and stops on SIGTERM', async () => {
    const config = testConfig({ UNSUBSCRIBE_SECRET: SECRET });
    const ctx = testContext(redis.url, config);
    const store = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
    await store.importSubscribers([{ email: 'cli@example.org', name: null, fields: {} }], NOW);
    const env = cliEnv(redis.url, config, { UNSUBSCRIBE_SECRET: SECRET, LOG_LEVEL: 'silent' });
    const cli = startCli(['bounces', '--port', '0'], { env });
    const { child, exited } = cli;
    try {
      const line = await waitFor('the listening line', async () =>
        /^bounce and complaint reports for (\S+) on smtp:\/\/127\.0\.0\.1:(\d+); Ctrl-C stops it\n$/.exec(cli.stdout),
      );
      expect(line[1], cli.stderr).toBe('bounces@example.com');
      const email = 'cli@example.org';
      const verp = verpAddress('bounces@example.com', { id: subscriberId(email), week: WEEK }, SECRET);
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: Number(line[2]),
        secure: false,
        ignoreTLS: true,
      });
      await transport.sendMail({
        envelope: { from: '', to: [verp] },
        raw: fixture('microsoft-hard.eml', {
          VERP: verp,
          RCPT: email,
          MESSAGE_ID: `<${messageToken(WEEK, email, SECRET)}@x>`,
        }),
      });
      transport.close();
      expect((await store.get(email))?.status).toBe('bounced');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await ctx.close();
    }
  });

  it('refuses the public default secret when it listens beyond this machine: anyone could sign a bounce address', async () => {
    const config = testConfig();
    const result = await runCli(['bounces', '--host', '0.0.0.0', '--port', '0'], {
      env: cliEnv(redis.url, config),
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /^dispatch: E_SECRET_DEFAULT: UNSUBSCRIBE_SECRET is the public development default while dispatch bounces listens on 0\.0\.0\.0: set it to a long random value/,
    );
    expect(result.stdout).toBe('');
  });

  it('a taken port: one line, E_PORT_IN_USE naming the setting, exit 2', async () => {
    const taken: Server = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as { port: number }).port;
    try {
      const config = testConfig();
      const { code, stderr } = await runCli(['bounces'], {
        env: cliEnv(redis.url, config, { BOUNCE_SMTP_PORT: String(port) }),
      });
      expect(code, stderr).toBe(2);
      expect(stderr.trimEnd().split('\n')).toEqual([
        `dispatch: E_PORT_IN_USE: dispatch bounces: 127.0.0.1:${port} is taken by another program: choose another port with --port or BOUNCE_SMTP_PORT`,
      ]);
    } finally {
      await new Promise((done) => taken.close(done));
    }
  });
});
