import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

export type SendStatus = 'sending' | 'paused' | 'done';

export interface SendRecord {
  week: string;
  status: SendStatus;
  total: number;
  batches: number;
  batchSize: number;
  /** Messages per second across all workers; 0 for no limit. */
  rate: number;
  sent: number;
  failed: number;
  skipped: number;
  /** Recipients sent to again after a crash left them in "sending": they may have it twice. */
  possibleDuplicates: number;
  batchesDone: number;
  createdAt: string;
  finishedAt: string | null;
  /** Why the send paused itself (an error code and the server's words); null when paused by hand or not paused. */
  pausedReason: string | null;
  pausedAt: string | null;
}

/** One recipient's line in the ledger. No line yet means pending. */
export interface LedgerEntry {
  state: 'sending' | 'sent' | 'failed' | 'skipped';
  messageId?: string;
  reply?: string;
  at: string;
}

export interface Mark {
  email: string;
  entry: LedgerEntry | null;
}

/** What marking one tried message did. */
export interface Settled {
  applied: boolean;
  /** The send's failed messages in a row, across all workers, after this mark. */
  errorsInARow: number;
}

/**
 * KEYS: the ledger hash, the send's hash. ARGV: (email, state or "", entry JSON or "") per mark.
 * Returns 1 or 0 per mark (applied or not), then the send's failed messages in a row: a "sent"
 * sets it to 0, a "failed" or a return to pending (a try that did not deliver) adds 1. Kept here,
 * so that counting costs no round trip of its own.
 */
const MARK_SCRIPT = `
local applied = {}
for i = 1, #ARGV, 3 do
  local email, state, entry = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local old = redis.call('HGET', KEYS[1], email)
  local was = old and cjson.decode(old).state or ''
  local ok = 0
  if was ~= 'sent' and was ~= 'failed' and was ~= 'skipped' then
    ok = 1
    if state == '' then
      redis.call('HDEL', KEYS[1], email)
      redis.call('HINCRBY', KEYS[2], 'errorsInARow', 1)
    else
      redis.call('HSET', KEYS[1], email, entry)
      if state == 'sending' and was == 'sending' then
        redis.call('HINCRBY', KEYS[2], 'possibleDuplicates', 1)
      elseif state ~= 'sending' then
        redis.call('HINCRBY', KEYS[2], state, 1)
      end
      if state == 'sent' then
        redis.call('HSET', KEYS[2], 'errorsInARow', 0)
      elseif state == 'failed' then
        redis.call('HINCRBY', KEYS[2], 'errorsInARow', 1)
      end
    end
  end
  applied[#applied + 1] = ok
end
applied[#applied + 1] = tonumber(redis.call('HGET', KEYS[2], 'errorsInARow') or '0')
return applied
`;

/** KEYS: the send's hash. ARGV: the reason, the time. Pauses a send that is sending; 1 if it did. */
const PAUSE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'paused', 'pausedReason', ARGV[1], 'pausedAt', ARGV[2])
return 1
`;

/**
 * KEYS: the send's hash. ARGV: the new status. A send that does not exist or is done keeps its
 * status (0). Sending again clears why it paused and the failures in a row, so a resumed send
 * starts counting afresh.
 */
const SET_STATUS_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'status')
if not current or current == 'done' then return 0 end
if ARGV[2] == '1' and current == 'paused' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[1] == 'sending' then
  redis.call('HSET', KEYS[1], 'pausedReason', '', 'pausedAt', '', 'errorsInARow', 0)
end
return 1
`;

/**
 * GCRA (the generic cell rate algorithm, as in ATM networks and redis-cell), with Redis's own
 * clock so that every worker on every machine agrees. KEYS: the send's rate key, holding the
 * theoretical arrival time (TAT) in microseconds. ARGV: the interval between messages in
 * microseconds. Books the next free slot, at least one interval after the one before, and returns
 * the microseconds until it. No burst is allowed: slots are one interval apart, so any one second
 * holds at most rate + 1 of them.
 */
const THROTTLE_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local wait = slot - now
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', math.floor(wait / 1000) + 60000)
return wait
`;

/** KEYS: the send's hash, its recipients, the staging list, the set of sends. ARGV: week, the record as JSON. */
const START_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[3])
  return 0
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('RENAME', KEYS[3], KEYS[2])
  redis.call('PERSIST', KEYS[2])
end
local record = cjson.decode(ARGV[2])
for field, value in pairs(record) do redis.call('HSET', KEYS[1], field, tostring(value)) end
redis.call('SADD', KEYS[4], ARGV[1])
return 1
`;

