import type { Redis } from 'ioredis';
import type { SubscriberInput } from '../src/subscribers/parse-subscribers.js';

export interface Subscriber {
  email: string;
  name: string | null;
  fields: Record<string, string>;
  /**
   * Only active addresses are sent to. Suppressed ones unsubscribed; bounced ones were refused for
   * good by their mail server (a 5xx at RCPT TO during a list send). A re-import changes neither.
   */
  status: 'active' | 'suppressed' | 'bounced';
  subscribedAt: string;
  unsubscribedAt: string | null;
  /** When a list send's SMTP server refused the address for good; null if it never did. */
  bouncedAt: string | null;
  /** The server's words when it refused the address. */
  bounceReason: string | null;
}

export interface ImportReport {
  added: number;
  updated: number;
  /** Addresses in the file that had unsubscribed or bounced before: kept as they were, not made active. */
  stillSuppressed: number;
}

export interface SubscriberStore {
  importSubscribers(inputs: readonly SubscriberInput[], now: Date): Promise<ImportReport>;
  get(email: string): Promise<Subscriber | null>;
  /** Several at once, in one round trip; null where there is none. */
  getMany(emails: readonly string[]): Promise<(Subscriber | null)[]>;
  /** In the order they were first added. */
  list(): Promise<Subscriber[]>;
  activeEmails(): Promise<string[]>;
  remove(email: string): Promise<boolean>;
  /** Marks an address as unsubscribed; true if it was not already. */
  suppress(email: string, now: Date): Promise<boolean>;
  /**
   * Marks a subscriber as bounced, with the server's reason: later sends skip it. True if it was
   * active; an unsubscribed (suppressed) or unknown address stays as it is.
   */
  markBounced(email: string, reason: string, now: Date): Promise<boolean>;
}

/** KEYS: the subscriber's hash. ARGV: the reason, the time. Only an active subscriber becomes bounced. */
const MARK_BOUNCED_SCRIPT = `
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'bounced', 'bouncedAt', ARGV[2], 'bounceReason', ARGV[1])
return 1
`;

const STATUSES: readonly Subscriber['status'][] = ['active', 'suppressed', 'bounced'];

/** Subscribers in Redis: `subscriber:<email>` (a hash), `subscribers` (all, in order added), `suppressed` (a set that outlives removal). */
export function createSubscriberStore(redis: Redis, prefix: string): SubscriberStore {
  const key = (...parts: string[]) => [prefix, ...parts].join(':');
  const read = (h: Record<string, string>): Subscriber | null =>
    h.email
      ? {
          email: h.email,
          name: h.name || null,
          fields: h.fields ? (JSON.parse(h.fields) as Record<string, string>) : {},
          status: STATUSES.find((s) => s === h.status) ?? 'active',
          subscribedAt: h.subscribedAt ?? '',
          unsubscribedAt: h.unsubscribedAt || null,
          bouncedAt: h.bouncedAt || null,
          bounceReason: h.bounceReason || null,
        }
      : null;

  const store: SubscriberStore = {
    async importSubscribers(inputs, now) {
      const report: ImportReport = { added: 0, updated: 0, stillSuppressed: 0 };
      // In chunks, two round trips each: read what exists, then write (imports of 100,000 lines).
      for (let from = 0; from < inputs.length; from += 1000) {
        const chunk = inputs.slice(from, from + 1000);
        const reads = redis.pipeline();
        for (const input of chunk) {
          reads.hgetall(key('subscriber', input.email));
          reads.sismember(key('suppressed'), input.email);
        }
        const results = (await reads.exec()) ?? [];
        const fresh = chunk.filter((_, i) => !read(results[2 * i]?.[1] as Record<string, string>)).length;
        let seq = (await redis.incrby(key('subscribers', 'seq'), fresh)) - fresh;
        const writes = redis.multi();
        chunk.forEach((input, i) => {
          const existing = read(results[2 * i]?.[1] as Record<string, string>);
          const suppressed = existing?.status === 'suppressed' || results[2 * i + 1]?.[1] === 1;
          // An existing record keeps its status below; a bounced one counts as not made active again.
          if (suppressed || existing?.status === 'bounced') report.stillSuppressed++;
          if (existing) {
            writes.hset(key('subscriber', input.email), {
              name: input.name ?? existing.name ?? '',
              fields: JSON.stringify({ ...existing.fields, ...input.fields }),
            });
            report.updated++;
            return;
          }
          writes.hset(key('subscriber', input.email), {
            email: input.email,
            name: input.name ?? '',
            fields: JSON.stringify(input.fields),
            status: suppressed ? 'suppressed' : 'active',
            subscribedAt: now.toISOString(),
            unsubscribedAt: '',
          });
          writes.zadd(key('subscribers'), ++seq, input.email);
          report.added++;
        });
        await writes.exec();
      }
      return report;
    },
    async get(email) {
      return read(await redis.hgetall(key('subscriber', email)));
    },
    async getMany(emails) {
      if (emails.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const email of emails) pipeline.hgetall(key('subscriber', email));
      const rows = (await pipeline.exec()) ?? [];
      return rows.map(([, h]) => read(h as Record<string, string>));
    },
    async list() {
      const emails = await redis.zrange(key('subscribers'), '0', '-1');
      return (await store.getMany(emails)).filter((s): s is Subscriber => s !== null);
    },
    async activeEmails() {
      return (await store.list()).filter((s) => s.status === 'active').map((s) => s.email);
    },
    async remove(email) {
      const [[, deleted]] = ((await redis
        .multi()
        .del(key('subscriber', email))
        .zrem(key('subscribers'), email)
        .exec()) ?? [[null, 0]]) as [[unknown, number]];
      return deleted === 1;
    },
    async suppress(email, now) {
      const added = await redis.sadd(key('suppressed'), email);
      if ((await redis.exists(key('subscriber', email))) === 1) {
        await redis.hset(key('subscriber', email), { status: 'suppressed', unsubscribedAt: now.toISOString() });
      }
      return added === 1;
    },
    async markBounced(email, reason, now) {
      return (await redis.eval(MARK_BOUNCED_SCRIPT, 1, key('subscriber', email), reason, now.toISOString())) === 1;
    },
  };
  return store;
}
