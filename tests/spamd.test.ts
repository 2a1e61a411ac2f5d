import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../io/managed-redis.js';
import { ensureSpamd, pingSpamd, type SpamScore, spamdAt, stopSpamd } from '../io/spamd.js';
import { type ErrorCode, isDispatchError } from '../src/errors.js';
import { spamdInstalled } from './helpers/spamd.js';

// The managed spamd against the real SpamAssassin of this machine (`npm run setup` installs it):
// local rules only, on 127.0.0.1, one per DATA_DIR.

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-spamd-'));
const dataDirs: string[] = [];
const servers: Server[] = [];
/** A DATA_DIR of its own, stopped and removed after the file's tests, whatever they did. */
function dataDir(name: string): string {
  const dir = join(tmp, name);
  dataDirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const DATA_DIR of dataDirs) await stopSpamd({ DATA_DIR });
  for (const server of servers) server.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A MIME message from header lines and a body, with CRLF line ends as on the wire. */
const mime = (headers: string[], body: string) =>
  `${[...headers, '', body].join('\r\n').replace(/\r?\n/g, '\r\n')}\r\n`;

/**
 * What a careless sender's newsletter looks like to SpamAssassin: HTML only (no text part), a
 * shouting subject, "Dear Friend", money and "risk free" talk, a spammy unsubscribe line, a bare
 * To address, and no Date or Message-ID. Nothing here needs the network to be seen.
 */
const SPAMMY_NEWSLETTER = mime(
  [
    'From: The Weekly Dispatch <news@dispatch-news.example>',
    'To: reader@example.org',
    'Subject: THIS WEEK: FREE MONEY FOR EVERY READER!!!',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
  ],
  `<html><body>
<h1>This week in local news</h1>
<p>Dear Friend,</p>
<p>The council voted on the new library hours. But first: our sponsors have a 100% FREE offer for you, no credit card needed and risk free!</p>
<p>Earn extra cash from home and make $5,000 a week. Act now, this limited time offer expires today!</p>
<p><a href="https://dispatch-news.example/offer">Click here</a> to claim your free gift.</p>
<p>To be removed from our mailing list, click here.</p>
</body></html>`,
);

/** A newsletter as Dispatch sends one: text and HTML parts, Date, Message-ID, an unsubscribe header. */
const CLEAN_NEWSLETTER = mime(
  [
    'From: The Weekly Dispatch <news@dispatch-news.example>',
    'To: Ana Reader <ana@example.org>',
    'Subject: This week in Riverton: library hours, bike lanes and the budget',
    'Date: Wed, 02 Dec 2026 10:00:00 +0000',
    'Message-ID: <2026-W49.ana.7f3a9c2e@dispatch-news.example>',
    'List-Unsubscribe: <https://dispatch-news.example/unsubscribe/7f3a9c2e>',
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b1"',
  ],
  `--b1
Content-Type: text/plain; charset=utf-8

This week in Riverton

The council voted on Tuesday to keep the main library open until 8 p.m.
on weekdays, after a year of shorter hours.

The bike lanes on Main Street opened on Friday; the city will count riders
through the spring before it decides on Elm Street.

Unsubscribe: https://dispatch-news.example/unsubscribe/7f3a9c2e

--b1
Content-Type: text/html; charset=utf-8

<html><body>
<h1>This week in Riverton</h1>
<p>The council voted on Tuesday to keep the main library open until 8 p.m. on weekdays, after a year of shorter hours.</p>
<p>The bike lanes on Main Street opened on Friday; the city will count riders through the spring before it decides on Elm Street.</p>
<p><a href="https://dispatch-news.example/unsubscribe/7f3a9c2e">Unsubscribe</a></p>
</body></html>
--b1--`,
);

/** SpamAssassin's own test pattern (GTUBE), 1000 points by its standard rules. */
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

async function failure(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected it to fail');
}

function expectCode(error: unknown, code: ErrorCode): asserts error is Error {
  expect(isDispatchError(error, code), String(error)).toBe(true);
}

/** Whether `pid` runs (a zombie, stopped but not yet reaped by its parent, does not). */
function runs(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !existsSync(`/proc/${pid}/stat`) || !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * The live processes whose environment holds `marker` (spamd renames itself once it forks, so
 * its command line no longer says what it was started for; its environment still does).
 */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker) && runs(pid);
      } catch {
        return false;
      }
    });
}

const ruleNames = (score: SpamScore) => score.rules.map((rule) => rule.name);

/** A loopback server on a free port that does with each connection what `onSocket` says. */
async function listener(onSocket: (socket: Socket) => void): Promise<number> {
  const server = createServer(onSocket);
  servers.push(server);
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  return port;
}

