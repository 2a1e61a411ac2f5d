import { createHmac, timingSafeEqual } from 'node:crypto';
import { normalizeAddress } from '../subscribers/normalize-address.js';

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function sign(payload: string, secret: string): string {
  return b64(createHmac('sha256', secret).update(`unsubscribe:${payload}`).digest()).slice(0, 32);
}

/**
 * A recipient's unsubscribe token: their address and an HMAC-SHA256 of it under UNSUBSCRIBE_SECRET,
 * so a link works without a database lookup and cannot be forged for another address.
 */
export function unsubscribeToken(email: string, secret: string): string {
  const payload = b64(email.toLowerCase());
  return `${payload}.${sign(payload, secret)}`;
}

/** The address a token was made for, or null when it is malformed or was not signed with `secret`. */
export function verifyUnsubscribeToken(token: string, secret: string): string | null {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return null;
  const expected = Buffer.from(sign(payload, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  const email = Buffer.from(payload, 'base64url').toString('utf8');
  return normalizeAddress(email) === email ? email : null;
}
