import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { subscriberId } from '../src/links/mail-tags.js';
import type { SubscriberInput } from '../src/subscribers/parse-subscribers.js';

/**
 * Where a reader stands. Only `active` readers get issues. `pending` signed up and has not
 * confirmed (they get the confirmation mail, nothing else); `unsubscribed` left; `bounced` was
 * refused for good by their mail server (a 5xx at RCPT TO, a hard bounce report, or
 * BOUNCE_SOFT_LIMIT soft ones); `complained` reported an issue as spam. A re-import changes none
 * of these.
 */
export type SubscriberStatus = 'pending' | 'active' | 'unsubscribed' | 'bounced' | 'complained';
/** The statuses in the order a person reads them: who gets the issue first. */
export const SUBSCRIBER_STATUSES: readonly SubscriberStatus[] = [
  'active',
  'pending',
  'unsubscribed',
  'bounced',
  'complained',
];

/** How a reader joined: the sign-up form (hosted or embedded), the JSON API, or `subscribers import`. */
export type SignupSource = 'form' | 'api' | 'import';

export interface Subscriber {
  email: string;
  name: string | null;
  fields: Record<string, string>;
  status: SubscriberStatus;
  /** When the record was first made. */
  subscribedAt: string;
  /** The consent record of the latest sign-up: how, when, and from where. */
  source: SignupSource | null;
  signupAt: string | null;
  signupIp: string | null;
  signupUserAgent: string | null;
  /** When the reader confirmed (double opt-in); null for imports and unconfirmed sign-ups. */
  confirmedAt: string | null;
  /** A pending sign-up is removed after this (SIGNUP_CONFIRM_HOURS). */
  pendingUntil: string | null;
  unsubscribedAt: string | null;
  bouncedAt: string | null;
  /** The server's or the report's words when the address was refused. */
  bounceReason: string | null;
  complainedAt: string | null;
  /** The complaint report's Feedback-Type (abuse, fraud, ...) and who sent it. */
  complaintReason: string | null;
}

/** One line of a reader's consent trail, oldest first. */
export interface TrailEvent {
  at: string;
  event:
    | 'signed-up'
    | 'imported'
    | 'confirmation-sent'
    | 'confirmed'
    | 'welcome-sent'
    | 'unsubscribed'
    | 'soft-bounce'
    | 'bounced'
    | 'complained'
    | 'expired';
  detail?: string;
}

/** Most trail lines kept per reader (the oldest go first). */
export const TRAIL_LENGTH = 100;

export interface ImportReport {
  added: number;
  updated: number;
  /** Addresses in the file that had left before (unsubscribed, bounced, complained): kept as they were. */
  stillSuppressed: number;
}

export interface SignupRequest {
  email: string;
  name: string | null;
  source: Exclude<SignupSource, 'import'>;
  ip: string | null;
  userAgent: string | null;
}

/**
 * What a sign-up did. `pending`: the address waits for its confirmation (send one, with this
 * nonce: the same for repeats of one pending sign-up, so an earlier mail's link keeps working).
 * `active`: already on the list; `refused`: it complained before and gets no mail from a form.
 * The public answer is the same for all three.
 */
export type SignupOutcome = { outcome: 'pending'; nonce: string } | { outcome: 'active' } | { outcome: 'refused' };

/** What a confirmation did: made the reader active, found them active already, or found no such pending sign-up. */
export type ConfirmOutcome = 'confirmed' | 'active' | 'invalid';

/** Bounces and complaints attributed to one issue (by the week in its bounce address or Message-ID). */
export interface IssueEvents {
  bounced: number;
  softBounced: number;
  complained: number;
}

