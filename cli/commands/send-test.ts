import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMailer } from '../../io/mailer.js';
import { templatesDirOf } from '../../io/paths.js';
import { loadSampleRecipient } from '../../io/sample-recipient.js';
import { ensureIssue, failure, parseAddresses, queueTestSends, WAIT_MS } from '../../jobs/issue-operations.js';
import { DispatchError } from '../../src/errors.js';
import { isoWeekOf, parseIsoWeek } from '../../src/newsletter/iso-week.js';
import { recipientFor } from '../../src/newsletter/recipient-links.js';
import { domainOf, toMessage } from '../../src/newsletter/to-message.js';
import { openContext } from '../context.js';

export interface SendTestOptions {
  to: string;
  week?: string;
  direct?: boolean;
}

/**
 * `dispatch send-test`: the week's issue to any addresses, with "[Test]" and a unique suffix in the
 * subject. An unsent issue built with other templates than TEMPLATES_DIR holds now is rebuilt first
 * (ensureIssue), so the test shows the templates as they are; a sent issue goes as it was sent.
 */
export async function sendTestCommand(options: SendTestOptions): Promise<void> {
  parseAddresses(options.to);
  const ctx = await openContext();
  try {
    const { config } = ctx;
    const addresses = parseAddresses(options.to, config.TEST_SEND_MAX_RECIPIENTS);
    const week = options.week ?? isoWeekOf(new Date(), config.TZ);
    parseIsoWeek(week);
    const templatesDir = templatesDirOf(config);
    const stored = await ensureIssue(ctx, week, options.direct ?? false, templatesDir);
    if (options.direct) {
      const sample = loadSampleRecipient(templatesDir);
      const suffix = randomBytes(2).toString('hex');
      const tokens = addresses.map(() => `${week}.test.${randomBytes(8).toString('hex')}`);
      const mailer = createMailer(config.SMTP_URL, { pool: false, dkim: config });
      try {
        for (const [i, to] of addresses.entries()) {
          const message = toMessage(stored, recipientFor(to, sample.firstName, config), config, {
            token: tokens[i] as string,
            testSuffix: suffix,
            unsubscribeMailto: `unsubscribe@${domainOf(config.MAIL_FROM)}`,
          });
          const sent = await mailer.send(message);
          process.stdout.write(
            `sent "${message.subject}" to ${sent.accepted.join(', ') || to}: message id ${sent.messageId}\n`,
          );
        }
      } finally {
        mailer.close();
      }
      return;
    }

    const { jobs, suffix: queuedSuffix } = await queueTestSends(ctx, week, addresses, templatesDir);
    const deadline = Date.now() + WAIT_MS;
    for (const job of jobs) {
      for (;;) {
        // The state first, then the job: a job read first may complete before its state is asked,
        // and would then be "completed" without its return value.
        const state = await ctx.queues.send.getJobState(job.id as string);
        const current = await ctx.queues.send.getJob(job.id as string);
        if (state === 'completed') {
          const r = current?.returnvalue as { to: string; messageId: string; accepted: string[] };
          process.stdout.write(
            `sent "[Test] ${stored.subject} (${queuedSuffix})" to ${r.accepted.join(', ') || r.to}: message id ${r.messageId}\n`,
          );
          break;
        }
        if (state === 'failed') throw failure(current?.failedReason ?? 'failed', 'E_SMTP_REJECTED');
        if (Date.now() > deadline) {
          throw new DispatchError(
            'E_SMTP_TEMPORARY',
            `${job.data.to}: not sent within ${WAIT_MS / 1000} s${current?.failedReason ? ` (last try: ${current.failedReason})` : ''}; it stays queued and is retried (npx dispatch status)`,
          );
        }
        await sleep(100);
      }
    }
  } finally {
    await ctx.close();
  }
}
