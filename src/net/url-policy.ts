import { DispatchError } from '../errors.js';
import { type AddressVerdict, classifyAddress, parseIp, reachAllowed } from './address-policy.js';

/** A URL that passed the URL-level checks, with its host as a connection needs it. */
export interface CheckedUrl {
  url: URL;
  /** The host name without IPv6 brackets, lowercased, as the WHATWG parser normalized it. */
  host: string;
  /** Set when the host is an IP address literal: no DNS is asked, this is the address. */
  address?: string;
}

export interface UrlPolicyOptions {
  allowPrivate: boolean;
  /** Judges an address. @defaultValue {@link classifyAddress} */
  classify?: (address: string) => AddressVerdict;
}

/** RFC 6761: "localhost" and every name under it are loopback, whatever DNS says. */
function isLocalhostName(host: string): boolean {
  const name = host.replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** The one-line reason an address is refused, naming the host it came from. */
export function blockedMessage(host: string, address: string, verdict: AddressVerdict, allowPrivate: boolean): string {
  const where = host === address ? address : `${host} resolves to ${address}, which`;
  const hint = verdict.reach === 'private' && !allowPrivate ? ' (ALLOW_PRIVATE_URLS=true allows it)' : '';
  return `${where} is not public (${verdict.range}): refused${hint}`;
}

/**
 * Checks a URL before anything is fetched: http or https only, no credentials, and a host that
 * is neither a localhost name nor a refused address literal. WHATWG `new URL()` has already turned
 * every IPv4 spelling it accepts (decimal 2130706433, hex 0x7f.1, octal 0177.0.0.1, short 127.1)
 * into a dotted quad and every IPv6 one into its compressed form, so one spelling is checked here.
 * Host names are checked again once resolved, by the fetcher.
 */
export function checkUrl(target: string, options: UrlPolicyOptions): CheckedUrl {
  let url: URL;
  try {
    url = new URL(target.trim());
  } catch {
    throw new DispatchError('E_URL_INVALID', `not an http(s) URL: "${target}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DispatchError('E_URL_INVALID', `not an http(s) URL: "${target}"`);
  }
  if (url.username || url.password) {
    throw new DispatchError('E_URL_INVALID', `a URL with a user name or password is not fetched: "${url.host}"`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!host) throw new DispatchError('E_URL_INVALID', `not an http(s) URL: "${target}"`);
  if (isLocalhostName(host) && !options.allowPrivate) {
    throw new DispatchError(
      'E_URL_BLOCKED',
      `${host} is not public (a localhost name): refused (ALLOW_PRIVATE_URLS=true allows it)`,
    );
  }
  if (!parseIp(host)) return { url, host };
  const verdict = (options.classify ?? classifyAddress)(host);
  if (!reachAllowed(verdict, options.allowPrivate)) {
    throw new DispatchError('E_URL_BLOCKED', blockedMessage(host, host, verdict, options.allowPrivate));
  }
  return { url, host, address: host };
}
