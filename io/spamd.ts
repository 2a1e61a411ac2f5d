import { spawn } from 'node:child_process';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseSpamReport, type SpamScore } from '../src/checks/spam-report.js';
import { DispatchError } from '../src/errors.js';
import { freePort, readOptional } from './managed-redis.js';

export type { SpamRule, SpamScore } from '../src/checks/spam-report.js';

const HOST = '127.0.0.1';
const INSTALL = 'run `npm run setup`, or `sudo apt-get install -y spamassassin spamc spamd`';
/** Where Debian, other Linuxes and Homebrew put spamd: /usr/sbin is not on a normal user's PATH. */
const KNOWN_PLACES = [
  '/usr/sbin/spamd',
  '/usr/local/sbin/spamd',
  '/usr/bin/spamd',
  '/usr/local/bin/spamd',
  '/opt/homebrew/bin/spamd',
];

/** The managed spamd, as {@link ensureSpamd} hands it out. */
export interface Spamd {
  /** Its port on 127.0.0.1. */
  port: number;
  /** False when an already running spamd was reused. */
  started: boolean;
  /**
   * Scores one complete MIME message (headers included) with SpamAssassin's local rules.
   * E_SPAM_TIMEOUT after `timeoutMs`; E_SPAM_UNAVAILABLE when spamd cannot be reached or refuses.
   */
  score(raw: Buffer | string, options?: ScoreOptions): Promise<SpamScore>;
}

export interface ScoreOptions {
  /**
   * How long one message may take, connection to answer.
   * @defaultValue 30_000
   */
  timeoutMs?: number;
}

export interface EnsureSpamdOptions {
  /**
   * How long a start may take until spamd answers PING: it compiles its rules first (about 2 s
   * here, more on a slow machine).
   * @defaultValue 60_000
   */
  startTimeoutMs?: number;
  /**
   * The spamd program to run.
   * @defaultValue the first of /usr/sbin/spamd, /usr/local/sbin/spamd, /usr/bin/spamd,
   * /usr/local/bin/spamd, /opt/homebrew/bin/spamd that exists, else `spamd` on PATH
   */
  bin?: string;
}

/**
 * The managed spamd for DATA_DIR: reused when it runs, else started in the background on a free
 * port of 127.0.0.1, its pid, port and log in `<DATA_DIR>/spamd/`. E_SPAM_UNAVAILABLE (one line
 * saying what to install) when spamd is not installed; E_SPAM_START when it does not come up in
 * time (with where its log is).
 */
export async function ensureSpamd(config: { DATA_DIR: string }, options: EnsureSpamdOptions = {}): Promise<Spamd> {
  const dir = resolve(config.DATA_DIR, 'spamd');
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const found = await runningSpamd(dir);
  if (found) return spamdAt(found.port, false);
  mkdirSync(dir, { recursive: true });
  return await withStartLock(dir, timeoutMs, async () => {
    // Another command may have started it while this one waited for the lock; and one whose
    // children are all busy (with large messages) answers PING late: give it a score's time.
    const again = await runningSpamd(dir, 30_000);
    if (again) return spamdAt(again.port, false);
    return spamdAt(await startSpamd(dir, options.bin ?? spamdBinary(), timeoutMs), true);
  });
}

/** Stops the managed spamd under `<DATA_DIR>/spamd`, if one runs. Returns whether one did. */
export async function stopSpamd(config: { DATA_DIR: string }): Promise<boolean> {
  const dir = resolve(config.DATA_DIR, 'spamd');
  const pid = Number(readOptional(join(dir, 'spamd.pid')));
  rmSync(join(dir, 'spamd.port'), { force: true });
  if (!(pid > 0) || !isSpamdProcess(pid)) return false;
  await stopProcess(pid);
  return true;
}

/** True when a spamd answers PING on `port` (loopback) within `timeoutMs`. */
export async function pingSpamd(port: number, timeoutMs = 2000): Promise<boolean> {
  try {
    const answer = await exchange(port, Buffer.from('PING SPAMC/1.5\r\n\r\n'), timeoutMs);
    return /^SPAMD\/[\d.]+ 0 PONG\r\n/.test(answer);
  } catch {
    return false;
  }
}

/**
 * A client of the spamd on `port` (loopback), without starting or checking anything: for a spamd
 * run by other means, and for tests. {@link ensureSpamd} is the way to get the managed one.
 */
export function spamdAt(port: number, started = false): Spamd {
  return {
    port,
    started,
    score: async (raw, options = {}) => {
      const message = typeof raw === 'string' ? Buffer.from(raw) : raw;
      // SPAMC protocol 1.5: the command, the body's length in bytes, a blank line, the body.
      const head = Buffer.from(`REPORT SPAMC/1.5\r\nContent-length: ${message.length}\r\n\r\n`);
      const answer = await exchange(port, Buffer.concat([head, message]), options.timeoutMs ?? 30_000);
      return parseSpamReport(answer);
    },
  };
}

