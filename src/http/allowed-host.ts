/** The host names a local server answers to, besides the loopback and localhost names. */
export interface HostPolicy {
  /** The address the server is bound to (`127.0.0.1`, `::1`, `0.0.0.0`, `::`, a name). */
  bound: string;
  /** Further names (or addresses) it answers to, lowercase, e.g. PUBLIC_URL's host. */
  names: readonly string[];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * A Host header (or a URL's host) normalized by the WHATWG URL parser: `{ hostname, host }` in
 * lowercase, IPv6 in brackets, IPv4 in dotted form, or null when it is not a plain `name[:port]`
 * (userinfo, paths, spaces, an IPv6 address without brackets, a port over 65535).
 */
export function parseHost(header: string | undefined): { hostname: string; host: string } | null {
  if (!header || !/^[A-Za-z0-9._\-[\]:]+$/.test(header)) return null;
  try {
    const url = new URL(`http://${header}`);
    return { hostname: url.hostname, host: url.host };
  } catch {
    return null;
  }
}

/** True for an IP address literal (`127.0.0.1`, `[::1]`), in the form {@link parseHost} gives. */
function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith('[') || IPV4.test(hostname);
}

/** True for a name or address that always means this machine: localhost, *.localhost, 127/8, [::1]. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    (IPV4.test(hostname) && hostname.startsWith('127.'))
  );
}

/**
 * Whether a request's Host header names this server, the defence against DNS rebinding: a page
 * on attacker.example whose name is made to resolve to 127.0.0.1 still sends `Host:
 * attacker.example`. Allowed: the loopback and localhost names, the bound address, and the
 * policy's names, with any port. When bound to every interface (0.0.0.0 or ::) the machine's own
 * addresses are not known here, so any IP literal is allowed too: a literal cannot be rebound, and
 * a browser sends one only when it was pointed at that address. A missing or malformed Host, and
 * every other name, is refused.
 */
export function hostAllowed(header: string | undefined, policy: HostPolicy): boolean {
  const parsed = parseHost(header);
  if (!parsed) return false;
  const { hostname } = parsed;
  if (isLoopbackHost(hostname)) return true;
  const bound = parseHost(
    policy.bound.includes(':') && !policy.bound.startsWith('[') ? `[${policy.bound}]` : policy.bound,
  );
  const wildcard = policy.bound === '' || bound?.hostname === '0.0.0.0' || bound?.hostname === '[::]';
  if (wildcard ? isIpLiteral(hostname) : bound?.hostname === hostname) return true;
  return policy.names.some((name) => parseHost(name)?.hostname === hostname);
}
