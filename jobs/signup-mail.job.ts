import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import { loadMailTemplates } from '../io/load-mail-templates.js';
import type { Mailer } from '../io/mailer.js';
import type { SendLedger } from '../io/send-ledger.js';
import type { Store } from '../io/store.js';
import type { SubscriberStore } from '../io/subscriber-store.js';
import { archiveUrlOf, type Config } from '../src/config.js';
import { confirmToken } from '../src/links/confirm-token.js';
import { bounceAddressOf, signupMessageToken, subscriberId, verpAddress } from '../src/links/mail-tags.js';
import { recipientFor } from '../src/newsletter/recipient-links.js';
import { domainOf, type OutgoingMessage } from '../src/newsletter/to-message.js';
import type { SignupMailData } from '../src/signup/render-signup-mail.js';
import { smtpScope } from '../src/smtp-failures.js';
import { latestArchivedWeek } from './archived-issues.js';
import type { CpuRunner } from './cpu-tasks.js';
import { parsePayload } from './job-error.js';
import { signupMailPayload } from './queues.js';

export interface SignupMailResult {
  kind: 'confirm' | 'welcome';
  /** The reader's {@link subscriberId}: what the worker's log line shows, never the address. */
  reader: string;
  /**
   * `sent`; `skipped` when the reader is no longer where the mail makes sense (confirmed, expired
   * or gone before a confirmation went out; not active for a welcome); `refused` when their mail
   * server refused the address for good (they are marked bounced).
   */
  outcome: 'sent' | 'skipped' | 'refused';
  messageId?: string;
  /** The welcome mail's archive link: the week it names, or null when no issue has gone out. */
  archiveWeek?: string | null;
}

/** The job's dependencies: the worker's own store, ledger, subscribers, mailer and CPU pool. */
export interface SignupMailDeps {
  store: Store;
  ledger: SendLedger;
  subscribers: SubscriberStore;
  config: Config;
  mailer: () => Mailer;
  /** The newsletter's templates folder; the mails are in its `mail/` (see loadMailTemplates). */
  templatesDir: string;
  now: () => Date;
  cpu: CpuRunner;
}

/**
 * The Message-ID's left-hand side: signed for the reader (a complaint report that hides the
 * recipient still names them), the same on every try of this job (a mail delivered twice after a
 * lost reply is recognizable as one), and different for every job.
 */
function messageTokenOf(job: Job, email: string, config: Pick<Config, 'REDIS_PREFIX' | 'UNSUBSCRIBE_SECRET'>): string {
  const unique = createHash('sha256')
    .update(`${config.REDIS_PREFIX}:${job.id}:${job.timestamp}`)
    .digest('hex')
    .slice(0, 16);
  return signupMessageToken(email, unique, config.UNSUBSCRIBE_SECRET);
}

/**
 * send, job "signup-mail": a sign-up's confirmation mail, or the welcome mail once confirmed. The
 * payload names only the reader and the kind: what the mail says is made here from their record
 * as it is now, so a reader who confirmed, expired or left meanwhile gets nothing. The
 * confirmation link is made when the mail goes out (SIGNUP_CONFIRM_HOURS count from then) and
 * carries the sign-up's nonce: every link of one pending sign-up works, no link of another does.
 *
 * Rendering runs in the CPU pool (MJML loads only there). It renders per mail rather than filling
 * a compiled skeleton as list sends do: sign-up mails go out one at a time, a small document
 * compiles in a few milliseconds, and each mail's content depends on the reader's state when it
 * goes out. The Handlebars templates are compiled once per thread.
 *
 * SMTP failures as for every send (src/smtp-failures.ts): transient ones are rethrown and BullMQ
 * retries them with backoff; a refusal of the address for good (E_SMTP_REJECTED) marks the reader
 * bounced, and the job completes, "refused": nothing to retry; anything else fails the job for
 * good with its code, as a test send does.
 */
