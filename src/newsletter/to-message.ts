import type { Config } from '../config.js';
import { bounceAddressOf, subscriberId, verpAddress } from '../links/mail-tags.js';
import { oneLine } from '../text/one-line.js';
import { escapeHtml } from './escape-for-template.js';
import type { NewsletterIssue } from './newsletter-issue.js';
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
  /**
   * A proof for the editors: a test send with "[Proof] " instead of "[Test] ", whose message
   * starts with a banner saying where to review the issue and how it goes out.
   */
  proof?: ProofNote;
}

/** What a proof's banner tells the editors. */
export interface ProofNote {
  /** The issue's page in the preview, where it is reviewed, edited and approved. */
  reviewUrl: string;
  /** When the issue goes out by itself (NEWSLETTER_SEND_AFTER); null: it waits for an editor's approval. */
  sendAt: string | null;
  /** An editor holds it: nothing goes out until it is released. */
  held: boolean;
  /** When the list send began, if it has: the proof went out late (a busy queue), after the issue. */
  sendingSince?: string | null;
}

/**
 * The banner on top of a proof, as HTML and as text: not sent to readers yet, where to review it,
 * and how it goes out (approval, or by itself at its time unless held). Every value is escaped.
 */
export function proofBanner(week: string, note: ProofNote): { html: string; text: string } {
  const status = note.sendingSince ? `the list send began at ${note.sendingSince}.` : 'not sent to readers yet.';
  const how = note.sendingSince
    ? ['It is going out to the list now. To follow it:', 'dispatch status', '.']
    : note.held
      ? [
          'It is held: nothing goes out until an editor releases it:',
          `dispatch issue release ${week}`,
          ', or Release on that page.',
        ]
      : note.sendAt
        ? [
            `It goes out by itself at ${note.sendAt}. To stop it:`,
            `dispatch issue hold ${week}`,
            ', or Hold on that page.',
          ]
        : [
            "It waits for an editor's approval. To send it to the list:",
            `dispatch issue approve ${week}`,
            ', or Approve on that page.',
          ];
  const [before, command, after] = how as [string, string, string];
  const text = [
    `PROOF of ${week}: ${status}`,
    `Review and edit it: ${note.reviewUrl}`,
    `${before} ${command}${after}`,
    '----------------------------------------',
    '',
    '',
  ].join('\n');
  const e = escapeHtml;
  const html =
    '<div role="note" style="margin:0;padding:12px 16px;background:#fff4cc;border-bottom:2px solid #e0b400;' +
    'color:#222;font:14px/1.5 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;">' +
    `<strong>Proof of ${e(week)}: ${e(status)}</strong><br>` +
    `Review and edit it: <a href="${e(note.reviewUrl)}" style="color:#0645ad;">${e(note.reviewUrl)}</a><br>` +
    `${e(before)} <code>${e(command)}</code>${e(after)}</div>`;
  return { html, text };
}

/** `banner` right after the HTML's opening <body> tag (before everything when there is none). */
function afterBodyTag(html: string, banner: string): string {
  const body = /<body\b[^>]*>/i.exec(html);
  if (!body) return banner + html;
  const at = body.index + body[0].length;
  return html.slice(0, at) + banner + html.slice(at);
}

/** What toMessage reads from the configuration. */
export type MessageConfig = Pick<
  Config,
  'MAIL_FROM' | 'SITE_URL' | 'SITE_NAME' | 'BOUNCE_ADDRESS' | 'UNSUBSCRIBE_SECRET'
>;

/** The domain of an address in "Name <user@domain>" or "user@domain". */
export function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'localhost';
}

/** Whatever would end a header line or confuse its reader (CR, LF, every other control) becomes a space. */
const CONTROLS = /[\p{Cc}\u2028\u2029]/gu;
const headerSafe = (value: string) => value.replace(CONTROLS, ' ');

/** The longest list name a List-Id carries, in characters (the name is a label, not content). */
const LIST_NAME_CHARS = 100;

