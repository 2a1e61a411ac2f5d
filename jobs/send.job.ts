import { DelayedError, type Job } from 'bullmq';
import type { IssueFlow } from '../io/issue-flow.js';
import { type Mailer, POOL_CONNECTIONS, type SentMessage } from '../io/mailer.js';
import type { LedgerEntry, Mark, SendLedger } from '../io/send-ledger.js';
import type { Store, StoredIssue } from '../io/store.js';
import type { SubscriberStore } from '../io/subscriber-store.js';
import { type Config, previewUrlOf } from '../src/config.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import { messageToken } from '../src/links/mail-tags.js';
import { recipientFor } from '../src/newsletter/recipient-links.js';
import { domainOf, type ProofNote, toMessage } from '../src/newsletter/to-message.js';
import { type SmtpScope, smtpScope } from '../src/smtp-failures.js';
import { isLastAttempt, parsePayload } from './job-error.js';
import { batchPayload, sendPayload } from './queues.js';

export interface SendResult {
  to: string;
  messageId: string;
  accepted: string[];
  response: string;
}

/**
 * send: one message of a stored issue to one address. It never renders the issue (the newsletter
 * job did); a retry sends the same message again with the same Message-ID. A test send does not
 * pause anything: any SMTP failure but a transient one fails the job for good, with its code and
 * the server's words (toJobError). A proof (`proof`) says on top how the issue goes out as the
 * loop's record (`flow`) has it when the message is made, so a proof sent late tells the truth.
 */
