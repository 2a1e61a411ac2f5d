// npm run test:faults: a list send of 2,000 recipients through real faults, three trials:
// the worker SIGKILLed at random moments 5 times (and restarted), Redis restarted once, and the
// SMTP sink refusing connections for 3 s. After each: the sink has every recipient at least once,
// duplicates never exceed kills x batch size, and the ledger agrees with the sink.
// A fourth, send-kills: `dispatch send` itself SIGKILLed at random moments while it queues a list
// of 30,000 (SEND_N), restarted after each kill, then run to the end: everyone exactly once.
// TRIALS=send-kills,kills runs only those.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startRedisServer } from '../io/managed-redis.js';
import { createSendLedger, type SendLedger } from '../io/send-ledger.js';
import { BATCH_SIZE, QUEUE_CHUNK } from '../jobs/list-send.js';
import { queuePrefix } from '../jobs/queues.js';
import { loadConfig } from '../src/config.js';
import { seedList } from '../tests/helpers/seed-list.js';
import { startSmtpSink } from '../tests/helpers/smtp-sink.js';

const root = resolve(import.meta.dirname, '..');
const N = Number(process.env.N ?? 2000);
const BATCH = 100;
const SEND_N = Number(process.env.SEND_N ?? 30_000);
const SEND_KILLS = Number(process.env.SEND_KILLS ?? 5);
const TRIALS = process.env.TRIALS?.split(',') ?? ['kills', 'redis-restart', 'smtp-refusing', 'send-kills'];

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

/** Until the ledger says the send is done; fails after 5 minutes, or when it stays paused (it waits for a person). */
async function waitUntilDone(name: string, ledger: SendLedger, week: string) {
  const deadline = Date.now() + 300_000;
  let pausedSince = 0;
  for (;;) {
    const current = await ledger.get(week).catch(() => null);
    if (current?.status === 'done') return;
    if (Date.now() > deadline) throw new Error(`${name}: not done after 5 minutes`);
    pausedSince = current?.status === 'paused' ? pausedSince || Date.now() : 0;
    if (pausedSince && Date.now() - pausedSince > 30_000) {
      throw new Error(`${name}: the send paused itself and stays paused (${current?.pausedReason})`);
    }
    await sleep(200);
  }
}

/** What a trial's fault gets to work with. */
interface FaultRun {
  prefix: string;
  week: string;
  worker: { current: ChildProcess };
  ledger: SendLedger;
  /** Messages the ledger counts as sent so far. */
  sent(): Promise<number>;
  /** A line printed under the trial's result. */
  note(line: string): void;
}

