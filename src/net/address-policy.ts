/**
 * Which IP addresses Dispatch may connect to when it fetches an article or a feed. Pure: it reads
 * address strings, never the network.
 *
 * The rule follows the IANA special-purpose address registries (RFC 6890 and its updates):
 * an address is public only when it is globally reachable unicast. Documentation and benchmarking
 * ranges count as not public: nothing on the internet answers there, and some networks use them
 * inside.
 */

/**
 * How far an address may be reached:
 * - `public`: globally reachable, always allowed;
 * - `private`: loopback, private, link-local, unique-local and the other ranges that only mean
 *   something inside one network: allowed only with `ALLOW_PRIVATE_URLS=true`;
 * - `never`: not a destination at all (unspecified, multicast, broadcast, reserved): always refused.
 */
export type Reach = 'public' | 'private' | 'never';

export interface AddressVerdict {
  reach: Reach;
  /** The range the address falls in, for messages: "loopback", "private", "unique-local", ... */
  range: string;
}

type Bytes = readonly number[];

interface Range {
  network: Bytes;
  bits: number;
  range: string;
  reach: Reach;
  /** Where an embedded IPv4 address starts (NAT64, 6to4): the verdict is then that address's. */
  embedsV4At?: number;
}

/** A strict dotted quad, as DNS answers and WHATWG URL hosts spell IPv4: no leading zeros. */
function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    bytes.push(n);
  }
  return bytes;
}

/** IPv6 in any RFC 4291 spelling: full, `::`-compressed, with a dotted IPv4 tail, with a zone id. */
function parseIpv6(text: string): number[] | null {
  const zone = text.indexOf('%');
  if (zone === 0 || zone === text.length - 1) return null;
  const body = zone === -1 ? text : text.slice(0, zone);
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (half: string | undefined): number[] | null => {
    if (!half) return [];
    const groups: number[] = [];
    const pieces = half.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (!v4) return null;
        groups.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        groups.push(Number.parseInt(piece, 16));
      } else return null;
    }
    return groups;
  };
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  if (!head || !tail) return null;
  const compressed = halves.length === 2;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<number>(missing).fill(0), ...tail];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The address's bytes (4 or 16), or null when it is not an IP address in a standard spelling. */
export function parseIp(text: string): { family: 4 | 6; bytes: number[] } | null {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v4 = parseIpv4(unbracketed);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = unbracketed.includes(':') ? parseIpv6(unbracketed) : null;
  return v6 ? { family: 6, bytes: v6 } : null;
}

function cidr(text: string, range: string, reach: Reach, embedsV4At?: number): Range {
  const [address = '', bits = ''] = text.split('/');
  const parsed = parseIp(address);
  if (!parsed) throw new Error(`address-policy: bad range ${text}`);
  return { network: parsed.bytes, bits: Number(bits), range, reach, embedsV4At };
}

function contains(r: Range, bytes: Bytes): boolean {
  for (let bit = 0; bit < r.bits; bit += 8) {
    const take = Math.min(8, r.bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[bit / 8] as number) & mask) !== ((r.network[bit / 8] as number) & mask)) return false;
  }
  return true;
}

// First match wins: narrower ranges come before the ranges that hold them.
const V4: readonly Range[] = [
  cidr('0.0.0.0/8', 'unspecified', 'never'),
  cidr('10.0.0.0/8', 'private', 'private'),
  cidr('100.64.0.0/10', 'carrier-grade NAT', 'private'),
  cidr('127.0.0.0/8', 'loopback', 'private'),
  // A cloud's instance metadata service hands out credentials: never fetched, whatever is allowed.
  cidr('169.254.169.254/32', 'cloud metadata service', 'never'),
  cidr('169.254.0.0/16', 'link-local', 'private'),
  cidr('172.16.0.0/12', 'private', 'private'),
  cidr('192.0.0.0/24', 'IETF protocol assignments', 'private'),
  cidr('192.0.2.0/24', 'documentation', 'private'),
  cidr('192.88.99.0/24', '6to4 relay anycast', 'private'),
  cidr('192.168.0.0/16', 'private', 'private'),
  cidr('198.18.0.0/15', 'benchmarking', 'private'),
  cidr('198.51.100.0/24', 'documentation', 'private'),
  cidr('203.0.113.0/24', 'documentation', 'private'),
  cidr('224.0.0.0/4', 'multicast', 'never'),
  cidr('255.255.255.255/32', 'broadcast', 'never'),
  cidr('240.0.0.0/4', 'reserved', 'never'),
];

