// npm run test:faults: a list send of 2,000 recipients through real faults, three trials:
// the worker SIGKILLed at random moments 5 times (and restarted), Redis restarted once, and the
// SMTP sink refusing connections for 3 s. After each: the sink has every recipient at least once,
// duplicates never exceed kills x batch size, and the ledger agrees with the sink.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedisServer } from '../io/managed-redis.js';
import { createSendLedger } from '../io/send-ledger.js';
import { loadConfig } from '../src/config.js';
import { seedList } from '../tests/helpers/seed-list.js';
import { startSmtpSink } from '../tests/helpers/smtp-sink.js';

const root = resolve(import.meta.dirname, '..');
const N = Number(process.env.N ?? 2000);
const BATCH = 100;

const sink = await startSmtpSink();
const received = sink.received;

const dir = mkdtempSync(join(tmpdir(), 'dispatch-faults-'));
let redisServer = await startRedisServer({ dir });
const now = new Date();
const workers: ChildProcess[] = [];
let failures = 0;

function startWorkerProcess(prefix: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [join(root, 'bin/dispatch.js'), 'worker', '--queues', 'send', '--concurrency', '4'],
    {
      env: {
        ...process.env,
        REDIS_URL: redisServer.url,
        REDIS_PREFIX: prefix,
        SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
        JOB_LOCK_MS: '2000',
        JOB_STALLED_INTERVAL_MS: '1000',
        JOB_ATTEMPTS: '20',
        JOB_BACKOFF_MS: '300',
        LOG_LEVEL: 'silent',
      },
      stdio: 'ignore',
    },
  );
  workers.push(child);
  return child;
}

async function trial(
  name: string,
  fault: (prefix: string, worker: { current: ChildProcess }, sent: () => Promise<number>) => Promise<number>,
) {
  const prefix = `faults-${name}`;
  const config = loadConfig({ REDIS_PREFIX: prefix, SMTP_URL: `smtp://127.0.0.1:${sink.port}` });
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const week = await seedList(redis, config, N, name, now);
  received.clear();
  const start = performance.now();
  const send = spawnSync(process.execPath, [join(root, 'bin/dispatch.js'), 'send', '--week', week], {
    env: { ...process.env, REDIS_URL: redisServer.url, REDIS_PREFIX: prefix },
    encoding: 'utf8',
  });
  if (send.status !== 0) throw new Error(`dispatch send failed: ${send.stderr}`);
  const worker = { current: startWorkerProcess(prefix) };
  const ledger = createSendLedger(redis, prefix);
  const kills = await fault(prefix, worker, async () => (await ledger.get(week).catch(() => null))?.sent ?? 0);
  const deadline = Date.now() + 300_000;
  while ((await ledger.get(week).catch(() => null))?.status !== 'done') {
    if (Date.now() > deadline) throw new Error(`${name}: not done after 5 minutes`);
    await sleep(200);
  }
  const seconds = (performance.now() - start) / 1000;
  const record = await ledger.get(week);
  const entries = Object.values(await ledger.entries(week));
  const duplicates = [...received.values()].reduce((n, count) => n + count - 1, 0);
  const checks = {
    'every recipient received it at least once': received.size === N,
    [`duplicates (${duplicates}) <= max(kills, 1) x batch size (${Math.max(kills, 1)} x ${BATCH})`]:
      duplicates <= Math.max(kills, 1) * BATCH,
    [`the ledger has every recipient sent (counter ${record?.sent}, entries ${entries.filter((e) => e.state === 'sent').length})`]:
      record?.sent === N && entries.filter((e) => e.state === 'sent').length === N,
    [`the sink's duplicates (${duplicates}) <= the ledger's possible duplicates (${record?.possibleDuplicates})`]:
      duplicates <= (record?.possibleDuplicates ?? 0),
  };
  console.log(
    `\n${name}: ${N} recipients in ${seconds.toFixed(1)} s, ${kills} kill(s), ${duplicates} duplicate(s) received`,
  );
  for (const [check, ok] of Object.entries(checks)) {
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${check}`);
    if (!ok) failures++;
  }
  worker.current.kill('SIGTERM');
  await redis.quit();
}

try {
  await trial('kills', async (prefix, worker, sent) => {
    for (let k = 0; k < 5; k++) {
      // Kill while it is sending: once it has sent some since it started, at a random moment after.
      const before = await sent();
      while ((await sent()) < before + 40) await sleep(20);
      await sleep(Math.random() * 300);
      worker.current.kill('SIGKILL');
      await sleep(100);
      worker.current = startWorkerProcess(prefix);
    }
    return 5;
  });
  await trial('redis-restart', async (_prefix, _worker, sent) => {
    while ((await sent()) < 200) await sleep(20);
    await redisServer.stop();
    await sleep(2000);
    redisServer = await startRedisServer({ dir, port: redisServer.port });
    return 0;
  });
  await trial('smtp-refusing', async (_prefix, _worker, sent) => {
    while ((await sent()) < 200) await sleep(20);
    await sink.close();
    await sleep(3000);
    await sink.open();
    return 0;
  });
} finally {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await redisServer.stop();
  await sink.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
console.log(failures ? `\n${failures} check(s) FAILED` : '\nall fault trials passed');
process.exit(failures ? 1 : 0);
