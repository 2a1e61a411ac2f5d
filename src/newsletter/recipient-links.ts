import type { Config } from '../config.js';
import { unsubscribeToken } from '../links/unsubscribe-token.js';
import type { Recipient } from './personalize.js';

/** A recipient with their own unsubscribe and preferences links, signed for their address. */
export function recipientFor(
  email: string,
  firstName: string | null | undefined,
  config: Pick<Config, 'PUBLIC_URL' | 'UNSUBSCRIBE_SECRET'>,
): Recipient {
  const token = unsubscribeToken(email, config.UNSUBSCRIBE_SECRET);
  return {
    email,
    firstName: firstName ?? null,
    unsubscribeUrl: `${config.PUBLIC_URL}/unsubscribe/${token}`,
    preferencesUrl: `${config.PUBLIC_URL}/preferences/${token}`,
  };
}
