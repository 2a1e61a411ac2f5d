import { normalizeAddress } from '../subscribers/normalize-address.js';
import { oneLine } from '../text/one-line.js';
import { deliverySeverity, type Severity } from './delivery-severity.js';
import { fieldValue, fieldValues, type HeaderField, headerFields } from './header-fields.js';
import {
  decodeBody,
  leaves,
  MIME_LIMITS,
  type MimeLimits,
  type MimePart,
  readMime,
  splitHead,
  utf8,
} from './read-mime.js';

/** One recipient block of a delivery status notification (RFC 3464 section 2.3). */
export interface DsnRecipient {
  /** Final-Recipient, without its address type (`rfc822;`) and brackets. */
  finalRecipient: string | null;
  originalRecipient: string | null;
  /** Lowercase: failed, delayed, delivered, relayed, expanded. */
  action: string | null;
  /** The enhanced status code, e.g. 5.1.1 (from Status, else from the diagnostic's words). */
  status: string | null;
  /** Diagnostic-Code without its type (`smtp;`), e.g. "550 5.1.1 User unknown". */
  diagnostic: string | null;
  severity: Severity;
}

/** The fields of a complaint report (RFC 5965 section 3.1) that Dispatch uses. */
export interface FeedbackFields {
  /** Lowercase: abuse, fraud, virus, other, not-spam, auth-failure, ... */
  feedbackType: string;
  userAgent: string | null;
  reportingMta: string | null;
  originalMailFrom: string | null;
  originalRcptTo: string[];
  reportedDomain: string | null;
  sourceIp: string | null;
}

/**
 * What a message to the bounce address says. `hard`, `soft`, `ignored`: a delivery status
 * notification (the worst of its recipients); `complaint`: a spam report; `ignored` also for a
 * feedback report that is no complaint (not-spam, auth-failure); `unrecognized`: neither (an
 * auto-reply, a plain-text bounce, spam).
 */
export interface BounceReport {
  kind: Severity | 'complaint' | 'unrecognized';
  format: 'dsn' | 'arf' | null;
  /** In words, for the log: "Action: relayed", "Feedback-Type: not-spam", "no report part". */
  reason: string;
  /** The Reporting-MTA (without `dns;`), or null. */
  reportingMta: string | null;
  recipients: DsnRecipient[];
  feedback: FeedbackFields | null;
  /** The Message-ID of the returned message (or its headers), as written; null when absent. */
  messageId: string | null;
  /** Envelope senders the report quotes (Original-Mail-From, X-Postfix-Sender, the Return-Path): where a VERP address may be. */
  senders: string[];
  /** Every address the report names as the recipient (Final-Recipient, Original-Recipient, Original-Rcpt-To), normalized. */
  namedRecipients: string[];
  /** A limit cut part of the message off. */
  truncated: boolean;
}

/** Most recipient blocks read of one notification. */
export const MAX_DSN_RECIPIENTS = 50;
/** Longest diagnostic or name kept: it ends up in the store and in logs. */
export const MAX_DETAIL_CHARS = 300;

const DSN_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const ARF_TYPE = 'message/feedback-report';
const RETURNED_TYPES = new Set([
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/rfc822-headers',
  'message/global-headers',
]);
/** Feedback types that are a reader's complaint (RFC 5965 section 7.3); not-spam and auth-failure (RFC 6591) are not. */
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus', 'other']);
const SEVERITY_ORDER: Severity[] = ['hard', 'soft', 'ignored'];

/** Outside words as one safe line (see oneLine), capped. */
export function cleanDetail(text: string, max = MAX_DETAIL_CHARS): string {
  return oneLine(text, max);
}

/** `rfc822; <Reader@Example.org>` -> `reader@example.org` (RFC 3464 section 2.3.2: address type first). */
export function typedAddress(value: string | null): string | null {
  if (!value) return null;
  const semicolon = value.indexOf(';');
  const address = (semicolon === -1 ? value : value.slice(semicolon + 1)).trim().replace(/^<(.*)>$/, '$1');
  return normalizeAddress(address);
}

/** The distinct addresses among some typed ones. */
function addresses(values: (string | null)[]): string[] {
  return [...new Set(values.flatMap((v) => typedAddress(v) ?? []))];
}

/** `dns; mail.example.com` -> `mail.example.com`. */
function typedName(value: string | null): string | null {
  if (!value) return null;
  const semicolon = value.indexOf(';');
  return cleanDetail(semicolon === -1 ? value : value.slice(semicolon + 1)) || null;
}

/** The enhanced status code: the Status field, else the first one in the diagnostic, else from its basic reply code. */
function statusOf(status: string | null, diagnostic: string | null): string | null {
  const own = /^\s*([245]\.\d{1,3}\.\d{1,3})(?!\d)/.exec(status ?? '')?.[1];
  if (own) return own;
  const said = /(?:^|[\s-])([245]\.\d{1,3}\.\d{1,3})(?!\d)/.exec(diagnostic ?? '')?.[1];
  if (said) return said;
  const basic = /^\s*([245])\d\d(?!\d)/.exec(diagnostic ?? '')?.[1];
  return basic ? `${basic}.0.0` : null;
}