/**
 * The send ledger in Redis, per issue: the recipients snapshotted when the send started (a list,
 * cut into batches), and per recipient pending -> sending -> sent (with its message id) or failed
 * (with the SMTP reply). All workers share it; nothing about a send lives in a worker.
 */
export interface SendLedger {
  /** Starts a send of `emails`; false (and nothing changes) when this send already exists. */
  start(
    week: string,
    emails: readonly string[],
    options: { batchSize: number; rate: number; now: Date },
  ): Promise<boolean>;
  get(week: string): Promise<SendRecord | null>;
  list(): Promise<string[]>;
  recipients(week: string, batch: number, batchSize: number): Promise<string[]>;
  /** The status alone (a cheap read, for checking whether a send was paused). */
  status(week: string): Promise<SendStatus | null>;
  entry(week: string, email: string): Promise<LedgerEntry | null>;
  /** The entries of several recipients, in one round trip; null where pending. */
  entriesOf(week: string, emails: readonly string[]): Promise<(LedgerEntry | null)[]>;
  entries(week: string): Promise<Record<string, LedgerEntry>>;
  /**
   * Moves a recipient to `entry` (null: back to pending, after a try that did not deliver) and keeps
   * the counters in step, atomically, the failed messages in a row among them (see `settle`).
   * An entry that is sent, failed or skipped never changes again, so a mark repeated after a lost
   * reply neither counts twice nor puts a delivered message back to pending. Marking "sending" a
   * recipient already "sending" (left so by a crash) counts a possible duplicate. True if applied.
   */
  mark(week: string, email: string, entry: LedgerEntry | null): Promise<boolean>;
  /** Several marks in one script call; which were applied. */
  markAll(week: string, marks: readonly Mark[]): Promise<boolean[]>;
  /**
   * Marks a message that was tried: "sent", "failed", or null (back to pending, not delivered),
   * as `mark` does, and says how many messages in a row have now failed (any "sent" resets it).
   * One round trip, as `mark`.
   */
  settle(week: string, email: string, entry: LedgerEntry | null): Promise<Settled>;
  /**
   * Sets a send's status by hand (`--pause`, `--resume`); false when there is no such send or it is
   * done. Back to "sending" also clears `pausedReason`, `pausedAt` and the failures in a row.
   */
  setStatus(week: string, status: SendStatus, options?: { unlessPaused?: boolean }): Promise<boolean>;
  /**
   * The send pauses itself: status "paused" with `pausedReason` ("E_CODE: message") and
   * `pausedAt`, only when it is sending. False when it was not (paused already, by hand or by
   * another batch: the first reason stays).
   */
  pause(week: string, reason: string, now: Date): Promise<boolean>;
  /** Records a finished batch (once, however often it is reported); true when all are (the send is then done). */
  batchDone(week: string, batch: number, now: Date): Promise<boolean>;
  /** The batches recorded as finished. */
  doneBatches(week: string): Promise<Set<number>>;
  /**
   * Waits until sending one more message keeps the send under `rate` messages per second, across
   * all workers: in any one second at most `rate` (+ 1) are let through. Nothing at all when rate is 0.
   */
  throttle(week: string, rate: number): Promise<void>;
}

const NUMBERS = [
  'total',
  'batches',
  'batchSize',
  'rate',
  'sent',
  'failed',
  'skipped',
  'possibleDuplicates',
  'batchesDone',
] as const;

