import { createHmac, timingSafeEqual } from 'node:crypto';
import { normalizeAddress } from '../subscribers/normalize-address.js';

/**
 * A sign-up's confirmation token: the address, the sign-up's nonce and the time the link was
 * made, signed with HMAC-SHA256 under UNSUBSCRIBE_SECRET (a purpose of its own: an unsubscribe
 * token is never a confirmation token). The nonce ties it to one pending sign-up: a link from an
 * earlier sign-up, or one made after the reader left again, confirms nothing.
 */
export interface ConfirmClaim {
  email: string;
  nonce: string;
  /** When the link was made (ms since the epoch, whole seconds). */
  issuedAt: number;
}

const b64 = (data: string) => Buffer.from(data).toString('base64url');

function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(`confirm:${payload}`).digest('base64url').slice(0, 32);
}

export function confirmToken(claim: ConfirmClaim, secret: string): string {
  const payload = `${b64(claim.email)}.${claim.nonce}.${Math.floor(claim.issuedAt / 1000).toString(36)}`;
  return `${payload}.${sign(payload, secret)}`;
}

export type ConfirmCheck = { ok: true; claim: ConfirmClaim } | { ok: false; reason: 'invalid' | 'expired' };

/**
 * Checks a token: `invalid` when it is malformed or not signed with `secret`, `expired` when it is
 * older than `maxAgeMs` (or made in the future), else the claim it carries.
 */
export function checkConfirmToken(token: string, secret: string, now: Date, maxAgeMs: number): ConfirmCheck {
  const parts = token.split('.');
  if (parts.length !== 4) return { ok: false, reason: 'invalid' };
  const [email64, nonce, issued36, signature] = parts as [string, string, string, string];
  if (
    !/^[A-Za-z0-9_-]{1,400}$/.test(email64) ||
    !/^[a-z0-9]{8,32}$/.test(nonce) ||
    !/^[a-z0-9]{1,10}$/.test(issued36)
  ) {
    return { ok: false, reason: 'invalid' };
  }
  const expected = Buffer.from(sign(`${email64}.${nonce}.${issued36}`, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid' };
  const email = Buffer.from(email64, 'base64url').toString('utf8');
  if (normalizeAddress(email) !== email) return { ok: false, reason: 'invalid' };
  const issuedAt = Number.parseInt(issued36, 36) * 1000;
  const age = now.getTime() - issuedAt;
  // A minute of clock skew between the machines that make and check links.
  if (age > maxAgeMs || age < -60_000) return { ok: false, reason: 'expired' };
  return { ok: true, claim: { email, nonce, issuedAt } };
}