export function sendJob(deps: { store: Store; config: Config; mailer: () => Mailer; flow?: Pick<IssueFlow, 'get'> }) {
  const proofNote = async (week: string): Promise<ProofNote> => {
    const flow = await deps.flow?.get(week);
    return {
      reviewUrl: `${previewUrlOf(deps.config)}/issues/${week}`,
      sendAt: flow?.claimedAt ? null : (flow?.sendAt ?? null),
      held: Boolean(flow?.heldAt),
      sendingSince: flow?.claimedAt ?? null,
    };
  };
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
      proof: payload.proof ? await proofNote(payload.week) : undefined,
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

/**
 * How long a batch of a paused send waits before it looks at the send again. A resume promotes the
 * waiting batches at once (`dispatch send --resume`); this only bounds the job moves of a long
 * pause (1,000 batches of a 100k send: some 70 a second).
 */
export const PAUSED_RECHECK_MS = 15_000;

/** "E_CODE: message", as a paused send records why. */
function reasonOf(error: unknown): string {
  if (isDispatchError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Where a failed message leaves the send (see SMTP_FAILURES in src/smtp-failures.ts). Any other
 * failure of Dispatch's own that will not pass by itself (a render error) would repeat for everyone:
 * it pauses the send too, as a pause can be resumed and a failed recipient is never sent again.
 */
function scopeOf(error: unknown): SmtpScope {
  return smtpScope(error) ?? (isDispatchError(error) && !error.transient ? 'send' : 'transient');
}

/**
 * send, job "batch": sends one batch of a list send. The ledger makes it safe to run again: a
 * recipient already sent (or failed for good) is skipped; one left in "sending" by a crash is sent
 * again once and counted as a possible duplicate. What a failed message does depends on its scope:
 * - one recipient refused: marked failed and bounced, the batch goes on;
 * - the send refused (login, sender, message, TLS): back to pending, the send pauses itself, and
 *   the batch waits (delayed, without spending an attempt);
 * - transient: back to pending, and the job fails for BullMQ to retry with backoff; at its last
 *   attempt the send pauses itself instead.
 * After SEND_MAX_ERRORS failed messages in a row (across all batches) the send pauses itself too.
 * A paused send moves the job to later (PAUSED_RECHECK_MS).
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
    const waitWhilePaused = async (): Promise<never> => {
      await job.moveToDelayed(Date.now() + PAUSED_RECHECK_MS, token);
      throw new DelayedError();
    };
    const pauseIfAsked = async () => {
      if ((await ledger.status(week)) === 'paused') await waitWhilePaused();
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
      // Unsubscribed or bounced since the send started.
      if (subscriber?.status !== 'active') skipped.push({ email, entry: { state: 'skipped', at: at() } });
      else toSend.push({ email, name: subscriber.name, again: entry });
    });
    result.skipped += (await ledger.markAll(week, skipped)).filter(Boolean).length;

    /**
     * What one message asks of its batch: to be recorded as sent, nothing more, to wait (the send
     * paused), or to be retried.
     */
    type Outcome =
      | { next: 'sent'; mark: Mark }
      | { next: 'go on' }
      | { next: 'wait' }
      | { next: 'retry'; error: unknown };
    const settleFailure = async (email: string, error: unknown): Promise<Outcome> => {
      const scope = scopeOf(error);
      const reason = reasonOf(error);
      let errorsInARow: number;
      if (scope === 'recipient') {
        const message = error instanceof Error ? error.message : reason;
        const settled = await ledger.settle(week, email, { state: 'failed', reply: message, at: at() });
        errorsInARow = settled.errorsInARow;
        if (settled.applied) {
          result.failed++;
          // Later sends skip it (activeEmails); this send's other batches never had it. A refusal at
          // RCPT is a hard bounce of this issue, counted once: a rerun finds the reader bounced.
          await deps.subscribers.markBounced(email, message, deps.now(), week);
        }
      } else {
        // Not delivered: back to pending, for the retry or the resume.
        errorsInARow = (await ledger.settle(week, email, null)).errorsInARow;
        if (scope === 'send') {
          await ledger.pause(week, reason, deps.now());
          return { next: 'wait' };
        }
      }
      if (errorsInARow >= config.SEND_MAX_ERRORS) {
        await ledger.pause(
          week,
          `SEND_MAX_ERRORS: ${errorsInARow} failed messages in a row; last: ${reason}`,
          deps.now(),
        );
        return { next: 'wait' };
      }
      return scope === 'transient' ? { next: 'retry', error } : { next: 'go on' };
    };
    const sendOne = async (email: string, name: string | null): Promise<Outcome> => {
      let sent: SentMessage;
      try {
        sent = await inHand(() => {
          const message = toMessage(issue, recipientFor(email, name, config), config, {
            token: messageToken(week, email, config.UNSUBSCRIBE_SECRET),
            unsubscribeMailto: mailto,
          });
          return deps.mailer().send(message);
        });
      } catch (error) {
        return await settleFailure(email, error);
      }
      return { next: 'sent', mark: { email, entry: { state: 'sent', messageId: sent.messageId, at: at() } } };
    };
    // A few messages in flight per batch keep the pooled SMTP connections busy. Each is marked
    // "sending" before it goes out, so a crash leaves a trace of what may have been delivered.
    for (let i = 0; i < toSend.length; i += PARALLEL_SENDS) {
      // Paused by hand, or by any batch on any worker: this one stops here too.
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
      // All of the group settle before the job moves on, so none is still in flight when it is retried.
      const settled = await Promise.allSettled(going.map((r) => sendOne(r.email, r.name)));
      const outcomes: Outcome[] = [];
      for (const s of settled) {
        if (s.status === 'rejected') throw s.reason; // Redis, not SMTP: retried as any job is
        outcomes.push(s.value);
      }
      // The group's deliveries recorded in one round trip. A "sent" that cannot be recorded (Redis
      // gone) leaves the line in "sending": a rerun sends it again and counts it as a possible
      // duplicate, never as not delivered.
      const delivered = outcomes.flatMap((o) => (o.next === 'sent' ? [o.mark] : []));
      result.sent += (await ledger.markAll(week, delivered)).filter(Boolean).length;
      if (outcomes.some((o) => o.next === 'wait')) await waitWhilePaused();
      const retry = outcomes.find((o) => o.next === 'retry');
      if (retry?.next === 'retry') {
        // At its last attempt the batch does not fail for good: the send pauses, for a person to look.
        if (isLastAttempt(job)) {
          await ledger.pause(week, reasonOf(retry.error), deps.now());
          await waitWhilePaused();
        }
        throw retry.error;
      }
    }
    await ledger.batchDone(week, batch, deps.now());
    return result;
  };
}