describe('spamd when it is not installed', () => {
  it('says, in one line, what to install', async () => {
    const DATA_DIR = dataDir('missing');
    const error = await failure(ensureSpamd({ DATA_DIR }, { bin: join(tmp, 'no-such-dir', 'spamd') }));
    expectCode(error, 'E_SPAM_UNAVAILABLE');
    expect(error.message).toBe(
      `spamd (SpamAssassin) is not installed at ${join(tmp, 'no-such-dir', 'spamd')}: run \`npm run setup\`, or \`sudo apt-get install -y spamassassin spamc spamd\``,
    );
    expect(existsSync(join(DATA_DIR, 'spamd', 'spamd.lock'))).toBe(false);
  });
});

describe('a spamd that fails to start', () => {
  it('E_SPAM_START with the last line of its log and where the log is', async () => {
    const DATA_DIR = dataDir('failing');
    // Stands in for spamd: what it prints when its port is taken, and its exit code.
    const bin = join(tmp, 'failing-spamd');
    writeFileSync(
      bin,
      '#!/bin/sh\necho "spamd: could not create IO::Socket::IP socket on [127.0.0.1]:1: Address already in use" >&2\nexit 2\n',
      { mode: 0o755 },
    );
    const error = await failure(ensureSpamd({ DATA_DIR }, { bin }));
    expectCode(error, 'E_SPAM_START');
    const log = join(DATA_DIR, 'spamd', 'spamd.log');
    expect(error.message).toBe(
      `spamd exited with 2 (its log ends: spamd: could not create IO::Socket::IP socket on [127.0.0.1]:1: Address already in use); see ${log}`,
    );
    expect(existsSync(join(DATA_DIR, 'spamd', 'spamd.lock'))).toBe(false);
  });
});

describe('the SPAMC client', () => {
  it('E_SPAM_UNAVAILABLE at once when nothing listens on the port', async () => {
    const error = await failure(spamdAt(await freePort()).score(CLEAN_NEWSLETTER));
    expectCode(error, 'E_SPAM_UNAVAILABLE');
    expect(error.message).toMatch(/^spamd on 127\.0\.0\.1:\d+ does not answer \(ECONNREFUSED\)$/);
    expect(await pingSpamd(await freePort())).toBe(false);
  }, 5_000);

  it('E_SPAM_TIMEOUT when spamd takes longer than the time limit', async () => {
    const port = await listener(() => {});
    const error = await failure(spamdAt(port).score(CLEAN_NEWSLETTER, { timeoutMs: 300 }));
    expectCode(error, 'E_SPAM_TIMEOUT');
    expect(error.message).toMatch(`spamd on 127.0.0.1:${port} did not answer within 300 ms`);
  }, 5_000);

  it('E_SPAM_UNAVAILABLE when the listener hangs up without an answer', async () => {
    const port = await listener((socket) => socket.destroy());
    const error = await failure(spamdAt(port).score(CLEAN_NEWSLETTER));
    expectCode(error, 'E_SPAM_UNAVAILABLE');
  }, 5_000);
});

