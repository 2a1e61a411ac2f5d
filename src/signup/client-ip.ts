/**
 * The address a sign-up came from, for the per-IP limit and the consent record. Without a trusted
 * proxy it is the socket's peer; behind one (TRUST_PROXY) it is the last X-Forwarded-For entry,
 * the one the proxy appended: every entry before it was written by the client and proves nothing.
 */

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/** The eight 16-bit groups of an IPv6 address, or null when it is not one. */
function ipv6Groups(text: string): number[] | null {
  let address = text;
  // A trailing dotted IPv4 (::ffff:192.0.2.1, 64:ff9b::192.0.2.1) is the last two groups.
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4) {
    if (!IPV4.test(v4[2] as string)) return null;
    const [a, b, c, d] = (v4[2] as string).split('.').map(Number) as [number, number, number, number];
    address = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  if (!/^[0-9a-f:]+$/.test(address) || address.split('::').length > 2) return null;
  const [head = '', tail] = address.split('::');
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array(tail === undefined ? 0 : missing).fill('0'), ...right];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}

/**
 * An IP address in the form it is stored and limited in: IPv4 dotted, an IPv4-mapped IPv6
 * address as its IPv4, other IPv6 lowercase as given (without a zone); null when `text` is not
 * an address. A port (`192.0.2.1:5000`, `[2001:db8::1]:5000`), which some proxies add, is dropped.
 */
export function plainIp(text: string): string | null {
  let address = text.trim().toLowerCase();
  if (address.length === 0 || address.length > 64) return null;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(address);
  if (bracketed) address = bracketed[1] as string;
  else address = address.replace(/^(\d+\.\d+\.\d+\.\d+):\d{1,5}$/, '$1');
  address = address.replace(/%[\w.-]+$/, '');
  if (IPV4.test(address)) return address;
  const groups = ipv6Groups(address);
  if (!groups) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return address;
}

/**
 * The reader's address: the last X-Forwarded-For entry when `trustProxy` and it is an address,
 * else the socket's peer; null when neither is known.
 */
export function clientIp(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustProxy: boolean,
): string | null {
  if (trustProxy && forwardedFor !== undefined) {
    const joined = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
    // Only the tail matters; a header of megabytes is not split whole.
    const last = joined.slice(-100).split(',').pop() ?? '';
    const ip = plainIp(last);
    if (ip) return ip;
  }
  return remoteAddress ? plainIp(remoteAddress) : null;
}

/**
 * What the per-IP limit counts against: an IPv4 address itself, an IPv6 address's /64 (one
 * household or server is given a whole /64, and would otherwise have 2^64 limits of its own).
 */
export function ipLimitKey(ip: string | null): string {
  if (!ip) return 'unknown';
  if (IPV4.test(ip)) return ip;
  const groups = ipv6Groups(ip);
  return groups
    ? `${groups
        .slice(0, 4)
        .map((g) => g.toString(16))
        .join(':')}::/64`
    : 'unknown';
}
