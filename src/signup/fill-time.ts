import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The hosted sign-up page carries the time it was made, signed, so a post that comes back sooner
 * than a person could fill in an address is recognised as a script's. A post without a genuine
 * field (the embeddable form has none, and a script can always leave it out) is judged by the
 * honeypot and the limits alone: this only catches the scripts that replay the hosted page.
 */

/**
 * Less than this between the page and its post is too fast for a person. Kept short: a browser's
 * autofill and one click take little more than a second, and a person taken for a script is
 * dropped without a word.
 */
export const MIN_FILL_MS = 1000;

/** A page made this far in the future of the clock that checks it is clock skew between two machines. */
const SKEW_MS = 60_000;

function sign(payload: string, secret: string): string {
  // A purpose of its own under UNSUBSCRIBE_SECRET: no other signed token is ever a fill-time one.
  return createHmac('sha256', secret).update(`fill-time:${payload}`).digest('base64url').slice(0, 22);
}

/** The field's value for a page made at `madeAt`: the time in base 36 and its signature. */
export function fillTimeToken(madeAt: Date, secret: string): string {
  const payload = Math.floor(madeAt.getTime()).toString(36);
  return `${payload}.${sign(payload, secret)}`;
}

/**
 * What a post's fill-time field says: `too-fast` when its page was made less than MIN_FILL_MS
 * before `now`; `person` when earlier than that; `unknown` when there is none, or it is malformed,
 * not signed with `secret`, or from far in the future.
 */
export function checkFillTime(token: string | null, secret: string, now: Date): 'person' | 'too-fast' | 'unknown' {
  const match = /^([a-z0-9]{1,11})\.([A-Za-z0-9_-]{22})$/.exec(token ?? '');
  if (!match) return 'unknown';
  const [, payload, signature] = match as unknown as [string, string, string];
  const expected = Buffer.from(sign(payload, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'unknown';
  const age = now.getTime() - Number.parseInt(payload, 36);
  if (age < -SKEW_MS) return 'unknown';
  return age < MIN_FILL_MS ? 'too-fast' : 'person';
}