export function signupMailJob(deps: SignupMailDeps) {
  return async (job: Job): Promise<SignupMailResult> => {
    const { kind, email } = parsePayload(signupMailPayload, job.data, 'signup-mail');
    const { config, subscribers } = deps;
    const reader = subscriberId(email);
    const site = { name: config.SITE_NAME, url: config.SITE_URL, address: config.PUBLISHER_ADDRESS };
    const now = deps.now();

    let data: SignupMailData;
    let headers: Record<string, string> = {};
    let archiveWeek: string | null | undefined;
    if (kind === 'confirm') {
      const nonce = await subscribers.pendingNonce(email);
      if (!nonce) return { kind, reader, outcome: 'skipped' };
      const token = confirmToken({ email, nonce, issuedAt: now.getTime() }, config.UNSUBSCRIBE_SECRET);
      // The link works SIGNUP_CONFIRM_HOURS from now, as the mail says: the sign-up waits as long,
      // however late this job ran after it.
      await subscribers.extendPending(email, new Date(now.getTime() + config.SIGNUP_CONFIRM_HOURS * 3_600_000));
      data = {
        kind,
        site,
        email,
        confirmUrl: `${config.PUBLIC_URL}/confirm/${token}`,
        confirmHours: config.SIGNUP_CONFIRM_HOURS,
      };
    } else {
      const subscriber = await subscribers.get(email);
      if (subscriber?.status !== 'active') return { kind, reader, outcome: 'skipped' };
      archiveWeek = await latestArchivedWeek(deps);
      const links = recipientFor(email, subscriber.name, config);
      data = {
        kind,
        site,
        email,
        name: subscriber.name,
        archiveUrl: archiveWeek ? `${archiveUrlOf(config)}/${archiveWeek}` : null,
        unsubscribeUrl: links.unsubscribeUrl,
        preferencesUrl: links.preferencesUrl,
      };
      // The welcome is the first mail of the list: it can be left as every issue can (RFC 2369,
      // RFC 8058 one-click). The confirmation is not a list mail: its reader is on no list yet.
      headers = {
        'List-Unsubscribe': `<${links.unsubscribeUrl}>, <mailto:unsubscribe@${domainOf(config.MAIL_FROM)}?subject=unsubscribe>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      };
    }

    const templates = await loadMailTemplates(deps.templatesDir, kind);
    const mail = await deps.cpu.run('renderSignupMail', [data, templates], { what: `rendering the ${kind} mail` });
    const message: OutgoingMessage = {
      from: config.MAIL_FROM,
      to: email,
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      messageId: `<${messageTokenOf(job, email, config)}@${new URL(config.SITE_URL).hostname}>`,
      headers: {
        ...headers,
        // RFC 3834: made by a program in answer to a request, so that auto-responders do not
        // answer it; Exchange's own header asks the same of out-of-office replies.
        'Auto-Submitted': 'auto-generated',
        'X-Auto-Response-Suppress': 'OOF, AutoReply',
      },
      // The reader's signed bounce address, with no issue's week: a bounce names them.
      envelopeFrom: verpAddress(bounceAddressOf(config), { id: reader, week: null }, config.UNSUBSCRIBE_SECRET),
    };

    let messageId: string;
    try {
      messageId = (await deps.mailer().send(message)).messageId;
    } catch (error) {
      if (smtpScope(error) !== 'recipient') throw error;
      await subscribers.markBounced(email, error instanceof Error ? error.message : String(error), deps.now());
      return { kind, reader, outcome: 'refused' };
    }
    await subscribers.note(email, {
      at: deps.now().toISOString(),
      event: kind === 'confirm' ? 'confirmation-sent' : 'welcome-sent',
    });
    return { kind, reader, outcome: 'sent', messageId, ...(kind === 'welcome' ? { archiveWeek } : {}) };
  };
}

/** send, job "expire-pending" (scheduled every EXPIRE_PENDING_EVERY_MS): ends the sign-ups nobody confirmed in time. */
export function expirePendingJob(deps: { subscribers: SubscriberStore; now: () => Date }) {
  return async (): Promise<{ expired: number }> => ({ expired: await deps.subscribers.expirePending(deps.now()) });
}