const V6: readonly Range[] = [
  cidr('::/128', 'unspecified', 'never'),
  cidr('::1/128', 'loopback', 'private'),
  // IPv4-mapped and IPv4-compatible addresses reach IPv4 hosts through an IPv6 socket; DNS never
  // answers them for a real site, so they are never public, whatever they embed.
  cidr('::ffff:0:0/96', 'IPv4-mapped', 'private', 12),
  cidr('::/96', 'IPv4-compatible', 'private', 12),
  // RFC 6052 NAT64: the well-known prefix reaches the IPv4 address it embeds, so it is judged as that.
  cidr('64:ff9b::/96', 'NAT64', 'public', 12),
  cidr('64:ff9b:1::/48', 'local-use NAT64', 'private'),
  cidr('100::/64', 'discard-only', 'private'),
  // RFC 3056 6to4: 2002:AABB:CCDD::/48 is routed to the IPv4 address AA.BB.CC.DD.
  cidr('2002::/16', '6to4', 'public', 2),
  cidr('2001::/32', 'Teredo', 'private'),
  cidr('2001:db8::/32', 'documentation', 'private'),
  cidr('2001::/23', 'IETF protocol assignments', 'private'),
  cidr('3fff::/20', 'documentation', 'private'),
  cidr('fd00:ec2::254/128', 'cloud metadata service', 'never'),
  cidr('fc00::/7', 'unique-local', 'private'),
  cidr('fe80::/10', 'link-local', 'private'),
  cidr('fec0::/10', 'site-local', 'private'),
  cidr('ff00::/8', 'multicast', 'never'),
  cidr('2000::/3', 'global unicast', 'public'),
];

function classifyV4(bytes: Bytes): AddressVerdict {
  const match = V4.find((r) => contains(r, bytes));
  return match ? { reach: match.reach, range: match.range } : { reach: 'public', range: 'public' };
}

/**
 * The verdict on one address string (IPv4 dotted quad, or IPv6 in any standard spelling, with or
 * without brackets and zone id). Anything that is not such an address is `never`: unknown input
 * is refused, not guessed at.
 */
export function classifyAddress(address: string): AddressVerdict {
  const parsed = parseIp(address);
  if (!parsed) return { reach: 'never', range: 'not an IP address' };
  if (parsed.family === 4) return classifyV4(parsed.bytes);
  const match = V6.find((r) => contains(r, parsed.bytes));
  // Outside 2000::/3 nothing is allocated for unicast on the internet.
  if (!match) return { reach: 'never', range: 'reserved' };
  if (match.embedsV4At === undefined) return { reach: match.reach, range: match.range };
  const embedded = parsed.bytes.slice(match.embedsV4At, match.embedsV4At + 4);
  const inner = classifyV4(embedded);
  if (inner.reach === 'public') return { reach: match.reach, range: `${match.range} of ${embedded.join('.')}` };
  return { reach: inner.reach, range: `${match.range} of ${embedded.join('.')} (${inner.range})` };
}

/** True when the address is globally reachable unicast. */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address).reach === 'public';
}

/** Whether a verdict lets a fetch connect: public always, private ones only when allowed. */
export function reachAllowed(verdict: AddressVerdict, allowPrivate: boolean): boolean {
  return verdict.reach === 'public' || (allowPrivate && verdict.reach === 'private');
}
