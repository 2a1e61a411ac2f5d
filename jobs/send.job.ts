import { createHash } from 'node:crypto';
import { DelayedError, type Job } from 'bullmq';
import { type Mailer, POOL_CONNECTIONS } from '../io/mailer.js';
import type { LedgerEntry, Mark, SendLedger } from '../io/send-ledger.js';
import type { Store, StoredIssue } from '../io/store.js';
import type { SubscriberStore } from '../io/subscriber-store.js';
import type { Config } from '../src/config.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import { recipientFor } from '../src/newsletter/recipient-links.js';
import { domainOf, toMessage } from '../src/newsletter/to-message.js';
import { parsePayload } from './job-error.js';
import { batchPayload, sendPayload } from './queues.js';

export interface SendResult {
  to: string;
  messageId: string;
  accepted: string[];
  response: string;
}

/**
 * send: one message of a stored issue to one address. It never renders the issue (the newsletter
 * job did); a retry sends the same message again with the same Message-ID.
 */
export function sendJob(deps: { store: Store; config: Config; mailer: () => Mailer }) {
  return async (job: Job): Promise<SendResult> => {
    const payload = parsePayload(sendPayload, job.data, 'send');
    const stored = await deps.store.getIssue(payload.week);
    if (!stored) throw new DispatchError('E_NOT_FOUND', `no stored issue for ${payload.week}`);
    const { config } = deps;
    const recipient = recipientFor(payload.to, payload.firstName ?? null, config);
    const message = toMessage(stored, recipient, config, {
      token: payload.token,
      testSuffix: payload.testSuffix,
      unsubscribeMailto: `unsubscribe@${domainOf(config.MAIL_FROM)}`,
    });
    const sent = await deps.mailer().send(message);
    return { to: payload.to, messageId: sent.messageId, accepted: sent.accepted, response: sent.response };
  };
}

export interface BatchResult {
  week: string;
  batch: number;
  sent: number;
  failed: number;
  skipped: number;
  possibleDuplicates: number;
}

/** Messages of one batch in flight at once. */
const PARALLEL_SENDS = 5;

/**
 * Messages built and handed to SMTP at once in one worker process, across its batches: twice the
 * pooled connections keeps them all busy, and no more personalized messages than that sit in
 * memory waiting for one.
 */
const MESSAGES_IN_HAND = 2 * POOL_CONNECTIONS;

/** At most `limit` callers at once hold a slot; the others wait their turn. */
export function slots(limit: number) {
  let free = limit;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((turn) => waiting.push(turn));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

/** The Message-ID token of (issue, recipient): the same on every try, so a resend is recognizable. */
export function messageToken(week: string, email: string): string {
  return `${week}.${createHash('sha256').update(email).digest('hex').slice(0, 20)}`;
}

/**
 * send, job "batch": sends one batch of a list send. The ledger makes it safe to run again: a
 * recipient already sent (or failed for good) is skipped; one left in "sending" by a crash is sent
 * again once and counted as a possible duplicate; a 4xx or lost connection puts the recipient back
 * to pending and fails the job for BullMQ to retry. A paused send moves the job to later.
 */
export function batchJob(deps: {
  store: Store;
  ledger: SendLedger;
  subscribers: SubscriberStore;
  config: Config;
  mailer: () => Mailer;
  now: () => Date;
}) {
  let cached: { week: string; issue: StoredIssue } | undefined;
  const inHand = slots(MESSAGES_IN_HAND);
  return async (job: Job, token?: string): Promise<BatchResult> => {
    const { week, batch, batchSize } = parsePayload(batchPayload, job.data, 'send batch');
    const { config, ledger } = deps;
    const record = await ledger.get(week);
    if (!record) throw new DispatchError('E_NOT_FOUND', `no send of ${week}`);
    const pauseIfAsked = async () => {
      if ((await ledger.status(week)) !== 'paused') return;
      await job.moveToDelayed(Date.now() + 2000, token);
      throw new DelayedError();
    };
    if (record.status === 'paused') await pauseIfAsked();
    // Rendered once per issue and process: a batch only personalizes.
    if (!cached || cached.week !== week) {
      const stored = await deps.store.getIssue(week);
      if (!stored) throw new DispatchError('E_NOT_FOUND', `no stored issue for ${week}`);
      cached = { week, issue: stored };
    }
    const issue = cached.issue;
    const result: BatchResult = { week, batch, sent: 0, failed: 0, skipped: 0, possibleDuplicates: 0 };
    const mailto = `unsubscribe@${domainOf(config.MAIL_FROM)}`;
    const at = () => deps.now().toISOString();

    // The batch's recipients, their ledger entries and their subscriptions: three round trips in all.
    const emails = await ledger.recipients(week, batch, batchSize);
    const [entries, subscribers] = await Promise.all([
      ledger.entriesOf(week, emails),
      deps.subscribers.getMany(emails),
    ]);
    const skipped: Mark[] = [];
    const toSend: { email: string; name: string | null; again: LedgerEntry | null }[] = [];
    emails.forEach((email, i) => {
      const entry = entries[i] ?? null;
      if (entry && entry.state !== 'sending') return; // sent, failed for good, or skipped before
      const subscriber = subscribers[i];
      if (subscriber?.status !== 'active') skipped.push({ email, entry: { state: 'skipped', at: at() } });
      else toSend.push({ email, name: subscriber.name, again: entry });
    });
    result.skipped += (await ledger.markAll(week, skipped)).filter(Boolean).length;

    const sendOne = async (email: string, name: string | null) => {
      try {
        const sent = await inHand(() => {
          const message = toMessage(issue, recipientFor(email, name, config), config, {
            token: messageToken(week, email),
            unsubscribeMailto: mailto,
          });
          return deps.mailer().send(message);
        });
        await ledger.mark(week, email, { state: 'sent', messageId: sent.messageId, at: at() });
        result.sent++;
      } catch (error) {
        if (isDispatchError(error) && !error.transient) {
          await ledger.mark(week, email, { state: 'failed', reply: error.message, at: at() });
          result.failed++;
          return;
        }
        // Not delivered: back to pending, and the whole job is retried (sent ones are skipped then).
        await ledger.mark(week, email, null);
        throw error;
      }
    };
    // A few messages in flight per batch keep the pooled SMTP connections busy. Each is marked
    // "sending" before it goes out, so a crash leaves a trace of what may have been delivered.
    for (let i = 0; i < toSend.length; i += PARALLEL_SENDS) {
      await pauseIfAsked();
      const group = toSend.slice(i, i + PARALLEL_SENDS);
      for (const _ of group) await ledger.throttle(week, record.rate);
      // One left in "sending" by a crash is sent again and counted (by the ledger) as a possible duplicate.
      const marked = await ledger.markAll(
        week,
        group.map((r): Mark => ({ email: r.email, entry: { state: 'sending', at: at() } })),
      );
      // Not marked: another run of this batch got there first and settled it.
      const going = group.filter((_, j) => marked[j]);
      result.possibleDuplicates += going.filter((r) => r.again).length;
      const settled = await Promise.allSettled(going.map((r) => sendOne(r.email, r.name)));
      const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failure) throw failure.reason;
    }
    await ledger.batchDone(week, batch, deps.now());
    return result;
  };
}
