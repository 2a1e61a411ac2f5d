import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tags that let mail coming back name its reader without trusting its sender: a reader's id (a
 * hash of the address, never the address itself), and an HMAC-SHA256 under UNSUBSCRIBE_SECRET
 * that only Dispatch can make. Lowercase hex only: some mail servers lowercase local parts.
 */

/** A reader's id: 16 hex digits of SHA-256 over the stored (normalized) address. */
export function subscriberId(email: string): string {
  return createHash('sha256').update(email).digest('hex').slice(0, 16);
}

const SIGNATURE_HEX = 12;

function sign(purpose: string, payload: string, secret: string): string {
  return createHmac('sha256', secret).update(`${purpose}:${payload}`).digest('hex').slice(0, SIGNATURE_HEX);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What a bounce address or a Message-ID of Dispatch's says: whose mail it was, and of which issue. */
export interface MailTag {
  /** {@link subscriberId} of the recipient. */
  id: string;
  /** The ISO week of the issue, e.g. 2026-W48; null for a sign-up's confirmation or welcome mail. */
  week: string | null;
}

const WEEK = /^\d{4}-W\d{2}$/;
/** The week as a tag carries it: lowercase ("2026-w48"), or "s" for a sign-up mail. */
const weekPart = (week: string | null) => (week ? week.toLowerCase() : 's');
const TAG = /^(\d{4}-w\d{2}|s)\.([0-9a-f]{16})\.([0-9a-f]{12})$/;
/** What makes each sign-up mail's Message-ID its own (see {@link signupMessageToken}); not signed. */
const UNIQUE_SUFFIX = /-[0-9a-f]{1,32}$/;

function readTag(tag: string, purpose: string, secret: string): MailTag | null {
  const match = TAG.exec(tag.toLowerCase().replace(purpose === 'message' ? UNIQUE_SUFFIX : /$^/, ''));
  if (!match) return null;
  const [, week, id, signature] = match as unknown as [string, string, string, string];
  if (!same(signature, sign(purpose, `${week}.${id}`, secret))) return null;
  return { id, week: week === 's' ? null : week.toUpperCase() };
}

function makeTag(tag: MailTag, purpose: string, secret: string): string {
  const payload = `${weekPart(tag.week)}.${tag.id}`;
  return `${payload}.${sign(purpose, payload, secret)}`;
}

/**
 * The per-recipient envelope sender (VERP) on the bounce address: `bounces@example.com` becomes
 * `bounces+2026-w48.<id>.<signature>@example.com`, 38 characters more in the local part (RFC 5321
 * allows 64: BOUNCE_ADDRESS's local part is at most 20).
 */
export function verpAddress(bounceAddress: string, tag: MailTag, secret: string): string {
  const at = bounceAddress.lastIndexOf('@');
  return `${bounceAddress.slice(0, at)}+${makeTag(tag, 'verp', secret)}${bounceAddress.slice(at)}`.toLowerCase();
}

/**
 * The tag of a VERP address made by {@link verpAddress} for this bounce address and secret; null
 * for the bare bounce address, another address, or a tag that was not signed with `secret`.
 */
export function readVerpAddress(address: string, bounceAddress: string, secret: string): MailTag | null {
  const lower = address.trim().replace(/^<|>$/g, '').toLowerCase();
  const bounce = bounceAddress.toLowerCase();
  const at = bounce.lastIndexOf('@');
  const local = `${bounce.slice(0, at)}+`;
  const domain = bounce.slice(at);
  if (!lower.startsWith(local) || !lower.endsWith(domain)) return null;
  return readTag(lower.slice(local.length, lower.length - domain.length), 'verp', secret);
}

/**
 * The left-hand side of a list message's Message-ID: the same on every try of (issue, reader), so
 * a resend is recognizable, and signed, so a complaint report that carries the original message's
 * headers (most do, even when they redact the recipient) names its reader.
 */
export function messageToken(week: string, email: string, secret: string): string {
  if (!WEEK.test(week)) throw new TypeError(`not an ISO week: ${week}`);
  return makeTag({ id: subscriberId(email), week }, 'message', secret);
}

/**
 * The left-hand side of a sign-up mail's Message-ID (confirmation, welcome): signed for the reader
 * like a list message's, with no week, and made unique by `unique` (hex), as two mails to one
 * reader must not share a Message-ID.
 */
export function signupMessageToken(email: string, unique: string, secret: string): string {
  if (!/^[0-9a-f]{1,32}$/.test(unique)) throw new TypeError('unique must be 1 to 32 hex digits');
  return `${makeTag({ id: subscriberId(email), week: null }, 'message', secret)}-${unique}`;
}

/** The tag of a Message-ID (`<token@domain>` or bare) made from {@link messageToken}; null otherwise. */
export function readMessageId(messageId: string, secret: string): MailTag | null {
  const token = /^\s*<?([^@<>\s]+)@[^>]*>?\s*$/.exec(messageId)?.[1];
  return token ? readTag(token, 'message', secret) : null;
}

/** The bounce address: BOUNCE_ADDRESS, or bounces@ the domain of MAIL_FROM. */
export function bounceAddressOf(config: { BOUNCE_ADDRESS?: string; MAIL_FROM: string }): string {
  if (config.BOUNCE_ADDRESS) return config.BOUNCE_ADDRESS.toLowerCase();
  const domain = /@([^>\s]+)>?\s*$/.exec(config.MAIL_FROM)?.[1] ?? 'localhost';
  return `bounces@${domain.toLowerCase()}`;
}
