import { DispatchError, isDispatchError } from '../src/errors.js';
import { MASTODON_DEFAULT_LIMIT } from '../src/social/networks/index.js';
import { fetchUrl } from './fetch-url.js';

export interface InstanceOptions {
  /** Time limit for each request (v2, then v1). */
  timeoutMs: number;
}

/** An instance document is a few kilobytes; more is not an instance's answer. */
const MAX_INSTANCE_BYTES = 1_000_000;

/** `configuration.statuses.max_characters` of an instance document, when it is a positive whole number. */
function maxCharacters(bytes: Uint8Array): number | undefined {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  const value = (document as { configuration?: { statuses?: { max_characters?: unknown } } } | null)?.configuration
    ?.statuses?.max_characters;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The character limit of the Mastodon instance at `instanceUrl` (MASTODON_URL): GET
 * /api/v2/instance `configuration.statuses.max_characters`, else /api/v1/instance's (older
 * instances, and forks that keep it there), else 500, Mastodon's own. The URL is the operator's
 * configuration, so a private address is allowed; each answer is bounded in size and time. Throws
 * E_POST_UNREACHABLE (transient) when neither request answers.
 */
export async function mastodonCharacterLimit(instanceUrl: string, options: InstanceOptions): Promise<number> {
  const base = instanceUrl.replace(/\/+$/, '');
  const failures: string[] = [];
  let answered = false;
  for (const path of ['/api/v2/instance', '/api/v1/instance']) {
    try {
      const page = await fetchUrl(`${base}${path}`, {
        timeoutMs: options.timeoutMs,
        maxBytes: MAX_INSTANCE_BYTES,
        allowPrivate: true,
      });
      answered = true;
      const limit = maxCharacters(page.bytes);
      if (limit !== undefined) return limit;
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      failures.push(error.message);
    }
  }
  if (answered) return MASTODON_DEFAULT_LIMIT;
  throw new DispatchError(
    'E_POST_UNREACHABLE',
    `the Mastodon instance ${base} did not tell its character limit (${failures.join('; ')})`,
    { transient: true },
  );
}
