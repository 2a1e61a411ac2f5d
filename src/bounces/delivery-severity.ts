/**
 * What one recipient's delivery status means for the reader. `hard`: the address is gone (they
 * become bounced at once); `soft`: it may pass (counted: BOUNCE_SOFT_LIMIT within
 * BOUNCE_SOFT_WINDOW_DAYS make them bounced); `ignored`: the message got through, or on its way.
 */
export type Severity = 'hard' | 'soft' | 'ignored';

const STATUS = /^([245])\.(\d{1,3})\.(\d{1,3})$/;

/**
 * RFC 3464 section 2.3.3 (Action) and RFC 3463 (Status): `failed` with 5.x.x is hard; 4.x.x, or
 * `delayed`, is soft; `delivered`, `relayed` and `expanded` are ignored. Two kinds of 5.x.x are
 * soft instead, because they refuse the message, not the address: 5.7.x (security or policy:
 * "blocked as spam", "the sender is unauthenticated" when DKIM or DMARC is broken) and 5.6.x /
 * 5.3.4 (the content or the size). Making every reader of a provider bounced for one broken
 * signature would empty the list in one send; counted as soft, they show in the numbers
 * and still end an address that refuses every issue. A `failed` without any status code is soft
 * too: a reader is only dropped at once on a clear answer.
 */
export function deliverySeverity(action: string | null, status: string | null): Severity {
  const match = status ? STATUS.exec(status) : null;
  const [, klass, subject] = match ?? [];
  const act = action?.toLowerCase() ?? null;
  if (act === 'delivered' || act === 'relayed' || act === 'expanded') return 'ignored';
  if (act === 'delayed') return 'soft';
  if (act !== 'failed' && act !== null) return 'ignored';
  if (klass === '5') return subject === '7' || subject === '6' || status === '5.3.4' ? 'soft' : 'hard';
  if (klass === '4') return 'soft';
  if (klass === '2') return 'ignored';
  return act === 'failed' ? 'soft' : 'ignored';
}