export interface SubscriberStore {
  importSubscribers(inputs: readonly SubscriberInput[], now: Date): Promise<ImportReport>;
  get(email: string): Promise<Subscriber | null>;
  /** Several at once, in one round trip; null where there is none. */
  getMany(emails: readonly string[]): Promise<(Subscriber | null)[]>;
  /** In the order they were first added. */
  list(): Promise<Subscriber[]>;
  activeEmails(): Promise<string[]>;
  /** How many readers have each status. */
  counts(): Promise<Record<SubscriberStatus, number>>;
  /** Deletes the record and its trail; an unsubscribe or complaint stays remembered. */
  remove(email: string): Promise<boolean>;
  /** A sign-up from the form or the API (see {@link SignupOutcome}); pending until `pendingUntil`. */
  signUp(request: SignupRequest, now: Date, pendingUntil: Date): Promise<SignupOutcome>;
  /** The nonce of a pending sign-up (what its confirmation link carries); null when not pending. */
  pendingNonce(email: string): Promise<string | null>;
  /** Confirms a pending sign-up whose nonce is `nonce`. */
  confirm(email: string, nonce: string, now: Date): Promise<ConfirmOutcome>;
  /**
   * Ends the pending sign-ups whose time is up: a new address is removed, one that had left before
   * goes back to how it left. Returns how many.
   */
  expirePending(now: Date): Promise<number>;
  /** Marks an address as unsubscribed; true if it was not already. A complained one stays complained. */
  suppress(email: string, now: Date): Promise<boolean>;
  /**
   * Marks an active or pending subscriber as bounced, with the reason: later sends skip it. A
   * sign-up never confirmed, of an address never on the list, is removed instead. True if it
   * changed (and then, with `week`, counted against that issue in the same step); an unsubscribed,
   * complained or unknown address stays as it is.
   */
  markBounced(email: string, reason: string, now: Date, week?: string | null): Promise<boolean>;
  /**
   * Counts a soft bounce (4.x.x, delayed) of one message (`about.message`: the same message again
   * is not counted again); at `limit` of them within `windowMs` the reader becomes bounced. Only
   * active and pending readers count them. With `about.week`, counted against that issue.
   */
  noteSoftBounce(
    email: string,
    detail: string,
    now: Date,
    rule: { limit: number; windowMs: number },
    about?: { message?: string; week?: string | null },
  ): Promise<{ counted: boolean; count: number; bounced: boolean }>;
  /**
   * Marks a reader as complained (a spam report): no more mail, whatever the status was. True if
   * it changed (and then, with `week`, counted against that issue).
   */
  markComplained(email: string, reason: string, now: Date, week?: string | null): Promise<boolean>;
  /** Moves a pending sign-up's end to `until` (its confirmation mail went out later than the sign-up). */
  extendPending(email: string, until: Date): Promise<boolean>;
  /** Adds a line to the reader's consent trail (a mail sent, for one). */
  note(email: string, event: TrailEvent): Promise<void>;
  trail(email: string): Promise<TrailEvent[]>;
  /** The address of a {@link subscriberId}, for every reader ever added; null when unknown. */
  resolveId(id: string): Promise<string | null>;
  /** Counts a bounce or complaint against the issue of `week`. */
  countIssueEvent(week: string, kind: keyof IssueEvents): Promise<void>;
  issueEvents(week: string): Promise<IssueEvents>;
}

/** The fields of a pending sign-up, emptied whenever it ends (a Lua HSET argument list). */
const CLEAR_PENDING = `'nonce', '', 'pendingUntil', '', 'previousStatus', '', 'pendingSource', '', 'pendingSignupAt', '', 'pendingIp', '', 'pendingUserAgent', ''`;

/**
 * KEYS: hash, trail, pending, issue events, subscribers, soft, ids. ARGV: email, reason, time,
 * trail line, trail length, count against the issue (1/0), id. Active and pending readers become
 * bounced; a sign-up never confirmed, of an address that was never on the list, is removed
 * instead (a stranger typed an address that does not exist: nothing of it is worth keeping).
 */
