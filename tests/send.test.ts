import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { listMailbox, startMailbox } from '../io/mailbox.js';
import { freePort } from '../io/managed-redis.js';
import { buildWeekIssue } from '../jobs/build-week-issue.js';
import { enqueueArticles } from '../jobs/enqueue-articles.js';
import { verifyUnsubscribeToken } from '../src/links/unsubscribe-token.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { cliEnv, testConfig, testContext, testWorker, useTestRedis, waitFor } from './helpers/queue-harness.js';
import { ROOT, runCli } from './helpers/run-cli.js';

const redis = useTestRedis('send');
const tmp = redis.tmp;

const NOW = new Date();
const WEEK = isoWeekOf(NOW, 'UTC');

/** A store with this week's issue of the example articles, and the env that points the CLI at it. */
async function issueReady(smtpPort: number) {
  const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}` });
  const ctx = testContext(redis.url, config);
  await enqueueArticles(ctx, [join(ROOT, 'examples')], { publishedNow: true }, NOW);
  const worker = await testWorker(redis.url, config);
  await waitFor('examples stored', async () => (await ctx.store.countArticles()) === 5);
  await buildWeekIssue({ store: ctx.store, config, templatesDir: join(ROOT, 'templates') }, WEEK, NOW);
  const env = cliEnv(redis.url, config, { DATA_DIR: join(tmp, 'data') });
  return { config, ctx, worker, env };
}

describe('send-test to a real SMTP server', () => {
  it('through the queue: both parts, the list headers, the personalized unsubscribe link, "[Test]" subject', async () => {
    const dir = join(tmp, 'mailbox-queued');
    const mailbox = await startMailbox({ dir, port: 0 });
    const { config, ctx, worker, env } = await issueReady(mailbox.port);
    try {
      const result = await runCli(['send-test', '--to', 'ana@example.org,ben@example.net', '--week', WEEK], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(
        /^sent "\[Test\] The Example Times weekly: .+ \(([0-9a-f]{4})\)" to ana@example\.org: message id <.+@news\.example\.com>\n/,
      );
      const messages = await listMailbox(dir);
      expect(messages.map((m) => m.to).sort()).toEqual(['ana@example.org', 'ben@example.net']);
      const ana = messages.find((m) => m.to === 'ana@example.org');
      expect(ana).toBeDefined();
      if (!ana) return;
      expect(ana.from).toBe('"The Example Times" <newsletter@example.com>');
      expect(ana.subject).toMatch(/^\[Test\] The Example Times weekly: .+ \([0-9a-f]{4}\)$/);
      expect(ana.messageId).toMatch(/^<2\d{3}-W\d{2}\.test\.[0-9a-f]{16}@news\.example\.com>$/);
      expect(ana.text).toContain('Hi Sam, here is what mattered this week.');
      expect(ana.html).toContain('Follow us on Twitter');
      const unsubscribe =
        /<(http:\/\/127\.0\.0\.1:3001\/unsubscribe\/([\w.-]+))>, <mailto:unsubscribe@example\.com\?subject=unsubscribe>/.exec(
          ana.headers['list-unsubscribe'] ?? '',
        );
      expect(unsubscribe, ana.headers['list-unsubscribe']).not.toBeNull();
      expect(ana.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
      // The mailbox records the envelope sender as a final delivery does: a test send's is the bare
      // bounce address (its bounces change no reader).
      expect(ana.headers['return-path']).toMatch(/^<?bounces@example\.com>?$/);
      expect(verifyUnsubscribeToken(unsubscribe?.[2] ?? '', config.UNSUBSCRIBE_SECRET)).toBe('ana@example.org');
      expect(ana.html).toContain(`href="${unsubscribe?.[1]}"`);
      expect(ana.text).toContain(`Unsubscribe:\n${unsubscribe?.[1]}\n`);
    } finally {
      await worker.close();
      await ctx.close();
      await mailbox.close();
    }
  });

  it('--direct sends from the process, building the issue first when it is missing', async () => {
    const dir = join(tmp, 'mailbox-direct');
    const mailbox = await startMailbox({ dir, port: 0 });
    const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${mailbox.port}` });
    const ctx = testContext(redis.url, config);
    const worker = await testWorker(redis.url, config);
    try {
      await enqueueArticles(ctx, [join(ROOT, 'examples')], { publishedNow: true }, NOW);
      await waitFor('examples stored', async () => (await ctx.store.countArticles()) === 5);
      await worker.close();
      const env = cliEnv(redis.url, config, { DATA_DIR: join(tmp, 'data') });
      const result = await runCli(['send-test', '--to', 'cy@example.org', '--direct'], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(await ctx.store.getIssue(WEEK)).not.toBeNull();
      const [message] = await listMailbox(dir);
      expect(message?.to).toBe('cy@example.org');
      expect(message?.html).toBeTruthy();
      expect(message?.text).toBeTruthy();
    } finally {
      await ctx.close();
      await mailbox.close();
    }
  });
});