async function trial(name: string, fault: (run: FaultRun) => Promise<number>) {
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
  const notes: string[] = [];
  const kills = await fault({
    prefix,
    week,
    worker,
    ledger,
    sent: async () => (await ledger.get(week).catch(() => null))?.sent ?? 0,
    note: (line) => notes.push(line),
  });
  await waitUntilDone(name, ledger, week);
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
  for (const line of notes) console.log(`  ${line}`);
  for (const [check, ok] of Object.entries(checks)) {
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${check}`);
    if (!ok) failures++;
  }
  worker.current.kill('SIGTERM');
  await redis.quit();
}

/** `dispatch <args>` as a child process on a trial's keys: its output, and how it ended. */
function runDispatch(prefix: string, args: string[]) {
  const child = spawn(process.execPath, [join(root, 'bin/dispatch.js'), ...args], {
    env: {
      ...process.env,
      REDIS_URL: redisServer.url,
      REDIS_PREFIX: prefix,
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<{ code: number | null; signal: string | null; output: string }>((done) =>
    child.once('close', (code, signal) => done({ code, signal, output })),
  );
  return { child, exited };
}

/**
 * `dispatch send` SIGKILLed at random moments while it queues a large list (a worker sending all
 * along), each kill followed by a new `dispatch send` that may be killed in turn, then one left to
 * run to the end: every recipient receives the issue exactly once and the ledger says done.
 */
async function sendKillTrial() {
  const name = 'send-kills';
  const prefix = `faults-${name}`;
  const config = loadConfig({ REDIS_PREFIX: prefix, SMTP_URL: `smtp://127.0.0.1:${sink.port}` });
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const week = await seedList(redis, config, SEND_N, name, now);
  received.clear();
  const queue = new Queue('send', { connection: redis, prefix: queuePrefix(config) });
  const ledger = createSendLedger(redis, prefix);
  const batches = Math.ceil(SEND_N / BATCH_SIZE);
  // The send's batch jobs that exist, in any state: how far the killed commands got with queuing.
  const queued = async () =>
    Object.values(
      await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'),
    ).reduce((a, b) => a + b, 0);
  const start = performance.now();
  const worker = startWorkerProcess(prefix);
  const kills: { at: number; how: string; existed: boolean; before: number; after: number; finished: boolean }[] = [];
  let firstKillMs = 0;
  for (let k = 0; k < SEND_KILLS; k++) {
    const before = await queued();
    const run = runDispatch(prefix, ['send', '--week', week]);
    let ended = false;
    void run.exited.then(() => {
      ended = true;
    });
    const spawned = performance.now();
    let how: string;
    if (batches - before > QUEUE_CHUNK) {
      // A random batch in the next few round trips of what is left to queue (short of the last
      // one): killed once it is queued, so that the next run may be cut off in its queuing too.
      const span = Math.min(batches - before - QUEUE_CHUNK, 2 * QUEUE_CHUNK);
      const target = before + 1 + Math.floor(Math.random() * span);
      how = `once ${target} of ${batches} batches were queued`;
      while (!ended && (await queued()) < target) await sleep(2);
    } else {
      // Nearly all queued: a random moment of the command's life (starting, re-queuing).
      const delay = Math.round(Math.random() * (firstKillMs || 1000));
      how = `at a random ${delay} ms`;
      await Promise.race([sleep(delay), run.exited]);
    }
    const at = Math.round(performance.now() - spawned);
    run.child.kill('SIGKILL');
    const { signal } = await run.exited;
    if (k === 0) firstKillMs = at;
    kills.push({
      at,
      how,
      existed: (await ledger.get(week)) !== null,
      before,
      after: await queued(),
      finished: signal !== 'SIGKILL',
    });
  }
  const last = await runDispatch(prefix, ['send', '--week', week]).exited;
  await waitUntilDone(name, ledger, week);
  const seconds = (performance.now() - start) / 1000;
  const record = await ledger.get(week);
  const counts = [...received.values()];
  const failedJobs = await queue.getJobCountByTypes('failed');
  const midQueue = kills.filter((k) => !k.finished && k.existed && k.after > 0 && k.after < batches).length;
  console.log(
    `\n${name}: ${SEND_N} recipients in ${batches} batches, ${seconds.toFixed(1)} s, ${kills.length} kill(s):`,
  );
  for (const [i, k] of kills.entries()) {
    console.log(
      `  kill ${i + 1} ${k.how}, ${k.at} ms after start: ` +
        (k.finished
          ? 'it had already finished'
          : `${k.existed ? 'the send existed' : 'no send yet'}, ${k.before} -> ${k.after} batch job(s) queued`),
    );
  }
  console.log(`  final dispatch send: ${last.output.trim().split('\n')[0]}`);
  const checks = {
    [`${midQueue} kill(s) left the send with batches not yet queued (>= 1)`]: midQueue >= 1,
    [`every recipient received it exactly once (${received.size} addresses, ${counts.reduce((a, b) => a + b, 0)} messages)`]:
      received.size === SEND_N && counts.every((n) => n === 1),
    [`the final dispatch send finished it (exit ${last.code})`]:
      last.code === 0 && /resuming: re-queued|already done/.test(last.output),
    [`the ledger says done, all sent (${record?.status}, ${record?.sent} sent, ${record?.batchesDone} of ${batches} batches, ${record?.possibleDuplicates} possible duplicates)`]:
      record?.status === 'done' &&
      record.sent === SEND_N &&
      record.batchesDone === batches &&
      record.possibleDuplicates === 0,
    [`no batch job failed (${failedJobs})`]: failedJobs === 0,
  };
  for (const [check, ok] of Object.entries(checks)) {
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${check}`);
    if (!ok) failures++;
  }
  worker.kill('SIGTERM');
  await queue.close();
  await redis.quit();
}

try {
  if (TRIALS.includes('kills'))
    await trial('kills', async ({ prefix, worker, sent }) => {
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
  if (TRIALS.includes('redis-restart'))
    await trial('redis-restart', async ({ sent }) => {
      while ((await sent()) < 200) await sleep(20);
      await redisServer.stop();
      await sleep(2000);
      redisServer = await startRedisServer({ dir, port: redisServer.port });
      return 0;
    });
  if (TRIALS.includes('smtp-refusing'))
    await trial('smtp-refusing', async ({ prefix, week, ledger, sent, note }) => {
      while ((await sent()) < 200) await sleep(20);
      await sink.close();
      await sleep(3000);
      await sink.open();
      // SEND_MAX_ERRORS refused messages in a row pause the send for a person to look; once the
      // server is back, that person resumes it (and the resume promotes the waiting batches).
      const deadline = Date.now() + 3000;
      while ((await ledger.status(week)) !== 'paused' && Date.now() < deadline) await sleep(100);
      const record = await ledger.get(week);
      if (record?.status !== 'paused') note('the send did not pause itself');
      else {
        const resumed = await runDispatch(prefix, ['send', '--resume', week]).exited;
        note(`paused itself (${record.pausedReason}); dispatch send --resume: ${resumed.output.trim()}`);
      }
      return 0;
    });
  if (TRIALS.includes('send-kills')) await sendKillTrial();
} finally {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await redisServer.stop();
  await sink.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
console.log(failures ? `\n${failures} check(s) FAILED` : '\nall fault trials passed');
process.exit(failures ? 1 : 0);
