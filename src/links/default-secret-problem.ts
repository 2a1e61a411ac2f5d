import { type Config, configSchema } from '../config.js';
import { isLoopbackHost, parseHost } from '../http/allowed-host.js';

/** The public development default of UNSUBSCRIBE_SECRET, read from the schema (not a second copy). */
export const DEFAULT_UNSUBSCRIBE_SECRET: string = configSchema.shape.UNSUBSCRIBE_SECRET.parse(undefined);

/** A URL without its userinfo and query: what is safe to print of SMTP_URL (it may carry a password). */
function shown(value: string): string {
  const url = new URL(value);
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

function isLocal(value: string): boolean {
  const host = parseHost(new URL(value).host);
  return host !== null && isLoopbackHost(host.hostname);
}

/**
 * Why running with this configuration would let anyone forge unsubscribe links, or null when it
 * would not: the secret is the public default while links go to readers (PUBLIC_URL is not this
 * machine) or mail goes out (SMTP_URL is not this machine). Local development, with the
 * defaults, has no problem. The caller decides what to do (commands refuse with E_SECRET_DEFAULT).
 */
export function defaultSecretProblem(
  config: Pick<Config, 'UNSUBSCRIBE_SECRET' | 'PUBLIC_URL' | 'SMTP_URL'>,
): string | null {
  if (config.UNSUBSCRIBE_SECRET !== DEFAULT_UNSUBSCRIBE_SECRET) return null;
  const outside = (['PUBLIC_URL', 'SMTP_URL'] as const).find((name) => !isLocal(config[name]));
  if (!outside) return null;
  return (
    `UNSUBSCRIBE_SECRET is the public development default while ${outside} is ${shown(config[outside])}: ` +
    'set it to a long random value, e.g. UNSUBSCRIBE_SECRET=$(openssl rand -hex 32) in .env'
  );
}