export function createSendLedger(redis: Redis, prefix: string): SendLedger {
  const key = (...parts: string[]) => [prefix, ...parts].join(':');
  const runMarks = async (week: string, marks: readonly Mark[]) => {
    const args = marks.flatMap(({ email, entry }) => [email, entry?.state ?? '', entry ? JSON.stringify(entry) : '']);
    const replies = (await redis.eval(
      MARK_SCRIPT,
      2,
      key('send', week, 'ledger'),
      key('send', week),
      ...args,
    )) as number[];
    return { applied: replies.slice(0, marks.length).map((a) => a === 1), errorsInARow: replies[marks.length] ?? 0 };
  };
  const ledger: SendLedger = {
    async start(week, emails, { batchSize, rate, now }) {
      if ((await redis.exists(key('send', week))) === 1) return false;
      // The recipients go to a key of this run's own first, then one script makes them the send's
      // list and writes the send's record, or drops them when another run got there first: a start
      // killed half-way leaves no send (only a staging list that expires), never a send without recipients.
      const staging = key('send', week, 'staging', randomBytes(6).toString('hex'));
      const pipeline = redis.pipeline();
      for (let i = 0; i < emails.length; i += 1000) pipeline.rpush(staging, ...emails.slice(i, i + 1000));
      pipeline.expire(staging, 24 * 3600);
      await pipeline.exec();
      const batches = Math.ceil(emails.length / batchSize);
      const at = now.toISOString();
      const started = await redis.eval(
        START_SCRIPT,
        4,
        key('send', week),
        key('send', week, 'recipients'),
        staging,
        key('sends'),
        week,
        JSON.stringify({
          week,
          status: batches === 0 ? 'done' : 'sending',
          total: emails.length,
          batches,
          batchSize,
          rate,
          sent: 0,
          failed: 0,
          skipped: 0,
          possibleDuplicates: 0,
          batchesDone: 0,
          createdAt: at,
          finishedAt: batches === 0 ? at : '',
          pausedReason: '',
          pausedAt: '',
        }),
      );
      return started === 1;
    },
    async get(week) {
      const h = await redis.hgetall(key('send', week));
      if (!h.status) return null;
      const record = {
        week,
        status: h.status as SendStatus,
        createdAt: h.createdAt ?? '',
        finishedAt: h.finishedAt || null,
        pausedReason: h.pausedReason || null,
        pausedAt: h.pausedAt || null,
      } as SendRecord;
      for (const n of NUMBERS) record[n] = Number(h[n] ?? 0);
      return record;
    },
    async list() {
      return (await redis.smembers(key('sends'))).sort().reverse();
    },
    async recipients(week, batch, batchSize) {
      return await redis.lrange(key('send', week, 'recipients'), batch * batchSize, (batch + 1) * batchSize - 1);
    },
    async status(week) {
      return ((await redis.hget(key('send', week), 'status')) as SendStatus | null) ?? null;
    },
    async entry(week, email) {
      const value = await redis.hget(key('send', week, 'ledger'), email);
      return value ? (JSON.parse(value) as LedgerEntry) : null;
    },
    async entriesOf(week, emails) {
      if (emails.length === 0) return [];
      const values = await redis.hmget(key('send', week, 'ledger'), ...emails);
      return values.map((value) => (value ? (JSON.parse(value) as LedgerEntry) : null));
    },
    async entries(week) {
      const all = await redis.hgetall(key('send', week, 'ledger'));
      return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as LedgerEntry]));
    },
    async mark(week, email, entry) {
      const [applied] = await ledger.markAll(week, [{ email, entry }]);
      return applied === true;
    },
    async markAll(week, marks) {
      if (marks.length === 0) return [];
      return (await runMarks(week, marks)).applied;
    },
    async settle(week, email, entry) {
      const { applied, errorsInARow } = await runMarks(week, [{ email, entry }]);
      return { applied: applied[0] === true, errorsInARow };
    },
    async setStatus(week, status, options = {}) {
      return (
        (await redis.eval(SET_STATUS_SCRIPT, 1, key('send', week), status, options.unlessPaused ? '1' : '0')) === 1
      );
    },
    async pause(week, reason, now) {
      return (await redis.eval(PAUSE_SCRIPT, 1, key('send', week), reason, now.toISOString())) === 1;
    },
    async batchDone(week, batch, now) {
      // A set, not a counter: a batch that finished but could not be marked completed (Redis went
      // away at that moment) runs again, and must not count twice.
      await redis.sadd(key('send', week, 'batches-done'), String(batch));
      const done = await redis.scard(key('send', week, 'batches-done'));
      await redis.hset(key('send', week), 'batchesDone', done);
      const batches = Number(await redis.hget(key('send', week), 'batches'));
      if (done < batches) return false;
      await redis.hset(key('send', week), { status: 'done', finishedAt: now.toISOString() });
      return true;
    },
    async doneBatches(week) {
      return new Set((await redis.smembers(key('send', week, 'batches-done'))).map(Number));
    },
    async throttle(week, rate) {
      if (rate <= 0) return;
      const waitMicros = Number(
        await redis.eval(THROTTLE_SCRIPT, 1, key('send', week, 'rate'), String(Math.round(1_000_000 / rate))),
      );
      if (waitMicros > 0) await sleep(waitMicros / 1000);
    },
  };
  return ledger;
}