const MARK_BOUNCED_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'active' and status ~= 'pending' then return 0 end
if status == 'pending' then
  redis.call('ZREM', KEYS[3], ARGV[1])
  local previous = redis.call('HGET', KEYS[1], 'previousStatus')
  if not previous or previous == '' then
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[6])
    redis.call('ZREM', KEYS[5], ARGV[1])
    redis.call('HDEL', KEYS[7], ARGV[7])
    return 1
  end
end
redis.call('HSET', KEYS[1], 'status', 'bounced', 'bouncedAt', ARGV[3], 'bounceReason', ARGV[2], ${CLEAR_PENDING})
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
if ARGV[6] == '1' then redis.call('HINCRBY', KEYS[4], 'bounced', 1) end
return 1
`;

/**
 * KEYS: hash, subscribers, seq, pending, trail, ids, suppressed. ARGV: email, name, source, ip,
 * user agent, time, pendingUntil (ISO), pendingUntil (ms), new nonce, id, trail line, trail length.
 */
const SIGN_UP_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'suppressed' then status = 'unsubscribed' end
if status == 'active' then return {'active', ''} end
if status == 'complained' then return {'refused', ''} end
local nonce = ARGV[9]
if status == 'pending' then
  nonce = redis.call('HGET', KEYS[1], 'nonce')
  redis.call('HSET', KEYS[1], 'pendingUntil', ARGV[7])
elseif status then
  -- The reader's consent record stays as it is until this sign-up is confirmed: a stranger's
  -- sign-up that nobody confirms leaves no trace on it but a trail line.
  redis.call('HSET', KEYS[1], 'status', 'pending', 'previousStatus', status, 'nonce', nonce, 'pendingUntil', ARGV[7],
    'pendingSource', ARGV[3], 'pendingSignupAt', ARGV[6], 'pendingIp', ARGV[4], 'pendingUserAgent', ARGV[5])
else
  local seq = redis.call('INCR', KEYS[3])
  redis.call('ZADD', KEYS[2], seq, ARGV[1])
  local previous = ''
  if redis.call('SISMEMBER', KEYS[7], ARGV[1]) == 1 then previous = 'unsubscribed' end
  redis.call('HSET', KEYS[1], 'email', ARGV[1], 'name', ARGV[2], 'fields', '{}', 'status', 'pending',
    'previousStatus', previous, 'nonce', nonce, 'pendingUntil', ARGV[7], 'subscribedAt', ARGV[6],
    'source', ARGV[3], 'signupAt', ARGV[6], 'signupIp', ARGV[4], 'signupUserAgent', ARGV[5])
  redis.call('HSET', KEYS[6], ARGV[10], ARGV[1])
end
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[1])
redis.call('RPUSH', KEYS[5], ARGV[11])
redis.call('LTRIM', KEYS[5], -tonumber(ARGV[12]), -1)
return {'pending', nonce}
`;

/** KEYS: hash, pending, trail, suppressed. ARGV: nonce, time, email, trail line, trail length. */
const CONFIRM_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'active' then return 'active' end
if status ~= 'pending' or redis.call('HGET', KEYS[1], 'nonce') ~= ARGV[1] then return 'invalid' end
local signup = redis.call('HMGET', KEYS[1], 'pendingSource', 'pendingSignupAt', 'pendingIp', 'pendingUserAgent')
if signup[1] and signup[1] ~= '' then
  redis.call('HSET', KEYS[1], 'source', signup[1], 'signupAt', signup[2], 'signupIp', signup[3], 'signupUserAgent', signup[4])
