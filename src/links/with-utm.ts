import { safeHttpUrl } from '../ingest/safe-url.js';

/** Campaign parameters for a link (Google's UTM convention). */
export interface Utm {
  source: string;
  medium: string;
  campaign: string;
}

/**
 * The link with utm_source, utm_medium and utm_campaign set (replacing any already there);
 * null when the link is not http(s).
 */
export function withUtm(link: string, utm: Utm): string | null {
  const safe = safeHttpUrl(link);
  if (!safe) return null;
  const url = new URL(safe);
  url.searchParams.set('utm_source', utm.source);
  url.searchParams.set('utm_medium', utm.medium);
  url.searchParams.set('utm_campaign', utm.campaign);
  return url.href;
}
