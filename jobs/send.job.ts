import type { Job } from 'bullmq';
import type { Mailer } from '../io/mailer.js';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { DispatchError } from '../src/errors.js';
import { recipientFor } from '../src/newsletter/recipient-links.js';
import { domainOf, toMessage } from '../src/newsletter/to-message.js';
import { parsePayload } from './job-error.js';
import { sendPayload } from './queues.js';

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