end
redis.call('HSET', KEYS[1], 'status', 'active', 'confirmedAt', ARGV[2], 'unsubscribedAt', '', 'bouncedAt', '',
  'bounceReason', '', ${CLEAR_PENDING})
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('SREM', KEYS[4], ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
return 'confirmed'
`;

/**
 * KEYS: hash, pending, trail, subscribers, soft, ids. ARGV: email, now (ms), trail line, trail
 * length, id. A sign-up whose time is up: back to how it was, or gone.
 */
const EXPIRE_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
local untilMs = redis.call('ZSCORE', KEYS[2], ARGV[1])
if status ~= 'pending' then redis.call('ZREM', KEYS[2], ARGV[1]) return 0 end
if not untilMs or tonumber(untilMs) > tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
local previous = redis.call('HGET', KEYS[1], 'previousStatus')
if previous and previous ~= '' then
  redis.call('HSET', KEYS[1], 'status', previous, ${CLEAR_PENDING})
  redis.call('RPUSH', KEYS[3], ARGV[3])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1)
else
  redis.call('DEL', KEYS[1], KEYS[3], KEYS[5])
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[6], ARGV[5])
end
return 1
`;

/** KEYS: hash, suppressed, trail, pending. ARGV: email, time, trail line, trail length. */
const SUPPRESS_SCRIPT = `
local added = redis.call('SADD', KEYS[2], ARGV[1])
local status = redis.call('HGET', KEYS[1], 'status')
if status and status ~= 'complained' and status ~= 'unsubscribed' and status ~= 'suppressed' then
  redis.call('HSET', KEYS[1], 'status', 'unsubscribed', 'unsubscribedAt', ARGV[2], ${CLEAR_PENDING})
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('RPUSH', KEYS[3], ARGV[3])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1)
  return 1
end
return added
`;

/**
 * KEYS: hash, suppressed, trail, pending, issue events. ARGV: email, time, reason, trail line,
 * trail length, count against the issue (1/0).
 */
const COMPLAIN_SCRIPT = `
redis.call('SADD', KEYS[2], ARGV[1])
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'complained' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'complained', 'complainedAt', ARGV[2], 'complaintReason', ARGV[3], ${CLEAR_PENDING})
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
if ARGV[6] == '1' then redis.call('HINCRBY', KEYS[5], 'complained', 1) end
return 1
`;

/**
 * KEYS: hash, soft, trail, pending, issue events. ARGV: now (ms), member (what bounced: one member
 * per message, so a mail server's repeated delay notices count once), window (ms), limit, time,
 * detail line, bounced reason, bounced line, trail length, email, count against the issue (1/0).
 * Returns {counted, count, bounced}.
 */
const SOFT_BOUNCE_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'active' and status ~= 'pending' then return {0, 0, 0} end
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - tonumber(ARGV[3])))
local added = redis.call('ZADD', KEYS[2], 'NX', now, ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local count = redis.call('ZCARD', KEYS[2])
if added == 0 then return {0, count, 0} end
local length = -tonumber(ARGV[9])
local counting = ARGV[11] == '1'
redis.call('RPUSH', KEYS[3], ARGV[6])
if counting then redis.call('HINCRBY', KEYS[5], 'softBounced', 1) end
if count >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'status', 'bounced', 'bouncedAt', ARGV[5], 'bounceReason', ARGV[7], ${CLEAR_PENDING})
  redis.call('ZREM', KEYS[4], ARGV[10])
  redis.call('RPUSH', KEYS[3], ARGV[8])
  redis.call('LTRIM', KEYS[3], length, -1)
  if counting then redis.call('HINCRBY', KEYS[5], 'bounced', 1) end
  return {1, count, 1}
