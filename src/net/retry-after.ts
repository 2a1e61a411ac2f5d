/**
 * The wait a Retry-After header asks for, in milliseconds (RFC 9110 section 10.2.3): either a
 * number of seconds or an HTTP date, measured from `now`. Undefined when the header is absent or
 * unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date always names its weekday and GMT ("Sun, 06 Nov 1994 08:49:37 GMT"); this keeps
  // Date.parse from reading stray numbers such as "1.5" as dates.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
