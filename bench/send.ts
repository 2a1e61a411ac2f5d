// npm run bench:send: N recipients (default 10,000) to a local SMTP sink, in one run:
// (a) raw nodemailer pooled sends of one pre-rendered message, one per recipient, in a process of its own;
// (b) Dispatch's queued, personalized list send with one `dispatch worker` process.
// ROUNDS rounds (default 3, 1 above 20,000), the two sides in alternating order; prints each
// round's rates and ratio, the medians (target: ratio >= 1.0) and the worker's peak RSS (< 300 MB).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedisServer } from '../io/managed-redis.js';
import { createSendLedger } from '../io/send-ledger.js';
import { createStore, type StoredIssue } from '../io/store.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { BATCH_SIZE, batchJobId } from '../jobs/list-send.js';
import { createQueues } from '../jobs/queues.js';
import { loadConfig } from '../src/config.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { personalize } from '../src/newsletter/personalize.js';
import { seedList } from '../tests/helpers/seed-list.js';
import { startSmtpSink } from '../tests/helpers/smtp-sink.js';

const root = resolve(import.meta.dirname, '..');
const N = Number(process.env.N ?? 10_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
/** Rounds of (a) and (b), in alternating order: one machine's noise moves both sides of a round alike. */
const ROUNDS = Number(process.env.ROUNDS ?? (N > 20_000 ? 1 : 3));

const sink = await startSmtpSink();
const sinkPort = sink.port;
const dir = mkdtempSync(join(tmpdir(), 'dispatch-bench-send-'));
const redisServer = await startRedisServer({ dir });
const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });

/** (a) raw nodemailer, pooled, the same pre-rendered message to each recipient, in a process of its own: msg/s. */
async function rawRound(stored: StoredIssue, from: string): Promise<number> {
  const message = personalize(stored, {
    email: 'reader@example.org',
    firstName: 'Reader',
    unsubscribeUrl: 'https://news.example.com/u/x',
    preferencesUrl: 'https://news.example.com/p/x',
  });
  const before = sink.total();
  const raw = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/raw-sender.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  raw.stdin.end(
    JSON.stringify({ port: sinkPort, from, subject: message.subject, html: message.html, text: message.text, n: N }),
  );
  let out = '';
  raw.stdout.on('data', (d) => {
    out += d;
  });
  await new Promise((done) => raw.once('exit', done));
  if (sink.total() - before !== N) throw new Error(`raw sender: ${sink.total() - before} of ${N} received`);
  return N / Number(out);
}

/** (b) Dispatch: a list send's steps, worked by one `dispatch worker` process: msg/s and its peak RSS. */
async function dispatchRound(prefix: string, week: string, now: Date) {
  const config = loadConfig({ REDIS_PREFIX: prefix, SMTP_URL: `smtp://127.0.0.1:${sinkPort}` });
  const worker = spawn(
    process.execPath,
    [join(root, 'bin/dispatch.js'), 'worker', '--queues', 'send', '--concurrency', String(CONCURRENCY)],
    {
      env: {
        ...process.env,
        REDIS_URL: redisServer.url,
        REDIS_PREFIX: prefix,
        SMTP_URL: config.SMTP_URL,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  try {
    await sleep(1500);
    const store = createStore(redis, prefix);
    const ledger = createSendLedger(redis, prefix);
    const queues = createQueues(redis, config);
    const before = sink.total();
    const start = performance.now();
    const emails = await createSubscriberStore(redis, prefix).activeEmails();
    await ledger.start(week, emails, { batchSize: BATCH_SIZE, rate: 0, now });
    await store.markIssueSent(week, now);
    const batches = Math.ceil(emails.length / BATCH_SIZE);
    for (let i = 0; i < batches; i += 500) {
      const chunk = Array.from({ length: Math.min(500, batches - i) }, (_, j) => i + j);
      await queues.send.addBulk(
        chunk.map((batch) => ({
          name: 'batch',
          data: { week, batch, batchSize: BATCH_SIZE },
          opts: { jobId: batchJobId(week, batch) },
        })),
      );
    }
    while ((await ledger.get(week))?.status !== 'done') await sleep(100);
    const seconds = (performance.now() - start) / 1000;
    const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8');
    const rssMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    const record = await ledger.get(week);
    await Promise.all(Object.values(queues).map((q) => q.close()));
    if (sink.total() - before !== N || record?.sent !== N) {
      throw new Error(`dispatch: ${sink.total() - before} received, ${record?.sent} sent of ${N}`);
    }
    return { rate: N / seconds, rssMb };
  } finally {
    worker.kill('SIGTERM');
    await new Promise((done) => worker.once('exit', done));
  }
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] as number;

try {
  const now = new Date();
  const rounds: { a: number; b: number; rssMb: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Each round its own list and issue (a send happens once per issue), seeded before the clock starts.
    const prefix = `bench${round}`;
    const config = loadConfig({ REDIS_PREFIX: prefix });
    const week = isoWeekOf(now, config.TZ);
    await seedList(redis, config, N, 'reader', now);
    const stored = await createStore(redis, prefix).getIssue(week);
    if (!stored) throw new Error('no issue');
    let a = 0;
    let b = { rate: 0, rssMb: 0 };
    if (round % 2 === 0) {
      a = await rawRound(stored, config.MAIL_FROM);
      b = await dispatchRound(prefix, week, now);
    } else {
      b = await dispatchRound(prefix, week, now);
      a = await rawRound(stored, config.MAIL_FROM);
    }
    rounds.push({ a, b: b.rate, rssMb: b.rssMb });
    console.log(
      `round ${round + 1}: (a) raw ${a.toFixed(0)} msg/s, (b) dispatch ${b.rate.toFixed(0)} msg/s, ratio ${(b.rate / a).toFixed(2)}, worker peak RSS ${b.rssMb.toFixed(0)} MB`,
    );
  }
  console.log(`${N} recipients to a local SMTP sink (smtp-server), pooled SMTP (5 connections), ${ROUNDS} round(s)`);
  console.log(
    `(a) raw nodemailer, one pre-rendered message:   ${median(rounds.map((r) => r.a)).toFixed(0)} msg/s (median)`,
  );
  console.log(
    `(b) dispatch send, queued and personalized:     ${median(rounds.map((r) => r.b)).toFixed(0)} msg/s (median)`,
  );
  console.log(`ratio b/a: ${median(rounds.map((r) => r.b / r.a)).toFixed(2)} (median of rounds; target >= 1.0)`);
  console.log(`dispatch worker peak RSS: ${Math.max(...rounds.map((r) => r.rssMb)).toFixed(0)} MB (target < 300)`);
} finally {
  await redis.quit();
  await redisServer.stop();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
}
