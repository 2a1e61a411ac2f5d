import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSubscriberStore, type Subscriber, type TrailEvent } from '../io/subscriber-store.js';
import type { ListHealth } from '../jobs/list-health.js';
import { cliEnv, testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { runCli } from './helpers/run-cli.js';

const redis = useTestRedis('subscribers-cli');
const config = testConfig();
const env = () => cliEnv(redis.url, config);
const cli = (...args: string[]) => runCli(['subscribers', ...args], { env: env() });

/** A control character a terminal would act on (the line feeds and tabs that lay out the output aside). */
const RAW_CONTROL = /(?![\n\t])\p{Cc}|[\u202a-\u202e\u2066-\u2069]/u;

const NOW = new Date('2026-11-20T10:00:00Z');
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
const HOSTILE_NAME = 'Pat\x1b]0;pwned\x07 "the, \u202eeman"\r\nactive';
const HOSTILE_AGENT = 'Mozilla/5.0\x1b[2J\x9b31m (X11)';
const FORMULA_NAME = '=HYPERLINK("http://evil.example","click")';
/** Readers filler, so that an export is written in more than one chunk. */
const FILLER = 2100;

beforeAll(async () => {
  const ctx = testContext(redis.url, config);
  try {
    const store = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
    await store.importSubscribers(
      [
        { email: 'ana@example.org', name: 'Ana', fields: { city: 'Lisbon' } },
        { email: 'ben@example.org', name: 'Ben', fields: {} },
        { email: 'fay@example.org', name: FORMULA_NAME, fields: {} },
        { email: 'gus@example.org', name: '@SUM(1+1)', fields: {} },
        ...Array.from({ length: FILLER }, (_, i) => ({ email: `filler${i}@example.org`, name: null, fields: {} })),
      ],
      NOW,
    );
    const hours = new Date(NOW.getTime() + 48 * 3_600_000);
    // Pending: signed up on the form, never confirmed.
    await store.signUp(
      { email: 'pat@example.org', name: HOSTILE_NAME, source: 'form', ip: '203.0.113.7', userAgent: HOSTILE_AGENT },
      later(1),
      hours,
    );
    // Active through the API, confirmed.
    const signed = await store.signUp(
      { email: 'cy@example.org', name: 'Cy', source: 'api', ip: '2001:db8::1', userAgent: 'curl/8.5' },
      later(2),
      hours,
    );
    if (signed.outcome !== 'pending') throw new Error('cy@example.org should be pending');
    expect(await store.confirm('cy@example.org', signed.nonce, later(3))).toBe('confirmed');
    expect(await store.suppress('ben@example.org', later(4))).toBe(true);
    expect(
      await store.markBounced('fay@example.org', '550 5.1.1 <fay@example.org>: no such user\r\nX: y', later(5)),
    ).toBe(true);
    expect(await store.markComplained('gus@example.org', 'abuse report from Yahoo! Mail', later(6))).toBe(true);
  } finally {
    await ctx.close();
  }
});

describe('dispatch subscribers list', () => {
  it('--json gives every subscriber with its status; the text summary counts every status', async () => {
    const json = await cli('list', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    const all = JSON.parse(json.stdout) as Subscriber[];
    expect(all).toHaveLength(FILLER + 6);
    const status = Object.fromEntries(all.map((s) => [s.email, s.status]));
    expect(status).toMatchObject({
      'ana@example.org': 'active',
      'cy@example.org': 'active',
      'pat@example.org': 'pending',
      'ben@example.org': 'unsubscribed',
      'fay@example.org': 'bounced',
      'gus@example.org': 'complained',
    });
    // JSON keeps the value exactly (escaped, not altered).
    expect(all.find((s) => s.email === 'pat@example.org')).toMatchObject({
      name: HOSTILE_NAME,
      signupUserAgent: HOSTILE_AGENT,
    });

    const text = await cli('list');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(RAW_CONTROL);
    expect(text.stdout.trimEnd().split('\n').at(-1)).toBe(
      `${FILLER + 2} active, 1 pending, 1 unsubscribed, 1 bounced, 1 complained`,
    );
  });
});

describe('dispatch subscribers show', () => {
  it('shows the consent record and the trail, every value on one line with its controls as escapes', async () => {
    const shown = await cli('show', 'PAT@example.org');
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).not.toMatch(RAW_CONTROL);
    const lines = shown.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('pat@example.org');
    const row = (label: string) =>
      lines
        .find((l) => l.startsWith(`  ${label} `))
        ?.slice(2 + label.length)
        .trim();
    expect(row('status')).toBe('pending');
    expect(row('source')).toBe('form');
    expect(row('signed up')).toBe(later(1).toISOString());
    expect(row('sign-up IP')).toBe('203.0.113.7');
    expect(row('user agent')).toBe('Mozilla/5.0\\x1b[2J\\x9b31m (X11)');
    expect(row('name')).toBe('Pat\\x1b]0;pwned\\x07 "the, \\u202eeman"\\r\\nactive');
    expect(row('confirmed')).toBe('-');
    expect(row('pending until')).toBe(new Date(NOW.getTime() + 48 * 3_600_000).toISOString());
    // The hostile name forged no line of its own.
    expect(lines.filter((l) => /^\s*active\s*$/.test(l))).toEqual([]);
    expect(lines.slice(lines.indexOf('Trail:') + 1)).toEqual([
      `  ${later(1).toISOString()} signed-up: form from 203.0.113.7`,
    ]);

    const bounced = await cli('show', 'fay@example.org');
    expect(bounced.stdout).toContain(
      `  bounced        ${later(5).toISOString()} (550 5.1.1 <fay@example.org>: no such user\\r\\nX: y)\n`,
    );
    expect(bounced.stdout).toContain(`: 550 5.1.1 <fay@example.org>: no such user\\r\\nX: y\n`);
    const complained = await cli('show', 'gus@example.org');
    expect(complained.stdout).toContain(`  complained     ${later(6).toISOString()} (abuse report from Yahoo! Mail)\n`);
    const imported = await cli('show', 'ana@example.org');
    expect(imported.stdout).toContain('  source         import\n');
    expect(imported.stdout).toContain('  field city     Lisbon\n');
  });

  it('--json: the record with its trail, as data', async () => {
    const shown = await cli('show', 'cy@example.org', '--json');
    expect(shown.code, shown.stderr).toBe(0);
    const record = JSON.parse(shown.stdout) as Subscriber & { trail: TrailEvent[] };
    expect(record).toMatchObject({
      email: 'cy@example.org',
      status: 'active',
      source: 'api',
      signupIp: '2001:db8::1',
      signupUserAgent: 'curl/8.5',
      signupAt: later(2).toISOString(),
      confirmedAt: later(3).toISOString(),
      pendingUntil: null,
    });
    expect(record.trail.map((e) => e.event)).toEqual(['signed-up', 'confirmed']);
  });

  it('an unknown address is E_NOT_FOUND, a non-address E_INPUT_FORMAT: one line, exit 2', async () => {
    const unknown = await cli('show', 'nobody@example.org');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('dispatch: E_NOT_FOUND: no subscriber nobody@example.org\n');
    const bad = await cli('show', 'not-an-address\x1b[2J');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('dispatch: E_INPUT_FORMAT: not an email address: "not-an-address\\x1b[2J"\n');
    expect(bad.stdout).toBe('');
  });
});

describe('dispatch subscribers stats', () => {
  it('counts each status; with no send yet, no issue', async () => {
    const json = await cli('stats', '--json');
    expect(json.code, json.stderr).toBe(0);
    const health = JSON.parse(json.stdout) as ListHealth;
    expect(health.counts).toEqual({ pending: 1, active: FILLER + 2, unsubscribed: 1, bounced: 1, complained: 1 });
    expect(health).toMatchObject({ issue: null, warning: false, warnings: [] });
    const text = await cli('stats');
    expect(text.stdout).toBe(
      `${FILLER + 2} active, 1 pending, 1 unsubscribed, 1 bounced, 1 complained\nno issue sent to the list yet\n`,
    );
  });
});

describe('dispatch subscribers export', () => {
  const columns =
    'email,name,status,source,signup_at,signup_ip,signup_user_agent,confirmed_at,unsubscribed_at,bounced_at,bounce_reason,complained_at,complaint_reason';

  it('CSV (RFC 4180) with the consent columns: quoting round-trips, no cell is a formula', async () => {
    const result = await cli('export');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.startsWith(`${columns}\r\n`)).toBe(true);
    expect(result.stdout.endsWith('\r\n')).toBe(true);
    // Strict RFC 4180: no relaxed quotes, every row as wide as the header.
    const rows = parse(result.stdout, { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
    expect(rows).toHaveLength(FILLER + 6);
    const by = Object.fromEntries(rows.map((r) => [r.email, r]));
    expect(by['pat@example.org']).toMatchObject({
      name: HOSTILE_NAME,
      status: 'pending',
      source: 'form',
      signup_ip: '203.0.113.7',
      signup_user_agent: HOSTILE_AGENT,
      signup_at: later(1).toISOString(),
      confirmed_at: '',
    });
    expect(by['cy@example.org']).toMatchObject({
      status: 'active',
      source: 'api',
      confirmed_at: later(3).toISOString(),
    });
    expect(by['ben@example.org']).toMatchObject({ status: 'unsubscribed', unsubscribed_at: later(4).toISOString() });
    expect(by['fay@example.org']).toMatchObject({
      status: 'bounced',
      name: `'${FORMULA_NAME}`,
      bounced_at: later(5).toISOString(),
      bounce_reason: '550 5.1.1 <fay@example.org>: no such user\r\nX: y',
    });
    expect(by['gus@example.org']).toMatchObject({ status: 'complained', name: "'@SUM(1+1)" });
    for (const row of rows) {
      for (const cell of Object.values(row)) expect(cell, cell).not.toMatch(/^[=+\-@\t\r]/);
    }
  });

  it('--status and --out: only those, to a file only its owner reads, written whole', async () => {
    const out = join(redis.tmp, 'bounced.csv');
    const result = await cli('export', '--status', 'bounced', '--out', out);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`wrote 1 subscriber(s) to ${out}\n`);
    const rows = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.email)).toEqual(['fay@example.org']);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(redis.tmp).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('a bad --status or an --out that cannot be written: one line, exit 2, no file left', async () => {
    const status = await cli('export', '--status', 'gone');
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/option '--status <status>' argument 'gone' is invalid/);
    const out = join(redis.tmp, 'no-such-folder', 'list.csv');
    const unwritable = await cli('export', '--out', out);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toBe(`dispatch: E_OUTPUT_WRITE: cannot write ${out}: ENOENT\n`);
  });
});
