import type { Config } from '../config.js';
import { type Personalizable, personalize, type Recipient } from './personalize.js';

/** A message ready for the transport: what every send path (test, list, preview) hands to SMTP. */
export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  messageId: string;
  headers: Record<string, string>;
  /**
   * The envelope sender (SMTP MAIL FROM, the Return-Path the receiver records): the reader's own
   * signed bounce address (VERP, see src/links/mail-tags.ts). Unset: the From address.
   */
  envelopeFrom?: string;
}

export interface MessageOptions {
  /** A unique token for this message: the Message-ID's left-hand side. */
  token: string;
  /** Test sends: "[Test] " before the subject and a short suffix, so clients do not thread repeats. */
  testSuffix?: string;
  /** Where unsubscribe mail goes: the List-Unsubscribe mailto. */
  unsubscribeMailto: string;
}

/** The domain of an address in "Name <user@domain>" or "user@domain". */
export function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'localhost';
}

/**
 * The one render path from a rendered issue to a message: personalization, subject, and the
 * headers a list sender owes (RFC 2369 List-Unsubscribe with an https URL and a mailto; RFC 8058
 * one-click: List-Unsubscribe-Post). Pure.
 */
export function toMessage(
  rendered: Personalizable,
  recipient: Recipient,
  config: Pick<Config, 'MAIL_FROM' | 'SITE_URL'>,
  options: MessageOptions,
): OutgoingMessage {
  const personal = personalize(rendered, recipient);
  const subject = options.testSuffix ? `[Test] ${personal.subject} (${options.testSuffix})` : personal.subject;
  const siteDomain = new URL(config.SITE_URL).hostname;
  return {
    from: config.MAIL_FROM,
    to: recipient.email,
    subject,
    html: personal.html,
    text: personal.text,
    messageId: `<${options.token}@${siteDomain}>`,
    headers: {
      'List-Unsubscribe': `<${recipient.unsubscribeUrl}>, <mailto:${options.unsubscribeMailto}?subject=unsubscribe>`,
      // RFC 8058: the POST body a mail client sends must be exactly List-Unsubscribe=One-Click.
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
