import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** True when a Redis server answers PING on `port`. */
export async function pingRedis(port: number, timeoutMs = 500): Promise<boolean> {
  return await new Promise((done) => {
    const socket = createConnection({ host: HOST, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
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
}

/**
 * The Redis a command should use: REDIS_URL when set; otherwise the private redis-server under
 * `<dataDir>/redis`, reused when it already runs there, else started in the background
 * (appendonly, a free port) so that later commands find it.
 */
export async function ensureRedis(config: { REDIS_URL?: string; DATA_DIR: string }): Promise<ManagedRedis> {
  const dir = resolve(config.DATA_DIR, 'redis');
  if (config.REDIS_URL) return { url: config.REDIS_URL, started: false, dir };
  const portFile = join(dir, 'redis.port');
  const known = Number(readOptional(portFile));
  if (known > 0 && (await pingRedis(known))) return { url: `redis://${HOST}:${known}`, started: false, dir };

  requireRedisBinary();
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = [...serverArgs(dir, port), '--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid')];
  const result = spawnSync('redis-server', args, { stdio: 'ignore' });
  if (result.status !== 0) {
    throw new DispatchError(
      'E_REDIS_START',
      `redis-server exited with ${result.status}; see ${join(dir, 'redis.log')}`,
    );
  }
  await waitForRedis(port, dir);
  writeFileSync(portFile, `${port}\n`);
  return { url: `redis://${HOST}:${port}`, started: true, dir };
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

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}