/**
 * Sends `request` to spamd on `port`, half-closes, and returns everything it answers until it
 * hangs up. E_SPAM_TIMEOUT when that takes longer than `timeoutMs`; E_SPAM_UNAVAILABLE when the
 * connection fails or closes without a word.
 */
async function exchange(port: number, request: Buffer, timeoutMs: number): Promise<string> {
  return await new Promise((done, fail) => {
    const socket = createConnection({ host: HOST, port });
    const chunks: Buffer[] = [];
    let failure: Error | undefined;
    const timer = setTimeout(() => {
      failure = new DispatchError(
        'E_SPAM_TIMEOUT',
        `spamd on ${HOST}:${port} did not answer within ${timeoutMs} ms (a ${request.length}-byte request)`,
        { transient: true },
      );
      socket.destroy();
    }, timeoutMs);
    socket.once('connect', () => socket.end(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= error;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      // spamd may reset the connection once it has answered: the answer counts, not the reset.
      if (chunks.length > 0 && !(failure instanceof DispatchError)) return done(Buffer.concat(chunks).toString('utf8'));
      if (failure instanceof DispatchError) return fail(failure);
      const why = (failure as NodeJS.ErrnoException | undefined)?.code ?? 'it closed the connection without an answer';
      fail(
        new DispatchError('E_SPAM_UNAVAILABLE', `spamd on ${HOST}:${port} does not answer (${why})`, {
          cause: failure,
          transient: true,
        }),
      );
    });
  });
}

/** The pid and port of the managed spamd in `dir` when it runs and answers; else undefined. */
async function runningSpamd(dir: string, pingTimeoutMs = 2000): Promise<{ pid: number; port: number } | undefined> {
  const pid = Number(readOptional(join(dir, 'spamd.pid')));
  const port = Number(readOptional(join(dir, 'spamd.port')));
  if (!(pid > 0) || !(port > 0 && port < 65536)) return undefined;
  // Ours: the process our pid file names is a live spamd, and the port it was started on (which
  // it holds while it lives, so no one else can) answers PING. spamd removes its pid file when it
  // stops, so a stale one is left only by a crash; its pid would have to be taken since by
  // another spamd for this to be fooled.
  if (!isSpamdProcess(pid)) return undefined;
  return (await pingSpamd(port, pingTimeoutMs)) ? { pid, port } : undefined;
}

function spamdArgs(dir: string, port: number): string[] {
  return [
    // Local tests only: no DNS blocklists, URI blocklists, SPF, DKIM key or DMARC lookups, no
    // Razor, Pyzor or DCC. Unpublished news never leaves the machine (checked with strace: the
    // only sockets it opens are the loopback and local Unix ones).
    '--local',
    // No per-user preferences (~/.spamassassin/user_prefs): every run scores alike.
    '--nouser-config',
    '--listen',
    `${HOST}:${port}`,
    '--allowed-ips',
    HOST,
    // Each child is ~110 MB (mostly shared with the parent): enough for a few checks at once.
    '--max-children',
    '3',
    '--pidfile',
    join(dir, 'spamd.pid'),
    // A path instead of a syslog facility: spamd logs to that file.
    '--syslog',
    join(dir, 'spamd.log'),
    '--daemonize',
    // As root, spamd would check each message as `nobody` anyway, with a warning per message in
    // its log: say so, and its children start as `nobody` (the parent stays root to manage them).
    ...(process.getuid?.() === 0 ? ['--username', 'nobody'] : []),
    // No Bayes learning: nothing is written under a home folder (`nobody` has none), and the
    // score does not drift as it learns.
    '--cf',
    'use_bayes 0',
    '--cf',
    'bayes_auto_learn 0',
    // The version, after the report's rule table (src/checks/spam-report.ts reads it there).
    '--cf',
    'report',
    '--cf',
    'report SpamAssassin _VERSION_',
  ];
}