/** A delivery-status body: a per-message block, then one block per recipient, apart at empty lines. */
function readDsn(body: string): { perMessage: HeaderField[]; recipients: DsnRecipient[] } {
  const blocks = body
    .split(/\r?\n[ \t]*\r?\n/)
    .slice(0, MAX_DSN_RECIPIENTS + 1)
    .map((block) => headerFields(block.trim()));
  const isRecipient = (fields: HeaderField[]) =>
    fields.some((f) => f.name === 'final-recipient' || f.name === 'action' || f.name === 'original-recipient');
  const first = blocks[0] ?? [];
  // The first block is the per-message one; it counts as a recipient's too when a server left
  // out the empty line between them.
  const recipients = blocks
    .filter(isRecipient)
    .slice(0, MAX_DSN_RECIPIENTS)
    .map((fields): DsnRecipient => {
      const code = fieldValue(fields, 'diagnostic-code');
      const diagnostic = code ? cleanDetail(code.slice(code.indexOf(';') + 1)) || null : null;
      const action = fieldValue(fields, 'action')?.toLowerCase().split(/[\s(]/)[0] ?? null;
      const status = statusOf(fieldValue(fields, 'status'), diagnostic);
      return {
        finalRecipient: typedAddress(fieldValue(fields, 'final-recipient')),
        originalRecipient: typedAddress(fieldValue(fields, 'original-recipient')),
        action,
        status,
        diagnostic,
        severity: deliverySeverity(action, status),
      };
    });
  return { perMessage: first, recipients };
}

/** The worst severity of some recipients (hard before soft before ignored). */
export function worstSeverity(recipients: readonly Pick<DsnRecipient, 'severity'>[]): Severity {
  return SEVERITY_ORDER.find((s) => recipients.some((r) => r.severity === s)) ?? 'ignored';
}

/** The headers of the returned message (or of a headers-only part). */
function returnedHeaders(part: MimePart | undefined): HeaderField[] {
  if (!part) return [];
  const text = utf8(decodeBody(part));
  // A headers-only part may have no empty line at its end.
  return headerFields(splitHead(part.type.endsWith('headers') ? `${text}\n\n` : text).head);
}

/**
 * Reads a message that came to the bounce address: a delivery status notification (RFC 3464;
 * RFC 6533's global form), a complaint report (RFC 5965 ARF), or neither. Looks for the report
 * part anywhere in the message's own multipart tree (not inside attached messages), so a report
 * wrapped in multipart/mixed by a relay is read too. Pure, bounded by `limits`, never throws.
 */
export function readReport(raw: Uint8Array | string, limits: MimeLimits = MIME_LIMITS): BounceReport {
  const { root, truncated } = readMime(raw, limits);
  const parts = leaves(root);
  const base = {
    reportingMta: null,
    recipients: [],
    feedback: null,
    messageId: null,
    senders: [],
    namedRecipients: [],
    truncated,
  };
  const dsnPart = parts.find((p) => DSN_TYPES.has(p.type));
  const arfPart = parts.find((p) => p.type === ARF_TYPE);
  const reportPart =
    dsnPart && arfPart ? (parts.indexOf(dsnPart) < parts.indexOf(arfPart) ? dsnPart : arfPart) : (dsnPart ?? arfPart);
  if (!reportPart) {
    return {
      ...base,
      kind: 'unrecognized',
      format: null,
      reason: `no delivery-status or feedback-report part (${root.type})`,
    };
  }
  const returned = returnedHeaders(parts.find((p) => RETURNED_TYPES.has(p.type)));
  const returnedId = fieldValue(returned, 'message-id');
  const returnPath = fieldValue(returned, 'return-path');
  const body = utf8(decodeBody(reportPart));

  if (reportPart === dsnPart) {
    const { perMessage, recipients } = readDsn(body);
    if (recipients.length === 0) {
      return { ...base, kind: 'unrecognized', format: 'dsn', reason: 'a delivery-status part without recipients' };
    }
    const kind = worstSeverity(recipients);
    const worst = recipients.find((r) => r.severity === kind);
    const messageId = returnedId ?? fieldValue(perMessage, 'x-original-message-id');
    return {
      ...base,
      kind,
      format: 'dsn',
      reason: `Action: ${worst?.action ?? 'none'}, Status: ${worst?.status ?? 'none'}`,
      reportingMta: typedName(fieldValue(perMessage, 'reporting-mta')),
      recipients,
      messageId,
      senders: addresses([fieldValue(perMessage, 'x-postfix-sender'), returnPath]),
      namedRecipients: [
        ...new Set(recipients.flatMap((r) => [r.finalRecipient, r.originalRecipient].filter((a) => a !== null))),
      ],
    };
  }

  const fields = headerFields(body.trim());
  const feedbackType = fieldValue(fields, 'feedback-type')?.toLowerCase().trim() ?? '';
  if (!feedbackType) {
    return { ...base, kind: 'unrecognized', format: 'arf', reason: 'a feedback report without Feedback-Type' };
  }
  const feedback: FeedbackFields = {
    feedbackType: cleanDetail(feedbackType, 40),
    userAgent: typedName(fieldValue(fields, 'user-agent')),
    reportingMta: typedName(fieldValue(fields, 'reporting-mta')),
    originalMailFrom: fieldValue(fields, 'original-mail-from'),
    originalRcptTo: fieldValues(fields, 'original-rcpt-to').flatMap((a) => typedAddress(a) ?? []),
    reportedDomain: typedName(fieldValue(fields, 'reported-domain')),
    sourceIp: typedName(fieldValue(fields, 'source-ip')),
  };
  return {
    ...base,
    kind: COMPLAINT_TYPES.has(feedbackType) ? 'complaint' : 'ignored',
    format: 'arf',
    reason: `Feedback-Type: ${feedback.feedbackType}`,
    reportingMta: feedback.reportingMta,
    feedback,
    messageId: returnedId,
    senders: addresses([feedback.originalMailFrom, returnPath]),
    namedRecipients: [...new Set(feedback.originalRcptTo)],
  };
}