end
redis.call('LTRIM', KEYS[3], length, -1)
return {1, count, 0}
`;

/** KEYS: hash, pending. ARGV: email, until (ISO), until (ms). Only a pending sign-up, and only later. */
const EXTEND_PENDING_SCRIPT = `
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'pendingUntil', ARGV[2])
redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[1])
return 1
`;

/** Stored statuses as they read now ('suppressed' is what an unsubscribe was called before). */
function statusOf(stored: string | undefined): SubscriberStatus {
  if (stored === 'suppressed') return 'unsubscribed';
  return SUBSCRIBER_STATUSES.find((s) => s === stored) ?? 'active';
}

const SOURCES: readonly SignupSource[] = ['form', 'api', 'import'];
const line = (event: TrailEvent) => JSON.stringify(event);

/**
 * Subscribers in Redis, under the prefix: `subscriber:<email>` (a hash), its `:trail` (a capped
 * list of JSON lines) and `:soft` (soft bounce times, a sorted set that expires), `subscribers`
 * (all, in order added), `suppressed` (unsubscribed or complained: outlives removal), `pending`
 * (sign-ups by the time they end), `subscriber-ids` (id to address) and `issue-events:<week>`.
 * Every change of status is one script, so two workers (or a worker and the serve app) never
 * undo each other's.
 */
export function createSubscriberStore(redis: Redis, prefix: string): SubscriberStore {
  const key = (...parts: string[]) => [prefix, ...parts].join(':');
  const hash = (email: string) => key('subscriber', email);
  const trailKey = (email: string) => key('subscriber', email, 'trail');
  const read = (h: Record<string, string>): Subscriber | null =>
    h.email
      ? {
          email: h.email,
          name: h.name || null,
          fields: h.fields ? (JSON.parse(h.fields) as Record<string, string>) : {},
          status: statusOf(h.status),
          subscribedAt: h.subscribedAt ?? '',
          source: SOURCES.find((s) => s === h.source) ?? null,
          signupAt: h.signupAt || null,
          signupIp: h.signupIp || null,
          signupUserAgent: h.signupUserAgent || null,
          confirmedAt: h.confirmedAt || null,
          pendingUntil: h.pendingUntil || null,
          unsubscribedAt: h.unsubscribedAt || null,
          bouncedAt: h.bouncedAt || null,
          bounceReason: h.bounceReason || null,
          complainedAt: h.complainedAt || null,
          complaintReason: h.complaintReason || null,
        }
      : null;

  const store: SubscriberStore = {
    async importSubscribers(inputs, now) {
      const report: ImportReport = { added: 0, updated: 0, stillSuppressed: 0 };
      const at = now.toISOString();
      // In chunks, two round trips each: read what exists, then write (imports of 100,000 lines).
      for (let from = 0; from < inputs.length; from += 1000) {
        const chunk = inputs.slice(from, from + 1000);
        const reads = redis.pipeline();
        for (const input of chunk) {
          reads.hgetall(hash(input.email));
          reads.sismember(key('suppressed'), input.email);
        }
        const results = (await reads.exec()) ?? [];
        const fresh = chunk.filter((_, i) => !read(results[2 * i]?.[1] as Record<string, string>)).length;
        let seq = (await redis.incrby(key('subscribers', 'seq'), fresh)) - fresh;
        const writes = redis.multi();
        chunk.forEach((input, i) => {
          const existing = read(results[2 * i]?.[1] as Record<string, string>);
          const suppressed = results[2 * i + 1]?.[1] === 1;
          // An existing record keeps its status below: one that left counts as not made active again.
          if (existing ? existing.status !== 'active' && existing.status !== 'pending' : suppressed) {
            report.stillSuppressed++;
          }
          writes.hset(key('subscriber-ids'), subscriberId(input.email), input.email);
          if (existing) {
            writes.hset(hash(input.email), {
              name: input.name ?? existing.name ?? '',
              fields: JSON.stringify({ ...existing.fields, ...input.fields }),
            });
            report.updated++;
            return;
          }
          writes.hset(hash(input.email), {
            email: input.email,
            name: input.name ?? '',
            fields: JSON.stringify(input.fields),
            status: suppressed ? 'unsubscribed' : 'active',
            subscribedAt: at,
            source: 'import',
            signupAt: at,
            unsubscribedAt: '',
          });
          writes.rpush(trailKey(input.email), line({ at, event: 'imported' }));
          writes.zadd(key('subscribers'), ++seq, input.email);
          report.added++;
        });
        await writes.exec();
      }
      return report;
    },
    async get(email) {
      return read(await redis.hgetall(hash(email)));
    },
    async getMany(emails) {
      if (emails.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const email of emails) pipeline.hgetall(hash(email));
      const rows = (await pipeline.exec()) ?? [];
      return rows.map(([, h]) => read(h as Record<string, string>));
    },
    async list() {
      const emails = await redis.zrange(key('subscribers'), '0', '-1');
      const all: Subscriber[] = [];
      // In pages: a list of 100,000 is not one reply of 100,000 hashes.
      for (let from = 0; from < emails.length; from += 5000) {
        for (const s of await store.getMany(emails.slice(from, from + 5000))) if (s) all.push(s);
      }
      return all;
    },
    async activeEmails() {
      return (await store.list()).filter((s) => s.status === 'active').map((s) => s.email);
    },
    async counts() {
      const counts = Object.fromEntries(SUBSCRIBER_STATUSES.map((s) => [s, 0])) as Record<SubscriberStatus, number>;
      const emails = await redis.zrange(key('subscribers'), '0', '-1');
      for (let from = 0; from < emails.length; from += 5000) {
        const pipeline = redis.pipeline();
        for (const email of emails.slice(from, from + 5000)) pipeline.hget(hash(email), 'status');
        for (const [, status] of (await pipeline.exec()) ?? []) {
          if (typeof status === 'string') counts[statusOf(status)]++;
        }
      }
      return counts;
    },
    async remove(email) {
      const [[, deleted]] = ((await redis
        .multi()
        .del(hash(email))
        .del(trailKey(email), key('subscriber', email, 'soft'))
        .zrem(key('subscribers'), email)
        .zrem(key('pending'), email)
        .hdel(key('subscriber-ids'), subscriberId(email))
        .exec()) ?? [[null, 0]]) as [[unknown, number]];
      return deleted === 1;
    },
    async signUp(request, now, pendingUntil) {
      const at = now.toISOString();
      const detail = [request.source, request.ip && `from ${request.ip}`].filter(Boolean).join(' ');
      const [outcome, nonce] = (await redis.eval(
        SIGN_UP_SCRIPT,
        7,
        hash(request.email),
        key('subscribers'),
        key('subscribers', 'seq'),
        key('pending'),
        trailKey(request.email),
        key('subscriber-ids'),
        key('suppressed'),
        request.email,
        request.name ?? '',
        request.source,
        request.ip ?? '',
        request.userAgent ?? '',
        at,
        pendingUntil.toISOString(),
        pendingUntil.getTime(),
        randomBytes(12).toString('hex'),
        subscriberId(request.email),
        line({ at, event: 'signed-up', detail }),
        TRAIL_LENGTH,
      )) as [string, string];
      if (outcome === 'pending') return { outcome, nonce };
      return { outcome: outcome === 'active' ? 'active' : 'refused' };
    },
    async pendingNonce(email) {
      const [status, nonce] = await redis.hmget(hash(email), 'status', 'nonce');
      return status === 'pending' && nonce ? nonce : null;
    },
    async confirm(email, nonce, now) {
      const at = now.toISOString();
      return (await redis.eval(
        CONFIRM_SCRIPT,
        4,
        hash(email),
        key('pending'),
        trailKey(email),
        key('suppressed'),
        nonce,
        at,
        email,
        line({ at, event: 'confirmed' }),
        TRAIL_LENGTH,
      )) as ConfirmOutcome;
    },
    async expirePending(now) {
      let expired = 0;
      const line_ = line({ at: now.toISOString(), event: 'expired', detail: 'the sign-up was not confirmed in time' });
      for (;;) {
        const due = await redis.zrangebyscore(key('pending'), '-inf', now.getTime(), 'LIMIT', 0, 500);
        if (due.length === 0) return expired;
        for (const email of due) {
          expired += (await redis.eval(
            EXPIRE_SCRIPT,
            6,
            hash(email),
            key('pending'),
            trailKey(email),
            key('subscribers'),
            key('subscriber', email, 'soft'),
            key('subscriber-ids'),
            email,
            now.getTime(),
            line_,
            TRAIL_LENGTH,
            subscriberId(email),
          )) as number;
        }
      }
    },
    async suppress(email, now) {
      const at = now.toISOString();
      return (
        (await redis.eval(
          SUPPRESS_SCRIPT,
          4,
          hash(email),
          key('suppressed'),
          trailKey(email),
          key('pending'),
          email,
          at,
          line({ at, event: 'unsubscribed' }),
          TRAIL_LENGTH,
        )) === 1
      );
    },
    async markBounced(email, reason, now, week = null) {
      const at = now.toISOString();
      return (
        (await redis.eval(
          MARK_BOUNCED_SCRIPT,
          7,
          hash(email),
          trailKey(email),
          key('pending'),
          key('issue-events', week ?? '-'),
          key('subscribers'),
          key('subscriber', email, 'soft'),
          key('subscriber-ids'),
          email,
          reason,
          at,
          line({ at, event: 'bounced', detail: reason }),
          TRAIL_LENGTH,
          week ? '1' : '0',
          subscriberId(email),
        )) === 1
      );
    },
    async noteSoftBounce(email, detail, now, rule, about = {}) {
      const at = now.toISOString();
      const days = Math.round(rule.windowMs / 86_400_000);
      const reason = `${rule.limit} soft bounces within ${days} day(s); last: ${detail}`;
      const [counted, count, bounced] = (await redis.eval(
        SOFT_BOUNCE_SCRIPT,
        5,
        hash(email),
        key('subscriber', email, 'soft'),
        trailKey(email),
        key('pending'),
        key('issue-events', about.week ?? '-'),
        now.getTime(),
        about.message ?? `${now.getTime()}:${randomBytes(4).toString('hex')}`,
        rule.windowMs,
        rule.limit,
        at,
        line({ at, event: 'soft-bounce', detail }),
        reason,
        line({ at, event: 'bounced', detail: reason }),
        TRAIL_LENGTH,
        email,
        about.week ? '1' : '0',
      )) as [number, number, number];
      return { counted: counted === 1, count, bounced: bounced === 1 };
    },
    async markComplained(email, reason, now, week = null) {
      const at = now.toISOString();
      return (
        (await redis.eval(
          COMPLAIN_SCRIPT,
          5,
          hash(email),
          key('suppressed'),
          trailKey(email),
          key('pending'),
          key('issue-events', week ?? '-'),
          email,
          at,
          reason,
          line({ at, event: 'complained', detail: reason }),
          TRAIL_LENGTH,
          week ? '1' : '0',
        )) === 1
      );
    },
    async extendPending(email, until) {
      return (
        (await redis.eval(
          EXTEND_PENDING_SCRIPT,
          2,
          hash(email),
          key('pending'),
          email,
          until.toISOString(),
          until.getTime(),
        )) === 1
      );
    },
    async note(email, event) {
      await redis.multi().rpush(trailKey(email), line(event)).ltrim(trailKey(email), -TRAIL_LENGTH, -1).exec();
    },
    async trail(email) {
      return (await redis.lrange(trailKey(email), 0, -1)).map((l) => JSON.parse(l) as TrailEvent);
    },
    async resolveId(id) {
      return await redis.hget(key('subscriber-ids'), id);
    },
    async countIssueEvent(week, kind) {
      await redis.hincrby(key('issue-events', week), kind, 1);
    },
    async issueEvents(week) {
      const h = await redis.hgetall(key('issue-events', week));
      return {
        bounced: Number(h.bounced ?? 0),
        softBounced: Number(h.softBounced ?? 0),
        complained: Number(h.complained ?? 0),
      };
    },
  };
  return store;
}