/** RFC 5322 atext, less "=" and "?" (so that no word of a name reads as an RFC 2047 encoded word). */
const PLAIN_PHRASE = /^[A-Za-z0-9!#$%&'*+/^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/^_`{|}~-]+)*$/;
/** What RFC 2047 (5.3) lets an encoded word in a phrase carry as itself; the rest is =XX. */
const Q_PLAIN = /^[A-Za-z0-9!*+/-]$/;
/** An encoded word is at most 75 characters (RFC 2047 2): "=?UTF-8?Q?" and "?=" take 12. */
const Q_TEXT_CHARS = 75 - 12;

/** `text` as RFC 2047 Q encoded words of at most 75 characters each, never splitting a character. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let word = '';
  for (const char of text) {
    const encoded =
      char === ' '
        ? '_'
        : Q_PLAIN.test(char)
          ? char
          : [...Buffer.from(char, 'utf8')].map((b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    if (word.length + encoded.length > Q_TEXT_CHARS) {
      words.push(word);
      word = '';
    }
    word += encoded;
  }
  if (word) words.push(word);
  return words.map((w) => `=?UTF-8?Q?${w}?=`).join(' ');
}

/**
 * The display name of a List-Id: the site's name as plain words when it is only atoms, else as
 * RFC 2047 encoded words. Not as a quoted string: nodemailer encodes any header value holding a
 * `"` into one encoded word from its first quote on, which would swallow the `<list-id>` itself.
 * Encoded words carry any name (quotes, backslashes, non-ASCII) and nothing in them is syntax.
 */
function listPhrase(siteName: string): string {
  const name = oneLine(siteName, LIST_NAME_CHARS);
  if (!name) return '';
  return PLAIN_PHRASE.test(name) ? name : encodedWords(name);
}

/** A host name that can be a List-Id's namespace: a domain, not an IP literal. */
const DOMAIN = /^(?=.*[a-z])[a-z0-9-]+(?:\.[a-z0-9-]+)*$/;

/**
 * RFC 2919: `List-Id: <phrase> <newsletter.<site's domain>>`. A site served from an IP address has
 * no domain to name the list under: RFC 2919 (3) keeps "localhost" for such unmanaged lists.
 */
export function listId(config: Pick<Config, 'SITE_NAME' | 'SITE_URL'>): string {
  const host = new URL(config.SITE_URL).hostname.toLowerCase();
  const namespace = DOMAIN.test(host) && !/^[\d.]+$/.test(host) ? host : 'localhost';
  const phrase = listPhrase(config.SITE_NAME);
  return `${phrase ? `${phrase} ` : ''}<newsletter.${namespace}>`;
}

const WEEK = /^\d{4}-W\d{2}$/;

/**
 * Gmail's Feedback-ID (`a:b:c:SenderId`, its Feedback Loop groups complaints by each part): the
 * issue's week, the list, the kind of mail, and the site's domain as the constant sender id. A
 * test send is its own kind, so an editor's test never counts with the issue.
 */
export function feedbackId(week: string, kind: 'newsletter' | 'test', config: Pick<Config, 'SITE_URL'>): string {
  if (!WEEK.test(week)) throw new TypeError(`not an ISO week: ${week}`);
  const sender = new URL(config.SITE_URL).hostname.toLowerCase().replace(/[^a-z0-9.-]/g, '');
  return `${week}:weekly:${kind}:${sender || 'localhost'}`;
}

/**
 * The one render path from a rendered issue to a message: personalization, subject, and the
 * headers a list sender owes (RFC 2369 List-Unsubscribe with an https URL and a mailto; RFC 8058
 * one-click: List-Unsubscribe-Post; RFC 2919 List-Id; Gmail's Feedback-ID), and the envelope
 * sender: on a list message the reader's VERP address for this issue, so a bounce names the reader
 * and the issue. A test send (a proof too) goes from the bare bounce address: it is addressed to
 * people on no list, and its bounces must neither change a reader nor count against the issue. A
 * proof starts with its banner (see {@link proofBanner}). Pure; every
 * header is built from the configuration and the issue, and kept to one line all the same.
 */
export function toMessage(
  rendered: Personalizable & { issue: Pick<NewsletterIssue, 'week'> },
  recipient: Recipient,
  config: MessageConfig,
  options: MessageOptions,
): OutgoingMessage {
  const personal = personalize(rendered, recipient);
  const suffix = options.testSuffix ? ` (${options.testSuffix})` : '';
  const subject = options.proof
    ? `[Proof] ${personal.subject}${suffix}`
    : options.testSuffix
      ? `[Test] ${personal.subject}${suffix}`
      : personal.subject;
  const test = options.proof !== undefined || options.testSuffix !== undefined;
  const siteDomain = new URL(config.SITE_URL).hostname;
  const { week } = rendered.issue;
  const bounceAddress = bounceAddressOf(config);
  // The banner goes in after personalization: it is no template, and nothing in it is a token.
  const banner = options.proof ? proofBanner(week, options.proof) : null;
  return {
    from: config.MAIL_FROM,
    to: recipient.email,
    subject,
    html: banner ? afterBodyTag(personal.html, banner.html) : personal.html,
    text: banner ? banner.text + personal.text : personal.text,
    messageId: `<${options.token}@${siteDomain}>`,
    headers: {
      'List-Unsubscribe': headerSafe(
        `<${recipient.unsubscribeUrl}>, <mailto:${options.unsubscribeMailto}?subject=unsubscribe>`,
      ),
      // RFC 8058: the POST body a mail client sends must be exactly List-Unsubscribe=One-Click.
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': listId(config),
      'Feedback-ID': feedbackId(week, test ? 'test' : 'newsletter', config),
    },
    envelopeFrom: test
      ? bounceAddress
      : verpAddress(bounceAddress, { id: subscriberId(recipient.email), week }, config.UNSUBSCRIBE_SECRET),
  };
}