describe.skipIf(!spamdInstalled())('the managed spamd (real SpamAssassin)', () => {
  const DATA_DIR = dataDir('managed');
  const dir = join(DATA_DIR, 'spamd');

  it('starts on 127.0.0.1 under DATA_DIR/spamd, is reused, and scores a spammy newsletter over 5', async () => {
    const spamd = await ensureSpamd({ DATA_DIR });
    expect(spamd.started).toBe(true);
    expect(Number(readFileSync(join(dir, 'spamd.port'), 'utf8'))).toBe(spamd.port);
    expect(Number(readFileSync(join(dir, 'spamd.pid'), 'utf8'))).toBeGreaterThan(0);
    expect(await pingSpamd(spamd.port)).toBe(true);

    const again = await ensureSpamd({ DATA_DIR });
    expect(again).toMatchObject({ port: spamd.port, started: false });

    const score = await again.score(SPAMMY_NEWSLETTER);
    expect(score.score, JSON.stringify(score.rules)).toBeGreaterThanOrEqual(5);
    expect(score.threshold).toBe(5);
    expect(score.version).toMatch(/^4\.\d+\.\d+/);
    // Rules that need no network: header and body rules of the standard set.
    expect(ruleNames(score)).toEqual(expect.arrayContaining(['MISSING_DATE', 'MISSING_MID', 'MIME_HTML_ONLY']));
    for (const rule of score.rules) expect(rule.description, rule.name).toMatch(/\w/);
    expect(score.rules.find((rule) => rule.name === 'MISSING_DATE')).toMatchObject({
      points: expect.any(Number),
      description: 'Missing Date: header',
    });
    // The score is the sum of what the rules say (each printed to a tenth).
    const sum = score.rules.reduce((total, rule) => total + rule.points, 0);
    expect(Math.abs(sum - score.score)).toBeLessThan(0.05 * score.rules.length + 0.05);
  }, 90_000);

  it('scores a clean newsletter under 5', async () => {
    const score = await (await ensureSpamd({ DATA_DIR })).score(CLEAN_NEWSLETTER);
    expect(score.score, JSON.stringify(score.rules)).toBeLessThan(5);
    expect(score.threshold).toBe(5);
  }, 90_000);

  it('scores GTUBE at 1000 and names it', async () => {
    const message = CLEAN_NEWSLETTER.replace('<p><a href', `<p>${GTUBE}</p>\r\n<p><a href`);
    const score = await (await ensureSpamd({ DATA_DIR })).score(message);
    expect(score.score).toBeGreaterThanOrEqual(1000);
    expect(score.rules).toContainEqual({
      name: 'GTUBE',
      points: 1000,
      description: 'BODY: Generic Test for Unsolicited Bulk Email',
    });
  }, 90_000);

  it('scores a message larger than spamc’s 500 KB limit (spamd has none) instead of passing it', async () => {
    const paragraph = '<p>The council voted on the new library hours and the bike lanes on Main Street.</p>\r\n';
    const big = SPAMMY_NEWSLETTER.replace(
      '</body>',
      `${paragraph.repeat(Math.ceil(600_000 / paragraph.length))}</body>`,
    );
    expect(big.length).toBeGreaterThan(600_000);
    const score = await (await ensureSpamd({ DATA_DIR })).score(big);
    // Header rules see all of it; body rules read the first 50 KB of each part (body_part_scan_size).
    expect(ruleNames(score)).toEqual(expect.arrayContaining(['MISSING_DATE', 'DEAR_FRIEND']));
    expect(score.score).toBeGreaterThanOrEqual(5);
  }, 90_000);

  it('stopSpamd stops it: the port goes quiet and a score says E_SPAM_UNAVAILABLE', async () => {
    const spamd = await ensureSpamd({ DATA_DIR });
    const pid = Number(readFileSync(join(dir, 'spamd.pid'), 'utf8'));
    expect(await stopSpamd({ DATA_DIR })).toBe(true);
    expect(await pingSpamd(spamd.port)).toBe(false);
    expect(existsSync(join(dir, 'spamd.pid')), 'spamd removes its pid file as it stops').toBe(false);
    expect(runs(pid)).toBe(false);
    expectCode(await failure(spamd.score(CLEAN_NEWSLETTER)), 'E_SPAM_UNAVAILABLE');
    expect(await stopSpamd({ DATA_DIR })).toBe(false);
  }, 90_000);

  it('starts one spamd for two commands that ask at once', async () => {
    const config = { DATA_DIR: dataDir('twice') };
    const [a, b] = await Promise.all([ensureSpamd(config), ensureSpamd(config)]);
    expect(a.port).toBe(b.port);
    expect([a.started, b.started].sort()).toEqual([false, true]);
    expect(existsSync(join(config.DATA_DIR, 'spamd', 'spamd.lock'))).toBe(false);
  }, 90_000);

  it('does not take another program answering PONG on its old port for its own', async () => {
    const config = { DATA_DIR: dataDir('foreign') };
    expect((await ensureSpamd(config)).started).toBe(true);
    expect(await stopSpamd(config)).toBe(true);
    // Something else now answers PING on that port, and a stale pid file names a live process
    // that is no spamd (this test's own).
    const port = await listener((socket) => socket.end('SPAMD/1.5 0 PONG\r\n'));
    expect(await pingSpamd(port)).toBe(true);
    writeFileSync(join(config.DATA_DIR, 'spamd', 'spamd.port'), `${port}\n`);
    writeFileSync(join(config.DATA_DIR, 'spamd', 'spamd.pid'), `${process.pid}\n`);
    const second = await ensureSpamd(config);
    expect(second.started).toBe(true);
    expect(second.port).not.toBe(port);
    expect((await second.score(CLEAN_NEWSLETTER)).threshold).toBe(5);
  }, 90_000);

  it('E_SPAM_START, with where its log is, when it does not come up in time; nothing is left running', async () => {
    const config = { DATA_DIR: dataDir('slow') };
    const marker = `DISPATCH_SPAMD_TEST=${process.pid}-slow`;
    process.env.DISPATCH_SPAMD_TEST = `${process.pid}-slow`;
    const log = join(config.DATA_DIR, 'spamd', 'spamd.log');
    // Here the launcher forks at about 0.2 s and the fork (in a session of its own) writes its pid
    // file at about 1.2 s: at 700 ms the fork is usually running and must be stopped too.
    const error = await failure(ensureSpamd(config, { startTimeoutMs: 700 }));
    delete process.env.DISPATCH_SPAMD_TEST;
    expectCode(error, 'E_SPAM_START');
    expect(error.message).toMatch(/^spamd did not start within 700 ms/);
    expect(error.message).toMatch(new RegExp(`; see ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(existsSync(join(config.DATA_DIR, 'spamd', 'spamd.port'))).toBe(false);
    expect(existsSync(join(config.DATA_DIR, 'spamd', 'spamd.lock'))).toBe(false);
    // Nothing started for this folder runs on, and none writes a pid file later.
    await new Promise((done) => setTimeout(done, 3_000));
    expect(existsSync(join(config.DATA_DIR, 'spamd', 'spamd.pid'))).toBe(false);
    expect(existsSync('/proc/self/environ') ? processesWith(marker) : []).toEqual([]);
  }, 30_000);
});