/** Starts spamd in `dir`, waits until it answers PING, and returns its port. */
async function startSpamd(dir: string, bin: string, timeoutMs: number): Promise<number> {
  const pidFile = join(dir, 'spamd.pid');
  const portFile = join(dir, 'spamd.port');
  const logFile = join(dir, 'spamd.log');
  const deadline = Date.now() + timeoutMs;
  // One that runs but no longer answers would be left behind: stop it first.
  const stale = Number(readOptional(pidFile));
  if (stale > 0 && isSpamdProcess(stale)) await stopProcess(stale);
  rmSync(pidFile, { force: true });
  rmSync(portFile, { force: true });
  const port = await freePort();
  // A fresh log per start, so that "see its log" shows this start. Until it daemonizes, spamd
  // writes its errors (a bad option, a port taken) to stderr: into the same file.
  const log = openSync(logFile, 'w');
  let launcher: ReturnType<typeof spawn>;
  try {
    launcher = spawn(bin, spamdArgs(dir, port), { stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  // `--daemonize`: the launcher binds the port and forks; the fork starts a session of its own,
  // compiles the rules, writes the pid file and signals the launcher, which then exits.
  const exit = await new Promise<number | NodeJS.ErrnoException | 'timeout'>((done) => {
    const timer = setTimeout(() => done('timeout'), Math.max(0, deadline - Date.now()));
    launcher.once('error', (error) => {
      clearTimeout(timer);
      done(error);
    });
    launcher.once('exit', (code, signal) => {
      clearTimeout(timer);
      done(code ?? (signal ? 128 : 1));
    });
  });
  if (exit instanceof Error) {
    if (exit.code === 'ENOENT' || exit.code === 'EACCES') {
      throw new DispatchError('E_SPAM_UNAVAILABLE', `spamd (SpamAssassin) is not installed at ${bin}: ${INSTALL}`, {
        cause: exit,
      });
    }
    throw new DispatchError('E_SPAM_START', `spamd (${bin}) could not be run: ${exit.message}`, { cause: exit });
  }
  if (exit === 'timeout') {
    // The fork may already run in its own session, out of reach of the launcher's group.
    if (launcher.pid !== undefined) killTree(launcher.pid);
    throw notStarted(`spamd did not start within ${timeoutMs} ms`, logFile);
  }
  if (exit !== 0) throw notStarted(`spamd exited with ${exit}`, logFile);
  while (Date.now() < deadline) {
    const pid = Number(readOptional(pidFile));
    if (pid > 0 && !isSpamdProcess(pid)) throw notStarted('spamd stopped right after it started', logFile);
    if (pid > 0 && (await pingSpamd(port, Math.max(1, Math.min(2000, deadline - Date.now()))))) {
      writeFileSync(portFile, `${port}\n`);
      return port;
    }
    await sleep(50);
  }
  const pid = Number(readOptional(pidFile));
  if (pid > 0 && isSpamdProcess(pid)) await stopProcess(pid);
  throw notStarted(`spamd did not answer on port ${port} within ${timeoutMs} ms`, logFile);
}

function notStarted(what: string, logFile: string): DispatchError {
  const last = (readOptional(logFile) ?? '').split('\n').filter(Boolean).at(-1);
  return new DispatchError('E_SPAM_START', `${what}${last ? ` (its log ends: ${last.trim()})` : ''}; see ${logFile}`);
}

/**
 * Runs `work` holding `<dir>/spamd.lock`, so that two commands starting at once start one spamd.
 * A lock whose holder no longer runs is taken over.
 */
async function withStartLock<T>(dir: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const lock = join(dir, 'spamd.lock');
  const deadline = Date.now() + timeoutMs;
  // Written aside and linked into place: the lock appears with its holder's pid already in it.
  const mine = join(dir, `spamd.lock.${process.pid}`);
  writeFileSync(mine, `${process.pid}\n`);
  try {
    for (;;) {
      try {
        linkSync(mine, lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number(readOptional(lock));
      if (!(holder > 0) || !isAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new DispatchError('E_SPAM_START', `another process (pid ${holder}) is still starting spamd; see ${lock}`);
      }
      await sleep(100);
    }
  } finally {
    rmSync(mine, { force: true });
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** SIGTERM (spamd stops its children and removes its pid file), then SIGKILL after 10 s. */
async function stopProcess(pid: number): Promise<void> {
  signal(pid, 'SIGTERM');
  for (let i = 0; i < 200 && isSpamdProcess(pid); i++) await sleep(50);
  if (isSpamdProcess(pid)) signal(pid, 'SIGKILL');
}

/**
 * SIGKILLs `root` and every process descended from it. Each is stopped first and the tree read
 * again until no new one appears, so none forks a child past the kill.
 */
function killTree(root: number): void {
  const stopped = new Set<number>();
  for (let round = 0; round < 10; round++) {
    const fresh = descendants(root).filter((pid) => !stopped.has(pid));
    if (!stopped.has(root)) fresh.unshift(root);
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      signal(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  }
  for (const pid of stopped) signal(pid, 'SIGKILL');
}

/** The processes descended from `root`, read from /proc (none where there is no /proc). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  for (const name of entries) {
    const stat = readOptional(`/proc/${name}/stat`);
    // "<pid> (<name>) <state> <ppid> ...": the name may itself hold spaces or parentheses.
    const match = stat === undefined ? null : /\) \S (\d+) /s.exec(stat.slice(stat.lastIndexOf(')')));
    if (match === null) continue;
    const ppid = Number(match[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when `pid` is a live spamd of this user. On Linux its /proc entry also says its name and
 * whether it is a zombie (a stopped server whose parent has not reaped it still has a pid).
 */
function isSpamdProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readOptional(`/proc/${pid}/stat`);
  if (stat === undefined) return !existsSync('/proc/self/stat');
  // "<pid> (<name>) <state> ...": the name may itself hold spaces or parentheses.
  const match = /^\d+ \((.*)\) (\S)/s.exec(stat);
  return match !== null && (match[1] ?? '').startsWith('spamd') && match[2] !== 'Z';
}

/** The spamd to run: a known place where it exists, else `spamd` on PATH. */
function spamdBinary(): string {
  return KNOWN_PLACES.find((path) => existsSync(path)) ?? 'spamd';
}
