// npm run bench:send: N recipients (default 10,000) to a local SMTP sink, in one run:
// (a) raw nodemailer pooled sends of one pre-rendered message, one per recipient, in a process of its own;
// (b) Dispatch's queued, personalized list send with one `dispatch worker` process.
// Prints both rates, the ratio b/a (target >= 0.8) and the worker's peak RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedisServer } from '../io/managed-redis.js';
import { createSendLedger } from '../io/send-ledger.js';
import { createStore } from '../io/store.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { createQueues } from '../jobs/queues.js';
import { loadConfig } from '../src/config.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { personalize } from '../src/newsletter/personalize.js';
import { seedList } from '../tests/helpers/seed-list.js';
import { startSmtpSink } from '../tests/helpers/smtp-sink.js';

const root = resolve(import.meta.dirname, '..');
const N = Number(process.env.N ?? 10_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);

const sink = await startSmtpSink();
const sinkPort = sink.port;

const dir = mkdtempSync(join(tmpdir(), 'dispatch-bench-send-'));
const redisServer = await startRedisServer({ dir });
const config = loadConfig({ REDIS_PREFIX: 'bench', SMTP_URL: `smtp://127.0.0.1:${sinkPort}` });
const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
const now = new Date();
const week = isoWeekOf(now, config.TZ);
let worker: ReturnType<typeof spawn> | undefined;
try {
  // The issue of the example articles, and N subscribers.
  await seedList(redis, config, N, 'reader', now);
  const store = createStore(redis, config.REDIS_PREFIX);
  const stored = await store.getIssue(week);
  if (!stored) throw new Error('no issue');
  const subscribers = createSubscriberStore(redis, config.REDIS_PREFIX);

  // (a) raw nodemailer, pooled, the same pre-rendered message to each recipient.
  const message = personalize(stored, {
    email: 'reader@example.org',
    firstName: 'Reader',
    unsubscribeUrl: 'https://news.example.com/u/x',
    preferencesUrl: 'https://news.example.com/p/x',
  });
  const raw = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/raw-sender.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  raw.stdin.end(
    JSON.stringify({
      port: sinkPort,
      from: config.MAIL_FROM,
      subject: message.subject,
      html: message.html,
      text: message.text,
      n: N,
    }),
  );
  let rawOut = '';
  raw.stdout.on('data', (d) => {
    rawOut += d;
  });
  await new Promise((done) => raw.once('exit', done));
  const rawSeconds = Number(rawOut);
  const rawReceived = sink.total();

  // (b) Dispatch: `dispatch send`'s steps, worked by one `dispatch worker` process.
  worker = spawn(
    process.execPath,
    [join(root, 'bin/dispatch.js'), 'worker', '--queues', 'send', '--concurrency', String(CONCURRENCY)],
    {
      env: {
        ...process.env,
        REDIS_URL: redisServer.url,
        REDIS_PREFIX: 'bench',
        SMTP_URL: config.SMTP_URL,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await sleep(1500);
  const ledger = createSendLedger(redis, config.REDIS_PREFIX);
  const queues = createQueues(redis, config);
  const before = sink.total();
  const start = performance.now();
  const emails = await subscribers.activeEmails();
  await ledger.start(week, emails, { batchSize: 100, rate: 0, now });
  await store.markIssueSent(week, now);
  const batches = Math.ceil(emails.length / 100);
  for (let i = 0; i < batches; i += 500) {
    const chunk = Array.from({ length: Math.min(500, batches - i) }, (_, j) => i + j);
    await queues.send.addBulk(
      chunk.map((batch) => ({
        name: 'batch',
        data: { week, batch, batchSize: 100 },
        opts: { jobId: `batch-${week}-${batch}` },
      })),
    );
  }
  while ((await ledger.get(week))?.status !== 'done') await sleep(100);
  const dispatchSeconds = (performance.now() - start) / 1000;
  const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8');
  const rssMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  const record = await ledger.get(week);
  await Promise.all(Object.values(queues).map((q) => q.close()));

  const a = N / rawSeconds;
  const b = N / dispatchSeconds;
  console.log(`${N} recipients to a local SMTP sink (smtp-server), pooled SMTP (5 connections)`);
  console.log(`(a) raw nodemailer, one pre-rendered message:   ${a.toFixed(0)} msg/s (${rawReceived} received)`);
  console.log(
    `(b) dispatch send, queued and personalized:     ${b.toFixed(0)} msg/s (${sink.total() - before} received, ${record?.sent} sent in the ledger, ${record?.failed} failed)`,
  );
  console.log(`ratio b/a: ${(b / a).toFixed(2)} (target >= 0.8)`);
  console.log(`dispatch worker peak RSS: ${rssMb.toFixed(0)} MB`);
} finally {
  worker?.kill('SIGTERM');
  await redis.quit();
  await redisServer.stop();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
}
