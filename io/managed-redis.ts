import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DispatchError } from '../src/errors.js';

const HOST = '127.0.0.1';

/** A free TCP port on loopback, as the OS hands one out. */
export async function freePort(): Promise<number> {
  return await new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** True when nothing listens on `port` (loopback) and this process could bind it. */
export async function portIsFree(port: number): Promise<boolean> {
  return await new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, HOST, () => server.close(() => done(true)));
  });
}

/**
 * Sends one raw request to whatever listens on `port` (loopback) and hands what arrives to
 * `parse`, until it returns a value (not undefined) or the listener errs, hangs up or stays silent
 * for `timeoutMs`: then `fallback`. Plain sockets: a check that must not wait on a client's retries.
 */
async function ask<T>(
  port: number,
  request: string,
  parse: (reply: string) => T | undefined,
  fallback: T,
  timeoutMs: number,
): Promise<T> {
  return await new Promise((done) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    const finish = (value: T) => {
      socket.destroy();
      done(value);
    };
    socket.setTimeout(timeoutMs, () => finish(fallback));
    socket.once('error', () => finish(fallback));
    // A listener that hangs up without a word: its socket's idle timer goes with it.
    socket.once('close', () => finish(fallback));
    socket.once('connect', () => socket.write(request));
    socket.on('data', (data) => {
      reply += data.toString();
      const value = parse(reply);
      if (value !== undefined) finish(value);
    });
  });
}

/** True when a Redis server answers PING on `port`. */
export async function pingRedis(port: number, timeoutMs = 500): Promise<boolean> {
  return await ask(port, 'PING\r\n', (reply) => reply.startsWith('+PONG'), false, timeoutMs);
}

function requireRedisBinary(): void {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (probe.error) {
    throw new DispatchError(
      'E_REDIS_MISSING',
      'redis-server is not on PATH: run `npm run setup` to install it, or set REDIS_URL to an existing Redis',
      { cause: probe.error },
    );
  }
}

function serverArgs(dir: string, port: number): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--dir',
    dir,
    '--appendonly',
    'yes',
    // BullMQ's production guide: a queue must never have its keys evicted.
    '--maxmemory-policy',
    'noeviction',
    '--save',
    '',
    '--logfile',
    join(dir, 'redis.log'),
  ];
}

async function waitForRedis(port: number, dir: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) break;
    if (await pingRedis(port)) {
      // A PONG from another server that took the port first would fool us: ours must still run.
      await sleep(100);
      if (!child || child.exitCode === null) return;
      break;
    }
    await sleep(50);
  }
  throw new DispatchError('E_REDIS_START', `redis-server did not start on port ${port}; see ${join(dir, 'redis.log')}`);
}

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a redis-server owned by this process (it dies with it), on a free port with its data in
 * `dir`. Tests use this: each suite gets its own server and stops it.
 */
export async function startRedisServer(options: { dir: string; port?: number }): Promise<RedisServer> {
  requireRedisBinary();
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const child = spawn('redis-server', serverArgs(dir, port), { stdio: 'ignore' });
  await waitForRedis(port, dir, child);
  return {
    url: `redis://${HOST}:${port}`,
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface ManagedRedis {
  url: string;
  /** False when an already running managed server was reused. */
  started: boolean;
  dir: string;
  /** The port it had before, when that was taken by something else and it started on a new one. */
  movedFrom?: number;
}

export interface EnsureRedisOptions {
  /**
   * Told, in one line, when the managed server's port was taken and it started on another.
   * @defaultValue a `dispatch: ...` line on stderr
   */
  warn?: (line: string) => void;
}

/**
 * The Redis a command should use: REDIS_URL when set; otherwise the private redis-server under
 * `<dataDir>/redis`, reused when it already runs there, else started in the background
 * (appendonly) so that later commands find it. It keeps its port (`<dataDir>/redis/redis.port`)
 * from one start to the next, so that workers still running reconnect to it by themselves; a
 * free port is chosen on the first start, or when something else holds the old one (then
 * `options.warn` says so, and workers on the old port must be restarted).
 */
export async function ensureRedis(
  config: { REDIS_URL?: string; DATA_DIR: string },
  options: EnsureRedisOptions = {},
): Promise<ManagedRedis> {
  const dir = resolve(config.DATA_DIR, 'redis');
  if (config.REDIS_URL) return { url: config.REDIS_URL, started: false, dir };
  const portFile = join(dir, 'redis.port');
  const known = Number(readOptional(portFile));
  // Ours only when it keeps its data in our folder: another Redis (another DATA_DIR's) may have
  // taken the port while ours was stopped.
  if (known > 0 && (await pingRedis(known)) && (await redisDir(known)) === realDir(dir)) {
    return { url: `redis://${HOST}:${known}`, started: false, dir };
  }

  requireRedisBinary();
  mkdirSync(dir, { recursive: true });
  const keep = known > 0 && known < 65536 && (await portIsFree(known));
  const port = keep ? known : await freePort();
  if (known > 0 && !keep) {
    const warn = options.warn ?? ((line: string) => process.stderr.write(`dispatch: ${line}\n`));
    warn(
      `port ${known} of the managed Redis is taken by another program; starting it on port ${port} instead (restart workers still connected to ${known})`,
    );
  }
  const args = [...serverArgs(dir, port), '--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid')];
  const result = spawnSync('redis-server', args, { stdio: 'ignore' });
  if (result.status !== 0) {
    throw new DispatchError(
      'E_REDIS_START',
      `redis-server exited with ${result.status}; see ${join(dir, 'redis.log')}`,
    );
  }
  await waitForRedis(port, dir);
  if (port !== known) writeFileSync(portFile, `${port}\n`);
  return { url: `redis://${HOST}:${port}`, started: true, dir, ...(keep || !(known > 0) ? {} : { movedFrom: known }) };
}

/** Stops the managed redis-server under `<dataDir>/redis`, if one runs. Returns whether one did. */
export async function stopManagedRedis(config: { DATA_DIR: string }): Promise<boolean> {
  const dir = resolve(config.DATA_DIR, 'redis');
  const pid = Number(readOptional(join(dir, 'redis.pid')));
  const port = Number(readOptional(join(dir, 'redis.port')));
  if (!(pid > 0) || !(port > 0) || !(await pingRedis(port))) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  for (let i = 0; i < 100 && (await pingRedis(port)); i++) await sleep(50);
  return true;
}

/** The data folder of the Redis on `port` (`CONFIG GET dir`), or undefined when it does not say. */
async function redisDir(port: number, timeoutMs = 500): Promise<string | undefined> {
  // null: not an answer to wait for (told apart from undefined, "not all of it yet").
  const dir = await ask<string | null>(
    port,
    '*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$3\r\ndir\r\n',
    (reply) => {
      // RESP: *2 $3 dir $<length> <path>
      const match = /^\*2\r\n\$3\r\ndir\r\n\$(\d+)\r\n/.exec(reply);
      if (!match) return !reply.startsWith('*') || reply.length > 4096 ? null : undefined;
      const body = Buffer.from(reply.slice(match[0].length));
      const length = Number(match[1]);
      return body.length >= length ? body.subarray(0, length).toString() : undefined;
    },
    null,
    timeoutMs,
  );
  return dir ?? undefined;
}

/** The folder as Redis reports it (it resolves links when it changes into it). */
function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** A small file's text, trimmed, or undefined when it cannot be read (a pid or port file). */
export function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}