describe('SMTP faults', () => {
  /** An SMTP server that answers each RCPT with `reply(attempt)`: an error code, or null to accept. */
  async function faultyServer(reply: (attempt: number) => number | null) {
    let attempts = 0;
    const received: string[] = [];
    const server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onRcptTo(_address, _session, callback) {
        attempts++;
        const code = reply(attempts);
        if (code === null) return callback();
        const error = Object.assign(new Error(code >= 500 ? 'Mailbox unavailable: no such user' : 'Try again later'), {
          responseCode: code,
        });
        return callback(error);
      },
      onData(stream, session, callback) {
        stream.on('data', () => {});
        stream.on('end', () => {
          received.push(session.envelope.rcptTo.map((r) => r.address).join(','));
          callback();
        });
      },
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const port = (server.server.address() as { port: number }).port;
    return { port, received, attempts: () => attempts, close: () => new Promise<void>((d) => server.close(() => d())) };
  }

  it('421 and then accepted: retried with backoff, delivered once', async () => {
    const smtp = await faultyServer((n) => (n === 1 ? 421 : null));
    const { ctx, worker, env } = await issueReady(smtp.port);
    try {
      const result = await runCli(['send-test', '--to', 'dee@example.org', '--week', WEEK], { env });
      expect(result.code, result.stderr).toBe(0);
      expect(smtp.received).toEqual(['dee@example.org']);
      expect(smtp.attempts()).toBe(2);
      const [job] = await ctx.queues.send.getCompleted();
      expect(job?.attemptsMade).toBe(2);
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('550: permanent, not retried, reported with the server’s reply', async () => {
    const smtp = await faultyServer(() => 550);
    const { ctx, worker, env } = await issueReady(smtp.port);
    try {
      const result = await runCli(['send-test', '--to', 'nobody@example.org', '--week', WEEK], { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^dispatch: E_SMTP_REJECTED: the SMTP server refused the message: 550 Mailbox unavailable: no such user/,
      );
      expect(smtp.attempts()).toBe(1);
      const [job] = await ctx.queues.send.getFailed();
      expect(job?.attemptsMade).toBe(1);
      expect(smtp.received).toEqual([]);
    } finally {
      await worker.close();
      await ctx.close();
      await smtp.close();
    }
  });

  it('a closed port: a clear error naming host and port', async () => {
    const port = await freePort();
    const { ctx, worker, env } = await issueReady(port);
    await worker.close();
    try {
      const result = await runCli(['send-test', '--to', 'eve@example.org', '--week', WEEK, '--direct'], { env });
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe(
        `dispatch: E_SMTP_UNREACHABLE: cannot connect to the SMTP server at 127.0.0.1:${port} (ECONNREFUSED): is it running? (SMTP_URL)`,
      );
    } finally {
      await ctx.close();
    }
  });

  it('bad addresses are refused before anything is sent', async () => {
    const result = await runCli(['send-test', '--to', 'not-an-address'], { env: { REDIS_URL: redis.url } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('dispatch: E_INPUT_FORMAT: not an email address: "not-an-address"');
  });
});

describe('send-test reports what went wrong', () => {
  it('more addresses than TEST_SEND_MAX_RECIPIENTS: E_TOO_MANY_RECIPIENTS, nothing queued', async () => {
    const config = testConfig({ TEST_SEND_MAX_RECIPIENTS: '2' });
    const ctx = testContext(redis.url, config);
    try {
      const before = await ctx.queues.send.count();
      const env = cliEnv(redis.url, config, { DATA_DIR: join(tmp, 'data-cap'), TEST_SEND_MAX_RECIPIENTS: '2' });
      const result = await runCli(['send-test', '--to', 'a@example.org,b@example.org,c@example.org'], { env });
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe(
        'dispatch: E_TOO_MANY_RECIPIENTS: a test send takes at most 2 addresses (TEST_SEND_MAX_RECIPIENTS); got 3',
      );
      expect(await ctx.queues.send.count()).toBe(before);
      // Repeats count once.
      const repeated = await runCli(['send-test', '--to', 'a@example.org,a@example.org,b@example.org,x'], { env });
      expect(repeated.stderr.trim()).toBe('dispatch: E_INPUT_FORMAT: not an email address: "x"');
    } finally {
      await ctx.close();
    }
  });

  it('an issue whose build fails: the build’s own code at once, not a wait that blames the worker', async () => {
    const templatesDir = join(tmp, 'broken-templates');
    const { cpSync, writeFileSync } = await import('node:fs');
    cpSync(join(ROOT, 'templates'), templatesDir, { recursive: true });
    writeFileSync(join(templatesDir, 'partials', 'card.mjml.hbs'), '<mj-section>\n{{#if title}\n</mj-section>\n');
    const config = testConfig({ TEMPLATES_DIR: templatesDir, REDIS_PREFIX: 'broken' });
    const ctx = testContext(redis.url, config);
    await enqueueArticles(ctx, [join(ROOT, 'examples')], { publishedNow: true }, NOW);
    const worker = await testWorker(redis.url, config, { templatesDir });
    try {
      await waitFor('examples stored', async () => (await ctx.store.countArticles()) === 5);
      const started = Date.now();
      const env = cliEnv(redis.url, config, { DATA_DIR: join(tmp, 'data-broken'), TEMPLATES_DIR: templatesDir });
      const result = await runCli(['send-test', '--to', 'ana@example.org', '--week', WEEK], { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^dispatch: E_TEMPLATE: building \d{4}-W\d{2}: .*card\.mjml\.hbs/);
      expect(Date.now() - started).toBeLessThan(30_000);
      const [failed] = await ctx.queues.newsletter.getFailed();
      expect(failed?.attemptsMade).toBe(1);
    } finally {
      await worker.close();
      await ctx.close();
    }
  });

  it('no worker at all: says so within seconds', async () => {
    const config = testConfig({ REDIS_PREFIX: 'noworker' });
    const ctx = testContext(redis.url, config);
    try {
      const started = Date.now();
      const env = cliEnv(redis.url, config, { DATA_DIR: join(tmp, 'data-noworker') });
      const result = await runCli(['send-test', '--to', 'ana@example.org', '--week', WEEK], { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^dispatch: E_NOT_FOUND: .* no worker serves the newsletter queue/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await ctx.close();
    }
  });
});

describe('DKIM', () => {
  it('signs with DKIM_* set: the received message carries a DKIM-Signature for the domain and selector', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(tmp, 'dkim.pem');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const dir = join(tmp, 'mailbox-dkim');
    const mailbox = await startMailbox({ dir, port: 0 });
    const { ctx, worker, env } = await issueReady(mailbox.port);
    await worker.close();
    try {
      const dkimEnv = { ...env, DKIM_DOMAIN: 'example.com', DKIM_SELECTOR: 'news2026', DKIM_PRIVATE_KEY_FILE: keyFile };
      const result = await runCli(['send-test', '--to', 'kim@example.org', '--week', WEEK, '--direct'], {
        env: dkimEnv,
      });
      expect(result.code, result.stderr).toBe(0);
      const [message] = await listMailbox(dir);
      expect(message?.headers['dkim-signature']).toMatch(/\bd=example\.com;.*\bs=news2026;/s);
      const partial = await runCli(['send-test', '--to', 'kim@example.org', '--week', WEEK, '--direct'], {
        env: { ...env, DKIM_DOMAIN: 'example.com' },
      });
      expect(partial.code).toBe(2);
      expect(partial.stderr).toMatch(
        /^dispatch: E_CONFIG: DKIM signing needs all of DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE/,
      );
    } finally {
      await ctx.close();
      await mailbox.close();
    }
  });
});
